package hornet

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func h32(b byte) []byte { return bytes.Repeat([]byte{b}, HashSize) }

// mapDER is one Map element: SEQUENCE { INTEGER (contents idx), OCTET STRING hash }.
func mapDER(idx []byte, hash []byte) []byte {
	body := append([]byte{0x02, byte(len(idx))}, idx...)
	body = append(body, 0x04, byte(len(hash)))
	body = append(body, hash...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

// tlv wraps contents in a DER header (short or long form).
func tlv(tag byte, contents []byte) []byte {
	n := len(contents)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, contents...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, contents...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, contents...)
	}
}

func value(elems ...[]byte) []byte { return tlv(0x30, tlv(0x31, bytes.Join(elems, nil))) }

func TestEncodeValueGolden(t *testing.T) {
	for _, c := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"empty", nil, "30023100"},
		{"one", []Entry{{0, h32(0xaa)}}, "30293127302502010004" + "20" + strings.Repeat("aa", 32)},
		{"sorted by encoding", []Entry{{5, h32(1)}, {0, h32(2)}},
			"3050314e" + "3025020100" + "0420" + strings.Repeat("02", 32) + "3025020105" + "0420" + strings.Repeat("01", 32)},
		{"skip sorts first", []Entry{{1, h32(3)}, {7, nil}},
			"3030312e" + "300502010704" + "00" + "3025020101" + "0420" + strings.Repeat("03", 32)},
		{"index 127", []Entry{{127, nil}}, "30093107300502017f0400"},
	} {
		got, err := EncodeValue(c.entries)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if hex.EncodeToString(got) != c.want {
			t.Errorf("%s:\n got %x\nwant %s", c.name, got, c.want)
		}
		back, err := ParseValue(got)
		if err != nil {
			t.Fatalf("%s: ParseValue: %v", c.name, err)
		}
		if len(back) != len(c.entries) {
			t.Fatalf("%s: %d entries back, want %d", c.name, len(back), len(c.entries))
		}
	}
}

