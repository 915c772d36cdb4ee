package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// benchContent is the 2392-byte legacy-v1 loader.
func benchContent(b *testing.B) []byte {
	c := readFile(b, testdata+"blobs/legacy-v1.insn")
	if len(c) != 2392 {
		b.Fatalf("content is %d bytes", len(c))
	}
	return c
}

func benchP256(b *testing.B) (*ecdsa.PrivateKey, *x509.Certificate) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{1, 2, 3, 4}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		b.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	return k, c
}

func BenchmarkSignRSA2048(b *testing.B) {
	content, key, cert := benchContent(b), testKey(b), testCert(b)
	for b.Loop() {
		if _, err := Sign(content, key, cert, SignOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignP256(b *testing.B) {
	content := benchContent(b)
	key, cert := benchP256(b)
	for b.Loop() {
		if _, err := Sign(content, key, cert, SignOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRSA2048(b *testing.B) {
	content, cert := benchContent(b), testCert(b)
	sig := readFile(b, testdata+"blobs/legacy-v1.sig")
	trust := []*x509.Certificate{cert}
	for b.Loop() {
		if _, err := Verify(content, sig, trust); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	sig := readFile(b, testdata+"blobs/legacy-v1.sig")
	for b.Loop() {
		if _, err := Parse(sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareRSA2048 is SHA-256 plus rsa.SignPKCS1v15 only, for comparison with Sign.
func BenchmarkBareRSA2048(b *testing.B) {
	content := benchContent(b)
	key := testKey(b).(*rsa.PrivateKey)
	for b.Loop() {
		d := sha256.Sum256(content)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareP256 is SHA-256 plus ecdsa.SignASN1 only, for comparison with Sign.
func BenchmarkBareP256(b *testing.B) {
	content := benchContent(b)
	key, _ := benchP256(b)
	for b.Loop() {
		d := sha256.Sum256(content)
		if _, err := ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}
