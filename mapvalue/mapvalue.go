// Package mapvalue writes and checks signed BPF map values in the BPF_F_VERIFY_ELEM format
// of Roberto Sassu's 2022 patch series ("bpf: Add support for maps with authenticated
// values"; never merged).
//
// A map created with BPF_F_VERIFY_ELEM (1<<13) accepts a value in BPF_MAP_UPDATE_ELEM only if
// bpf_map_verify_value_sig accepts it. The value is laid out as
//
//	be32 N ‖ data ‖ PKCS#7 ‖ module_signature ‖ "~Module signature appended~\n" ‖ unverified
//
// N counts the bytes after the length word up to the end of the marker; everything after
// them (unverified bytes, zero padding up to the map's value_size) is not covered. The part
// after the length word is exactly what the kernel's scripts/sign-file appends to a module:
// a detached PKCS#7 SignedData over data (no certificates, no signed attributes; the signer
// named by issuer and serial, or by subjectKeyIdentifier with sign-file -k), the 12-byte
// struct module_signature {algo 0, hash 0, id_type 2 (PKEY_ID_PKCS7), signer_len 0,
// key_id_len 0, 3 zero pad bytes, be32 sig_len}, and the marker.
//
// [Parse] runs the kernel's structural checks in its order and [Verify] adds the PKCS#7
// verdict of the kernel model (verify_pkcs7_signature against a keyring). Every refusal is
// an [*Error] wrapping the errno the kernel returns, in the order the kernel returns them:
//
//  1. value of 4 bytes or less: ENOENT;
//  2. N greater than the bytes after the length word: EINVAL;
//  3. N of 28 or less, or the N bytes not ending in the marker: ENOENT;
//  4. N-28 of 12 or less (no room for module_signature and data): EBADMSG;
//  5. mod_check_sig: sig_len ≥ N-28-12 (no byte of data left): EBADMSG; id_type not 2:
//     ENOPKG; any other field non-zero: EBADMSG;
//  6. verify_pkcs7_signature over data: EBADMSG, EINVAL, ENOPKG, ENOKEY, EKEYREJECTED as the
//     kernel's PKCS#7 code decides.
//
// On success the kernel returns the length of data, which its bpf_map_verified_data_size
// helper hands to BPF programs.
package mapvalue

import (
	"encoding/binary"
	"fmt"
)

// FlagVerifyElem is BPF_F_VERIFY_ELEM, the map_flags bit that asks for signed values.
const FlagVerifyElem = 1 << 13

// Marker is MODULE_SIG_STRING, the string that ends the signed part.
const Marker = "~Module signature appended~\n"

// ModuleSignatureSize is sizeof(struct module_signature).
const ModuleSignatureSize = 12

// PKeyIDPKCS7 is PKEY_ID_PKCS7, the only id_type the kernel accepts.
const PKeyIDPKCS7 = 2

// LengthSize is the size of the big-endian length word that starts a value.
const LengthSize = 4

// ModuleSignature is struct module_signature (include/linux/module_signature.h).
type ModuleSignature struct {
	Algo      uint8   // public-key crypto algorithm; 0 for PKCS#7
	Hash      uint8   // digest algorithm; 0 for PKCS#7
	IDType    uint8   // key identifier type; PKeyIDPKCS7
	SignerLen uint8   // length of signer's name; 0 for PKCS#7
	KeyIDLen  uint8   // length of key identifier; 0 for PKCS#7
	Pad       [3]byte // must be zero
	SigLen    uint32  // length of the PKCS#7 blob, big-endian on the wire
}

// PKCS7ModuleSignature returns the module_signature sign-file writes for a PKCS#7 blob of
// sigLen bytes.
func PKCS7ModuleSignature(sigLen uint32) ModuleSignature {
	return ModuleSignature{IDType: PKeyIDPKCS7, SigLen: sigLen}
}

// AppendBinary appends the 12-byte wire form of m to b.
func (m ModuleSignature) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, m.Algo, m.Hash, m.IDType, m.SignerLen, m.KeyIDLen, m.Pad[0], m.Pad[1], m.Pad[2])
	return binary.BigEndian.AppendUint32(b, m.SigLen), nil
}

func parseModuleSignature(b []byte) ModuleSignature {
	return ModuleSignature{
		Algo: b[0], Hash: b[1], IDType: b[2], SignerLen: b[3], KeyIDLen: b[4],
		Pad:    [3]byte{b[5], b[6], b[7]},
		SigLen: binary.BigEndian.Uint32(b[8:12]),
	}
}

// Value is a parsed map value. Offsets are from the start of the value.
type Value struct {
	// Size is the length of the whole value (the map's value_size).
	Size int
	// Length is N, the big-endian length word.
	Length uint32
	// Data is the verified data (what the kernel's check returns the length of).
	Data []byte
	// Signature is the PKCS#7 blob.
	Signature []byte
	// Info is the module_signature trailer.
	Info ModuleSignature
	// Unverified is everything after the marker (unverified bytes and padding).
	Unverified []byte
}

// DataOffset is the offset of Data: right after the length word.
func (v *Value) DataOffset() int { return LengthSize }

// SignatureOffset is the offset of the PKCS#7 blob.
func (v *Value) SignatureOffset() int { return LengthSize + len(v.Data) }

// InfoOffset is the offset of the module_signature.
func (v *Value) InfoOffset() int { return v.SignatureOffset() + len(v.Signature) }

// MarkerOffset is the offset of the marker.
func (v *Value) MarkerOffset() int { return v.InfoOffset() + ModuleSignatureSize }

