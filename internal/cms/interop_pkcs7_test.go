package cms

import (
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// TestInteropSmallstepPKCS7 cross-checks our DER with an independent CMS implementation,
// github.com/smallstep/pkcs7, in the one form it can express: an issuer+serial signer with the
// certificate embedded (it cannot name a signer by subjectKeyIdentifier or do without the
// certificate, which is why Sign is written on cryptobyte).
func TestInteropSmallstepPKCS7(t *testing.T) {
	content := readFile(t, "../../testdata/blobs/legacy-v2.insn")
	for _, attrs := range []bool{false, true} {
		der, err := Sign(content, testKey(t), testCert(t), SignOptions{SignerID: IssuerSerial, IncludeCertificate: true, SignedAttributes: attrs, SigningTime: testCert(t).NotBefore.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := pkcs7.Parse(der)
		if err != nil {
			t.Fatalf("attrs=%t: smallstep/pkcs7 cannot parse our DER: %v", attrs, err)
		}
		p.Content = content
		if err := p.Verify(); err != nil {
			t.Fatalf("attrs=%t: smallstep/pkcs7 rejects our signature: %v", attrs, err)
		}
		p.Content = append([]byte{content[0] ^ 1}, content[1:]...)
		if err := p.Verify(); err == nil {
			t.Fatalf("attrs=%t: smallstep/pkcs7 accepts our signature over other content", attrs)
		}
		// The kernel model wants the key in its trust set, embedded certificate or not.
		if _, err := Verify(content, der, nil); err == nil {
			t.Fatalf("attrs=%t: verified with an empty trust set", attrs)
		}
	}
}
