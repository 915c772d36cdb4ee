package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// errno builds an error "cms: <message>: <errno text>" that wraps e.
func errno(e compat.Errno, format string, a ...any) error {
	return fmt.Errorf("cms: "+format+": %w", append(a, e)...)
}

// message is the kernel's struct pkcs7_message: what pkcs7_parse_message extracts.
type message struct {
	version  int
	dataType asn1.ObjectIdentifier
	hasData  bool // eContent present (the kernel's pkcs7->data != NULL)
	data     []byte
	certs    []*embeddedCert
	signers  []*signerInfo
	size     int
	trailing int
}

// embeddedCert is a certificate carried in the message (struct x509_certificate).
type embeddedCert struct {
	cert           *kernelCert
	id             []byte // kernel key id 0: raw serial || raw issuer (contents octets)
	skid           []byte // kernel key id 1: subjectKeyIdentifier, nil when absent
	selfSigned     bool
	unsupportedSig bool
}

// signerInfo is the kernel's struct pkcs7_signed_info.
type signerInfo struct {
	version    int
	form       SignerIDForm
	skid       []byte
	issuerRaw  []byte // full DER of the issuer Name
	serial     *big.Int
	rawSerial  []byte // INTEGER contents octets
	kid        []byte // auth_ids[0] as the kernel computes it
	digestOID  asn1.ObjectIdentifier
	digest     kernelDigest
	pkeyOID    asn1.ObjectIdentifier
	pkeyAlgo   string
	pkeyParams []byte

	attrs          []Attribute
	authattrs      []byte // encoding of the [0] IMPLICIT SET, tag byte included; nil when unsigned
	hasContentType bool
	hasMsgDigest   bool
	hasSigningTime bool
	hasSMIMECaps   bool
	hasOpusInfo    bool
	hasStatement   bool
	msgDigest      []byte
	signingTime    time.Time

	signature []byte
}

// Parse reads a CMS SignedData blob as the kernel's pkcs7_parse_message does and describes
// it. Indefinite (BER) lengths are accepted, like the kernel's decoder; bytes after the
// top-level ContentInfo are ignored (and counted in TrailingBytes), like the kernel's decoder.
//
// The kernel's per-element checks run in encoding order and the first failure wins:
//   - malformed encoding, an unexpected tag, a SignedData/SignerInfo version mismatch, a
//     non-SEQUENCE certificate, a signed contentType that differs from eContentType, a
//     messageDigest that is not an OCTET STRING, or missing contentType/messageDigest among
//     the signed attributes: EBADMSG;
//   - outer content type other than signedData, eContentType other than id-data or
//     Authenticode, SignedData or SignerInfo version other than 1 or 3, or no SignerInfo: EINVAL;
//   - a SignerInfo digest the kernel does not know (MD4, MD5, ...) or a signature algorithm
//     other than rsaEncryption / ecdsa-with-* / GOST (e.g. sha256WithRSAEncryption): ENOPKG;
//   - a repeated or multi-valued contentType/messageDigest/signingTime/smimeCapabilities
//     attribute, or smimeCapabilities (or a Microsoft attribute) outside Authenticode:
//     EKEYREJECTED.
//
// Parse does not check that content is detached; [Verify] does, as the kernel does when it
// supplies the data.
func Parse(der []byte) (*Signature, error) {
	m, err := parseMessage(der)
	if err != nil {
		return nil, err
	}
	return m.summary(), nil
}

func (m *message) summary() *Signature {
	s := &Signature{
		Version:     m.version,
		ContentType: m.dataType,
		Detached:    !m.hasData,
		Signers:     len(m.signers),
		Size:        m.size,

		TrailingBytes: m.trailing,
	}
	for _, c := range m.certs {
		s.Certificates = append(s.Certificates, c.cert.raw)
	}
	if len(m.signers) > 0 {
		si := m.signers[0]
		s.SignerInfoVersion = si.version
		s.SignerID = si.form
		s.SubjectKeyID = si.skid
		s.Issuer = si.issuerRaw
		s.Serial = si.serial
		s.DigestAlgorithm = si.digestOID
		s.SignatureAlgorithm = si.pkeyOID
		s.SignatureAlgorithmParams = si.pkeyParams
		s.SignedAttributes = si.attrs
		s.Signature = si.signature
	}
	return s
}

