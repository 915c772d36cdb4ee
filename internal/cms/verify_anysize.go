package cms

import (
	"crypto/x509"

	"github.com/bpfsig/bpfsig/compat"
)

// VerifyAnySize is [Verify] without step 1, the bpf syscall's own 8192-byte limit on
// BPF_PROG_LOAD signatures. It is verify_pkcs7_signature as the kernel's other callers reach
// it with usage VERIFYING_UNSPECIFIED_SIGNATURE (whose pkcs7_verify checks are the same as
// VERIFYING_BPF_SIGNATURE's: pkcs7-data content, attributes allowed): signed BPF map values
// (bpf_map_verify_value_sig), fs-verity built-in signatures and the
// bpf_verify_pkcs7_signature kfunc. Those bound the blob only by the buffer that holds it.
//
// It returns the same errnos as Verify, in the same order, from step 2 on.
func VerifyAnySize(content, der []byte, trust []*x509.Certificate) (*Signature, error) {
	m, err := parseMessage(der)
	if err != nil {
		return nil, err
	}
	sig := m.summary()
	if m.hasData {
		return sig, errno(compat.EBADMSG, "PKCS#7 signature with non-detached data (the kernel supplies the content itself)")
	}
	st := newVerifyState(m, content, trust)
	if err := st.pkcs7Verify(); err != nil {
		return sig, err
	}
	if err := st.validateTrust(); err != nil {
		return sig, err
	}
	return sig, nil
}
