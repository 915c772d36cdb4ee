package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignOptions selects the shape of the signature [Sign] writes. The zero value is the
// bpftool profile: SKID signer, SHA-256, no certificates, no attributes.
type SignOptions struct {
	// SignerID is how the SignerInfo names the certificate (default SubjectKeyID).
	SignerID SignerIDForm
	// Digest is the digest algorithm: 0 means SHA-256; SHA-384 and SHA-512 are allowed.
	Digest crypto.Hash
	// IncludeCertificate embeds the signer certificate. The kernel accepts it but does not
	// trust it: the key must still be in the keyring. bpftool does not embed it.
	IncludeCertificate bool
	// SignedAttributes adds contentType = id-data and messageDigest (and signingTime when
	// SigningTime is set), as `openssl cms -sign -nosmimecap` without -noattr does. The
	// kernel accepts them. smimeCapabilities is never written: the kernel rejects it.
	SignedAttributes bool
	// SigningTime, when non-zero and SignedAttributes is set, adds a signingTime attribute.
	SigningTime time.Time
	// Rand is the randomness for ECDSA; nil means crypto/rand.Reader. RSA PKCS#1 v1.5 uses none.
	Rand io.Reader
}

// Sign returns a detached DER CMS SignedData over content, made with key for cert.
//
// With the zero SignOptions the output is byte-identical (for RSA) to
// `openssl cms -sign -binary -noattr -nosmimecap -nocerts -keyid -md sha256 -outform DER`
// and to bpftool's signatures: SignedData v3, digestAlgorithms {sha256 (no parameters)},
// encapContentInfo {id-data} without eContent, one SignerInfo v3 with [0] subjectKeyIdentifier,
// signatureAlgorithm rsaEncryption with NULL parameters (PKCS#1 v1.5) or ecdsa-with-SHA256/384/512
// (X9.62 DER signature, no parameters). IssuerSerial gives SignedData v1 / SignerInfo v1 with
// the certificate's raw issuer and serial, as sign-file and openssl without -keyid do.
func Sign(content []byte, key crypto.Signer, cert *x509.Certificate, opts SignOptions) ([]byte, error) {
	if key == nil || cert == nil {
		return nil, errors.New("cms: sign: key and certificate are required")
	}
	h, digestOID, sigAlg, sid, version, err := signerSetup(key, cert, opts)
	if err != nil {
		return nil, err
	}

	hh := h.New()
	hh.Write(content)
	digest := hh.Sum(nil)

	// The signature covers the content digest, or with signed attributes the digest of
	// their DER encoding as a SET OF (tag 0x31) [RFC 5652 5.4].
	var attrs []byte // concatenated, DER-sorted Attribute encodings
	toSign := digest
	if opts.SignedAttributes {
		attrs, err = buildSignedAttributes(digest, opts.SigningTime)
		if err != nil {
			return nil, err
		}
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
		set := b.BytesOrPanic()
		ah := h.New()
		ah.Write(set)
		toSign = ah.Sum(nil)
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	signature, err := key.Sign(r, toSign, h)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}

	return assembleSignedData(version, digestOID, sid, attrs, sigAlg, signature, cert, opts.IncludeCertificate)
}

func digestOIDFor(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	switch h {
	case crypto.SHA256:
		return oidSHA256, nil
	case crypto.SHA384:
		return oidSHA384, nil
	case crypto.SHA512:
		return oidSHA512, nil
	}
	return nil, fmt.Errorf("cms: sign: digest %v not supported (use SHA-256, SHA-384 or SHA-512)", h)
}

func ecdsaOIDFor(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	switch h {
	case crypto.SHA256:
		return oidECDSAWithSHA256, nil
	case crypto.SHA384:
		return oidECDSAWithSHA384, nil
	case crypto.SHA512:
		return oidECDSAWithSHA512, nil
	}
	return nil, fmt.Errorf("cms: sign: digest %v not supported with ECDSA", h)
}

// algorithmIdentifier encodes AlgorithmIdentifier{oid} with NULL parameters when null is set
// and absent parameters otherwise (what OpenSSL writes for SHA-2 digests and ECDSA).
func algorithmIdentifier(oid asn1.ObjectIdentifier, null bool) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
	return b.BytesOrPanic()
}

