package oracle

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/bpfsig/bpfsig/compat"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/keygen"
	"github.com/bpfsig/bpfsig/pkcs11"
)

// TestKeygenKernelAccepts boots the VM once and asks the real kernel about keys and
// certificates made by package keygen: self-signed RSA-2048, P-256 and P-384 certificates, and
// a delegated certificate under a keygen root, each signing content the bpftool way (cms.Sign
// with the zero options), and the negative cases that show the answers are not vacuous. The model (cms.Verify) must give the same answer for every case.
func TestKeygenKernelAccepts(t *testing.T) {
	vm := oracleVM(t)
	gen := func(a keygen.Algorithm, opts keygen.CertOptions) (crypto.Signer, *x509.Certificate) {
		t.Helper()
		k, c, err := keygen.Generate(a, opts)
		if err != nil {
			t.Fatal(err)
		}
		return k, c
	}
	rsaKey, rsaCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle rsa"})
	p256Key, p256Cert := gen(keygen.P256, keygen.CertOptions{Subject: "oracle p256"})
	p384Key, p384Cert := gen(keygen.P384, keygen.CertOptions{Subject: "oracle p384"})
	rootKey, rootCert := gen(keygen.P256, keygen.CertOptions{Subject: "oracle root", CA: true})
	leafKey, leafCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle leaf", Issuer: rootKey, IssuerCert: rootCert})
	strayKey, strayCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle stray"})
	_ = strayKey

	content := []byte("opts_insn || opts_data of a light skeleton, signed with a keygen key")
	flipped := append([]byte(nil), content...)
	flipped[3] ^= 1
	sign := func(k crypto.Signer, c *x509.Certificate, o cms.SignOptions) []byte {
		t.Helper()
		sig, err := cms.Sign(content, k, c, o)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	der := func(cs ...*x509.Certificate) [][]byte {
		var out [][]byte
		for _, c := range cs {
			out = append(out, c.Raw)
		}
		return out
	}
	leafSig := sign(leafKey, leafCert, cms.SignOptions{})
	leafSigEmbedded := sign(leafKey, leafCert, cms.SignOptions{IncludeCertificate: true})
	straySig := sign(strayKey, strayCert, cms.SignOptions{IncludeCertificate: true})
	type kase struct {
		c    Case
		want compat.Errno
	}
	ks := []kase{
		{Case{Name: "keygen rsa2048 self-signed", Content: content, Signature: sign(rsaKey, rsaCert, cms.SignOptions{}), Certs: der(rsaCert)}, 0},
		{Case{Name: "keygen p256 self-signed", Content: content, Signature: sign(p256Key, p256Cert, cms.SignOptions{}), Certs: der(p256Cert)}, 0},
		{Case{Name: "keygen p384 self-signed, SHA-384", Content: content, Signature: sign(p384Key, p384Cert, cms.SignOptions{Digest: crypto.SHA384}), Certs: der(p384Cert)}, 0},
		{Case{Name: "keygen p256, content flipped", Content: flipped, Signature: sign(p256Key, p256Cert, cms.SignOptions{}), Certs: der(p256Cert)}, compat.EKEYREJECTED},
		{Case{Name: "delegated rsa2048 leaf in the keyring", Content: content, Signature: leafSig, Certs: der(leafCert)}, 0},
		// Embedding the delegated certificate does not make the root vouch for it at signature
		// time: the delegated certificate must be in the keyring (where a key_or_keyring
		// restriction admits it because the root signed it). The 6.12 kernel says ENOKEY.
		{Case{Name: "delegated leaf embedded, only the root in the keyring", Content: content, Signature: leafSigEmbedded, Certs: der(rootCert)}, compat.ENOKEY},
		{Case{Name: "delegated leaf embedded, root and leaf in the keyring", Content: content, Signature: leafSigEmbedded, Certs: der(rootCert, leafCert)}, 0},
		{Case{Name: "delegated leaf not embedded, only the root in the keyring", Content: content, Signature: leafSig, Certs: der(rootCert)}, compat.ENOKEY},
		{Case{Name: "stray self-signed key embedded, only the root in the keyring", Content: content, Signature: straySig, Certs: der(rootCert)}, compat.ENOKEY},
	}
	// The same through a PKCS#11 token (SoftHSM2), when it is installed: keys that never leave
	// the token sign, the kernel verifies.
	if toks, why := tokenSigners(t, map[string]crypto.Signer{"rsa": rsaKey, "p256": p256Key}); why != "" {
		t.Logf("PKCS#11 cases left out: %s", why)
	} else {
		if !bytes.Equal(sign(toks["rsa"], rsaCert, cms.SignOptions{}), sign(rsaKey, rsaCert, cms.SignOptions{})) {
			t.Error("RSA CMS signature through the token differs from the file key's")
		}
		ks = append(ks,
			kase{Case{Name: "PKCS#11 token rsa2048 (keygen key imported)", Content: content, Signature: sign(toks["rsa"], rsaCert, cms.SignOptions{}), Certs: der(rsaCert)}, 0},
			kase{Case{Name: "PKCS#11 token p256 (keygen key imported)", Content: content, Signature: sign(toks["p256"], p256Cert, cms.SignOptions{}), Certs: der(p256Cert)}, 0},
			kase{Case{Name: "PKCS#11 token p256, other certificate in the keyring", Content: content, Signature: sign(toks["p256"], p256Cert, cms.SignOptions{}), Certs: der(p384Cert)}, compat.ENOKEY},
		)
	}
	cases := make([]Case, len(ks))
	for i, k := range ks {
		cases[i] = k.c
	}
	res, st, err := vm.RunStats(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cases, VM boot-to-poweroff %v (kvm %v)", st.Cases, st.Boot, st.KVM)
	for i, k := range ks {
		got := res[i].Errno
		var model compat.Errno
		if _, err := cms.Verify(k.c.Content, k.c.Signature, certsOf(t, k.c.Certs)); err != nil {
			e, ok := kerrno.Of(err)
			if !ok {
				t.Errorf("%s: model error without errno: %v", k.c.Name, err)
			}
			model = e
		}
		t.Logf("%-62s kernel %-12s model %-12s %s", k.c.Name, errnoText(got), errnoText(model), res[i].Detail)
		if got != k.want {
			t.Errorf("%s: kernel answered %s, want %s (%s)", k.c.Name, errnoText(got), errnoText(k.want), res[i].Detail)
		}
		if model != got {
			t.Errorf("%s: model answered %s, kernel %s", k.c.Name, errnoText(model), errnoText(got))
		}
	}
}

// tokenSigners imports keys into a fresh SoftHSM2 token (temporary SOFTHSM2_CONF) and opens
// them through package pkcs11; why is non-empty when SoftHSM2 is not installed.
func tokenSigners(t *testing.T, keys map[string]crypto.Signer) (map[string]crypto.Signer, string) {
	t.Helper()
	const module = "/usr/lib/softhsm/libsofthsm2.so"
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return nil, "softhsm2-util not found (Debian package softhsm2)"
	}
	if _, err := os.Stat(module); err != nil {
		return nil, module + " missing"
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(util, args...).CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util %v: %v\n%s", args, err, out)
		}
	}
	run("--init-token", "--free", "--label", "oracle", "--so-pin", "12345678", "--pin", "1234")
	out := map[string]crypto.Signer{}
	id := 0
	for label, k := range keys {
		id++
		pemBytes, err := keygen.EncodeKey(k, false)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, label+".p8")
		if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		run("--import", p, "--token", "oracle", "--label", label, "--id", fmt.Sprintf("%02x", id), "--pin", "1234")
		tk, err := pkcs11.Open("pkcs11:token=oracle;object="+label+"?pin-value=1234", pkcs11.Options{ModulePath: module})
		if err != nil {
			if errors.Is(err, pkcs11.ErrNoCgo) {
				return nil, err.Error()
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { tk.Close() })
		out[label] = tk
	}
	return out, ""
}

func certsOf(t *testing.T, ders [][]byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}
