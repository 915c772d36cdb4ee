package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"github.com/bpfsig/bpfsig/compat"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignWithAttributes is [Sign] with signed attributes and extra signed attributes of the
// caller's choosing, as OpenSSL's CMS_signed_add1_attr_by_OBJ adds them before CMS_final.
//
// The signed attribute set is contentType = id-data, messageDigest = digest of content,
// signingTime when opts.SigningTime is non-zero, and each of extra. Every attribute is encoded
// as SEQUENCE { type, SET OF values } with its values in DER SET OF order, and the attributes
// are written in DER SET OF order (ascending encodings), which is the order OpenSSL's encoder
// writes and signs them in. opts.SignedAttributes is implied. An extra attribute whose type is
// contentType, messageDigest, signingTime or smimeCapabilities, an attribute without values,
// a value that is not one DER element, or two extra attributes of one type are refused: the
// kernel's pkcs7_sig_note_authenticated_attr rejects repeats of the first three and
// smimeCapabilities outside Authenticode.
func SignWithAttributes(content []byte, key crypto.Signer, cert *x509.Certificate, opts SignOptions, extra []Attribute) ([]byte, error) {
	if key == nil || cert == nil {
		return nil, errors.New("cms: sign: key and certificate are required")
	}
	types := make([][]byte, len(extra)) // contents octets of each extra attribute's type
	for i, a := range extra {
		t, err := attributeType(a)
		if err != nil {
			return nil, fmt.Errorf("cms: sign: extra attribute %d: %w", i, err)
		}
		types[i] = t
		for _, own := range []asn1.ObjectIdentifier{oidContentType, oidMessageDigest, oidSigningTime, oidSMIMECapabilites} {
			if o, ok := decodeOID(t); ok && o.Equal(own) {
				return nil, fmt.Errorf("cms: sign: extra attribute %v is one the signer writes itself or the kernel refuses", own)
			}
		}
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("cms: sign: extra attribute %d has no value", i)
		}
		for j := range i {
			if bytes.Equal(types[j], t) {
				return nil, fmt.Errorf("cms: sign: extra attribute %d repeats the type of attribute %d", i, j)
			}
		}
		for _, v := range a.Values {
			s := cryptobyte.String(v)
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !s.ReadAnyASN1Element(&elem, &tag) || !s.Empty() {
				return nil, fmt.Errorf("cms: sign: a value of extra attribute %d is not one DER element", i)
			}
		}
	}
	h, digestOID, sigAlg, sid, version, err := signerSetup(key, cert, opts)
	if err != nil {
		return nil, err
	}

	hh := h.New()
	hh.Write(content)
	digest := hh.Sum(nil)
	base, err := buildSignedAttributes(digest, opts.SigningTime)
	if err != nil {
		return nil, err
	}
	list := splitElements(base)
	for i, a := range extra {
		values := slices.Clone(a.Values)
		slices.SortFunc(values, bytes.Compare)
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(types[i]) })
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, v := range values {
					b.AddBytes(v)
				}
			})
		})
		enc, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("cms: sign: encode extra attribute %d: %w", i, err)
		}
		list = append(list, enc)
	}
	slices.SortFunc(list, bytes.Compare)
	attrs := bytes.Join(list, nil)

	// The signature covers the DER of the attributes as a SET OF [RFC 5652 5.4].
	set := cryptobyte.NewBuilder(nil)
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
	setDER, err := set.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: sign: encode attributes: %w", err)
	}
	ah := h.New()
	ah.Write(setDER)
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	signature, err := key.Sign(r, ah.Sum(nil), h)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	return assembleSignedData(version, digestOID, sid, attrs, sigAlg, signature, cert, opts.IncludeCertificate)
}

