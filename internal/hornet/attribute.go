package hornet

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDString is Hornet's attribute type in dotted form.
const OIDString = "2.25.316487325684022475439036912669789383960"

// oidContents is the contents octets of Hornet's attribute type (OID_hornet_data in Hornet v7's
// include/linux/oid_registry.h): the arcs 2.25 as 105, then the 128-bit arc in base 128, as
// OBJ_txt2obj encodes it. Its last arc does not fit an int, so encoding/asn1 cannot hold it;
// it is compared as bytes, as the kernel's look_up_OID does.
var oidContents = mustHex("6983dc999ef8f5e69a9eb5bac6acad9bfef7da18")

// OIDContents returns (a copy of) the contents octets of Hornet's attribute type, the form in
// which cms.Attribute.RawType carries it.
func OIDContents() []byte { return bytes.Clone(oidContents) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// MaxEntries is the most entries Hornet v7 accepts: hornet_next_map fails the decode once
// ++hash_count reaches MAX_USED_MAPS (64), so the 64th entry is already an error; gen_sig
// likewise refuses a 64th --add.
const MaxEntries = 63

// MaxIndex is the largest fd_array index a DER INTEGER of one content octet holds; Hornet's
// hornet_map_index rejects any other INTEGER length.
const MaxIndex = 127

// HashSize is the length of a map hash (SHA-256, hard-coded in Hornet and the BPF core).
const HashSize = 32

// Entry is one element of the Hornet attribute: the map at fd_array[Index] must hash to Hash.
// An empty Hash tells Hornet to skip that index.
type Entry struct {
	Index int64
	Hash  []byte
}

// String formats the entry as "INDEX:HEX" ("INDEX:skip" without a hash).
func (e Entry) String() string {
	if len(e.Hash) == 0 {
		return fmt.Sprintf("%d:skip", e.Index)
	}
	return fmt.Sprintf("%d:%x", e.Index, e.Hash)
}

// EncodeValue returns the attribute value gen_sig writes for entries:
//
//	MapSet  ::= SEQUENCE { maps SET OF Map }   -- gen_sig's MAP_SET
//	Map     ::= SEQUENCE { index INTEGER, sha OCTET STRING }
//
// DER, with the SET OF elements in ascending order of their encodings (OpenSSL's
// ASN1_item_i2d sorts a SET OF). The kernel reads the SEQUENCE's contents as HornetData
// (SET OF Map). Each index must be 0..MaxIndex, each hash empty or HashSize bytes, and there
// must be at most MaxEntries entries: anything else is refused, since Hornet would reject it
// (gen_sig would write it). No entries give gen_sig's empty SET, which Hornet also rejects
// (see kernel.go); it is encoded for fidelity, and [Sign] refuses it by default.
func EncodeValue(entries []Entry) ([]byte, error) {
	if len(entries) > MaxEntries {
		return nil, fmt.Errorf("hornet: %d map entries, Hornet accepts at most %d", len(entries), MaxEntries)
	}
	elems := make([][]byte, 0, len(entries))
	for i, e := range entries {
		if e.Index < 0 || e.Index > MaxIndex {
			return nil, fmt.Errorf("hornet: entry %d: fd_array index %d outside 0..%d (Hornet reads a one-octet INTEGER)", i, e.Index, MaxIndex)
		}
		if len(e.Hash) != 0 && len(e.Hash) != HashSize {
			return nil, fmt.Errorf("hornet: entry %d: hash of %d bytes, want %d or 0", i, len(e.Hash), HashSize)
		}
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(e.Index)
			b.AddASN1OctetString(e.Hash)
		})
		elems = append(elems, b.BytesOrPanic())
	}
	slices.SortFunc(elems, bytes.Compare)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, e := range elems {
				b.AddBytes(e)
			}
		})
	})
	return b.Bytes()
}

// ParseValue decodes an attribute value written as [EncodeValue] writes it, strictly: DER
// (minimal definite lengths, minimal INTEGER, SET OF elements in ascending order, no
// duplicates), nothing after the value, indices 0..MaxIndex, hashes of 0 or HashSize bytes, at
// most MaxEntries entries (none is a well-formed, if useless, value). It is the codec's reader; [Check] reads the value the way Hornet's
// kernel code does, which is more lenient (see kernelEntries).
func ParseValue(der []byte) ([]Entry, error) {
	s := cryptobyte.String(der)
	var seq, set cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("hornet: attribute value: not a DER SEQUENCE")
	}
	if !s.Empty() {
		return nil, fmt.Errorf("hornet: attribute value: %d bytes after the SEQUENCE", len(s))
	}
	if !seq.ReadASN1(&set, cbasn1.SET) {
		return nil, errors.New("hornet: attribute value: SEQUENCE does not start with a DER SET OF Map")
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("hornet: attribute value: %d bytes after the SET OF Map", len(seq))
	}
	var out []Entry
	var prev []byte
	for !set.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !set.ReadAnyASN1Element(&elem, &tag) || tag != cbasn1.SEQUENCE {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: not a DER SEQUENCE", len(out))
		}
		if prev != nil && bytes.Compare(prev, elem) >= 0 {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: SET OF not in DER order (or a duplicate)", len(out))
		}
		prev = elem
		var body, hash cryptobyte.String
		var idx int64
		e := elem
		if !e.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1Integer(&idx) {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: index is not a DER INTEGER", len(out))
		}
		if !body.ReadASN1(&hash, cbasn1.OCTET_STRING) {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: hash is not a DER OCTET STRING", len(out))
		}
		if !body.Empty() {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: %d bytes after the hash", len(out), len(body))
		}
		if idx < 0 || idx > MaxIndex {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: index %d outside 0..%d", len(out), idx, MaxIndex)
		}
		if len(hash) != 0 && len(hash) != HashSize {
			return nil, fmt.Errorf("hornet: attribute value: entry %d: hash of %d bytes, want %d or 0", len(out), len(hash), HashSize)
		}
		out = append(out, Entry{Index: idx, Hash: bytes.Clone(hash)})
		if len(out) > MaxEntries {
			return nil, fmt.Errorf("hornet: attribute value: more than %d entries", MaxEntries)
		}
	}
	return out, nil
}

// attributeDER returns the whole Attribute ::= SEQUENCE { type, SET { value } }.
func attributeDER(value []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oidContents) })
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(value) })
	})
	return b.BytesOrPanic()
}
