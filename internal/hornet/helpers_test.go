package hornet

import (
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig/internal/keys"
)

const keyDir = "../../testdata/keys/"

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func testKey(tb testing.TB) crypto.Signer {
	tb.Helper()
	k, err := keys.LoadSigner(keyDir + "test-rsa2048.key.pem")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func testCert(tb testing.TB) *x509.Certificate {
	tb.Helper()
	c, err := keys.LoadCertificates(keyDir + "test-rsa2048.crt.pem")
	if err != nil || len(c) != 1 {
		tb.Fatalf("certificate: %v", err)
	}
	return c[0]
}

// goldenInsn and goldenMaps are the inputs the gen_sig golden files were made from.
func goldenInsn(tb testing.TB) []byte { return readFile(tb, "testdata/gen_sig/insn.bin") }

func goldenMap(tb testing.TB, name string) []byte {
	return readFile(tb, "testdata/gen_sig/"+name+".bin")
}

// opensslVerify runs `openssl cms -verify -binary` over sig and content with cert as the
// only trust anchor and signer certificate; it skips the test when openssl is missing.
func opensslVerify(tb testing.TB, sig, content []byte, certPEM string) ([]byte, error) {
	tb.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		tb.Skip("openssl not installed (Debian package openssl)")
	}
	dir := tb.TempDir()
	sp, cp := filepath.Join(dir, "sig.p7b"), filepath.Join(dir, "content.bin")
	if err := os.WriteFile(sp, sig, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(cp, content, 0o600); err != nil {
		tb.Fatal(err)
	}
	return exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", sp, "-content", cp,
		"-certfile", certPEM, "-CAfile", certPEM, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
}
