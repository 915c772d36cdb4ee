package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// kernelCert is what the kernel's x509_cert_parse keeps of a certificate (struct
// x509_certificate): only the fields the PKCS#7 code uses.
type kernelCert struct {
	raw        []byte
	tbs        []byte // full TBSCertificate element, the signed data
	rawSerial  []byte // INTEGER contents octets
	rawIssuer  []byte // Name contents octets
	rawSubject []byte // Name contents octets
	subject    string // for messages only
	notBefore  time.Time
	notAfter   time.Time
	pub        *kernelPubKey
	skid       []byte    // subjectKeyIdentifier, nil when absent
	authIDs    [2][]byte // authorityKeyIdentifier: [0] serial||issuer, [1] keyIdentifier
	sig        kernelSig
}

// kernelSig is struct public_key_signature as x509_note_sig_algo fills it for a certificate.
type kernelSig struct {
	pkeyAlgo string // "rsa", "ecdsa", "ecrdsa"
	encoding string // "pkcs1", "x962", "raw"
	hashName string
	hash     crypto.Hash // 0 when Go cannot compute it
	s        []byte
}

// kernelPubKey is struct public_key: the algorithm name the kernel derives from the
// SubjectPublicKeyInfo ("rsa", "ecdsa-nist-p256", ...) and the raw key bytes.
type kernelPubKey struct {
	algo string
	key  []byte
}

// certSigAlgos is x509_note_sig_algo's table: any other OID is ENOPKG at parse time.
var certSigAlgos = []struct {
	oid                      asn1.ObjectIdentifier
	pkey, encoding, hashName string
	hash                     crypto.Hash
}{
	{oidSHA1WithRSA, "rsa", "pkcs1", "sha1", crypto.SHA1},
	{oidSHA256WithRSA, "rsa", "pkcs1", "sha256", crypto.SHA256},
	{oidSHA384WithRSA, "rsa", "pkcs1", "sha384", crypto.SHA384},
	{oidSHA512WithRSA, "rsa", "pkcs1", "sha512", crypto.SHA512},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, "rsa", "pkcs1", "sha224", crypto.SHA224},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 14}, "rsa", "pkcs1", "sha3-256", crypto.SHA3_256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 15}, "rsa", "pkcs1", "sha3-384", crypto.SHA3_384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 16}, "rsa", "pkcs1", "sha3-512", crypto.SHA3_512},
	{oidECDSAWithSHA1, "ecdsa", "x962", "sha1", crypto.SHA1},
	{oidECDSAWithSHA224, "ecdsa", "x962", "sha224", crypto.SHA224},
	{oidECDSAWithSHA256, "ecdsa", "x962", "sha256", crypto.SHA256},
	{oidECDSAWithSHA384, "ecdsa", "x962", "sha384", crypto.SHA384},
	{oidECDSAWithSHA512, "ecdsa", "x962", "sha512", crypto.SHA512},
	{oidECDSAWithSHA3_2, "ecdsa", "x962", "sha3-256", crypto.SHA3_256},
	{oidECDSAWithSHA3_3, "ecdsa", "x962", "sha3-384", crypto.SHA3_384},
	{oidECDSAWithSHA3_5, "ecdsa", "x962", "sha3-512", crypto.SHA3_512},
	{asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2}, "ecrdsa", "raw", "streebog256", 0},
	{asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 3}, "ecrdsa", "raw", "streebog512", 0},
}

var (
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP192          = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}
	oidP256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384          = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521          = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	oidSKID          = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstr   = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidAKID          = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCommonName    = asn1.ObjectIdentifier{2, 5, 4, 3}
	errCertStructure = errno(compat.EBADMSG, "embedded certificate: malformed ASN.1")
)

