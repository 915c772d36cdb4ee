package twophase_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/twophase"
)

// signFile is the kernel's sign-file, from Debian's linux-kbuild-6.1.
const signFile = "/usr/lib/linux-kbuild-6.1/scripts/sign-file"

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (Debian package openssl)")
	}
}

func needSignFile(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(signFile); err != nil {
		t.Skipf("%s not installed (Debian package linux-kbuild-6.1)", signFile)
	}
}

// runTool runs a real tool and fails the test if it fails.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// prepare converts a fixture for target t and writes its TBS bytes into dir.
func prepare(t *testing.T, dir, fixture string, target bpfsig.Target) (*bpfsig.Skeleton, *bpfsig.Prepared, string) {
	t.Helper()
	sk, err := bpfsig.Open(testfix.SkelPath(fixture))
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpfsig.Prepare(sk, target)
	if err != nil {
		t.Fatal(err)
	}
	tbs := filepath.Join(dir, fixture+".tbs")
	if err := os.WriteFile(tbs, p.Content(), 0o644); err != nil {
		t.Fatal(err)
	}
	return sk, p, tbs
}

var targets = []bpfsig.Target{
	{Scheme: compat.Raw},
	{Scheme: compat.Legacy, Generation: compat.V1},
	{Scheme: compat.Legacy, Generation: compat.V2},
	{Scheme: compat.Chain, Generation: compat.V1},
	{Scheme: compat.Chain, Generation: compat.V2},
}

