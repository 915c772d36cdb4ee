package hornet

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// Map is one map the signature vouches for: the map whose fd the loader puts at
// fd_array[Index], holding Value. For a light skeleton that is Index 0 and Value = opts_data
// (the loader's "__loader.map", one ARRAY element).
type Map struct {
	Index int32
	Value []byte
}

// SignOptions are the choices gen_sig does not make for you.
type SignOptions struct {
	// SigningTime, when non-zero, adds the signingTime attribute (UTC, whole seconds) that
	// gen_sig always adds (OpenSSL's CMS_SignerInfo_sign puts the current time there). The
	// zero value writes none, so that signing is reproducible; the output then differs from
	// gen_sig's by that one attribute. With the time gen_sig used, the output is gen_sig's,
	// byte for byte (RSA).
	SigningTime time.Time
	// AllowUnpadded signs a Value whose length is not a multiple of 8, as gen_sig does. The
	// kernel hashes an ARRAY element padded to 8 bytes (array_map_get_hash over elem_size =
	// round_up(value_size, 8)), so Hornet reports UNEXPECTED for such a map; by default Sign
	// refuses it.
	AllowUnpadded bool
	// AllowNoMaps signs without any map, as gen_sig does without --add: the Hornet attribute
	// then holds an empty SET, which Hornet's decoder rejects (BADSIG, see kernel.go). By
	// default Sign refuses it; a signature that vouches for no map is a bpftool-style one
	// (cms.Sign), which Hornet reports as PARTIALSIG.
	AllowNoMaps bool
}

// Sign returns the detached PKCS#7 signature gen_sig (scripts/hornet/gen_sig.c, Hornet v7)
// writes for `gen_sig --data INSN --add MAP:INDEX ...`:
//
//   - CMS SignedData version 1, digest SHA-256, detached id-data, no certificates;
//   - one SignerInfo version 1 naming the signer by issuer and serial number (gen_sig does
//     not pass CMS_USE_KEYID), rsaEncryption (PKCS#1 v1.5) or ecdsa-with-SHA256;
//   - signed attributes, in DER SET OF order: contentType = id-data, signingTime (only with
//     opts.SigningTime), messageDigest = SHA-256(insn), and the Hornet attribute (type
//     OIDString) whose one value is SEQUENCE { SET OF Map { INTEGER Index, OCTET STRING
//     SHA-256(Value) } } (see [EncodeValue]); no smimeCapabilities (CMS_NOSMIMECAP).
//
// Maps are required unless opts.AllowNoMaps (Hornet rejects an empty map set). Indices must be
// 0..MaxIndex and distinct
// (gen_sig accepts repeats; Hornet would check the same slot twice), at most MaxEntries maps.
// RSA output is deterministic; ECDSA output is randomized.
func Sign(insn []byte, maps []Map, key crypto.Signer, cert *x509.Certificate, opts SignOptions) ([]byte, error) {
	if len(insn) == 0 {
		return nil, errors.New("hornet: sign: no instructions")
	}
	if len(maps) == 0 && !opts.AllowNoMaps {
		return nil, errors.New("hornet: sign: no maps; Hornet's decoder rejects an empty map set (BADSIG) " +
			"(set AllowNoMaps to sign as gen_sig does without --add)")
	}
	entries := make([]Entry, 0, len(maps))
	seen := map[int32]bool{}
	for i, m := range maps {
		if seen[m.Index] {
			return nil, fmt.Errorf("hornet: sign: map %d: fd_array index %d listed twice", i, m.Index)
		}
		seen[m.Index] = true
		if len(m.Value)%8 != 0 && !opts.AllowUnpadded {
			return nil, fmt.Errorf("hornet: sign: map %d (fd_array[%d]): value of %d bytes is not a multiple of 8; "+
				"the kernel hashes it zero-padded, so Hornet would report UNEXPECTED (pad it, or set AllowUnpadded to sign as gen_sig does)",
				i, m.Index, len(m.Value))
		}
		h := sha256.Sum256(m.Value)
		entries = append(entries, Entry{Index: int64(m.Index), Hash: h[:]})
	}
	value, err := EncodeValue(entries)
	if err != nil {
		return nil, fmt.Errorf("hornet: sign: %w", err)
	}
	attr := cms.Attribute{RawType: oidContents, Values: [][]byte{value}}
	sig, err := cms.SignWithAttributes(insn, key, cert, cms.SignOptions{
		SignerID:    cms.IssuerSerial,
		Digest:      crypto.SHA256,
		SigningTime: opts.SigningTime,
	}, []cms.Attribute{attr})
	if err != nil {
		return nil, fmt.Errorf("hornet: sign: %w", err)
	}
	return sig, nil
}

// MapHash is the hash the kernel computes for an ARRAY map with one element holding value
// (array_map_get_hash: SHA-256 over elem_size * max_entries bytes, elem_size being value_size
// rounded up to 8, the padding zero).
func MapHash(value []byte) [32]byte {
	padded := make([]byte, (len(value)+7)&^7)
	copy(padded, value)
	return sha256.Sum256(padded)
}
