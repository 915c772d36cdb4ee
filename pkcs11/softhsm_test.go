//go:build cgo && (linux || darwin)

package pkcs11

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/p11uri"
)

// softhsmModule is where Debian's softhsm2 package puts the module.
const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// testPIN is deliberately distinctive so that a leak into any message is easy to find.
const testPIN = "4711-Secret-PIN"

type hsm struct {
	serial  string // serial number of token "bpfsig"
	dir     string
	module  string
	ecKeys  map[string]*ecdsa.PrivateKey // label -> key imported under that label
	rsaFile *rsa.PrivateKey
	rsaCert *x509.Certificate
}

var (
	hsmOnce sync.Once
	hsmEnv  *hsm
	hsmErr  error
	hsmSkip string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if hsmEnv != nil {
		os.RemoveAll(hsmEnv.dir)
	}
	os.Exit(code)
}

// softHSM returns a SoftHSM2 setup shared by the tests of this run, made once in a temporary
// SOFTHSM2_CONF directory: token "bpfsig" holding the RSA test key (label rsa, id 01, with its
// certificate), P-256 (p256, id 02), P-384 (p384, id 03) and a P-256 key without its public
// half (p256-nopub, id 04); token "empty" holding nothing.
func softHSM(tb testing.TB) *hsm {
	tb.Helper()
	hsmOnce.Do(setupHSM)
	if hsmSkip != "" {
		tb.Skip(hsmSkip)
	}
	if hsmErr != nil {
		tb.Fatal(hsmErr)
	}
	return hsmEnv
}

func setupHSM() {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		hsmSkip = "softhsm2-util not found (Debian package softhsm2)"
		return
	}
	if _, err := os.Stat(softhsmModule); err != nil {
		hsmSkip = softhsmModule + " missing (Debian package softhsm2)"
		return
	}
	dir, err := os.MkdirTemp("", "bpfsig-softhsm-")
	if err != nil {
		hsmErr = err
		return
	}
	h := &hsm{dir: dir, module: softhsmModule, ecKeys: map[string]*ecdsa.PrivateKey{}}
	hsmEnv = h
	hsmErr = h.build(util)
}

func (h *hsm) build(util string) error {
	tokens := filepath.Join(h.dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(h.dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"), 0o600); err != nil {
		return err
	}
	// SoftHSM reads SOFTHSM2_CONF at C_Initialize, in this process and in softhsm2-util.
	os.Setenv("SOFTHSM2_CONF", conf)
	run := func(args ...string) error {
		out, err := exec.Command(util, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("softhsm2-util %s: %v: %s", args[0], err, out)
		}
		return nil
	}
	for _, label := range []string{"bpfsig", "empty"} {
		if err := run("--init-token", "--free", "--label", label, "--so-pin", "12345678", "--pin", testPIN); err != nil {
			return err
		}
	}
	keyPath := filepath.Join("..", "testdata", "keys", "test-rsa2048.key.pem")
	signer, err := keys.LoadSigner(keyPath)
	if err != nil {
		return err
	}
	h.rsaFile = signer.(*rsa.PrivateKey)
	certs, err := keys.LoadCertificates(filepath.Join("..", "testdata", "keys", "test-rsa2048.crt.pem"))
	if err != nil {
		return err
	}
	h.rsaCert = certs[0]
	if err := run("--import", keyPath, "--token", "bpfsig", "--label", "rsa", "--id", "01", "--pin", testPIN); err != nil {
		return err
	}
	for _, k := range []struct {
		label, id string
		curve     elliptic.Curve
		nopub     bool
	}{{"p256", "02", elliptic.P256(), false}, {"p384", "03", elliptic.P384(), false}, {"p256-nopub", "04", elliptic.P256(), true}} {
		key, err := ecdsa.GenerateKey(k.curve, rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		p := filepath.Join(h.dir, k.label+".p8")
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
		args := []string{"--import", p, "--token", "bpfsig", "--label", k.label, "--id", k.id, "--pin", testPIN}
		if k.nopub {
			args = append(args, "--no-public-key")
		}
		if err := run(args...); err != nil {
			return err
		}
		h.ecKeys[k.label] = key
	}
	if err := h.writeCert("bpfsig", []byte{0x01}, "rsa-cert", h.rsaCert.Raw); err != nil {
		return err
	}
	m, err := acquireModule(h.module)
	if err != nil {
		return err
	}
	defer m.release()
	u, _ := p11uri.Parse("pkcs11:token=bpfsig")
	tok, err := selectToken(m, u)
	if err != nil {
		return err
	}
	h.serial = trim(tok.info.SerialNumber)
	return nil
}

// writeCert stores a certificate object on a token, as pkcs11-tool --write-object would.
func (h *hsm) writeCert(token string, id []byte, label string, der []byte) error {
	m, err := acquireModule(h.module)
	if err != nil {
		return err
	}
	defer m.release()
	u, _ := p11uri.Parse("pkcs11:token=" + token)
	tok, err := selectToken(m, u)
	if err != nil {
		return err
	}
	sh, err := m.ctx.OpenSession(tok.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer m.ctx.CloseSession(sh)
	if err := m.ctx.Login(sh, p11.CKU_USER, testPIN); err != nil && !isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
		return err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	_, err = m.ctx.CreateObject(sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_CERTIFICATE),
		p11.NewAttribute(p11.CKA_CERTIFICATE_TYPE, p11.CKC_X_509),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_ID, id),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_SUBJECT, c.RawSubject),
		p11.NewAttribute(p11.CKA_VALUE, der),
	})
	return err
}