func parseMessage(der []byte) (*message, error) {
	m := &message{size: len(der)}
	norm, used, err := normalizeBER(der)
	if err != nil {
		return nil, err
	}
	m.trailing = len(der) - used
	if !bytes.Equal(norm, der[:used]) {
		der = norm // BER input: work on the definite-length re-encoding
	} else {
		der = der[:used]
	}

	in := cryptobyte.String(der)
	var ci cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) {
		return nil, errno(compat.EBADMSG, "ContentInfo is not a SEQUENCE")
	}
	// pkcs7_check_content_type runs as soon as the OID is read; the kernel does not
	// validate the OID's encoding, it just fails to recognise it.
	ct, ok := readOID(&ci)
	if !ok {
		return nil, errno(compat.EBADMSG, "ContentInfo: malformed contentType")
	}
	if !ct.Equal(oidSignedData) {
		return nil, errno(compat.EINVAL, "content type %v is not pkcs7-signedData (only signedData is supported)", ct)
	}
	var explicit cryptobyte.String
	var present bool
	if !ci.ReadOptionalASN1(&explicit, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errno(compat.EBADMSG, "ContentInfo: malformed [0] content")
	}
	if !ci.Empty() {
		return nil, errno(compat.EBADMSG, "ContentInfo: unexpected data after content")
	}
	if present {
		var sd cryptobyte.String
		if !explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
			return nil, errno(compat.EBADMSG, "SignedData is not a SEQUENCE")
		}
		if err := m.parseSignedData(sd); err != nil {
			return nil, err
		}
	}
	// pkcs7_check_authattrs: there must be a SignerInfo and all must agree on whether
	// they carry authenticated attributes.
	if len(m.signers) == 0 {
		return nil, errno(compat.EINVAL, "no SignerInfo in the message")
	}
	want := m.signers[0].authattrs != nil
	for _, si := range m.signers[1:] {
		if (si.authattrs != nil) != want {
			return nil, errno(compat.EINVAL, "inconsistently supplied authenticated attributes")
		}
	}
	return m, nil
}