func TestEncodeValueRefuses(t *testing.T) {
	many := make([]Entry, MaxEntries+1)
	for i := range many {
		many[i] = Entry{Index: int64(i)}
	}
	for name, e := range map[string][]Entry{
		"negative index": {{-1, nil}},
		"index 128":      {{128, nil}},
		"hash 31":        {{0, make([]byte, 31)}},
		"hash 33":        {{0, make([]byte, 33)}},
		"64 entries":     many,
	} {
		if _, err := EncodeValue(e); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	if _, err := EncodeValue(many[:MaxEntries]); err != nil {
		t.Errorf("%d entries: %v", MaxEntries, err)
	}
}

func TestParseValueStrict(t *testing.T) {
	good := value(mapDER([]byte{0}, h32(1)), mapDER([]byte{3}, h32(2)))
	if _, err := ParseValue(good); err != nil {
		t.Fatal(err)
	}
	// Every proper prefix fails.
	for i := range len(good) {
		if _, err := ParseValue(good[:i]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", i)
		}
	}
	many := make([][]byte, MaxEntries+1)
	for i := range many {
		many[i] = mapDER([]byte{byte(i)}, nil)
	}
	for name, der := range map[string][]byte{
		"trailing byte":        append(bytes.Clone(good), 0),
		"bytes after SET":      tlv(0x30, append(tlv(0x31, mapDER([]byte{0}, nil)), 0x05, 0x00)),
		"SET not in SEQUENCE":  tlv(0x31, mapDER([]byte{0}, nil)),
		"SEQUENCE OF":          tlv(0x30, tlv(0x30, mapDER([]byte{0}, nil))),
		"non-minimal length":   append([]byte{0x30, 0x81, 0x04}, 0x31, 0x02, 0x30, 0x00),
		"unsorted":             value(mapDER([]byte{3}, h32(2)), mapDER([]byte{0}, h32(1))),
		"duplicate":            value(mapDER([]byte{0}, nil), mapDER([]byte{0}, nil)),
		"negative index":       value(mapDER([]byte{0xff}, nil)),
		"two-octet index 200":  value(mapDER([]byte{0x00, 0xc8}, nil)),
		"non-minimal index":    value(mapDER([]byte{0x00, 0x05}, nil)),
		"empty index":          value(mapDER(nil, nil)),
		"hash 31":              value(mapDER([]byte{0}, make([]byte, 31))),
		"extra field":          value(tlv(0x30, append(mapDER([]byte{0}, nil)[2:], 0x05, 0x00))),
		"missing hash":         value(tlv(0x30, []byte{0x02, 0x01, 0x00})),
		"hash is BIT STRING":   value(tlv(0x30, []byte{0x02, 0x01, 0x00, 0x03, 0x01, 0x00})),
		"entry not a SEQUENCE": value(tlv(0x31, []byte{0x02, 0x01, 0x00})),
		"64 entries":           value(many...),
	} {
		if e, err := ParseValue(der); err == nil {
			t.Errorf("%s: parsed as %v", name, e)
		}
	}
	if e, err := ParseValue(value(many[:MaxEntries]...)); err != nil || len(e) != MaxEntries {
		t.Errorf("%d entries: %v", MaxEntries, err)
	}
}

// kernelEntries follows Hornet's decoder: more lenient on structure, as strict on the fields.
func TestKernelEntries(t *testing.T) {
	inner := func(v []byte) []byte { return contentsOf(v) } // what pkcs7_get_authattr hands Hornet
	many := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = mapDER([]byte{byte(i)}, nil)
		}
		return out
	}
	for _, c := range []struct {
		name    string
		data    []byte
		want    []int // indices, nil with ok=false
		ok      bool
		comment string
	}{
		{"gen_sig empty", inner(value()), nil, false, "the first Map is a mandatory match: data overrun"},
		{"indefinite empty", []byte{0x31, 0x80, 0x00, 0x00}, nil, false, "EOC where the first Map must be: tag mismatch"},
		{"primitive-bit SET and SEQ", []byte{0x11, 0x07, 0x10, 0x05, 0x02, 0x01, 0x09, 0x04, 0x00}, []int{9}, true, "a constructed match masks the constructed bit"},
		{"constructed INTEGER", inner(value(tlv(0x30, []byte{0x22, 0x03, 0x02, 0x01, 0x00, 0x04, 0x00}))), nil, false, "a primitive match is exact"},
		{"indefinite primitive-bit SET", []byte{0x11, 0x80, 0x30, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00}, nil, false, "indefinite length needs the constructed bit in the data"},
		{"gen_sig two", inner(value(mapDER([]byte{0}, h32(1)), mapDER([]byte{3}, h32(2)))), []int{0, 3}, true, ""},
		{"unsorted", inner(value(mapDER([]byte{3}, h32(2)), mapDER([]byte{0}, h32(1)))), []int{3, 0}, true, "no DER order check"},
		{"duplicate", inner(value(mapDER([]byte{0}, nil), mapDER([]byte{0}, nil))), []int{0, 0}, true, ""},
		{"index 0xff", inner(value(mapDER([]byte{0xff}, nil))), []int{255}, true, "*(u8 *)value"},
		{"trailing bytes", append(inner(value(mapDER([]byte{1}, nil))), 0x05, 0x00), []int{1}, true, "ASN1_OP_COMPLETE ignores the rest"},
		{"non-minimal lengths", []byte{0x31, 0x81, 0x08, 0x30, 0x81, 0x05, 0x02, 0x01, 0x02, 0x04, 0x00}, []int{2}, true, ""},
		{"indefinite SET and Map", []byte{0x31, 0x80, 0x30, 0x80, 0x02, 0x01, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, []int{4}, true, ""},
		{"63 entries", inner(value(many(63)...)), nil, true, ""},
		{"64 entries", inner(value(many(64)...)), nil, false, "hornet_next_map: ++hash_count >= MAX_USED_MAPS"},
		{"two-octet index", inner(value(mapDER([]byte{0x00, 0x80}, nil))), nil, false, "hornet_map_index: vlen != 1"},
		{"empty index", inner(value(mapDER(nil, nil))), nil, false, "hornet_map_index: vlen != 1"},
		{"hash 31", inner(value(mapDER([]byte{0}, make([]byte, 31)))), nil, false, "hornet_map_hash"},
		{"hash 33", inner(value(mapDER([]byte{0}, make([]byte, 33)))), nil, false, "hornet_map_hash"},
		{"extra field", inner(value(tlv(0x30, append(mapDER([]byte{0}, nil)[2:], 0x05, 0x00)))), nil, false, "cons length error"},
		{"not a SET", inner(tlv(0x30, tlv(0x30, mapDER([]byte{0}, nil)))), nil, false, "tag mismatch"},
		{"whole value, not its contents", value(mapDER([]byte{0}, nil)), nil, false, "SEQUENCE where HornetData's SET is expected"},
		{"long tag", []byte{0x1f, 0x01, 0x00}, nil, false, ""},
		{"three length octets", []byte{0x31, 0x83, 0x00, 0x00, 0x00}, nil, false, ""},
		{"indefinite primitive", inner(value(tlv(0x30, []byte{0x02, 0x80, 0x00, 0x04, 0x00}))), nil, false, ""},
		{"empty", nil, nil, false, "data overrun"},
		{"one byte", []byte{0x31}, nil, false, "data overrun"},
		{"indefinite without EOC", []byte{0x31, 0x80, 0x30, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00}, nil, false, ""},
		{"entry overruns SET", []byte{0x31, 0x03, 0x30, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00}, nil, false, ""},
	} {
		got, err := kernelEntries(c.data)
		if (err == nil) != c.ok {
			t.Errorf("%s (%s): err = %v, want ok=%v", c.name, c.comment, err, c.ok)
			continue
		}
		if c.ok && c.want != nil {
			idx := make([]int, len(got))
			for i, e := range got {
				idx[i] = e.index
			}
			if len(idx) != len(c.want) || (len(idx) > 0 && !equalInts(idx, c.want)) {
				t.Errorf("%s: indices %v, want %v", c.name, idx, c.want)
			}
		}
	}
	// Every proper prefix of a definite-length encoding fails.
	full := inner(value(mapDER([]byte{0}, h32(1)), mapDER([]byte{3}, nil)))
	for i := range len(full) {
		if _, err := kernelEntries(full[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded", i)
		}
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