// parseKernelCert parses a certificate as x509_cert_parse does (crypto/asymmetric_keys/
// x509.asn1 and x509_cert_parser.c), with its errnos, in encoding order:
//   - structure (a SEQUENCE OF or SET OF must have at least one element; strings and
//     unknown attributes are not looked at): EBADMSG;
//   - a tbsCertificate signature algorithm the kernel does not know: ENOPKG;
//   - a public key algorithm (or EC curve) the kernel does not know: ENOPKG;
//   - outer signatureAlgorithm differing from the TBS one: EINVAL;
//   - bad times, BIT STRINGs with unused bits, malformed SKID/keyUsage/basicConstraints/
//     authorityKeyIdentifier: EBADMSG.
//
// The public key itself is not checked here (the kernel checks it when it is used).
func parseKernelCert(raw []byte) (*kernelCert, error) {
	c := &kernelCert{raw: raw}
	in := cryptobyte.String(raw)
	var cert cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) {
		return nil, errCertStructure
	}
	var tbsElem cryptobyte.String
	if !cert.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, errCertStructure
	}
	c.tbs = tbsElem
	var tbs cryptobyte.String
	tbsElem.ReadASN1(&tbs, cbasn1.SEQUENCE)

	// version [0] EXPLICIT INTEGER DEFAULT (the value is not checked)
	if tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var v, vi cryptobyte.String
		if !tbs.ReadASN1(&v, cbasn1.Tag(0).Constructed().ContextSpecific()) || !v.ReadASN1(&vi, cbasn1.INTEGER) || !v.Empty() {
			return nil, errCertStructure
		}
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, cbasn1.INTEGER) {
		return nil, errCertStructure
	}
	c.rawSerial = serial
	// signature: x509_note_sig_algo
	sigOID, _, err := readAlgorithm(&tbs, "certificate signature")
	if err != nil {
		return nil, err
	}
	found := false
	for _, a := range certSigAlgos {
		if a.oid.Equal(sigOID) {
			c.sig = kernelSig{pkeyAlgo: a.pkey, encoding: a.encoding, hashName: a.hashName, hash: a.hash}
			found = true
			break
		}
	}
	if !found {
		return nil, errno(compat.ENOPKG, "embedded certificate: unsupported signature algorithm %v", sigOID)
	}
	if c.rawIssuer, err = readName(&tbs, nil); err != nil {
		return nil, err
	}
	var validity cryptobyte.String
	if !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return nil, errCertStructure
	}
	if c.notBefore, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.notAfter, err = readTime(&validity); err != nil {
		return nil, err
	}
	if !validity.Empty() {
		return nil, errCertStructure
	}
	if c.rawSubject, err = readName(&tbs, &c.subject); err != nil {
		return nil, err
	}
	// subjectPublicKeyInfo: x509_extract_key_data
	var spki cryptobyte.String
	if !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, errCertStructure
	}
	if c.pub, err = parseSPKI(spki); err != nil {
		return nil, err
	}
	for _, t := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if tbs.PeekASN1Tag(t) && !tbs.SkipASN1(t) {
			return nil, errCertStructure
		}
	}
	var rawAKID []byte
	if tbs.PeekASN1Tag(cbasn1.Tag(3).Constructed().ContextSpecific()) {
		var ext, exts cryptobyte.String
		if !tbs.ReadASN1(&ext, cbasn1.Tag(3).Constructed().ContextSpecific()) || !ext.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return nil, errCertStructure
		}
		if exts.Empty() {
			return nil, errCertStructure
		}
		for !exts.Empty() {
			var e, val cryptobyte.String
			if !exts.ReadASN1(&e, cbasn1.SEQUENCE) {
				return nil, errCertStructure
			}
			id, ok := readOID(&e)
			if !ok {
				return nil, errCertStructure
			}
			if e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.SkipASN1(cbasn1.BOOLEAN) {
				return nil, errCertStructure
			}
			if !e.ReadASN1(&val, cbasn1.OCTET_STRING) {
				return nil, errCertStructure
			}
			if err := c.processExtension(id, val, &rawAKID); err != nil {
				return nil, err
			}
			if !e.Empty() {
				return nil, errCertStructure
			}
		}
		if !ext.Empty() {
			return nil, errCertStructure
		}
	}
	if !tbs.Empty() {
		return nil, errCertStructure
	}

	// signatureAlgorithm and signature: x509_note_signature
	outerOID, _, err := readAlgorithm(&cert, "certificate signatureAlgorithm")
	if err != nil {
		return nil, err
	}
	var sigBits cryptobyte.String
	if !cert.ReadASN1(&sigBits, cbasn1.BIT_STRING) {
		return nil, errCertStructure
	}
	if !outerOID.Equal(sigOID) {
		return nil, errno(compat.EINVAL, "embedded certificate: signatureAlgorithm %v differs from tbsCertificate.signature %v", outerOID, sigOID)
	}
	if len(sigBits) < 1 || sigBits[0] != 0 {
		return nil, errno(compat.EBADMSG, "embedded certificate: signature BIT STRING has unused bits")
	}
	c.sig.s = sigBits[1:]
	if !cert.Empty() || !in.Empty() {
		return nil, errCertStructure
	}
	if rawAKID != nil {
		if err := c.parseAKID(rawAKID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readName reads a Name as x509.asn1 / pkcs7.asn1 decode it (SEQUENCE OF SET OF
// SEQUENCE { OID, ANY }, each with at least one element) and returns its contents octets.
// If cn is not nil, it receives the last commonName value (for messages).
func readName(s *cryptobyte.String, cn *string) ([]byte, error) {
	var name cryptobyte.String
	if !s.ReadASN1(&name, cbasn1.SEQUENCE) || name.Empty() {
		return nil, errno(compat.EBADMSG, "malformed Name")
	}
	contents := []byte(name)
	for !name.Empty() {
		var rdn cryptobyte.String
		if !name.ReadASN1(&rdn, cbasn1.SET) || rdn.Empty() {
			return nil, errno(compat.EBADMSG, "malformed Name")
		}
		for !rdn.Empty() {
			var ava, val cryptobyte.String
			var tag cbasn1.Tag
			if !rdn.ReadASN1(&ava, cbasn1.SEQUENCE) {
				return nil, errno(compat.EBADMSG, "malformed Name")
			}
			typ, ok := readOID(&ava)
			if !ok || !ava.ReadAnyASN1(&val, &tag) || !ava.Empty() {
				return nil, errno(compat.EBADMSG, "malformed Name")
			}
			if cn != nil && typ.Equal(oidCommonName) {
				*cn = "CN=" + string(val)
			}
		}
	}
	return contents, nil
}

// readTime reads a Time and decodes it as x509_decode_time.
func readTime(s *cryptobyte.String) (time.Time, error) {
	var v cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&v, &tag) {
		return time.Time{}, errCertStructure
	}
	if tag != cbasn1.UTCTime && tag != cbasn1.GeneralizedTime {
		return time.Time{}, errCertStructure // CHOICE mismatch
	}
	return decodeTime(tag, v)
}

// parseSPKI is x509_extract_key_data: the algorithm (and for EC the curve) must be one the
// kernel knows (ENOPKG), and the BIT STRING must have no unused bits (EBADMSG).
func parseSPKI(elem []byte) (*kernelPubKey, error) {
	s := cryptobyte.String(elem)
	var spki cryptobyte.String
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) {
		return nil, errCertStructure
	}
	oid, params, err := readAlgorithm(&spki, "subjectPublicKeyInfo")
	if err != nil {
		return nil, err
	}
	var bits cryptobyte.String
	if !spki.ReadASN1(&bits, cbasn1.BIT_STRING) || !spki.Empty() {
		return nil, errCertStructure
	}
	pk := &kernelPubKey{}
	switch {
	case oid.Equal(oidRSAEncryption):
		pk.algo = "rsa"
	case oid.Equal(oidGOST2012Key256), oid.Equal(oidGOST2012Key512):
		pk.algo = "ecrdsa"
	case oid.Equal(oidECPublicKey):
		// parse_OID(ctx->params): exactly one short-form OID element.
		if len(params) < 2 || params[0] != 0x06 || int(params[1]) != len(params)-2 {
			return nil, errno(compat.EBADMSG, "EC public key parameters are not an OID")
		}
		p := cryptobyte.String(params)
		curve, _ := readOID(&p)
		switch {
		case curve.Equal(oidP192):
			pk.algo = "ecdsa-nist-p192"
		case curve.Equal(oidP256):
			pk.algo = "ecdsa-nist-p256"
		case curve.Equal(oidP384):
			pk.algo = "ecdsa-nist-p384"
		case curve.Equal(oidP521):
			pk.algo = "ecdsa-nist-p521"
		default:
			return nil, errno(compat.ENOPKG, "unsupported EC curve %v", curve)
		}
	default:
		return nil, errno(compat.ENOPKG, "unsupported public key algorithm %v", oid)
	}
	if len(bits) < 1 || bits[0] != 0 {
		return nil, errno(compat.EBADMSG, "public key BIT STRING has unused bits")
	}
	pk.key = bits[1:]
	return pk, nil
}

// processExtension is x509_process_extension.
func (c *kernelCert) processExtension(id asn1.ObjectIdentifier, v []byte, rawAKID *[]byte) error {
	bad := func(what string) error {
		return errno(compat.EBADMSG, "embedded certificate: malformed %s extension", what)
	}
	switch {
	case id.Equal(oidSKID):
		if c.skid != nil || len(v) < 3 || v[0] != 0x04 || int(v[1]) != len(v)-2 {
			return bad("subjectKeyIdentifier")
		}
		c.skid = append([]byte{}, v[2:]...)
	case id.Equal(oidKeyUsage):
		if len(v) < 4 || v[0] != 0x03 || v[2] >= 8 {
			return bad("keyUsage")
		}
	case id.Equal(oidAKID):
		*rawAKID = v
	case id.Equal(oidBasicConstr):
		if len(v) < 2 || v[0] != 0x30 || int(v[1]) != len(v)-2 {
			return bad("basicConstraints")
		}
	}
	return nil
}

// parseAKID decodes the authorityKeyIdentifier with x509_akid.asn1.
func (c *kernelCert) parseAKID(raw []byte) error {
	bad := errno(compat.EBADMSG, "embedded certificate: malformed authorityKeyIdentifier")
	s := cryptobyte.String(raw)
	var akid cryptobyte.String
	if !s.ReadASN1(&akid, cbasn1.SEQUENCE) || !s.Empty() {
		return bad
	}
	var kid, names, serial cryptobyte.String
	var hasKid, hasNames, hasSerial bool
	if !akid.ReadOptionalASN1(&kid, &hasKid, cbasn1.Tag(0).ContextSpecific()) ||
		!akid.ReadOptionalASN1(&names, &hasNames, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!akid.ReadOptionalASN1(&serial, &hasSerial, cbasn1.Tag(2).ContextSpecific()) || !akid.Empty() {
		return bad
	}
	var issuer []byte
	if hasNames {
		if names.Empty() {
			return bad
		}
		for !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return bad
			}
			if tag == cbasn1.Tag(4).Constructed().ContextSpecific() {
				n, err := readName(&gn, nil)
				if err != nil || !gn.Empty() {
					return bad
				}
				if issuer == nil {
					issuer = n
				}
			}
		}
	}
	if hasKid {
		c.authIDs[1] = append([]byte{}, kid...)
	}
	if hasSerial && issuer != nil {
		c.authIDs[0] = append(append([]byte{}, serial...), issuer...)
	}
	return nil
}

// id returns the kernel's key id 0: serial contents || issuer contents.
func (c *kernelCert) id() []byte {
	return append(append([]byte{}, c.rawSerial...), c.rawIssuer...)
}

// selfSigned is x509_check_for_self_signed's decision whether to check the certificate's
// signature with its own key; it returns an EKEYREJECTED error when the AKID is
// inconsistent (one part matching, the other not).
func (c *kernelCert) looksSelfSigned() (bool, error) {
	if !bytes.Equal(c.rawSubject, c.rawIssuer) {
		return false, nil
	}
	if c.authIDs[0] != nil || c.authIDs[1] != nil {
		a := c.skid != nil && c.authIDs[1] != nil && bytes.Equal(c.skid, c.authIDs[1])
		b := c.authIDs[0] != nil && bytes.Equal(c.id(), c.authIDs[0])
		if !a && !b {
			return false, nil
		}
		if a != b && c.authIDs[0] != nil && c.authIDs[1] != nil {
			return false, errno(compat.EKEYREJECTED, "embedded certificate %q: authorityKeyIdentifier parts disagree", c.subject)
		}
	}
	return true, nil
}
