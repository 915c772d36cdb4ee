package cms

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"testing"
)

// TestParseKernelCertLenient: the kernel's x509 parser does not look at name strings, so a
// commonName that is not valid UTF-8 (which crypto/x509 rejects) still parses.
func TestParseKernelCertLenient(t *testing.T) {
	raw := testCert(t).Raw
	c, err := parseKernelCert(raw)
	if err != nil {
		t.Fatalf("fixture certificate: %v", err)
	}
	if !bytes.Equal(c.rawSerial, contentsOf(mustSerial(t, testCert(t)))) {
		t.Errorf("serial %x", c.rawSerial)
	}
	i := bytes.Index(raw, []byte("bpfsig"))
	if i < 0 {
		t.Skip("fixture has no bpfsig CN")
	}
	bad := bytes.Clone(raw)
	bad[i] = 0xff
	if _, err := x509.ParseCertificate(bad); err == nil {
		t.Log("crypto/x509 accepted the damaged name")
	}
	if _, err := parseKernelCert(bad); err != nil {
		t.Errorf("kernel parser rejected a certificate with a non-UTF-8 name: %v", err)
	}
	// A damaged self-signature fails x509_check_for_self_signed with the RSA code's raw
	// errno (EINVAL for a block of the wrong size, EBADMSG for bad padding), not EKEYREJECTED.
	sig := bytes.Clone(raw)
	sig[len(sig)-1] ^= 0x55
	_, err = parseEmbeddedCert(sig)
	if got := errName(err); got != "EINVAL" && got != "EBADMSG" {
		t.Errorf("damaged self-signature: got %q (%v), want EINVAL or EBADMSG", got, err)
	}
}

func mustSerial(t *testing.T, c *x509.Certificate) []byte {
	t.Helper()
	s, err := rawSerialElement(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyRSAPaddingErrnos pins rsassa_pkcs1_verify's errno for each failure.
func TestVerifyRSAPaddingErrnos(t *testing.T) {
	k, ok := testKey(t).(*rsa.PrivateKey)
	if !ok {
		t.Skip("test key is not RSA")
	}
	pk, err := parseSPKI(testCert(t).RawSubjectPublicKeyInfo)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	prefix, _ := digestInfoPrefix(crypto.SHA256)
	size := k.Size()
	// sign raw encoded messages: em^d mod n
	rawSign := func(em []byte) []byte {
		m := new(big.Int).SetBytes(em)
		return new(big.Int).Exp(m, k.D, k.N).FillBytes(make([]byte, size))
	}
	good := append([]byte{0, 1}, bytes.Repeat([]byte{0xff}, size-3-len(prefix)-len(digest))...)
	good = append(append(append(good, 0), prefix...), digest[:]...)
	mod := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	tests := []struct {
		name string
		em   []byte
		want string
	}{
		{"good", good, ""},
		{"second-octet-zero", mod(func(b []byte) { b[1] = 0 }), "EINVAL"},
		{"second-octet-02", mod(func(b []byte) { b[1] = 2 }), "EBADMSG"},
		{"no-zero-separator", mod(func(b []byte) { b[size-len(digest)-len(prefix)-1] = 0xff }), "EBADMSG"},
		{"wrong-prefix", mod(func(b []byte) { b[size-len(digest)-2] ^= 1 }), "EBADMSG"},
		{"wrong-digest", mod(func(b []byte) { b[size-1] ^= 1 }), "EKEYREJECTED"},
	}
	for _, tc := range tests {
		err := verifyRSA(pk.key, crypto.SHA256, digest[:], rawSign(tc.em))
		if got := errName(err); got != tc.want {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, err, tc.want)
		}
	}
	// A representative whose decryption has a non-zero first octet: EINVAL.
	hi := new(big.Int).Sub(k.N, big.NewInt(2)).FillBytes(make([]byte, size))
	if got := errName(verifyRSA(pk.key, crypto.SHA256, digest[:], rawSign(hi))); got != "EINVAL" {
		t.Errorf("non-zero first octet: got %q, want EINVAL", got)
	}
}