// attributeType returns the contents octets of a's type: the encoding of Type, or RawType
// when Type is nil (a valid OID encoding: non-empty, last octet ending an arc).
func attributeType(a Attribute) ([]byte, error) {
	if a.Type != nil {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1ObjectIdentifier(a.Type)
		der, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("type %v cannot be encoded: %w", a.Type, err)
		}
		s := cryptobyte.String(der)
		var contents cryptobyte.String
		s.ReadASN1(&contents, cbasn1.OBJECT_IDENTIFIER)
		return contents, nil
	}
	if len(a.RawType) == 0 || a.RawType[len(a.RawType)-1]&0x80 != 0 || a.RawType[0] == 0x80 {
		return nil, errors.New("no type, or RawType is not the contents of an OBJECT IDENTIFIER")
	}
	return a.RawType, nil
}

// signerIdentifier returns the SignerInfo sid element and the SignerInfo/SignedData version
// for form, as [Sign] writes them.
func signerIdentifier(cert *x509.Certificate, form SignerIDForm) ([]byte, int64, error) {
	b := cryptobyte.NewBuilder(nil)
	switch form {
	case SubjectKeyID:
		if len(cert.SubjectKeyId) == 0 {
			return nil, 0, errors.New("cms: sign: certificate has no subjectKeyIdentifier extension; " +
				"the kernel cannot find the key by SKID (use the issuer-serial form or a certificate with subjectKeyIdentifier=hash)")
		}
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cert.SubjectKeyId) })
		return b.BytesOrPanic(), 3, nil
	case IssuerSerial:
		serial, err := rawSerialElement(cert)
		if err != nil {
			return nil, 0, err
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(cert.RawIssuer)
			b.AddBytes(serial)
		})
		return b.BytesOrPanic(), 1, nil
	}
	return nil, 0, fmt.Errorf("cms: sign: unknown signer id form %d", int(form))
}

// splitElements splits a concatenation of DER elements written by this package.
func splitElements(b []byte) [][]byte {
	var out [][]byte
	s := cryptobyte.String(b)
	for !s.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1Element(&elem, &tag) {
			break
		}
		out = append(out, []byte(elem))
	}
	return out
}

// SignerResult is what the kernel knows about one SignerInfo after verify_pkcs7_message_sig.
type SignerResult struct {
	// Verified is the kernel's sinfo->verified (Hornet v7 patch 01/10): set by
	// pkcs7_validate_trust_one when this signer's trust validated.
	Verified bool
	// Attributes are the signer's authenticated attributes in encoding order (nil without).
	Attributes []Attribute
	// HasAuthAttrs reports that the SignerInfo carries authenticated attributes at all.
	HasAuthAttrs bool
}

// VerifySigners is [Verify] that also reports, per SignerInfo in parse order, whether its trust
// validated and which authenticated attributes it carries: what pkcs7_get_authattr reads
// (only from verified signers) after verify_pkcs7_message_sig. The error is Verify's, except
// that VerifySigners does not apply the bpf syscall's MaxSignatureSize limit, which is not part
// of the PKCS#7 code (an LSM calling verify_pkcs7_message_sig itself has no such limit).
// Signers is nil when the blob did not parse.
func VerifySigners(content, der []byte, trust []*x509.Certificate) (*Signature, []SignerResult, error) {
	m, err := parseMessage(der)
	if err != nil {
		return nil, nil, err
	}
	sig := m.summary()
	results := make([]SignerResult, len(m.signers))
	for i, si := range m.signers {
		results[i] = SignerResult{Attributes: si.attrs, HasAuthAttrs: si.authattrs != nil}
	}
	if m.hasData {
		return sig, results, errno(compat.EBADMSG, "PKCS#7 signature with non-detached data (the kernel supplies the content itself)")
	}
	st := newVerifyState(m, content, trust)
	if err := st.pkcs7Verify(); err != nil {
		return sig, results, err
	}
	// pkcs7_validate_trust, recording each signer that validated (sinfo->verified).
	err = st.validateTrustEach(func(i int) { results[i].Verified = true })
	return sig, results, err
}