// TestInteropRSA: a signature made by sign-file, openssl cms or openssl pkeyutl over the TBS
// bytes attaches to a skeleton byte-identical to the one bpfsig signs itself, for every
// scheme: RSA PKCS#1 v1.5 is deterministic.
func TestInteropRSA(t *testing.T) {
	needOpenSSL(t)
	key, crt := testfix.KeyPath, testfix.CertPath
	cert := testfix.Cert(t)
	type maker struct {
		name      string
		needs     func(*testing.T)
		format    twophase.Format
		given     bpfsig.SignerIDForm // the form the tool writes
		normalize bool                // the output differs from bpfsig's own encoding
		make      func(t *testing.T, tbs string) string
	}
	makers := []maker{
		{"sign-file -d", needSignFile, twophase.Auto, bpfsig.IssuerSerial, false, func(t *testing.T, tbs string) string {
			runTool(t, signFile, "-d", "sha256", key, crt, tbs)
			return tbs + ".p7s"
		}},
		{"sign-file -dk", needSignFile, twophase.CMS, bpfsig.SubjectKeyID, false, func(t *testing.T, tbs string) string {
			runTool(t, signFile, "-dk", "sha256", key, crt, tbs)
			return tbs + ".p7s"
		}},
		{"openssl cms -keyid", nil, twophase.Auto, bpfsig.SubjectKeyID, false, func(t *testing.T, tbs string) string {
			runTool(t, "openssl", "cms", "-sign", "-binary", "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-md", "sha256", "-outform", "DER", "-signer", crt, "-inkey", key, "-in", tbs, "-out", tbs+".cms")
			return tbs + ".cms"
		}},
		{"openssl cms issuer+serial", nil, twophase.Auto, bpfsig.IssuerSerial, false, func(t *testing.T, tbs string) string {
			runTool(t, "openssl", "cms", "-sign", "-binary", "-noattr", "-nosmimecap", "-nocerts", "-md", "sha256", "-outform", "DER", "-signer", crt, "-inkey", key, "-in", tbs, "-out", tbs+".cms")
			return tbs + ".cms"
		}},
		{"openssl cms PEM with certificate", nil, twophase.Auto, bpfsig.SubjectKeyID, true, func(t *testing.T, tbs string) string {
			runTool(t, "openssl", "cms", "-sign", "-binary", "-noattr", "-nosmimecap", "-keyid", "-md", "sha256", "-outform", "PEM", "-signer", crt, "-inkey", key, "-in", tbs, "-out", tbs+".pem")
			return tbs + ".pem"
		}},
		{"openssl pkeyutl raw", nil, twophase.Raw, bpfsig.SubjectKeyID, false, func(t *testing.T, tbs string) string {
			runTool(t, "openssl", "dgst", "-sha256", "-binary", "-out", tbs+".dgst", tbs)
			runTool(t, "openssl", "pkeyutl", "-sign", "-inkey", key, "-pkeyopt", "digest:sha256", "-in", tbs+".dgst", "-out", tbs+".raw")
			return tbs + ".raw"
		}},
	}
	for _, m := range makers {
		for _, target := range targets {
			t.Run(m.name+"/"+string(target.Scheme)+target.Generation.String(), func(t *testing.T) {
				if m.needs != nil {
					m.needs(t)
				}
				dir := t.TempDir()
				sk, p, tbs := prepare(t, dir, "legacy-v1", target)
				b := readFile(t, m.make(t, tbs))
				sig, err := twophase.ParseSignature(b, m.format)
				if err != nil {
					t.Fatal(err)
				}
				wantFormat := twophase.CMS
				if m.format == twophase.Raw {
					wantFormat = twophase.Raw
				}
				if sig.Format != wantFormat {
					t.Fatalf("format %v, want %v", sig.Format, wantFormat)
				}
				// As given, asking for the form the tool wrote: bpfsig's own output, unless the
				// tool's encoding differs (then kept, and said so).
				got, err := twophase.AttachVerified(p, sig, cert, twophase.Options{SignerID: m.given})
				if err != nil {
					t.Fatal(err)
				}
				direct, err := bpfsig.Sign(sk, &bpfsig.Signer{Key: testfix.Signer(t).Key, Cert: cert, ID: m.given}, target)
				if err != nil {
					t.Fatal(err)
				}
				if same := bytes.Equal(got.Skeleton.Bytes(), direct.Bytes()); same == m.normalize || got.Kept != m.normalize {
					t.Fatalf("as given: identical to bpfsig sign %v, kept %v (notes %q); want identical %v", same, got.Kept, got.Notes, !m.normalize)
				}
				if v := bpfsig.Verify(got.Skeleton, bpfsig.NewTrust(cert)); !v.OK() {
					t.Fatalf("attached skeleton does not verify: %s", v.Reason)
				}
				// Normalized to the other form: bpfsig sign's output with that form.
				other := bpfsig.SubjectKeyID
				if m.given == bpfsig.SubjectKeyID {
					other = bpfsig.IssuerSerial
				}
				for _, form := range []bpfsig.SignerIDForm{m.given, other} {
					got, err := twophase.AttachVerified(p, sig, cert, twophase.Options{SignerID: form, Normalize: true})
					if err != nil {
						t.Fatal(err)
					}
					direct, err := bpfsig.Sign(sk, &bpfsig.Signer{Key: testfix.Signer(t).Key, Cert: cert, ID: form}, target)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Skeleton.Bytes(), direct.Bytes()) {
						t.Fatalf("normalized to %v: differs from bpfsig sign (notes %q)", form, got.Notes)
					}
					if m.format != twophase.Raw && (got.Normalized != (form != m.given || m.normalize)) {
						t.Errorf("normalized to %v: Normalized %v", form, got.Normalized)
					}
				}
			})
		}
	}
}

// TestInteropECDSA: a bare ECDSA P-256 signature from openssl pkeyutl, and an ECDSA CMS
// from openssl cms, attach and verify.
func TestInteropECDSA(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	s := testfix.P256Signer(t)
	kder, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	key, crt := filepath.Join(dir, "ec.key"), filepath.Join(dir, "ec.crt")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw}), 0o644)
	for _, target := range targets {
		t.Run(string(target.Scheme)+target.Generation.String(), func(t *testing.T) {
			_, p, tbs := prepare(t, dir, "raw", target)
			runTool(t, "openssl", "dgst", "-sha256", "-binary", "-out", tbs+".dgst", tbs)
			runTool(t, "openssl", "pkeyutl", "-sign", "-inkey", key, "-in", tbs+".dgst", "-out", tbs+".raw")
			runTool(t, "openssl", "cms", "-sign", "-binary", "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-md", "sha256", "-outform", "DER", "-signer", crt, "-inkey", key, "-in", tbs, "-out", tbs+".cms")
			for _, f := range []string{tbs + ".raw", tbs + ".cms"} {
				sig, err := twophase.ParseSignature(readFile(t, f), twophase.Auto)
				if err != nil {
					t.Fatal(err)
				}
				got, err := twophase.AttachVerified(p, sig, s.Cert, twophase.Options{})
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
				if v := bpfsig.Verify(got.Skeleton, bpfsig.NewTrust(s.Cert)); !v.OK() {
					t.Fatalf("%s: attached skeleton does not verify: %s", filepath.Base(f), v.Reason)
				}
				if !bytes.Equal(got.Skeleton.Insn(), p.Insn()) || !bytes.Equal(got.Skeleton.Data(), p.Data()) {
					t.Fatalf("%s: attached skeleton is not the prepared one", filepath.Base(f))
				}
			}
		})
	}
}