func (h *hsm) uri(path string) string {
	return "pkcs11:" + path + "?pin-value=" + testPIN + "&module-path=" + h.module
}

func openKey(tb testing.TB, h *hsm, path string, opts Options) *Key {
	tb.Helper()
	k, err := Open(h.uri(path), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := k.Close(); err != nil {
			tb.Error(err)
		}
	})
	return k
}

// TestRSAByteIdentical: PKCS#1 v1.5 is deterministic, so the token's signature must equal
// crypto/rsa's with the same key from the file, for every supported hash.
func TestRSAByteIdentical(t *testing.T) {
	h := softHSM(t)
	for _, path := range []string{"token=bpfsig;object=rsa", "token=bpfsig;id=%01", "serial=SERIAL;object=rsa", "token=bpfsig;id=%01;type=private;object=rsa"} {
		k := openKey(t, h, strings.Replace(path, "SERIAL", h.serial, 1), Options{})
		if !h.rsaFile.PublicKey.Equal(k.Public()) {
			t.Fatalf("%s: public key differs from the file key", path)
		}
		for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			hh := hash.New()
			hh.Write([]byte("bpfsig pkcs11 " + path))
			digest := hh.Sum(nil)
			got, err := k.Sign(nil, digest, hash)
			if err != nil {
				t.Fatalf("%s %v: %v", path, hash, err)
			}
			want, err := rsa.SignPKCS1v15(nil, h.rsaFile, hash, digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %v: token signature differs from the file key's", path, hash)
			}
		}
	}
}