func (m *message) parseSignedData(sd cryptobyte.String) error {
	v, err := readVersion(&sd, "SignedData")
	if err != nil {
		return err
	}
	m.version = v

	// digestAlgorithms: SET OF or SEQUENCE OF AlgorithmIdentifier; the kernel does not use them.
	var das cryptobyte.String
	var tag cbasn1.Tag
	if !sd.ReadAnyASN1(&das, &tag) || (tag != cbasn1.SET && tag != cbasn1.SEQUENCE) {
		return errno(compat.EBADMSG, "SignedData: malformed digestAlgorithms")
	}
	for !das.Empty() {
		if _, _, err := readAlgorithm(&das, "SignedData digestAlgorithm"); err != nil {
			return err
		}
	}

	// encapContentInfo
	var eci cryptobyte.String
	if !sd.ReadASN1(&eci, cbasn1.SEQUENCE) {
		return errno(compat.EBADMSG, "SignedData: malformed encapContentInfo")
	}
	ect, ok := readOID(&eci)
	if !ok {
		return errno(compat.EBADMSG, "encapContentInfo: malformed eContentType")
	}
	var eContent cryptobyte.String
	var hasContent bool
	// pkcs7_note_content runs after the whole inner ContentInfo decoded, so structural
	// errors in it come first.
	if !eci.ReadOptionalASN1(&eContent, &hasContent, cbasn1.Tag(0).Constructed().ContextSpecific()) || !eci.Empty() {
		return errno(compat.EBADMSG, "encapContentInfo: malformed eContent")
	}
	if hasContent {
		var inner cryptobyte.String
		var itag cbasn1.Tag
		if !eContent.ReadAnyASN1(&inner, &itag) || !eContent.Empty() {
			return errno(compat.EBADMSG, "encapContentInfo: malformed eContent")
		}
		m.hasData = true
		m.data = inner
	}
	// pkcs7_note_content
	if !ect.Equal(oidData) && !ect.Equal(oidMSIndirectData) {
		return errno(compat.EINVAL, "unsupported eContentType %v (want id-data)", ect)
	}
	m.dataType = ect

	// certificates [0] IMPLICIT SET OF / [2] IMPLICIT SEQUENCE OF
	for _, t := range []cbasn1.Tag{cbasn1.Tag(0).Constructed().ContextSpecific(), cbasn1.Tag(2).Constructed().ContextSpecific()} {
		if !sd.PeekASN1Tag(t) {
			continue
		}
		var certs cryptobyte.String
		if !sd.ReadASN1(&certs, t) {
			return errno(compat.EBADMSG, "SignedData: malformed certificates")
		}
		for !certs.Empty() {
			var raw cryptobyte.String
			var ctag cbasn1.Tag
			if !certs.ReadAnyASN1Element(&raw, &ctag) {
				return errno(compat.EBADMSG, "SignedData: malformed certificate")
			}
			if ctag != cbasn1.SEQUENCE {
				return errno(compat.EBADMSG, "certificate began with tag %#02x, not SEQUENCE", uint8(ctag))
			}
			c, err := parseEmbeddedCert(raw)
			if err != nil {
				return err
			}
			m.certs = append(m.certs, c)
		}
		break
	}
	// crls [1] / [3]: not used by the kernel.
	for _, t := range []cbasn1.Tag{cbasn1.Tag(1).Constructed().ContextSpecific(), cbasn1.Tag(3).Constructed().ContextSpecific()} {
		if sd.PeekASN1Tag(t) {
			if !sd.SkipASN1(t) {
				return errno(compat.EBADMSG, "SignedData: malformed crls")
			}
			break
		}
	}

	var sis cryptobyte.String
	if !sd.ReadAnyASN1(&sis, &tag) || (tag != cbasn1.SET && tag != cbasn1.SEQUENCE) {
		return errno(compat.EBADMSG, "SignedData: malformed signerInfos")
	}
	if !sd.Empty() {
		return errno(compat.EBADMSG, "SignedData: unexpected data after signerInfos")
	}
	if sis.Empty() {
		// The kernel's grammar (pkcs7.asn1) needs at least one SignerInfo in the SET.
		return errno(compat.EBADMSG, "SignedData: empty signerInfos")
	}
	for !sis.Empty() {
		var si cryptobyte.String
		if !sis.ReadASN1(&si, cbasn1.SEQUENCE) {
			return errno(compat.EBADMSG, "SignerInfo is not a SEQUENCE")
		}
		s, err := m.parseSignerInfo(si)
		if err != nil {
			return err
		}
		m.signers = append(m.signers, s)
	}
	return nil
}

// readOID reads an OBJECT IDENTIFIER element as the kernel's look_up_OID sees it: any
// contents are accepted, and contents that are not a valid OID encoding give an OID
// (a nil one) that matches nothing. It fails only when the element is not an OID or does
// not fit.
func readOID(s *cryptobyte.String) (asn1.ObjectIdentifier, bool) {
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.OBJECT_IDENTIFIER) {
		return nil, false
	}
	if oid, ok := knownOIDs()[string(raw)]; ok {
		return oid, true // shared: OIDs read are only compared and printed
	}
	var oid asn1.ObjectIdentifier
	elem := cryptobyte.String(appendTLV(nil, 0x06, raw))
	if !elem.ReadASN1ObjectIdentifier(&oid) {
		return asn1.ObjectIdentifier{}, true
	}
	return oid, true
}

