package cms

import (
	"github.com/bpfsig/bpfsig/compat"
)

// maxBERDepth bounds the nesting the BER normaliser descends into. The kernel's decoder
// keeps a fixed stack too (NR_CONS_STACK); deeper input is malformed for our purposes.
const maxBERDepth = 32

// normalizeBER reads the first BER element of in, following the rules of the kernel's
// asn1_ber_decoder (lib/asn1_decoder.c), and returns it re-encoded with definite, minimal
// lengths, together with the number of input bytes it occupied. Bytes after the element are
// not examined: the kernel's decoder stops at the end of the top-level element too.
//
// Rules: one-byte tags only (high tag numbers are rejected); definite lengths of up to 7
// length octets (non-minimal encodings are accepted and rewritten); the indefinite form (0x80)
// only on constructed elements, terminated by an end-of-contents 00 00. A constructed element
// with a definite length whose contents are not a sequence of elements is copied unchanged,
// as the kernel skips ANY-typed elements without looking inside them.
//
// Errors wrap EBADMSG.
func normalizeBER(in []byte) (out []byte, n int, err error) {
	// Almost every signature is DER already: then the re-encoding is the input itself, and
	// a walk that allocates nothing says so.
	if n, ok := normalLen(in, 0); ok {
		return in[:n], n, nil
	}
	return normElement(in, 0, nil)
}

// normalLen reports whether the first element of in is its own normalisation (normElement
// would return exactly in[:n]), and n. It answers false, never an error, for anything else —
// indefinite or non-minimal lengths inside, or input normElement rejects — which then takes
// the exact path.
func normalLen(in []byte, depth int) (int, bool) {
	if depth > maxBERDepth || len(in) < 2 || in[0]&0x1f == 0x1f {
		return 0, false
	}
	constructed := in[0]&0x20 != 0
	p, l := 2, int(in[1])
	switch {
	case l == 0x80:
		return 0, false // indefinite: re-encoded
	case l > 0x80:
		nb := l & 0x7f
		if nb > 7 || len(in)-p < nb || in[p] == 0 {
			return 0, false // too long, truncated, or a leading zero octet (not minimal)
		}
		l = 0
		for i := 0; i < nb; i++ {
			if l > (1 << 40) {
				return 0, false
			}
			l = l<<8 | int(in[p])
			p++
		}
		if l < 0x80 {
			return 0, false // long form for a short length: not minimal
		}
	}
	if l > len(in)-p {
		return 0, false
	}
	if constructed {
		// Contents that parse as elements are normalised one by one; contents that do not are
		// copied as they are (normElement's ANY rule). Either way the contents are unchanged
		// unless some inner element parses but is not normal.
		for rest := in[p : p+l]; len(rest) > 0; {
			used, ok := normalLen(rest, depth+1)
			if !ok {
				if _, _, err := normElement(rest, depth+1, nil); err == nil {
					return 0, false // a parsable element that needs re-encoding
				}
				break // ANY-style contents: copied unchanged
			}
			rest = rest[used:]
		}
	}
	return p + l, true
}

func normElement(in []byte, depth int, out []byte) ([]byte, int, error) {
	if depth > maxBERDepth {
		return nil, 0, errno(compat.EBADMSG, "ASN.1 nesting deeper than %d", maxBERDepth)
	}
	if len(in) < 2 {
		return nil, 0, errno(compat.EBADMSG, "ASN.1 data overrun (truncated element header)")
	}
	tag := in[0]
	if tag&0x1f == 0x1f {
		return nil, 0, errno(compat.EBADMSG, "ASN.1 long-form tag not supported")
	}
	constructed := tag&0x20 != 0
	p := 1
	l := int(in[p])
	p++
	indefinite := false
	switch {
	case l == 0x80:
		if !constructed {
			return nil, 0, errno(compat.EBADMSG, "ASN.1 indefinite length on a primitive element")
		}
		indefinite = true
	case l > 0x80:
		nb := l & 0x7f
		if nb > 7 {
			return nil, 0, errno(compat.EBADMSG, "ASN.1 length too long")
		}
		if len(in)-p < nb {
			return nil, 0, errno(compat.EBADMSG, "ASN.1 data overrun (truncated length)")
		}
		l = 0
		for i := 0; i < nb; i++ {
			if l > (1 << 40) {
				return nil, 0, errno(compat.EBADMSG, "ASN.1 length too long")
			}
			l = l<<8 | int(in[p])
			p++
		}
	}
	if !indefinite {
		if l > len(in)-p {
			return nil, 0, errno(compat.EBADMSG, "ASN.1 data overrun: element of %d bytes, %d left", l, len(in)-p)
		}
		content := in[p : p+l]
		if !constructed {
			return appendTLV(out, tag, content), p + l, nil
		}
		var body []byte
		rest := content
		ok := true
		for len(rest) > 0 {
			var used int
			var err error
			body, used, err = normElement(rest, depth+1, body)
			if err != nil {
				ok = false
				break
			}
			rest = rest[used:]
		}
		if !ok {
			body = content // ANY-style contents: copy as is
		}
		return appendTLV(out, tag, body), p + l, nil
	}
	// Indefinite length: elements until the end-of-contents octets.
	var body []byte
	for {
		if len(in)-p < 2 {
			return nil, 0, errno(compat.EBADMSG, "ASN.1 data overrun (missing end-of-contents)")
		}
		if in[p] == 0 && in[p+1] == 0 {
			p += 2
			break
		}
		var used int
		var err error
		body, used, err = normElement(in[p:], depth+1, body)
		if err != nil {
			return nil, 0, err
		}
		p += used
	}
	return appendTLV(out, tag, body), p, nil
}

// appendTLV appends tag, a minimal DER length and content to out.
func appendTLV(out []byte, tag byte, content []byte) []byte {
	out = append(out, tag)
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	default:
		var tmp [8]byte
		i := len(tmp)
		for v := n; v > 0; v >>= 8 {
			i--
			tmp[i] = byte(v)
		}
		out = append(out, 0x80|byte(len(tmp)-i))
		out = append(out, tmp[i:]...)
	}
	return append(out, content...)
}