// TestRSACMSMatchesFixture signs the raw-scheme skeleton content through the token with
// internal/cms.Sign (what sign and migrate do) and compares with the file key's output and with
// the committed fixture signature testdata/blobs/raw.sig.
func TestRSACMSMatchesFixture(t *testing.T) {
	h := softHSM(t)
	k := openKey(t, h, "token=bpfsig;object=rsa", Options{})
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "blobs", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	content := append(read("raw.insn"), read("raw.data")...)
	cert := k.Certificate()
	if cert == nil || !bytes.Equal(cert.Raw, h.rsaCert.Raw) {
		t.Fatal("Certificate() did not return the certificate stored on the token")
	}
	viaToken, err := cms.Sign(content, k, cert, cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	viaFile, err := cms.Sign(content, h.rsaFile, h.rsaCert, cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(viaToken, viaFile) {
		t.Error("CMS signature through the token differs from the file key's")
	}
	if !bytes.Equal(viaToken, read("raw.sig")) {
		t.Error("CMS signature through the token differs from testdata/blobs/raw.sig")
	}
	if _, err := cms.Verify(content, viaToken, []*x509.Certificate{h.rsaCert}); err != nil {
		t.Errorf("kernel-model verification: %v", err)
	}
	// Issuer-and-serial form and SHA-512 too.
	for _, o := range []cms.SignOptions{{SignerID: cms.IssuerSerial}, {Digest: crypto.SHA512}, {SignedAttributes: true}} {
		a, err1 := cms.Sign(content, k, cert, o)
		b, err2 := cms.Sign(content, h.rsaFile, h.rsaCert, o)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("options %+v: token and file signatures differ (%v, %v)", o, err1, err2)
		}
	}
}

// selfSigned makes a certificate for k, signed by k itself through the token.
func selfSigned(t *testing.T, k crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pkcs11 test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, SubjectKeyId: []byte{1, 2, 3, 4},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestECDSASignVerify(t *testing.T) {
	h := softHSM(t)
	for _, tc := range []struct {
		label string
		hash  crypto.Hash
	}{{"p256", crypto.SHA256}, {"p384", crypto.SHA384}, {"p384", crypto.SHA256}} {
		t.Run(tc.label+"/"+tc.hash.String(), func(t *testing.T) {
			k := openKey(t, h, "token=bpfsig;object="+tc.label, Options{})
			file := h.ecKeys[tc.label]
			if !file.PublicKey.Equal(k.Public()) {
				t.Fatal("public key differs from the imported key")
			}
			hh := tc.hash.New()
			hh.Write([]byte("ecdsa via token"))
			digest := hh.Sum(nil)
			sig, err := k.Sign(nil, digest, tc.hash)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(&file.PublicKey, digest, sig) {
				t.Fatal("token ECDSA signature does not verify")
			}
			digest[0] ^= 1
			if ecdsa.VerifyASN1(&file.PublicKey, digest, sig) {
				t.Fatal("signature verifies over a different digest")
			}
			// Through CMS, with a certificate the token key signed itself.
			cert := selfSigned(t, k)
			content := []byte("skeleton bytes")
			der, err := cms.Sign(content, k, cert, cms.SignOptions{Digest: tc.hash})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cms.Verify(content, der, []*x509.Certificate{cert}); err != nil {
				t.Errorf("kernel-model verification of the token's CMS signature: %v", err)
			}
		})
	}
}

func TestCertificateOption(t *testing.T) {
	h := softHSM(t)
	// A matching --cert replaces the token's; P-256 key has no certificate on the token.
	k := openKey(t, h, "token=bpfsig;object=rsa", Options{Certificate: h.rsaCert})
	if k.Certificate() != h.rsaCert {
		t.Error("Options.Certificate not used")
	}
	k2 := openKey(t, h, "token=bpfsig;object=p256", Options{})
	if k2.Certificate() != nil {
		t.Error("P-256 key has a certificate though the token holds none")
	}
	// A --cert for another key is refused.
	_, err := Open(h.uri("token=bpfsig;object=p256"), Options{Certificate: h.rsaCert})
	if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched certificate: %v", err)
	}
}

func TestPINSource(t *testing.T) {
	h := softHSM(t)
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(testPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := Open("pkcs11:token=bpfsig;object=rsa?pin-source=file://"+pinFile, Options{ModulePath: h.module})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if s := k.String(); strings.Contains(s, testPIN) || !strings.Contains(s, "pin-source=") {
		t.Errorf("String() = %q", s)
	}
	// The module from the environment, lowest precedence.
	t.Setenv(EnvModule, h.module)
	k2, err := Open("pkcs11:token=bpfsig;object=rsa?pin-source="+pinFile, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k2.Close()
	if _, err := k2.Sign(nil, make([]byte, 32), crypto.SHA256); err == nil {
		t.Error("closed key signed")
	}
}

// TestErrors: each failure is the sentinel error a caller maps to an exit code, names what is
// wrong, and never contains the PIN.
func TestErrors(t *testing.T) {
	h := softHSM(t)
	notLib := filepath.Join(t.TempDir(), "not-a-module.so")
	if err := os.WriteFile(notLib, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := "&module-path=" + h.module
	tests := []struct {
		name, uri string
		opts      Options
		is        error
		msg       string
	}{
		{"wrong PIN", "pkcs11:token=bpfsig;object=rsa?pin-value=" + testPIN + "x" + mod, Options{}, ErrLogin, "wrong PIN"},
		{"no PIN", "pkcs11:token=bpfsig;object=rsa?module-path=" + h.module, Options{}, ErrLogin, "requires a PIN"},
		{"missing pin-source", "pkcs11:token=bpfsig;object=rsa?pin-source=/nonexistent/pin" + mod, Options{}, ErrLogin, "/nonexistent/pin"},
		{"missing object", "pkcs11:token=bpfsig;object=nosuchkey?pin-value=" + testPIN + mod, Options{}, ErrKeyNotFound, `holds no private key matching`},
		{"wrong id", "pkcs11:token=bpfsig;object=rsa;id=%02?pin-value=" + testPIN + mod, Options{}, ErrKeyNotFound, `token "bpfsig" holds no private key matching`},
		{"token without the key", "pkcs11:token=empty;object=rsa?pin-value=" + testPIN + mod, Options{}, ErrKeyNotFound, `token "empty" holds no private key at all`},
		{"no such token", "pkcs11:token=nosuch;object=rsa?pin-value=" + testPIN + mod, Options{}, ErrToken, `no token matches`},
		{"token not named", "pkcs11:object=rsa?pin-value=" + testPIN + mod, Options{}, ErrToken, "matches 2 tokens"},
		{"two tokens match", "pkcs11:manufacturer=SoftHSM%20project;object=rsa?pin-value=" + testPIN + mod, Options{}, ErrToken, "matches 2 tokens"},
		{"missing module", "pkcs11:object=rsa?pin-value=" + testPIN + "&module-path=/nonexistent/libp11.so", Options{}, ErrModule, "/nonexistent/libp11.so"},
		{"module not a library", "pkcs11:object=rsa?pin-value=" + testPIN + "&module-path=" + notLib, Options{}, ErrModule, "cannot be loaded"},
		{"no module configured", "pkcs11:object=rsa?pin-value=" + testPIN, Options{Getenv: func(string) string { return "" }}, ErrUsage, "--pkcs11-module"},
		{"malformed URI", "pkcs11:object=rsa;object=x?pin-value=" + testPIN, Options{}, ErrUsage, "more than once"},
		{"type=cert", "pkcs11:object=rsa;type=cert?pin-value=" + testPIN + mod, Options{}, ErrUsage, "names no private key"},
		{"no key name", "pkcs11:token=bpfsig?pin-value=" + testPIN + mod, Options{}, ErrUsage, "object="},
		{"EC key without public half", "pkcs11:token=bpfsig;object=p256-nopub?pin-value=" + testPIN + mod, Options{}, ErrKey, "public key is unknown"},
		{"library mismatch", "pkcs11:library-manufacturer=Acme;object=rsa?pin-value=" + testPIN + mod, Options{}, ErrToken, "library attributes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Open(tc.uri, tc.opts)
			if tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				k.Close()
				return
			}
			if err == nil {
				k.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), testPIN) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testPIN) {
				t.Errorf("error contains the PIN: %v", err)
			}
		})
	}
	// After all the failures, modules are released: nothing left loaded but what open Keys hold.
	modMu.Lock()
	n := len(modules)
	modMu.Unlock()
	if n != 0 {
		t.Errorf("%d modules still loaded after failed opens", n)
	}
}

