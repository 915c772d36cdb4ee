package mapvalue

import (
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// SignerID says how the PKCS#7 SignerInfo names the signer's certificate.
type SignerID int

const (
	// IssuerSerial names the signer by issuer and serial number (SignerInfo v1), as
	// scripts/sign-file does by default. The zero value.
	IssuerSerial SignerID = iota
	// SubjectKeyID names the signer by subjectKeyIdentifier (SignerInfo v3), as
	// `sign-file -k` does.
	SubjectKeyID
)

// String returns "issuer-serial" or "skid".
func (s SignerID) String() string {
	switch s {
	case IssuerSerial:
		return "issuer-serial"
	case SubjectKeyID:
		return "skid"
	}
	return fmt.Sprintf("SignerID(%d)", int(s))
}

// ParseSignerID parses "issuer-serial" or "skid".
func ParseSignerID(s string) (SignerID, error) {
	switch s {
	case "issuer-serial", "issuer":
		return IssuerSerial, nil
	case "skid", "keyid":
		return SubjectKeyID, nil
	}
	return 0, fmt.Errorf("map value: signer id %q: want issuer-serial or skid", s)
}

// MaxValueSize is the largest value_size an array map accepts on x86-64 with 4 KiB pages
// (KMALLOC_MAX_SIZE; larger gives E2BIG at map creation). [Sign] refuses to build larger
// values.
const MaxValueSize = 4 << 20

// SignOptions selects what [Sign] builds. The zero value is `sign-file sha256` with no
// padding and no unverified bytes.
type SignOptions struct {
	// SignerID is the signer identifier form (default IssuerSerial, as sign-file).
	SignerID SignerID
	// Digest is the PKCS#7 digest: 0 means SHA-256 (sign-file's first argument); SHA-384 and
	// SHA-512 are allowed.
	Digest crypto.Hash
	// Unverified bytes follow the marker, outside the signed part.
	Unverified []byte
	// ValueSize, when non-zero, is the map's value_size: the value is zero-padded to it, and
	// a value that does not fit is an error.
	ValueSize int
}

// AppendSignature appends to dst what `scripts/sign-file` appends to a file holding data
// whose detached PKCS#7 signature is pkcs7: data ‖ pkcs7 ‖ module_signature ‖ Marker.
func AppendSignature(dst, data, pkcs7 []byte) ([]byte, error) {
	if uint64(len(pkcs7)) > math.MaxUint32 {
		return nil, refuse(CheckEncode, nil, "PKCS#7 blob of %d bytes does not fit sig_len", len(pkcs7))
	}
	dst = append(dst, data...)
	dst = append(dst, pkcs7...)
	dst, _ = PKCS7ModuleSignature(uint32(len(pkcs7))).AppendBinary(dst)
	return append(dst, Marker...), nil
}

// Encode assembles a value from data, its detached PKCS#7 signature and the unverified
// bytes: be32 N ‖ data ‖ pkcs7 ‖ module_signature ‖ Marker ‖ unverified, zero-padded to
// valueSize when that is non-zero. It refuses a value the kernel's structural checks would
// reject (empty data) and one longer than valueSize.
func Encode(data, pkcs7, unverified []byte, valueSize int) ([]byte, error) {
	if len(data) == 0 {
		return nil, refuse(CheckEncode, nil, "data is empty: the kernel rejects a value with no verified byte (EBADMSG)")
	}
	n := uint64(len(data)) + uint64(len(pkcs7)) + ModuleSignatureSize + uint64(len(Marker))
	if n > math.MaxUint32 {
		return nil, refuse(CheckEncode, nil, "signed part of %d bytes does not fit the 32-bit length word", n)
	}
	total := LengthSize + int(n) + len(unverified)
	if valueSize < 0 {
		return nil, refuse(CheckEncode, nil, "value size %d is negative", valueSize)
	}
	if valueSize != 0 && total > valueSize {
		return nil, refuse(CheckEncode, nil, "value needs %d bytes (4 length + %d data + %d PKCS#7 + %d module_signature + %d marker + %d unverified), value size is %d",
			total, len(data), len(pkcs7), ModuleSignatureSize, len(Marker), len(unverified), valueSize)
	}
	size := total
	if valueSize != 0 {
		size = valueSize
	}
	out := make([]byte, LengthSize, size)
	binary.BigEndian.PutUint32(out, uint32(n))
	out, err := AppendSignature(out, data, pkcs7)
	if err != nil {
		return nil, err
	}
	out = append(out, unverified...)
	return out[:size], nil // capacity is size; the tail is zero
}

// Sign signs data with key for cert and returns the map value. The part after the length
// word is byte-identical (for RSA, whose PKCS#1 v1.5 signatures are deterministic) to what
// `scripts/sign-file sha256 KEY CERT DATA` appends, or `sign-file -k` with SubjectKeyID: a
// DER SignedData with no certificates and no signed attributes.
func Sign(data []byte, key crypto.Signer, cert *x509.Certificate, opts SignOptions) ([]byte, error) {
	if key == nil || cert == nil {
		return nil, errors.New("map value: sign: key and certificate are required")
	}
	if opts.ValueSize > MaxValueSize {
		return nil, refuse(CheckEncode, nil, "value size %d exceeds the largest array map value (%d)", opts.ValueSize, MaxValueSize)
	}
	if len(data) == 0 {
		return nil, refuse(CheckEncode, nil, "data is empty: the kernel rejects a value with no verified byte (EBADMSG)")
	}
	var form cms.SignerIDForm
	switch opts.SignerID {
	case IssuerSerial:
		form = cms.IssuerSerial
	case SubjectKeyID:
		form = cms.SubjectKeyID
	default:
		return nil, fmt.Errorf("map value: sign: unknown signer id form %d", int(opts.SignerID))
	}
	sig, err := cms.Sign(data, key, cert, cms.SignOptions{SignerID: form, Digest: opts.Digest})
	if err != nil {
		return nil, fmt.Errorf("map value: sign: %w", err)
	}
	return Encode(data, sig, opts.Unverified, opts.ValueSize)
}