// knownOIDs maps the contents octets of every OID this package names to it, so that reading
// one allocates nothing.
var knownOIDs = sync.OnceValue(func() map[string]asn1.ObjectIdentifier {
	m := map[string]asn1.ObjectIdentifier{}
	for _, oid := range []asn1.ObjectIdentifier{
		oidData, oidSignedData, oidMSIndirectData, oidMSStatementType, oidMSSpOpusInfo,
		oidContentType, oidMessageDigest, oidSigningTime, oidSMIMECapabilites,
		oidMD4, oidMD5, oidSHA1, oidSHA256, oidSHA384, oidSHA512, oidSHA224,
		oidSHA3_256, oidSHA3_384, oidSHA3_512, oidSM3, oidStreeb256, oidStreeb512,
		oidRSAEncryption, oidSHA1WithRSA, oidSHA256WithRSA, oidSHA384WithRSA, oidSHA512WithRSA,
		oidRSAPSS, oidECDSAWithSHA1, oidECDSAWithSHA224, oidECDSAWithSHA256, oidECDSAWithSHA384,
		oidECDSAWithSHA512, oidECDSAWithSHA3_2, oidECDSAWithSHA3_3, oidECDSAWithSHA3_5,
		oidGOST2012Key256, oidGOST2012Key512,
	} {
		der, err := asn1.Marshal(oid)
		if err != nil {
			panic(err)
		}
		m[string(der[2:])] = oid // every OID here is shorter than 128 octets: a 2-octet header
	}
	return m
})

// readVersion reads a version INTEGER as pkcs7_note_*_version do: one contents octet,
// value 1 or 3, else EINVAL.
func readVersion(s *cryptobyte.String, what string) (int, error) {
	var v cryptobyte.String
	if !s.ReadASN1(&v, cbasn1.INTEGER) {
		return 0, errno(compat.EBADMSG, "%s: malformed version", what)
	}
	if len(v) != 1 || (v[0] != 1 && v[0] != 3) {
		return 0, errno(compat.EINVAL, "unsupported %s version", what)
	}
	return int(v[0]), nil
}

// readAlgorithm reads an AlgorithmIdentifier and returns its OID and the raw parameters
// element (nil when absent).
func readAlgorithm(s *cryptobyte.String, what string) (asn1.ObjectIdentifier, []byte, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, nil, errno(compat.EBADMSG, "%s: malformed AlgorithmIdentifier", what)
	}
	oid, ok := readOID(&seq)
	if !ok {
		return nil, nil, errno(compat.EBADMSG, "%s: malformed AlgorithmIdentifier", what)
	}
	var params []byte
	if !seq.Empty() {
		var p cryptobyte.String
		var t cbasn1.Tag
		if !seq.ReadAnyASN1Element(&p, &t) || !seq.Empty() {
			return nil, nil, errno(compat.EBADMSG, "%s: malformed parameters", what)
		}
		params = p
	}
	return oid, params, nil
}

