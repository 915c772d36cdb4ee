package fsverity

import (
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// Signer describes who signed an accepted signature.
type Signer struct {
	// ID is the signer identifier ("issuer:CN=...,serial:HEX" or "skid:HEX").
	ID string
	// Algorithm and Digest name the signature and PKCS#7 digest algorithms.
	Algorithm string
	Digest    string
}

// Verify checks sig, a detached PKCS#7 signature, over d's fsverity_formatted_digest as the
// kernel's verify_pkcs7_signature does (VERIFYING_UNSPECIFIED_SIGNATURE; the keyring is
// trust), and returns the kernel's errno wrapped in the error: EBADMSG for a malformed or
// non-detached blob, ENOPKG for an unsupported algorithm, ENOKEY when no trusted key
// matches the signer, EKEYREJECTED for a wrong signature or content type, EINVAL as the
// PKCS#7 model decides. The Signer is returned whenever the blob parsed.
func Verify(d *FileDigest, sig []byte, trust []*x509.Certificate) (*Signer, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	s, err := cms.VerifyAnySize(d.Formatted(), sig, trust)
	var who *Signer
	if s != nil {
		who = &Signer{ID: s.SignerString(), Algorithm: s.AlgorithmName(), Digest: s.DigestName()}
	}
	if err != nil {
		return who, fmt.Errorf("fsverity: signature over %s: %w", d, err)
	}
	return who, nil
}
