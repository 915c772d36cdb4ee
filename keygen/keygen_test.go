package keygen

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/keys"
)

func TestParseAlgorithm(t *testing.T) {
	for _, a := range Algorithms {
		if got, err := ParseAlgorithm(strings.ToUpper(string(a))); err != nil || got != a {
			t.Errorf("%s: %v %v", a, got, err)
		}
	}
	for _, bad := range []string{"", "rsa1024", "ed25519", "p521", "rsa"} {
		if _, err := ParseAlgorithm(bad); err == nil || !strings.Contains(err.Error(), "rsa2048, rsa3072, rsa4096, p256, p384") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// checkProfile asserts the kernel's default_x509.genkey profile.
func checkProfile(t *testing.T, c *x509.Certificate, ca bool) {
	t.Helper()
	skid, err := SubjectKeyID(c.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.SubjectKeyId, skid) {
		t.Errorf("subjectKeyIdentifier %x, want SHA-1 of the key %x", c.SubjectKeyId, skid)
	}
	if !c.BasicConstraintsValid || c.IsCA != ca {
		t.Errorf("basicConstraints valid %v CA %v, want CA %v", c.BasicConstraintsValid, c.IsCA, ca)
	}
	want := x509.KeyUsageDigitalSignature
	if ca {
		want |= x509.KeyUsageCertSign
	}
	if c.KeyUsage != want {
		t.Errorf("keyUsage %v, want %v", c.KeyUsage, want)
	}
	var bcCritical bool
	for _, e := range c.Extensions {
		if e.Id.String() == "2.5.29.19" {
			bcCritical = e.Critical
		}
	}
	if !bcCritical {
		t.Error("basicConstraints not critical")
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() != 127 {
		t.Errorf("serial %v", c.SerialNumber)
	}
}

// signsForKernelModel checks, with the project's model of the kernel's PKCS#7 code, that key
// signs content that verifies against cert.
func signsForKernelModel(t *testing.T, key crypto.Signer, cert *x509.Certificate) {
	t.Helper()
	content := []byte("loader instructions")
	sig, err := cms.Sign(content, key, cert, cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Verify(content, sig, []*x509.Certificate{cert}); err != nil {
		t.Errorf("kernel model rejects the signature: %v", err)
	}
}

func TestSelfSigned(t *testing.T) {
	algs := []Algorithm{RSA2048, P256, P384}
	if !testing.Short() {
		algs = append(algs, RSA3072, RSA4096)
	}
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, a := range algs {
		t.Run(string(a), func(t *testing.T) {
			key, cert, err := Generate(a, CertOptions{Subject: "test " + string(a), Days: 30, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkProfile(t, cert, false)
			if !bytes.Equal(cert.AuthorityKeyId, cert.SubjectKeyId) {
				t.Errorf("authorityKeyIdentifier %x, want own key id %x", cert.AuthorityKeyId, cert.SubjectKeyId)
			}
			if cert.Subject.CommonName != "test "+string(a) || !bytes.Equal(cert.RawSubject, cert.RawIssuer) {
				t.Errorf("subject %v issuer %v", cert.Subject, cert.Issuer)
			}
			if !cert.NotAfter.Equal(now.AddDate(0, 0, 30)) || !cert.NotBefore.Before(now) {
				t.Errorf("validity %v .. %v", cert.NotBefore, cert.NotAfter)
			}
			if err := cert.CheckSignatureFrom(cert); err == nil {
				t.Error("a CA:FALSE certificate verified as its own issuer under Go's CA rules")
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Errorf("self-signature: %v", err)
			}
			bits := map[Algorithm]int{RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}
			switch k := key.(type) {
			case *rsa.PrivateKey:
				if k.N.BitLen() != bits[a] || cert.SignatureAlgorithm != x509.SHA256WithRSA {
					t.Errorf("RSA %d bits, %v", k.N.BitLen(), cert.SignatureAlgorithm)
				}
			case *ecdsa.PrivateKey:
				want := map[Algorithm]x509.SignatureAlgorithm{P256: x509.ECDSAWithSHA256, P384: x509.ECDSAWithSHA384}[a]
				if cert.SignatureAlgorithm != want {
					t.Errorf("signature algorithm %v, want %v", cert.SignatureAlgorithm, want)
				}
			}
			signsForKernelModel(t, key, cert)
			// The kernel's key_or_keyring rule keeps a self-signed keygen certificate as its own root.
			if kept, refused := keys.Restrict([]*x509.Certificate{cert}, []*x509.Certificate{cert}); len(kept) != 1 {
				t.Errorf("root not linkable to itself: %v", refused[0].Err())
			}
		})
	}
}

func TestDelegated(t *testing.T) {
	rootKey, root, err := Generate(P256, CertOptions{Subject: "root", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	checkProfile(t, root, true)
	for _, a := range []Algorithm{RSA2048, P256, P384} {
		t.Run(string(a), func(t *testing.T) {
			key, cert, err := Generate(a, CertOptions{Issuer: rootKey, IssuerCert: root})
			if err != nil {
				t.Fatal(err)
			}
			checkProfile(t, cert, false)
			if !bytes.Equal(cert.AuthorityKeyId, root.SubjectKeyId) || !bytes.Equal(cert.RawIssuer, root.RawSubject) {
				t.Errorf("AKID %x issuer %v, want root's %x %v", cert.AuthorityKeyId, cert.Issuer, root.SubjectKeyId, root.Subject)
			}
			if cert.Subject.CommonName != DefaultDelegatedSubject {
				t.Errorf("subject %v", cert.Subject)
			}
			if err := cert.CheckSignatureFrom(root); err != nil {
				t.Errorf("not signed by the root: %v", err)
			}
			signsForKernelModel(t, key, cert)
			kept, refused := keys.Restrict([]*x509.Certificate{cert}, []*x509.Certificate{root})
			if len(kept) != 1 {
				t.Errorf("restricted keyring refuses the delegated certificate: %v", refused[0].Err())
			}
		})
	}
	// Same subject as the root: the authorityKeyIdentifier must still be the root's.
	_, same, err := Generate(P256, CertOptions{Subject: "root", Issuer: rootKey, IssuerCert: root})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same.AuthorityKeyId, root.SubjectKeyId) {
		t.Errorf("same-subject delegated certificate: AKID %x, want %x", same.AuthorityKeyId, root.SubjectKeyId)
	}
}

func TestCertificateErrors(t *testing.T) {
	rootKey, root, _ := Generate(P256, CertOptions{CA: true})
	otherKey, _, _ := Generate(P256, CertOptions{})
	key, _ := GenerateKey(P256, nil)
	noSKID := *root
	noSKID.SubjectKeyId = nil
	tests := []struct {
		name string
		opts CertOptions
		msg  string
	}{
		{"issuer key without cert", CertOptions{Issuer: rootKey}, "go together"},
		{"issuer cert without key", CertOptions{IssuerCert: root}, "go together"},
		{"issuer key does not match", CertOptions{Issuer: otherKey, IssuerCert: root}, "does not belong"},
		{"issuer without SKID", CertOptions{Issuer: rootKey, IssuerCert: &noSKID}, "no subjectKeyIdentifier"},
		{"delegated CA", CertOptions{Issuer: rootKey, IssuerCert: root, CA: true}, "never a CA"},
		{"negative days", CertOptions{Days: -1}, "negative"},
	}
	for _, tc := range tests {
		if _, err := Certificate(key, tc.opts); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
	}
	if _, err := Certificate(nil, CertOptions{}); err == nil {
		t.Error("nil key accepted")
	}
}

func TestWriteFiles(t *testing.T) {
	key, cert, err := Generate(P256, CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, der := range []bool{false, true} {
		t.Run(fmt.Sprint("der=", der), func(t *testing.T) {
			dir := t.TempDir()
			kp, cp := filepath.Join(dir, "k"), filepath.Join(dir, "c")
			if err := WriteFiles(kp, cp, key, cert, der); err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(kp); st.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v", st.Mode().Perm())
			}
			if st, _ := os.Stat(cp); st.Mode().Perm() != 0o644 {
				t.Errorf("cert mode %v", st.Mode().Perm())
			}
			k2, err := keys.LoadSigner(kp)
			if err != nil || !key.Public().(*ecdsa.PublicKey).Equal(k2.Public()) {
				t.Fatalf("reload key: %v", err)
			}
			c2, err := keys.LoadCertificates(cp)
			if err != nil || !bytes.Equal(c2[0].Raw, cert.Raw) {
				t.Fatalf("reload cert: %v", err)
			}
			kb, _ := os.ReadFile(kp)
			if bytes.HasPrefix(kb, []byte("-----BEGIN PRIVATE KEY-----")) == der {
				t.Errorf("der=%v but key file starts %q", der, kb[:10])
			}
			// Refuse to overwrite either file; nothing changes.
			before, _ := os.ReadFile(kp)
			if err := WriteFiles(kp, filepath.Join(dir, "c2"), key, cert, der); err == nil || !strings.Contains(err.Error(), "file exists") {
				t.Errorf("key overwrite: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "c2")); err == nil {
				t.Error("certificate written although the key exists")
			}
			if err := WriteFiles(filepath.Join(dir, "k2"), cp, key, cert, der); err == nil || !strings.Contains(err.Error(), "file exists") {
				t.Errorf("cert overwrite: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "k2")); err == nil {
				t.Error("key written although the certificate exists")
			}
			after, _ := os.ReadFile(kp)
			if !bytes.Equal(before, after) {
				t.Error("existing key changed")
			}
		})
	}
	dir := t.TempDir()
	if err := WriteFiles(filepath.Join(dir, "same"), filepath.Join(dir, "same"), key, cert, false); err == nil {
		t.Error("same path for key and certificate accepted")
	}
	// The same new file by two spellings is refused as such, before anything is written: it
	// was refused only when the spellings were equal, so the certificate's write then failed
	// with "file exists", naming a file that did not exist before the run.
	os.MkdirAll(filepath.Join(dir, "d", "sub"), 0o755)
	if err := os.Symlink(filepath.Join(dir, "d", "sub"), filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{
		{filepath.Join(dir, "same2"), dir + "/./same2"},
		{dir + "//same2", filepath.Join(dir, "same2")},
		{dir + "/d/sub/../same2", filepath.Join(dir, "d", "same2")},
		{dir + "/l/../same2", filepath.Join(dir, "d", "same2")},
	} {
		err := WriteFiles(pair[0], pair[1], key, cert, false)
		if err == nil || !strings.Contains(err.Error(), "would both be") {
			t.Errorf("%s and %s: %v; want refused as the same file", pair[0], pair[1], err)
		}
		for _, p := range []string{filepath.Join(dir, "same2"), filepath.Join(dir, "d", "same2")} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s written", p)
				os.Remove(p)
			}
		}
	}
	// Different files by spellings that clean alike lexically are not the same: l/../k is d/k.
	if err := WriteFiles(dir+"/l/../k4", filepath.Join(dir, "k4"), key, cert, false); err != nil {
		t.Errorf("l/../k4 and k4: %v", err)
	}
	// A symlink in the key's place is refused too (Lstat / O_EXCL do not follow it).
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "link"))
	if err := WriteFiles(filepath.Join(dir, "link"), filepath.Join(dir, "c"), key, cert, false); err == nil {
		t.Error("symlink overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "target")); err == nil {
		t.Error("key written through a symlink")
	}
	// Certificate cannot be written: the new key is removed again.
	if err := WriteFiles(filepath.Join(dir, "k3"), filepath.Join(dir, "nodir", "c"), key, cert, false); err == nil {
		t.Error("unwritable certificate path accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "k3")); err == nil {
		t.Error("key left behind after the certificate failed")
	}
}

// TestOpenSSL checks the certificates with the real openssl: the extensions it reports, and that
// `openssl verify` accepts a delegated certificate under a --ca root.
func TestOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found")
	}
	dir := t.TempDir()
	rootKey, root, err := Generate(RSA2048, CertOptions{Subject: "bpf root", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	key, leaf, err := Generate(P256, CertOptions{Subject: "bpf leaf", Issuer: rootKey, IssuerCert: root})
	if err != nil {
		t.Fatal(err)
	}
	_, self, err := Generate(P384, CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WriteFiles(filepath.Join(dir, "root.key"), filepath.Join(dir, "root.pem"), rootKey, root, false))
	must(WriteFiles(filepath.Join(dir, "leaf.key"), filepath.Join(dir, "leaf.der"), key, leaf, true))
	must(WriteFiles("", filepath.Join(dir, "self.pem"), nil, self, false))
	text := func(args ...string) string {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"x509", "-noout", "-text", "-in", filepath.Join(dir, "self.pem")},
			[]string{"X509v3 Basic Constraints: critical", "CA:FALSE", "Digital Signature", "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier", "ecdsa-with-SHA384"}},
		{[]string{"x509", "-noout", "-text", "-inform", "DER", "-in", filepath.Join(dir, "leaf.der")},
			[]string{"CA:FALSE", "Digital Signature", "Issuer: CN", "bpf root", "id-ecPublicKey", "sha256WithRSAEncryption"}},
		{[]string{"x509", "-noout", "-text", "-in", filepath.Join(dir, "root.pem")},
			[]string{"CA:TRUE", "Digital Signature, Certificate Sign"}},
		{[]string{"pkey", "-noout", "-in", filepath.Join(dir, "root.key")}, nil},
		{[]string{"pkey", "-noout", "-inform", "DER", "-in", filepath.Join(dir, "leaf.key")}, nil},
	} {
		out := text(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("openssl %v: output lacks %q:\n%s", tc.args[:3], w, out)
			}
		}
	}
	// The openssl skid "hash" method gives the same identifier.
	if !strings.Contains(strings.ReplaceAll(text("x509", "-noout", "-ext", "subjectKeyIdentifier", "-in", filepath.Join(dir, "root.pem")), ":", ""),
		strings.ToUpper(fmt.Sprintf("%x", root.SubjectKeyId))) {
		t.Error("openssl shows another subjectKeyIdentifier")
	}
	leafPEM := filepath.Join(dir, "leaf.pem")
	must(os.WriteFile(leafPEM, EncodeCertificate(leaf, false), 0o644))
	if out := text("verify", "-CAfile", filepath.Join(dir, "root.pem"), leafPEM); !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify: %s", out)
	}
}

func ExampleGenerate() {
	root, rootCert, err := Generate(P256, CertOptions{Subject: "fleet BPF root", CA: true})
	if err != nil {
		panic(err)
	}
	_, leaf, err := Generate(RSA2048, CertOptions{Subject: "build host 7", Issuer: root, IssuerCert: rootCert})
	if err != nil {
		panic(err)
	}
	fmt.Println(leaf.Issuer.CommonName, leaf.IsCA, leaf.KeyUsage == x509.KeyUsageDigitalSignature)
	// Output: fleet BPF root false true
}
