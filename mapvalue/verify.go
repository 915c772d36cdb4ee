package mapvalue

import (
	"crypto/x509"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// Result is an accepted value.
type Result struct {
	Value *Value
	// VerifiedLen is what bpf_map_verify_value_sig returns: the length of the verified data.
	VerifiedLen int
	// Signer describes the signer identifier ("issuer:CN=...,serial:HEX" or "skid:HEX").
	Signer string
	// SignerID is the identifier form the SignerInfo uses.
	SignerID SignerID
	// Algorithm and Digest name the signature and digest algorithms ("rsa", "sha256").
	Algorithm string
	Digest    string
}

// Verify judges value as bpf_map_verify_value_sig(value, len(value), true) does on a
// BPF_MAP_UPDATE_ELEM into a BPF_F_VERIFY_ELEM map, with trust standing in for the kernel's
// builtin and secondary keyrings: first the structural checks of [Parse], then
// verify_pkcs7_signature over the data (no size limit on the PKCS#7 blob other than the
// value). A refusal is an [*Error] wrapping the kernel's errno. The Result is returned also
// with an error when the value parsed, with the signer fields filled when the PKCS#7 did.
func Verify(value []byte, trust []*x509.Certificate) (*Result, error) {
	v, err := Parse(value)
	r := &Result{Value: v}
	if err != nil {
		return r, err
	}
	r.VerifiedLen = len(v.Data)
	s, err := cms.VerifyAnySize(v.Data, v.Signature, trust)
	if s != nil {
		r.Signer = s.SignerString()
		r.Algorithm = s.AlgorithmName()
		r.Digest = s.DigestName()
		if s.SignerID == cms.SubjectKeyID {
			r.SignerID = SubjectKeyID
		}
	}
	if err != nil {
		return r, &Error{Check: CheckPKCS7, Reason: err.Error(), err: err}
	}
	return r, nil
}