// TestRefusals: a signature over other bytes, by another key, or with SHA-1 is rejected with
// the kernel's errno, whichever tool made it.
func TestRefusals(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	key, crt := testfix.KeyPath, testfix.CertPath
	cert := testfix.Cert(t)
	_, p, tbs := prepare(t, dir, "legacy-v2", bpfsig.Target{Scheme: compat.Raw})
	other := filepath.Join(dir, "other.tbs")
	os.WriteFile(other, append(p.Content(), 0), 0o644)
	okey, ocrt := filepath.Join(dir, "o.key"), filepath.Join(dir, "o.crt")
	runTool(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", okey, "-out", ocrt, "-subj", "/CN=other", "-days", "2")
	cms := func(out, k, c, in string, extra ...string) string {
		args := append([]string{"cms", "-sign", "-binary", "-noattr", "-nosmimecap", "-nocerts", "-keyid", "-outform", "DER", "-signer", c, "-inkey", k, "-in", in, "-out", out}, extra...)
		runTool(t, "openssl", args...)
		return out
	}
	pkey := func(out, k, in, md string) string {
		runTool(t, "openssl", "dgst", "-"+md, "-binary", "-out", out+".dgst", in)
		runTool(t, "openssl", "pkeyutl", "-sign", "-inkey", k, "-pkeyopt", "digest:"+md, "-in", out+".dgst", "-out", out)
		return out
	}
	smime := filepath.Join(dir, "g")
	runTool(t, "openssl", "cms", "-sign", "-binary", "-nocerts", "-keyid", "-md", "sha256", "-outform", "DER", "-signer", crt, "-inkey", key, "-in", tbs, "-out", smime)
	cases := []struct {
		name   string
		file   string
		format twophase.Format
		errno  compat.Errno
	}{
		{"cms over other bytes", cms(filepath.Join(dir, "a"), key, crt, other, "-md", "sha256"), twophase.Auto, compat.EKEYREJECTED},
		{"cms by another key", cms(filepath.Join(dir, "b"), okey, ocrt, tbs, "-md", "sha256"), twophase.Auto, compat.ENOKEY},
		{"cms with sha1", cms(filepath.Join(dir, "c"), key, crt, tbs, "-md", "sha1"), twophase.Auto, 0},
		{"cms with smimeCapabilities", smime, twophase.Auto, compat.EKEYREJECTED},
		{"raw over other bytes", pkey(filepath.Join(dir, "d"), key, other, "sha256"), twophase.Raw, compat.EKEYREJECTED},
		{"raw by another key", pkey(filepath.Join(dir, "e"), okey, tbs, "sha256"), twophase.Raw, compat.EKEYREJECTED},
		{"raw with sha1", pkey(filepath.Join(dir, "f"), key, tbs, "sha1"), twophase.Raw, compat.EKEYREJECTED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig, err := twophase.ParseSignature(readFile(t, c.file), c.format)
			if err != nil {
				t.Fatal(err)
			}
			got, err := twophase.AttachVerified(p, sig, cert, twophase.Options{})
			if err == nil || got != nil {
				t.Fatalf("accepted: %v", got)
			}
			if !errors.Is(err, twophase.ErrRejected) {
				t.Fatalf("error %v does not wrap ErrRejected", err)
			}
			if c.errno != 0 && !errors.Is(err, c.errno) {
				t.Fatalf("error %v, want errno %v", err, c.errno)
			}
			t.Log(err)
		})
	}
}
