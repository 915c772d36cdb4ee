// Package cms writes and checks the detached PKCS#7/CMS signatures that the Linux kernel accepts
// for signed BPF programs.
//
// The package has three halves:
//
//   - [Sign] writes exactly what bpftool (CMS_sign with NOCERTS|NOATTR|USE_KEYID) and
//     `openssl cms -sign -binary -noattr -nosmimecap -nocerts -keyid -md sha256 -outform DER`
//     write: DER, detached id-data content, one SignerInfo, no certificates, no attributes.
//     RSA PKCS#1 v1.5 is deterministic, so an RSA signature is byte-identical to theirs.
//   - [Parse] reads a blob the way the kernel's pkcs7_parse_message does (a BER-tolerant
//     parser that runs the kernel's per-element checks in encoding order) and describes it.
//   - [Verify] emulates the kernel's verify_pkcs7_signature for BPF programs
//     (pkcs7_parse_message, pkcs7_supply_detached_data, pkcs7_verify, pkcs7_validate_trust)
//     against a set of trusted certificates standing in for the keyring, and returns the
//     errno the kernel would return.
//
// Every error wraps the [compat.Errno] the kernel would report (EBADMSG, ENOPKG, ENOKEY,
// EKEYREJECTED, EINVAL), so callers can use errors.Is and kerrno.Name.
package cms

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"

	"github.com/bpfsig/bpfsig/compat"
)

// SignerIDForm says how a SignerInfo names its signer's certificate: compat's vocabulary.
// SubjectKeyID is the certificate's subjectKeyIdentifier ([0] IMPLICIT OCTET STRING;
// SignerInfo and SignedData version 3), what bpftool and `openssl cms -keyid` write, and the
// default. IssuerSerial is issuer name and serial number (version 1), what the kernel's
// sign-file writes.
type SignerIDForm = compat.SignerIDForm

const (
	SubjectKeyID = compat.SubjectKeyID
	IssuerSerial = compat.IssuerSerial
)

// Attribute is one signed (authenticated) attribute: its type and the raw DER of each value.
type Attribute struct {
	// Type is the decoded attribute type, nil when it does not fit asn1.ObjectIdentifier
	// (see RawType).
	Type asn1.ObjectIdentifier
	// RawType is the contents octets of the type's OBJECT IDENTIFIER as encoded, the form
	// the kernel compares (set by Parse; ignored by SignWithAttributes when Type is set).
	RawType []byte
	Values  [][]byte // raw DER of each value
}

// Signature describes a parsed CMS SignedData blob. When the blob has more than one
// SignerInfo (the kernel accepts that; bpftool never writes it), the signer fields describe
// the first one and Signers gives the count.
type Signature struct {
	// Version is the SignedData version (1 or 3).
	Version int
	// SignerInfoVersion is the first SignerInfo's version (1 or 3).
	SignerInfoVersion int
	// SignerID is the form of the first SignerInfo's sid. Note the kernel picks the form
	// from SignerInfoVersion, not from the encoding; a mismatch makes the key unfindable.
	SignerID     SignerIDForm
	SubjectKeyID []byte   // SubjectKeyID form: the key identifier
	Issuer       []byte   // IssuerSerial form: raw DER of the issuer Name
	Serial       *big.Int // IssuerSerial form: the serial number

	// ContentType is the eContentType (id-data for BPF signatures).
	ContentType        asn1.ObjectIdentifier
	DigestAlgorithm    asn1.ObjectIdentifier
	SignatureAlgorithm asn1.ObjectIdentifier
	// SignatureAlgorithmParams is the raw DER of the signature algorithm parameters (NULL
	// for rsaEncryption as written by OpenSSL), or nil when absent.
	SignatureAlgorithmParams []byte

	SignedAttributes []Attribute
	Certificates     [][]byte // raw DER of each embedded certificate
	// Detached reports that the blob carries no eContent (the kernel requires this).
	Detached  bool
	Signature []byte
	// Signers is the number of SignerInfos.
	Signers int
	// Size is the length of the blob in bytes; TrailingBytes counts bytes after the
	// top-level ContentInfo, which the kernel's decoder ignores.
	Size          int
	TrailingBytes int
}

// Object identifiers the kernel's PKCS#7 code knows about (include/linux/oid_registry.h).
var (
	oidData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidMSIndirectData   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidMSStatementType  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 11}
	oidMSSpOpusInfo     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 12}
	oidContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSMIMECapabilites = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}

	oidMD4       = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 4}
	oidMD5       = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1      = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA3_256  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	oidSHA3_384  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	oidSHA3_512  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}
	oidSM3       = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	oidStreeb256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	oidStreeb512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}

	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidECDSAWithSHA3_2 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 10}
	oidECDSAWithSHA3_3 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 11}
	oidECDSAWithSHA3_5 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 12}
	oidGOST2012Key256  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	oidGOST2012Key512  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
)

// Exported OIDs for callers that build or inspect blobs.
var (
	OIDData                    = oidData
	OIDSignedData              = oidSignedData
	OIDContentType             = oidContentType
	OIDMessageDigest           = oidMessageDigest
	OIDSigningTime             = oidSigningTime
	OIDSMIMECapabilities       = oidSMIMECapabilites
	OIDRSAEncryption           = oidRSAEncryption
	OIDSHA256WithRSAEncryption = oidSHA256WithRSA
	OIDECDSAWithSHA256         = oidECDSAWithSHA256
	OIDECDSAWithSHA384         = oidECDSAWithSHA384
	OIDSHA256                  = oidSHA256
)

// kernelDigest describes a SignerInfo digestAlgorithm the kernel's pkcs7_sig_note_digest_algo
// accepts: its kernel name and the Go hash (0 when Go cannot compute it).
type kernelDigest struct {
	name string
	hash crypto.Hash
}

