package fsverity

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// SignOptions selects the signature [Sign] writes. The zero value is what `fsverity sign`
// writes.
type SignOptions struct {
	// SubjectKeyID names the signer by subjectKeyIdentifier (SignedData and SignerInfo v3)
	// instead of issuer and serial. The kernel accepts both; fsverity-utils writes only
	// issuer and serial, so there is no reference tool for this form.
	SubjectKeyID bool
}

// Sign returns the detached PKCS#7 signature of d's fsverity_formatted_digest made with key
// for cert. With the zero SignOptions it is what `fsverity sign FILE SIG --key KEY --cert
// CERT` writes: DER SignedData v1, digest algorithm the fs-verity hash (SHA-256 or SHA-512)
// with NULL parameters, id-data without content, no certificates, one SignerInfo v1 naming
// the certificate by issuer and serial, no signed attributes. RSA PKCS#1 v1.5 is
// deterministic, so for RSA the output is byte-identical to fsverity-utils'.
func Sign(d *FileDigest, key crypto.Signer, cert *x509.Certificate, opts SignOptions) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if key == nil || cert == nil {
		return nil, errors.New("fsverity: sign: key and certificate are required")
	}
	form := cms.IssuerSerial
	if opts.SubjectKeyID {
		form = cms.SubjectKeyID
	}
	der, err := cms.Sign(d.Formatted(), key, cert, cms.SignOptions{SignerID: form, Digest: d.Algorithm.Hash()})
	if err != nil {
		return nil, fmt.Errorf("fsverity: sign: %w", err)
	}
	return withNullDigestParams(der)
}

// withNullDigestParams re-encodes a SignedData ContentInfo with NULL parameters on the
// digest AlgorithmIdentifiers (digestAlgorithms and each SignerInfo's digestAlgorithm), as
// OpenSSL's PKCS7 API writes them; internal/cms.Sign writes them without parameters, as
// the CMS API does. Only encodings change, so the signature stays valid (it covers the
// content digest, and attributes are not re-encoded).
func withNullDigestParams(der []byte) ([]byte, error) {
	bad := errors.New("fsverity: internal error: unexpected SignedData encoding")
	in := cryptobyte.String(der)
	var ci, oid, explicit, sd cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() ||
		!ci.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, bad
	}
	var version, algs, encap cryptobyte.String
	if !sd.ReadASN1Element(&version, cbasn1.INTEGER) || !sd.ReadASN1(&algs, cbasn1.SET) ||
		!sd.ReadASN1Element(&encap, cbasn1.SEQUENCE) {
		return nil, bad
	}
	var certs cryptobyte.String
	hasCerts := sd.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific())
	if hasCerts && !sd.ReadASN1Element(&certs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad
	}
	var sis cryptobyte.String
	if !sd.ReadASN1(&sis, cbasn1.SET) || !sd.Empty() {
		return nil, bad
	}
	nullAlg := func(b *cryptobyte.Builder, s *cryptobyte.String) bool {
		var alg, o cryptobyte.String
		if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1Element(&o, cbasn1.OBJECT_IDENTIFIER) {
			return false
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(o)
			b.AddASN1NULL()
		})
		return true
	}
	ok := true
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for !algs.Empty() && ok {
						ok = nullAlg(b, &algs)
					}
				})
				b.AddBytes(encap)
				if hasCerts {
					b.AddBytes(certs)
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for !sis.Empty() && ok {
						var si, v, sid cryptobyte.String
						var tag cbasn1.Tag
						if !sis.ReadASN1(&si, cbasn1.SEQUENCE) || !si.ReadASN1Element(&v, cbasn1.INTEGER) ||
							!si.ReadAnyASN1Element(&sid, &tag) {
							ok = false
							return
						}
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(v)
							b.AddBytes(sid)
							ok = nullAlg(b, &si)
							b.AddBytes(si) // attributes, signature algorithm, signature
						})
					}
				})
			})
		})
	})
	out, err := b.Bytes()
	if err != nil || !ok {
		return nil, bad
	}
	return out, nil
}