func (m *message) parseSignerInfo(si cryptobyte.String) (*signerInfo, error) {
	s := &signerInfo{}
	v, err := readVersion(&si, "SignerInfo")
	if err != nil {
		return nil, err
	}
	s.version = v
	switch v {
	case 1:
		if m.version != 1 {
			return nil, errno(compat.EBADMSG, "SignedData-SignerInfo version mismatch (SignedData v%d, SignerInfo v1)", m.version)
		}
	case 3:
		if m.version == 1 {
			return nil, errno(compat.EBADMSG, "SignedData-SignerInfo version mismatch (SignedData v1, SignerInfo v3)")
		}
	}

	// sid: IssuerAndSerialNumber or [0] IMPLICIT SubjectKeyIdentifier
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) {
			return nil, errno(compat.EBADMSG, "SignerInfo: malformed issuerAndSerialNumber")
		}
		var issuer, serial cryptobyte.String
		if !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !ias.ReadASN1(&serial, cbasn1.INTEGER) || !ias.Empty() {
			return nil, errno(compat.EBADMSG, "SignerInfo: malformed issuerAndSerialNumber")
		}
		// The kernel's grammar decodes the Name down to each AttributeTypeAndValue.
		if in := cryptobyte.String(issuer); true {
			if _, err := readName(&in, nil); err != nil {
				return nil, errno(compat.EBADMSG, "SignerInfo: malformed issuer Name")
			}
		}
		s.form = IssuerSerial
		s.issuerRaw = issuer
		s.rawSerial = serial
		s.serial = intFromContents(serial)
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var skid cryptobyte.String
		if !si.ReadASN1(&skid, cbasn1.Tag(0).ContextSpecific()) {
			return nil, errno(compat.EBADMSG, "SignerInfo: malformed subjectKeyIdentifier")
		}
		s.form = SubjectKeyID
		s.skid = skid
	default:
		return nil, errno(compat.EBADMSG, "SignerInfo: malformed signer identifier")
	}

	// digestAlgorithm: pkcs7_sig_note_digest_algo
	s.digestOID, _, err = readAlgorithm(&si, "SignerInfo digestAlgorithm")
	if err != nil {
		return nil, err
	}
	d, ok := lookupDigest(s.digestOID)
	if !ok {
		name := s.digestOID.String()
		for _, n := range digestNames {
			if n.oid.Equal(s.digestOID) {
				name = n.name
			}
		}
		return nil, errno(compat.ENOPKG, "unsupported digest algorithm %s", name)
	}
	s.digest = d

	// authenticatedAttributes: [0] IMPLICIT SET OF or [2] EXPLICIT SEQUENCE OF
	switch {
	case si.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
		var elem cryptobyte.String
		if !si.ReadASN1Element(&elem, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, errno(compat.EBADMSG, "SignerInfo: malformed authenticated attributes")
		}
		var body cryptobyte.String
		e := elem
		e.ReadASN1(&body, cbasn1.Tag(0).Constructed().ContextSpecific())
		if err := m.parseAttributes(s, body); err != nil {
			return nil, err
		}
		// pkcs7_sig_note_set_of_authattrs
		if !s.hasContentType || !s.hasMsgDigest {
			return nil, errno(compat.EBADMSG, "missing required authenticated attribute (contentType and messageDigest)")
		}
		if !m.dataType.Equal(oidMSIndirectData) && s.hasOpusInfo {
			return nil, errno(compat.EBADMSG, "unexpected Authenticode authenticated attribute")
		}
		s.authattrs = elem
	case si.PeekASN1Tag(cbasn1.Tag(2).Constructed().ContextSpecific()):
		// The kernel runs the attribute checks but does not treat these as signed.
		var outer, seq cryptobyte.String
		if !si.ReadASN1(&outer, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
			!outer.ReadASN1(&seq, cbasn1.SEQUENCE) || !outer.Empty() {
			return nil, errno(compat.EBADMSG, "SignerInfo: malformed authenticated attributes")
		}
		if err := m.parseAttributes(s, seq); err != nil {
			return nil, err
		}
	}

	// digestEncryptionAlgorithm: pkcs7_sig_note_pkey_algo
	s.pkeyOID, s.pkeyParams, err = readAlgorithm(&si, "SignerInfo signatureAlgorithm")
	if err != nil {
		return nil, err
	}
	algo, ok := kernelPkeyAlgo(s.pkeyOID)
	if !ok {
		name := s.pkeyOID.String()
		for _, a := range algorithmNames {
			if a.oid.Equal(s.pkeyOID) {
				name = a.name
			}
		}
		return nil, errno(compat.ENOPKG, "unsupported signature algorithm %s (the kernel wants rsaEncryption or ecdsa-with-*)", name)
	}
	s.pkeyAlgo = algo

	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, errno(compat.EBADMSG, "SignerInfo: malformed signature")
	}
	s.signature = sig

	// unauthenticatedAttributes [1] / [3]: structure only.
	for _, t := range []cbasn1.Tag{cbasn1.Tag(1).Constructed().ContextSpecific(), cbasn1.Tag(3).Constructed().ContextSpecific()} {
		if si.PeekASN1Tag(t) {
			if !si.SkipASN1(t) {
				return nil, errno(compat.EBADMSG, "SignerInfo: malformed unauthenticated attributes")
			}
			break
		}
	}
	if !si.Empty() {
		return nil, errno(compat.EBADMSG, "SignerInfo: unexpected data after signature")
	}

	// pkcs7_note_signed_info
	if m.dataType.Equal(oidMSIndirectData) && s.authattrs == nil {
		return nil, errno(compat.EBADMSG, "Authenticode requires authenticated attributes")
	}
	// The kernel picks the identifier form from the SignerInfo version, not from the
	// encoding: a v3 SignerInfo with issuerAndSerialNumber gets an empty key id.
	if s.version == 3 {
		s.kid = append([]byte{}, s.skid...)
	} else {
		s.kid = append(append([]byte{}, s.rawSerial...), contentsOf(s.issuerRaw)...)
	}
	return s, nil
}

