// Package testfix gives tests the project's bundled fixtures: the real upstream light skeletons
// under testdata/minimal and the test key under testdata/keys.
package testfix

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// Names of the fixture skeletons, testdata/minimal/NAME.skel.h.
var Names = []string{"unsigned", "legacy-v1", "legacy-v2", "raw", "chain"}

// Root returns the repository's testdata directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Path returns the path of a file under testdata.
func Path(elem ...string) string { return filepath.Join(append([]string{Root()}, elem...)...) }

// SkelPath returns the path of fixture skeleton name.
func SkelPath(name string) string { return Path("minimal", name+".skel.h") }

// Bytes returns the contents of fixture skeleton name.
func Bytes(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(SkelPath(name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Artifact parses fixture skeleton name into the document model.
func Artifact(tb testing.TB, name string) *skel.Doc {
	tb.Helper()
	a, err := skel.Parse(SkelPath(name), Bytes(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.LoaderError(); err != nil {
		tb.Fatal(err)
	}
	return a
}

// KeyPath and CertPath are the fixture test key (RSA-2048) and its certificate.
var (
	KeyPath  = Path("keys", "test-rsa2048.key.pem")
	CertPath = Path("keys", "test-rsa2048.crt.pem")
)

// Signer returns the fixture test key as a signer, in bpftool's form.
func Signer(tb testing.TB) *compat.Signer {
	tb.Helper()
	k, err := keys.LoadSigner(KeyPath)
	if err != nil {
		tb.Fatal(err)
	}
	return &compat.Signer{Key: k, Cert: Cert(tb)}
}

// Cert returns the fixture certificate.
func Cert(tb testing.TB) *x509.Certificate {
	tb.Helper()
	certs, err := keys.LoadCertificates(CertPath)
	if err != nil || len(certs) != 1 {
		tb.Fatalf("loading %s: %v (%d certificates)", CertPath, err, len(certs))
	}
	return certs[0]
}

// Certs returns the fixture certificate as a certificate list.
func Certs(tb testing.TB) []*x509.Certificate { return []*x509.Certificate{Cert(tb)} }

// P256Signer returns a fresh ECDSA P-256 key with a self-signed certificate that has a subject
// key identifier: a signer nobody else trusts.
func P256Signer(tb testing.TB) *compat.Signer {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	skid := sha1.Sum(pub)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bpfsig throwaway P-256"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: skid[:],
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &compat.Signer{Key: k, Cert: c}
}