// UnverifiedOffset is the offset of the unverified bytes: 4+N.
func (v *Value) UnverifiedOffset() int { return v.MarkerOffset() + len(Marker) }

// Check names the step of bpf_map_verify_value_sig that refused a value.
type Check string

// The checks, in the kernel's order.
const (
	CheckSize      Check = "size"                     // value longer than the length word
	CheckLength    Check = "length"                   // N within the value
	CheckMarker    Check = "marker"                   // N covers the marker and ends in it
	CheckInfo      Check = "module_signature"         // room for module_signature
	CheckSigLen    Check = "module_signature.sig_len" // sig_len leaves data
	CheckIDType    Check = "module_signature.id_type" // PKCS#7
	CheckZeroField Check = "module_signature.zero"    // the other fields are zero
	CheckPKCS7     Check = "pkcs7"                    // verify_pkcs7_signature
	CheckEncode    Check = "encode"                   // not a kernel check: building a value
)

// Error is a refusal of bpf_map_verify_value_sig: the check that failed, why, and (through
// Unwrap) the errno the kernel returns.
type Error struct {
	Check  Check
	Reason string
	err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("map value: %s: %s", e.Check, e.Reason)
}

// Unwrap returns the kernel errno (or, for CheckPKCS7, the PKCS#7 model's error, which wraps
// it).
func (e *Error) Unwrap() error { return e.err }

func refuse(c Check, errno error, format string, a ...any) *Error {
	return &Error{Check: c, Reason: fmt.Sprintf(format, a...), err: errno}
}

// Parse splits value as bpf_map_verify_value_sig does, without the signature check (its
// verify=false mode), and returns the parts. On error the returned Value holds what was
// parsed before the failing check (Size and Length at least once the length word was read)
// and the error is an [*Error].
func Parse(value []byte) (*Value, error) {
	v := &Value{Size: len(value)}
	if len(value) <= LengthSize {
		return v, refuse(CheckSize, errENOENT, "value of %d bytes has nothing after the %d-byte length word", len(value), LengthSize)
	}
	n := binary.BigEndian.Uint32(value)
	v.Length = n
	rest := uint64(len(value) - LengthSize)
	if uint64(n) > rest {
		return v, refuse(CheckLength, errEINVAL, "length word %d exceeds the %d bytes after it", n, rest)
	}
	mod := value[LengthSize : LengthSize+int(n)]
	v.Unverified = value[LengthSize+int(n):]
	if len(mod) <= len(Marker) {
		return v, refuse(CheckMarker, errENOENT, "length %d does not exceed the %d-byte marker", n, len(Marker))
	}
	if string(mod[len(mod)-len(Marker):]) != Marker {
		return v, refuse(CheckMarker, errENOENT, "the %d bytes at offset %d are not %q", len(Marker), LengthSize+len(mod)-len(Marker), Marker)
	}
	mod = mod[:len(mod)-len(Marker)]
	if len(mod) <= ModuleSignatureSize {
		return v, refuse(CheckInfo, errEBADMSG, "%d bytes before the marker leave no room for the %d-byte module_signature and data", len(mod), ModuleSignatureSize)
	}
	ms := parseModuleSignature(mod[len(mod)-ModuleSignatureSize:])
	v.Info = ms
	// mod_check_sig(ms, len(mod)).
	if uint64(ms.SigLen) >= uint64(len(mod)-ModuleSignatureSize) {
		return v, refuse(CheckSigLen, errEBADMSG, "sig_len %d leaves no data (at most %d bytes precede module_signature, one must be data)", ms.SigLen, len(mod)-ModuleSignatureSize)
	}
	if ms.IDType != PKeyIDPKCS7 {
		return v, refuse(CheckIDType, errENOPKG, "id_type %d is not PKEY_ID_PKCS7 (%d)", ms.IDType, PKeyIDPKCS7)
	}
	if ms.Algo != 0 || ms.Hash != 0 || ms.SignerLen != 0 || ms.KeyIDLen != 0 || ms.Pad != [3]byte{} {
		return v, refuse(CheckZeroField, errEBADMSG, "PKCS#7 module_signature has non-zero fields (algo %d, hash %d, signer_len %d, key_id_len %d, pad % x)",
			ms.Algo, ms.Hash, ms.SignerLen, ms.KeyIDLen, ms.Pad[:])
	}
	dataLen := len(mod) - ModuleSignatureSize - int(ms.SigLen)
	v.Data = mod[:dataLen]
	v.Signature = mod[dataLen : dataLen+int(ms.SigLen)]
	return v, nil
}

// Part is one region of a value.
type Part struct {
	Name   string // "length", "data", "pkcs7", "module_signature", "marker", "unverified"
	Offset int
	Size   int
}

// Parts returns the regions of a parsed value in order. For a value that failed [Parse],
// only the regions known before the failing check are returned.
func (v *Value) Parts() []Part {
	if v.Size <= LengthSize {
		return nil
	}
	ps := []Part{{"length", 0, LengthSize}}
	if v.Data == nil {
		return ps
	}
	return append(ps,
		Part{"data", v.DataOffset(), len(v.Data)},
		Part{"pkcs7", v.SignatureOffset(), len(v.Signature)},
		Part{"module_signature", v.InfoOffset(), ModuleSignatureSize},
		Part{"marker", v.MarkerOffset(), len(Marker)},
		Part{"unverified", v.UnverifiedOffset(), len(v.Unverified)},
	)
}
