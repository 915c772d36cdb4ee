package cms

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig/internal/keys"
)

const testdata = "../../testdata/"

// fixture is one real bpftool/openssl signature and the content it covers.
type fixture struct {
	name    string
	content []byte
	sig     []byte
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtures returns the four signatures in testdata/blobs with their signed content:
// legacy-v1/v2 over insn, raw over insn‖data, chain over H(H(insn)‖H(data)).
func fixtures(t testing.TB) []fixture {
	var out []fixture
	for _, n := range []string{"legacy-v1", "legacy-v2", "raw", "chain"} {
		insn := readFile(t, testdata+"blobs/"+n+".insn")
		data := readFile(t, testdata+"blobs/"+n+".data")
		content := insn
		switch n {
		case "raw":
			content = append(append([]byte{}, insn...), data...)
		case "chain":
			hi, hd := sha256.Sum256(insn), sha256.Sum256(data)
			root := sha256.Sum256(append(hi[:], hd[:]...))
			content = root[:]
		}
		out = append(out, fixture{n, content, readFile(t, testdata+"blobs/"+n+".sig")})
	}
	return out
}

func testCert(t testing.TB) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(readFile(t, testdata+"keys/test-rsa2048.crt.der"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testKey(t testing.TB) crypto.Signer {
	t.Helper()
	return loadPEMKey(t, testdata+"keys/test-rsa2048.key.pem")
}

func loadPEMKey(t testing.TB, path string) crypto.Signer {
	t.Helper()
	k, err := keys.LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func loadPEMCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	certs, err := keys.LoadCertificates(path)
	if err != nil || len(certs) != 1 {
		t.Fatalf("%s: %v (%d certificates)", path, err, len(certs))
	}
	return certs[0]
}

// needOpenSSL returns the openssl binary or skips the test.
func needOpenSSL(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl binary not found in PATH: byte-identity and interoperability tests need OpenSSL 3")
	}
	return p
}

func openssl(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(needOpenSSL(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// keyPair is a key and self-signed certificate (subjectKeyIdentifier=hash) made by openssl.
type keyPair struct {
	keyPath, certPath string
	key               crypto.Signer
	cert              *x509.Certificate
}

// genKeyPair makes a self-signed certificate with openssl; newkey is e.g. "rsa:3072" or "ec".
func genKeyPair(t testing.TB, dir, name, newkey string, extra ...string) keyPair {
	t.Helper()
	kp := keyPair{keyPath: filepath.Join(dir, name+".key.pem"), certPath: filepath.Join(dir, name+".crt.pem")}
	args := []string{"req", "-x509", "-newkey", newkey}
	args = append(args, extra...)
	args = append(args, "-nodes", "-keyout", kp.keyPath, "-out", kp.certPath, "-subj", "/CN=bpfsig test "+name,
		"-days", "3650", "-addext", "subjectKeyIdentifier=hash", "-addext", "keyUsage=critical,digitalSignature")
	openssl(t, args...)
	kp.key = loadPEMKey(t, kp.keyPath)
	kp.cert = loadPEMCert(t, kp.certPath)
	return kp
}

func genEC(t testing.TB, dir, name, curve string) keyPair {
	return genKeyPair(t, dir, name, "ec", "-pkeyopt", "ec_paramgen_curve:"+curve)
}

// opensslSign runs `openssl cms -sign` over content with the given extra flags and returns DER.
func opensslSign(t testing.TB, dir string, kp keyPair, content []byte, flags ...string) []byte {
	t.Helper()
	in := filepath.Join(dir, "content.bin")
	out := filepath.Join(dir, "sig.der")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-signer", kp.certPath, "-inkey", kp.keyPath,
		"-in", in, "-out", out}, flags...)
	openssl(t, args...)
	return readFile(t, out)
}

// opensslVerify checks sig over content with openssl, trusting certPath without chain checks.
func opensslVerify(t testing.TB, dir, certPath string, content, sig []byte) error {
	t.Helper()
	in := filepath.Join(dir, "verify-content.bin")
	s := filepath.Join(dir, "verify-sig.der")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(needOpenSSL(t), "cms", "-verify", "-binary", "-inform", "DER", "-in", s, "-content", in,
		"-noverify", "-certfile", certPath, "-out", os.DevNull)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &opensslError{err: err, out: string(out)}
	}
	return nil
}

type opensslError struct {
	err error
	out string
}

func (e *opensslError) Error() string { return e.err.Error() + ": " + e.out }

func testKeyPair(t testing.TB) keyPair {
	return keyPair{
		keyPath:  testdata + "keys/test-rsa2048.key.pem",
		certPath: testdata + "keys/test-rsa2048.crt.pem",
		key:      testKey(t),
		cert:     testCert(t),
	}
}