// parseAttributes runs pkcs7_sig_note_authenticated_attr over each value of each attribute.
func (m *message) parseAttributes(s *signerInfo, body cryptobyte.String) error {
	for !body.Empty() {
		var attr, values, rawType cryptobyte.String
		if !body.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1(&rawType, cbasn1.OBJECT_IDENTIFIER) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return errno(compat.EBADMSG, "malformed authenticated attribute")
		}
		// The kernel never decodes the type: pkcs7_note_OID looks the raw contents up in its
		// OID registry, and an unknown or unusual encoding is just an attribute it ignores.
		// Type stays nil when the OID does not fit asn1.ObjectIdentifier (an arc beyond int,
		// such as Hornet's 2.25.316487325684022475439036912669789383960) or is not minimal.
		var typ asn1.ObjectIdentifier
		if t, ok := decodeOID(rawType); ok {
			typ = t
		}
		a := Attribute{Type: typ, RawType: bytes.Clone(rawType)}
		for !values.Empty() {
			var val, contents cryptobyte.String
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&val, &tag) {
				return errno(compat.EBADMSG, "malformed authenticated attribute value")
			}
			v := val
			v.ReadAnyASN1(&contents, &tag)
			a.Values = append(a.Values, []byte(val))
			if err := m.noteAttr(s, typ, tag, contents); err != nil {
				return err
			}
		}
		s.attrs = append(s.attrs, a)
	}
	return nil
}

// noteAttr is pkcs7_sig_note_authenticated_attr for one value.
func (m *message) noteAttr(s *signerInfo, typ asn1.ObjectIdentifier, tag cbasn1.Tag, v []byte) error {
	repeated := func() error {
		return errno(compat.EKEYREJECTED, "repeated or multi-valued authenticated attribute %v not permitted", typ)
	}
	switch {
	case typ.Equal(oidContentType):
		if s.hasContentType {
			return repeated()
		}
		s.hasContentType = true
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(appendTLV(nil, 0x06, v), &oid); err != nil || !oid.Equal(m.dataType) {
			return errno(compat.EBADMSG, "signed contentType attribute does not match eContentType %v", m.dataType)
		}
	case typ.Equal(oidSigningTime):
		if s.hasSigningTime {
			return repeated()
		}
		s.hasSigningTime = true
		t, err := decodeTime(tag, v)
		if err != nil {
			return err
		}
		s.signingTime = t
	case typ.Equal(oidMessageDigest):
		if s.hasMsgDigest {
			return repeated()
		}
		s.hasMsgDigest = true
		if tag != cbasn1.OCTET_STRING {
			return errno(compat.EBADMSG, "messageDigest attribute is not an OCTET STRING")
		}
		s.msgDigest = v
	case typ.Equal(oidSMIMECapabilites):
		if s.hasSMIMECaps {
			return repeated()
		}
		s.hasSMIMECaps = true
		if !m.dataType.Equal(oidMSIndirectData) {
			return errno(compat.EKEYREJECTED, "smimeCapabilities attribute only allowed with Authenticode (sign with -nosmimecap or -noattr)")
		}
	case typ.Equal(oidMSSpOpusInfo), typ.Equal(oidMSStatementType):
		if typ.Equal(oidMSSpOpusInfo) {
			if s.hasOpusInfo {
				return repeated()
			}
			s.hasOpusInfo = true
		} else {
			if s.hasStatement {
				return repeated()
			}
			s.hasStatement = true
		}
		if !m.dataType.Equal(oidMSIndirectData) {
			return errno(compat.EKEYREJECTED, "Authenticode attribute %v only allowed with Authenticode", typ)
		}
	}
	return nil
}