// kernelDigests lists the digests 6.18's pkcs7_sig_note_digest_algo knows; any other OID
// (MD4, MD5, ...) is rejected at parse time with ENOPKG.
var kernelDigests = []struct {
	oid asn1.ObjectIdentifier
	kernelDigest
}{
	{oidSHA1, kernelDigest{"sha1", crypto.SHA1}},
	{oidSHA256, kernelDigest{"sha256", crypto.SHA256}},
	{oidSHA384, kernelDigest{"sha384", crypto.SHA384}},
	{oidSHA512, kernelDigest{"sha512", crypto.SHA512}},
	{oidSHA224, kernelDigest{"sha224", crypto.SHA224}},
	{oidSM3, kernelDigest{"sm3", 0}},
	{oidStreeb256, kernelDigest{"streebog256", 0}},
	{oidStreeb512, kernelDigest{"streebog512", 0}},
	{oidSHA3_256, kernelDigest{"sha3-256", crypto.SHA3_256}},
	{oidSHA3_384, kernelDigest{"sha3-384", crypto.SHA3_384}},
	{oidSHA3_512, kernelDigest{"sha3-512", crypto.SHA3_512}},
}

func lookupDigest(oid asn1.ObjectIdentifier) (kernelDigest, bool) {
	for _, d := range kernelDigests {
		if d.oid.Equal(oid) {
			return d.kernelDigest, true
		}
	}
	return kernelDigest{}, false
}

// kernelPkeyAlgo maps a SignerInfo digestEncryptionAlgorithm to the kernel's pkey_algo
// ("rsa", "ecdsa", "ecrdsa") as pkcs7_sig_note_pkey_algo does. Anything else, including
// sha256WithRSAEncryption and RSA-PSS, is rejected at parse time with ENOPKG.
func kernelPkeyAlgo(oid asn1.ObjectIdentifier) (string, bool) {
	switch {
	case oid.Equal(oidRSAEncryption):
		return "rsa", true
	case oid.Equal(oidECDSAWithSHA1), oid.Equal(oidECDSAWithSHA224), oid.Equal(oidECDSAWithSHA256),
		oid.Equal(oidECDSAWithSHA384), oid.Equal(oidECDSAWithSHA512), oid.Equal(oidECDSAWithSHA3_2),
		oid.Equal(oidECDSAWithSHA3_3), oid.Equal(oidECDSAWithSHA3_5):
		return "ecdsa", true
	case oid.Equal(oidGOST2012Key256), oid.Equal(oidGOST2012Key512):
		return "ecrdsa", true
	}
	return "", false
}

var digestNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{oidMD4, "md4"}, {oidMD5, "md5"}, {oidSHA1, "sha1"}, {oidSHA224, "sha224"},
	{oidSHA256, "sha256"}, {oidSHA384, "sha384"}, {oidSHA512, "sha512"},
	{oidSHA3_256, "sha3-256"}, {oidSHA3_384, "sha3-384"}, {oidSHA3_512, "sha3-512"},
	{oidSM3, "sm3"}, {oidStreeb256, "streebog256"}, {oidStreeb512, "streebog512"},
}

var algorithmNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{oidRSAEncryption, "rsa"},
	{oidSHA1WithRSA, "sha1WithRSAEncryption"},
	{oidSHA256WithRSA, "sha256WithRSAEncryption"},
	{oidSHA384WithRSA, "sha384WithRSAEncryption"},
	{oidSHA512WithRSA, "sha512WithRSAEncryption"},
	{oidRSAPSS, "rsassa-pss"},
	{oidECDSAWithSHA1, "ecdsa-with-SHA1"},
	{oidECDSAWithSHA224, "ecdsa-with-SHA224"},
	{oidECDSAWithSHA256, "ecdsa-with-SHA256"},
	{oidECDSAWithSHA384, "ecdsa-with-SHA384"},
	{oidECDSAWithSHA512, "ecdsa-with-SHA512"},
	{oidECDSAWithSHA3_2, "ecdsa-with-SHA3-256"},
	{oidECDSAWithSHA3_3, "ecdsa-with-SHA3-384"},
	{oidECDSAWithSHA3_5, "ecdsa-with-SHA3-512"},
	{oidGOST2012Key256, "gost2012-256"},
	{oidGOST2012Key512, "gost2012-512"},
}

// DigestName returns the digest algorithm's short name ("sha256"), or its dotted OID.
func (s *Signature) DigestName() string {
	for _, d := range digestNames {
		if d.oid.Equal(s.DigestAlgorithm) {
			return d.name
		}
	}
	return s.DigestAlgorithm.String()
}

// AlgorithmName returns the signature algorithm's name: "rsa" for rsaEncryption (PKCS#1
// v1.5), "ecdsa-with-SHA256" and so on, or the dotted OID.
func (s *Signature) AlgorithmName() string {
	for _, a := range algorithmNames {
		if a.oid.Equal(s.SignatureAlgorithm) {
			return a.name
		}
	}
	return s.SignatureAlgorithm.String()
}

// SignerString describes the signer identifier: "skid:HEX" or "issuer:CN=...,serial:HEX".
func (s *Signature) SignerString() string {
	if s.SignerID == SubjectKeyID {
		return "skid:" + hex.EncodeToString(s.SubjectKeyID)
	}
	serial := "?"
	if s.Serial != nil {
		serial = s.Serial.Text(16)
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
	}
	return "issuer:" + nameString(s.Issuer) + ",serial:" + serial
}

// nameString renders a raw DER Name like "CN=x,O=y", or "(hex)" if it does not parse.
func nameString(raw []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdn); err != nil || len(rest) != 0 {
		return "(" + hex.EncodeToString(raw) + ")"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}