func TestSignRefusals(t *testing.T) {
	h := softHSM(t)
	k := openKey(t, h, "token=bpfsig;object=rsa", Options{})
	d := sha256.Sum256(nil)
	if _, err := k.Sign(nil, d[:], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil || !strings.Contains(err.Error(), "PSS") {
		t.Errorf("PSS: %v", err)
	}
	if _, err := k.Sign(nil, d[:20], crypto.SHA256); err == nil {
		t.Error("short digest signed")
	}
	if _, err := k.Sign(nil, d[:], crypto.SHA1); err == nil {
		t.Error("SHA-1 signed")
	}
	e := openKey(t, h, "token=bpfsig;object=p384", Options{})
	d5 := sha512.Sum384(nil)
	if _, err := e.Sign(nil, d5[:10], crypto.SHA384); err == nil {
		t.Error("ECDSA short digest signed")
	}
}

func benchSign(b *testing.B, s crypto.Signer, h crypto.Hash) {
	d := sha256.Sum256([]byte("bench"))
	digest := d[:]
	if h == crypto.SHA384 {
		d := sha512.Sum384([]byte("bench"))
		digest = d[:]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Sign(rand.Reader, digest, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	h := softHSM(b)
	b.Run("RSA2048/pkcs11", func(b *testing.B) { benchSign(b, openKey(b, h, "token=bpfsig;object=rsa", Options{}), crypto.SHA256) })
	b.Run("RSA2048/file", func(b *testing.B) { benchSign(b, h.rsaFile, crypto.SHA256) })
	b.Run("P256/pkcs11", func(b *testing.B) { benchSign(b, openKey(b, h, "token=bpfsig;object=p256", Options{}), crypto.SHA256) })
	b.Run("P256/file", func(b *testing.B) { benchSign(b, h.ecKeys["p256"], crypto.SHA256) })
	b.Run("P384/pkcs11", func(b *testing.B) { benchSign(b, openKey(b, h, "token=bpfsig;object=p384", Options{}), crypto.SHA384) })
	b.Run("P384/file", func(b *testing.B) { benchSign(b, h.ecKeys["p384"], crypto.SHA384) })
}

// TestConcurrentSign: one Key used from several goroutines (one session underneath) gives
// correct signatures every time.
func TestConcurrentSign(t *testing.T) {
	h := softHSM(t)
	k := openKey(t, h, "token=bpfsig;object=rsa", Options{})
	d := sha256.Sum256([]byte("concurrent"))
	want, _ := rsa.SignPKCS1v15(nil, h.rsaFile, crypto.SHA256, d[:])
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				got, err := k.Sign(nil, d[:], crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- errors.New("wrong signature under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