// decodeTime decodes a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) as the
// kernel's x509_decode_time (crypto/asymmetric_keys/x509_cert_parser.c) does; what it refuses
// is EBADMSG: another length or a non-digit, a GeneralizedTime for 1950..2049 (RFC 5280 wants
// UTCTime there), a year before 1970, a month, day (Gregorian leap years), hour, minute or
// second out of range (second 60 too).
func decodeTime(tag cbasn1.Tag, v []byte) (time.Time, error) {
	bad := errno(compat.EBADMSG, "malformed signingTime")
	var layout string
	switch {
	case tag == cbasn1.UTCTime && len(v) == 13:
		layout = "060102150405Z"
	case tag == cbasn1.GeneralizedTime && len(v) == 15:
		layout = "20060102150405Z"
	default:
		return time.Time{}, bad
	}
	for _, c := range v[:len(v)-1] {
		if c < '0' || c > '9' {
			return time.Time{}, bad
		}
	}
	t, err := time.Parse(layout, string(v))
	if err != nil {
		return time.Time{}, bad
	}
	if tag == cbasn1.UTCTime && t.Year() >= 2050 {
		t = t.AddDate(-100, 0, 0)
	}
	if tag == cbasn1.GeneralizedTime && t.Year() >= 1950 && t.Year() <= 2049 {
		return time.Time{}, errno(compat.EBADMSG, "signingTime %s as GeneralizedTime: the kernel wants UTCTime for 1950..2049", t.Format(time.RFC3339))
	}
	if t.Year() < 1970 {
		return time.Time{}, errno(compat.EBADMSG, "signingTime %s is before 1970: the kernel refuses it", t.Format(time.RFC3339))
	}
	return t, nil
}

// KernelDecodesTime reports whether a signingTime of t (UTC, whole seconds) is one the
// kernel decodes: from 1970 on (x509_decode_time refuses earlier years).
func KernelDecodesTime(t time.Time) bool { return t.UTC().Year() >= 1970 }

// parseEmbeddedCert parses a certificate carried in the message as x509_cert_parse does
// (see [parseKernelCert]) and, as the kernel does, checks a self-signed certificate's own
// signature (x509_check_for_self_signed), returning that check's raw errno on failure
// (EKEYREJECTED, EINVAL or EBADMSG; ENOPKG only marks the signature unsupported).
func parseEmbeddedCert(raw []byte) (*embeddedCert, error) {
	kc, err := parseKernelCert(raw)
	if err != nil {
		return nil, err
	}
	c := &embeddedCert{cert: kc, id: kc.id(), skid: kc.skid}
	_, hashOK := certDigest(kc)
	c.unsupportedSig = !hashOK
	self, err := kc.looksSelfSigned()
	if err != nil {
		return nil, err
	}
	if self && !c.unsupportedSig {
		err := verifyCertBy(kc.pub, kc)
		switch {
		case err == nil:
			c.selfSigned = true
		case errors.Is(err, compat.ENOPKG):
			c.unsupportedSig = true
		default:
			return nil, fmt.Errorf("cms: embedded self-signed certificate %q: self-signature does not verify: %w", kc.subject, err)
		}
	}
	return c, nil
}

// certKeyID returns the kernel's key id 0 for a certificate: the serial number's contents
// octets followed by the issuer Name's contents octets (asymmetric_key_generate_id).
func certKeyID(cert *x509.Certificate) ([]byte, error) {
	serial, err := rawSerialElement(cert)
	if err != nil {
		return nil, errno(compat.EBADMSG, "%v", err)
	}
	return append(append([]byte{}, contentsOf(serial)...), contentsOf(cert.RawIssuer)...), nil
}

// contentsOf returns the contents octets of a DER element (nil if it does not parse).
func contentsOf(elem []byte) []byte {
	s := cryptobyte.String(elem)
	var out cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&out, &tag) {
		return nil
	}
	return out
}

// intFromContents interprets INTEGER contents octets as a two's-complement big integer.
func intFromContents(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return n
}

// decodeOID decodes OID contents octets, reporting false for encodings
// asn1.ObjectIdentifier cannot hold or cryptobyte refuses.
func decodeOID(contents []byte) (asn1.ObjectIdentifier, bool) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	der, err := b.Bytes()
	if err != nil {
		return nil, false
	}
	s := cryptobyte.String(der)
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) {
		return nil, false
	}
	return oid, true
}
