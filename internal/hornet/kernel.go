package hornet

import (
	"errors"
	"fmt"
)

// This file reads the Hornet attribute the way Hornet v7's kernel code does:
// asn1_ber_decoder (lib/asn1_decoder.c) running the grammar of security/hornet/hornet.asn1
//
//	HornetData ::= SET OF Map
//	Map ::= SEQUENCE {
//		index INTEGER ({ hornet_map_index }),
//		sha   OCTET STRING ({ hornet_map_hash })
//	} ({ hornet_next_map })
//
// over the data pkcs7_get_authattr returns: the contents of the attribute's value (for
// gen_sig's SEQUENCE { SET OF Map }, the SET OF Map). The compiled machine is
//
//	MATCH SET; MATCH SEQ; MATCH_ACT INT (index); MATCH_ACT OTS (sha);
//	END_SEQ_ACT (hornet_next_map); END_SET_OF (loop to MATCH SEQ); COMPLETE
//
// and the decoder's rules that matter here: low tag numbers only; a primitive element's tag
// must match exactly, a constructed one's may have the constructed bit clear (the match
// masks it); lengths are short form, long form with at most two length octets (non-minimal
// forms are accepted), or indefinite for constructed elements; a constructed element's
// contents must be used up exactly ("Cons length error"); only OPTIONAL matches are skipped
// at the end of data, so a SET OF needs at least one Map (an empty SET fails with a data
// overrun — gen_sig without --add writes exactly that); bytes after the top-level SET are
// ignored; SET OF order and duplicates are not checked. The callbacks add:
// an index must have exactly one contents octet, read as u8 (so 0x80..0xff, negative in DER,
// are indices 128..255); a hash must have 0 (skip) or 32 octets; the 64th entry fails the
// decode (++hash_count >= MAX_USED_MAPS).

// kernelEntry is one decoded entry as hornet_parse_context holds it.
type kernelEntry struct {
	index int // 0..255
	hash  []byte
	skip  bool
}

const maxUsedMaps = 64 // MAX_USED_MAPS in hornet_lsm.c

// errDecode is the sentinel for a failed asn1_ber_decoder run (-EBADMSG / -EINVAL).
var errDecode = errors.New("hornet: attribute rejected by Hornet's decoder")

type berReader struct {
	data []byte
}

// header reads one identifier and length at pos, the way asn1_ber_decoder does, and returns
// the tag octet, the start of the contents, and the contents length (-1 for indefinite).
func (r *berReader) header(pos, end int) (tag byte, start, length int, err error) {
	if end-pos < 2 {
		return 0, 0, 0, fmt.Errorf("%w: data overrun at offset %d", errDecode, pos)
	}
	tag = r.data[pos]
	if tag&0x1f == 0x1f {
		return 0, 0, 0, fmt.Errorf("%w: long tag at offset %d", errDecode, pos)
	}
	l := int(r.data[pos+1])
	pos += 2
	switch {
	case l < 0x80:
	case l == 0x80:
		if tag&0x20 == 0 {
			return 0, 0, 0, fmt.Errorf("%w: indefinite length on a primitive element at offset %d", errDecode, pos-2)
		}
		if end-pos < 2 {
			return 0, 0, 0, fmt.Errorf("%w: data overrun at offset %d", errDecode, pos)
		}
		return tag, pos, -1, nil
	default:
		n := l - 0x80
		if n > 2 {
			return 0, 0, 0, fmt.Errorf("%w: length of %d octets at offset %d", errDecode, n, pos-2)
		}
		if n > end-pos {
			return 0, 0, 0, fmt.Errorf("%w: data overrun at offset %d", errDecode, pos)
		}
		l = 0
		for ; n > 0; n-- {
			l = l<<8 | int(r.data[pos])
			pos++
		}
	}
	if l > end-pos {
		return 0, 0, 0, fmt.Errorf("%w: element at offset %d runs past its container", errDecode, pos)
	}
	return tag, pos, l, nil
}

// atEOC reports whether an end-of-contents marker starts at pos.
func (r *berReader) atEOC(pos, end int) bool {
	return end-pos >= 2 && r.data[pos] == 0 && r.data[pos+1] == 0
}

// kernelEntries decodes data as HornetData the way Hornet's decoder does.
func kernelEntries(data []byte) ([]kernelEntry, error) {
	r := &berReader{data: data}
	tag, start, length, err := r.header(0, len(data))
	if err != nil {
		return nil, err
	}
	if tag|0x20 != 0x31 {
		return nil, fmt.Errorf("%w: HornetData is tag 0x%02x, want a SET (0x31)", errDecode, tag)
	}
	end := start + length
	if length < 0 {
		end = len(data)
	}
	var out []kernelEntry
	pos := start
	for {
		// END_SET_OF loops back while data is left; the first Map is mandatory.
		if len(out) > 0 {
			if length < 0 {
				if r.atEOC(pos, end) {
					break
				}
			} else if pos >= end {
				break
			}
		}
		e, next, err := r.mapEntry(pos, end)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(out), err)
		}
		out = append(out, e)
		if len(out) >= maxUsedMaps { // hornet_next_map: ++ctx->hash_count >= MAX_USED_MAPS
			return nil, fmt.Errorf("%w: entry %d reaches MAX_USED_MAPS (%d)", errDecode, len(out)-1, maxUsedMaps)
		}
		pos = next
	}
	return out, nil
}

// mapEntry decodes one Map at pos and returns the position after it.
func (r *berReader) mapEntry(pos, end int) (kernelEntry, int, error) {
	tag, start, length, err := r.header(pos, end)
	if err != nil {
		return kernelEntry{}, 0, err
	}
	if tag|0x20 != 0x30 {
		return kernelEntry{}, 0, fmt.Errorf("%w: Map is tag 0x%02x, want a SEQUENCE (0x30)", errDecode, tag)
	}
	limit := start + length
	if length < 0 {
		limit = end
	}
	var e kernelEntry
	// index INTEGER
	t, s, l, err := r.header(start, limit)
	if err != nil {
		return e, 0, err
	}
	if t != 0x02 {
		return e, 0, fmt.Errorf("%w: index is tag 0x%02x, want an INTEGER (0x02)", errDecode, t)
	}
	if l != 1 { // hornet_map_index: vlen != 1 → -EINVAL
		return e, 0, fmt.Errorf("%w: index INTEGER has %d contents octets, Hornet takes exactly 1", errDecode, l)
	}
	e.index = int(r.data[s])
	p := s + l
	// sha OCTET STRING
	t, s, l, err = r.header(p, limit)
	if err != nil {
		return e, 0, err
	}
	if t != 0x04 {
		return e, 0, fmt.Errorf("%w: hash is tag 0x%02x, want an OCTET STRING (0x04)", errDecode, t)
	}
	if l != 0 && l != HashSize { // hornet_map_hash
		return e, 0, fmt.Errorf("%w: hash of %d octets, Hornet takes %d or 0", errDecode, l, HashSize)
	}
	e.skip = l == 0
	if !e.skip {
		e.hash = r.data[s : s+l]
	}
	p = s + l
	if length < 0 {
		if !r.atEOC(p, limit) {
			return e, 0, fmt.Errorf("%w: data after the hash in an indefinite-length Map", errDecode)
		}
		return e, p + 2, nil
	}
	if p != limit {
		return e, 0, fmt.Errorf("%w: %d octets after the hash (cons length error)", errDecode, limit-p)
	}
	return e, limit, nil
}
