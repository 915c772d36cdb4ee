package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const testdata = "../../testdata/"

func needOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl binary not found in PATH: key-format tests generate their keys with OpenSSL")
	}
	return p
}

func run(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(needOpenSSL(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// TestLoadSignerFormats loads every encoding openssl writes, for RSA and ECDSA P-256/P-384.
func TestLoadSignerFormats(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	run(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("rsa.pk8.pem"))
	run(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p("p256.pk8.pem"))
	run(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p("p384.pk8.pem"))
	for _, k := range []string{"rsa", "p256", "p384"} {
		run(t, "pkey", "-in", p(k+".pk8.pem"), "-outform", "DER", "-out", p(k+".pk8.der"))
	}
	run(t, "rsa", "-in", p("rsa.pk8.pem"), "-traditional", "-out", p("rsa.pkcs1.pem"))
	run(t, "rsa", "-in", p("rsa.pk8.pem"), "-traditional", "-outform", "DER", "-out", p("rsa.pkcs1.der"))
	for _, k := range []string{"p256", "p384"} {
		run(t, "ec", "-in", p(k+".pk8.pem"), "-out", p(k+".sec1.pem"))
		run(t, "ec", "-in", p(k+".pk8.pem"), "-outform", "DER", "-out", p(k+".sec1.der"))
	}
	// SEC 1 with an EC PARAMETERS block first, as `openssl ecparam -genkey` writes.
	run(t, "ecparam", "-name", "prime256v1", "-genkey", "-out", p("p256.params.pem"))

	for _, tc := range []struct {
		file string
		rsa  bool
		bits int
	}{
		{"rsa.pk8.pem", true, 2048}, {"rsa.pk8.der", true, 2048}, {"rsa.pkcs1.pem", true, 2048}, {"rsa.pkcs1.der", true, 2048},
		{"p256.pk8.pem", false, 256}, {"p256.pk8.der", false, 256}, {"p256.sec1.pem", false, 256}, {"p256.sec1.der", false, 256},
		{"p384.pk8.pem", false, 384}, {"p384.pk8.der", false, 384}, {"p384.sec1.pem", false, 384}, {"p384.sec1.der", false, 384},
		{"p256.params.pem", false, 256},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := LoadSigner(p(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			switch k := s.(type) {
			case *rsa.PrivateKey:
				if !tc.rsa || k.N.BitLen() != tc.bits {
					t.Fatalf("got RSA-%d", k.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if tc.rsa || k.Curve.Params().BitSize != tc.bits {
					t.Fatalf("got ECDSA %s", k.Curve.Params().Name)
				}
			default:
				t.Fatalf("got %T", s)
			}
		})
	}
	// The same key in every encoding is the same key.
	a, _ := LoadSigner(p("p384.pk8.pem"))
	b, _ := LoadSigner(p("p384.sec1.der"))
	if !a.(*ecdsa.PrivateKey).Equal(b) {
		t.Fatal("PKCS#8 PEM and SEC 1 DER load different keys")
	}
}

func TestLoadSignerErrors(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	write := func(n string, b []byte) {
		if err := os.WriteFile(p(n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("clear.pem"))
	run(t, "pkey", "-in", p("clear.pem"), "-aes256", "-passout", "pass:secret", "-out", p("enc.pk8.pem"))
	run(t, "pkcs8", "-topk8", "-in", p("clear.pem"), "-v2", "aes256", "-passout", "pass:secret", "-outform", "DER", "-out", p("enc.pk8.der"))
	run(t, "rsa", "-in", p("clear.pem"), "-traditional", "-aes256", "-passout", "pass:secret", "-out", p("enc.pkcs1.pem"))
	run(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", p("small.pem"))
	run(t, "genpkey", "-algorithm", "ED25519", "-out", p("ed.pem"))
	run(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-out", p("p521.pem"))

	secret := []byte("TOPSECRET-KEY-MATERIAL-0123456789abcdef")
	write("garbage.bin", append([]byte{0x30, 0x82, 0x01, 0x00}, secret...))
	write("garbage.pem", append(append([]byte("-----BEGIN PRIVATE KEY-----\n"), secret...), []byte("\n-----END PRIVATE KEY-----\n")...))
	badPEM := "-----BEGIN PRIVATE KEY-----\nVE9QU0VDUkVULUtFWS1NQVRFUklBTA==\n-----END PRIVATE KEY-----\n"
	write("badblock.pem", []byte(badPEM))
	write("empty.pem", nil)
	write("text.txt", secret)
	write("cert-only.pem", readFile(t, testdata+"keys/test-rsa2048.crt.pem"))

	for _, tc := range []struct {
		file      string
		encrypted bool
		want      string
	}{
		{"enc.pk8.pem", true, "encrypted"},
		{"enc.pk8.der", true, "encrypted"},
		{"enc.pkcs1.pem", true, "encrypted"},
		{"small.pem", false, "too small"},
		{"ed.pem", false, "unsupported key type"},
		{"p521.pem", false, "P-521"},
		{"garbage.bin", false, "not a PEM file"},
		{"garbage.pem", false, "no PEM block"},
		{"badblock.pem", false, "malformed PRIVATE KEY"},
		{"empty.pem", false, "empty"},
		{"text.txt", false, "not a PEM file"},
		{"cert-only.pem", false, "no private key among the PEM blocks (found CERTIFICATE)"},
		{"missing.pem", false, "no such file"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadSigner(p(tc.file))
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrEncryptedKey) != tc.encrypted {
				t.Fatalf("encrypted=%v: %v", tc.encrypted, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("%q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "TOPSECRET") || strings.Contains(msg, "VE9QU0VDUkVU") || strings.Contains(msg, "MII") {
				t.Fatalf("error echoes file contents: %q", msg)
			}
			if data, _ := os.ReadFile(p(tc.file)); len(data) > 16 && strings.Contains(msg, string(data[len(data)/2:len(data)/2+8])) {
				t.Fatalf("error echoes file contents: %q", msg)
			}
		})
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

func TestCheckKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}, {0o604, true}, {0o620, true}, {0o700, false}} {
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		w, err := CheckKeyFileMode(p)
		if err != nil {
			t.Fatal(err)
		}
		if (w != "") != tc.warn {
			t.Fatalf("mode %04o: warning %q", tc.mode, w)
		}
		if tc.warn && !strings.Contains(w, "chmod 600") {
			t.Fatalf("warning without advice: %q", w)
		}
	}
	if _, err := CheckKeyFileMode(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestLoadCertificates(t *testing.T) {
	dir := t.TempDir()
	pemData := readFile(t, testdata+"keys/test-rsa2048.crt.pem")
	der := readFile(t, testdata+"keys/test-rsa2048.crt.der")
	two := filepath.Join(dir, "two.pem")
	if err := os.WriteFile(two, append(append([]byte("comment\n"), pemData...), pemData...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		n    int
	}{{testdata + "keys/test-rsa2048.crt.pem", 1}, {testdata + "keys/test-rsa2048.crt.der", 1}, {two, 2}} {
		cs, err := LoadCertificates(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != tc.n || !bytes.Equal(cs[0].Raw, der) {
			t.Fatalf("%s: %d certificates", tc.path, len(cs))
		}
	}
	bad := filepath.Join(dir, "bad.der")
	if err := os.WriteFile(bad, []byte("SECRETSTUFF-not-a-cert"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCertificates(bad)
	if err == nil || strings.Contains(err.Error(), "SECRETSTUFF") {
		t.Fatalf("bad cert: %v", err)
	}
	if _, err := LoadCertificates(testdata + "keys/test-rsa2048.key.pem"); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("key as certificate: %v", err)
	}
}

func TestLoadTrust(t *testing.T) {
	dir := t.TempDir()
	pemData := readFile(t, testdata+"keys/test-rsa2048.crt.pem")
	der := readFile(t, testdata+"keys/test-rsa2048.crt.der")
	ring := filepath.Join(dir, "ring")
	if err := os.MkdirAll(ring, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"a.pem": pemData, "b.DER": der, "README": []byte("ignored"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(ring, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := LoadTrust([]string{testdata + "keys/test-rsa2048.crt.der"}, []string{ring})
	if err != nil {
		t.Fatal(err)
	}
	// The same certificate three times: kept once, from the first source.
	if len(tr.Certs) != 1 || len(tr.Sources) != 1 || tr.Sources[0] != testdata+"keys/test-rsa2048.crt.der" {
		t.Fatalf("trust %v", tr.Sources)
	}
	empty, err := LoadTrust(nil, []string{t.TempDir()})
	if err != nil || len(empty.Certs) != 0 {
		t.Fatalf("empty keyring: %v %v", empty, err)
	}
	if err := os.WriteFile(filepath.Join(ring, "z.crt"), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrust(nil, []string{ring}); err == nil || !strings.Contains(err.Error(), "z.crt") {
		t.Fatalf("bad file in keyring: %v", err)
	}
	if _, err := LoadTrust(nil, []string{filepath.Join(dir, "nope")}); err == nil {
		t.Fatal("missing dir accepted")
	}
}

func TestMatchKey(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	k, err := LoadSigner(testdata + "keys/test-rsa2048.key.pem")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := LoadCertificates(testdata + "keys/test-rsa2048.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := MatchKey(k, cs[0]); err != nil {
		t.Fatal(err)
	}
	run(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", filepath.Join(dir, "o.pem"))
	o, err := LoadSigner(filepath.Join(dir, "o.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := MatchKey(o, cs[0]); err == nil {
		t.Fatal("mismatched key accepted")
	}
	if err := MatchKey(nil, cs[0]); err == nil {
		t.Fatal("nil key accepted")
	}
}

// TestLoadTrustThroughLinkDotDot: a keyring directory spelled through a link and ".."
// (l/../ring, l -> d/sub) is read where the system resolves it (d/ring): its entries are
// opened there, never under the lexical reading (./ring), which here holds a decoy of the
// same name.
func TestLoadTrustThroughLinkDotDot(t *testing.T) {
	base := t.TempDir()
	for _, p := range []string{"d/sub", "d/ring", "ring"} {
		if err := os.MkdirAll(filepath.Join(base, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := os.ReadFile(testdata + "keys/test-rsa2048.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "d", "ring", "a.pem"), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "ring", "a.pem"), []byte("decoy, not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "d", "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	tr, err := LoadTrust(nil, []string{"l/../ring"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Certs) != 1 {
		t.Fatalf("%d certificates", len(tr.Certs))
	}
	if b, err := os.ReadFile(tr.Sources[0]); err != nil || !bytes.Equal(b, cert) {
		t.Errorf("source %q: %v: not the real keyring's file", tr.Sources[0], err)
	}
}