// buildSignedAttributes returns the DER encodings of contentType, messageDigest and
// optionally signingTime, concatenated in DER SET OF order (sorted by encoding).
func buildSignedAttributes(digest []byte, signingTime time.Time) ([]byte, error) {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic()
	}
	list := [][]byte{
		attr(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attr(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
	}
	if !signingTime.IsZero() {
		t := signingTime.UTC().Truncate(time.Second)
		if !KernelDecodesTime(t) {
			return nil, fmt.Errorf("cms: signing time %s: the kernel refuses a signingTime before 1970 (EBADMSG)", t.Format(time.RFC3339))
		}
		list = append(list, attr(oidSigningTime, func(b *cryptobyte.Builder) {
			// RFC 5652 11.3: UTCTime for 1950..2049, GeneralizedTime otherwise.
			if t.Year() >= 1950 && t.Year() < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		}))
	}
	slices.SortFunc(list, bytes.Compare)
	return bytes.Join(list, nil), nil
}

// rawSerialElement returns the DER INTEGER element of the certificate's serial number,
// exactly as encoded in the certificate.
func rawSerialElement(cert *x509.Certificate) ([]byte, error) {
	s := cryptobyte.String(cert.RawTBSCertificate)
	var tbs cryptobyte.String
	if !s.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("cms: certificate: malformed TBSCertificate")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: certificate: malformed version")
	}
	var serial cryptobyte.String
	var tag cbasn1.Tag
	if !tbs.ReadAnyASN1Element(&serial, &tag) || tag != cbasn1.INTEGER {
		return nil, errors.New("cms: certificate: malformed serial number")
	}
	return serial, nil
}

// matchPublic checks that pub is the public key in cert.
func matchPublic(pub crypto.PublicKey, cert *x509.Certificate) error {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := pub.(equaler)
	if !ok {
		return fmt.Errorf("cms: sign: unsupported key type %T", pub)
	}
	if !e.Equal(cert.PublicKey) {
		return errors.New("cms: sign: private key does not match the certificate's public key")
	}
	return nil
}

// assembleSignedData writes the ContentInfo around one SignerInfo: SignedData of version
// (3 for a subjectKeyIdentifier signer, 1 for issuer and serial) with the digest algorithm,
// a detached id-data, the certificate when includeCert, and the SignerInfo with its signed
// attributes ([0], omitted when attrs is nil), signature algorithm and value.
func assembleSignedData(version int64, digestOID asn1.ObjectIdentifier, sid, attrs, sigAlg, signature []byte, cert *x509.Certificate, includeCert bool) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(algorithmIdentifier(digestOID, false)) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }) // encapContentInfo
				if includeCert {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cert.Raw) })
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { // signerInfos
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(version)
						b.AddBytes(sid)
						b.AddBytes(algorithmIdentifier(digestOID, false))
						if attrs != nil {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
						}
						b.AddBytes(sigAlg)
						b.AddASN1OctetString(signature)
					})
				})
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: sign: encode: %w", err)
	}
	return out, nil
}

// signerSetup checks key against cert and returns what a SignerInfo by them needs: the digest
// (SHA-256 by default), its OID, the signature AlgorithmIdentifier (rsaEncryption with NULL
// parameters, or ecdsa-with-SHA*), and the signer identifier with its version.
func signerSetup(key crypto.Signer, cert *x509.Certificate, opts SignOptions) (h crypto.Hash, digestOID asn1.ObjectIdentifier, sigAlg, sid []byte, version int64, err error) {
	h = opts.Digest
	if h == 0 {
		h = crypto.SHA256
	}
	if digestOID, err = digestOIDFor(h); err != nil {
		return
	}
	if err = matchPublic(key.Public(), cert); err != nil {
		return
	}
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = algorithmIdentifier(oidRSAEncryption, true)
	case *ecdsa.PublicKey:
		var oid asn1.ObjectIdentifier
		if oid, err = ecdsaOIDFor(h); err != nil {
			return
		}
		sigAlg = algorithmIdentifier(oid, false)
	default:
		err = fmt.Errorf("cms: sign: unsupported key type %T (want RSA or ECDSA)", pub)
		return
	}
	sid, version, err = signerIdentifier(cert, opts.SignerID)
	return
}
