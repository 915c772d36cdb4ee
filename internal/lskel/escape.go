package lskel

import "encoding/binary"

// wrapWidth is the widest run of escape tokens bpftool puts on one line.
const wrapWidth = 78

const hexDigits = "0123456789abcdef"

// appendLiteralBody appends the text that goes between the quotes of a blob
// literal: a backslash-newline, then every byte of b escaped (`\0` for zero,
// `\xHH` otherwise) and wrapped as bpftool's print_hex does. eol is the line
// ending to use ("\n" or "\r\n").
func appendLiteralBody(dst, b []byte, eol string) []byte {
	// Room for the worst case, then every token stored as four bytes at once (a `\0` token's
	// last two are overwritten by the next token or cut off at the end): no branch on the
	// byte's kind, only on the line wrap.
	need := literalBodyBound(len(b), eol)
	if cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	n := len(dst)
	out := dst[:cap(dst)]
	out[n] = '\\'
	n++
	n += copy(out[n:], eol)
	w := 0
	for _, c := range b {
		tw := int(escWidth[c])
		if w+tw > wrapWidth {
			out[n] = '\\'
			n++
			n += copy(out[n:], eol)
			w = 0
		}
		w += tw
		binary.LittleEndian.PutUint32(out[n:], escToken[c])
		n += tw
	}
	return dst[:n]
}

// escToken is each byte's escape token as bpftool writes it, little-endian: `\0` for zero
// (two bytes, padded), `\xHH` otherwise; escWidth is its length.
var escToken, escWidth = func() (tok [256]uint32, width [256]uint8) {
	for c := range tok {
		if c == 0 {
			tok[c], width[c] = uint32('\\')|uint32('0')<<8, 2
			continue
		}
		tok[c] = uint32('\\') | uint32('x')<<8 | uint32(hexDigits[c>>4])<<16 | uint32(hexDigits[c&15])<<24
		width[c] = 4
	}
	return
}()

// literalBodySize returns len(appendLiteralBody(nil, b, eol)).
func literalBodySize(b []byte, eol string) int {
	n := 1 + len(eol)
	w := 0
	for _, c := range b {
		tw := 4
		if c == 0 {
			tw = 2
		}
		if w+tw > wrapWidth {
			n += 1 + len(eol)
			w = 0
		}
		w += tw
		n += tw
	}
	return n
}

// unhex maps an ASCII hex digit to its value; other bytes map to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte('0'); i <= '9'; i++ {
		t[i] = i - '0'
	}
	for i := byte('a'); i <= 'f'; i++ {
		t[i] = i - 'a' + 10
		t[i-'a'+'A'] = i - 'a' + 10
	}
	return t
}()

func isHex(c byte) bool   { return unhex[c] != 0xff }
func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// literalBodyBound is at least literalBodySize(b, eol) for any n = len(b)
// bytes, without reading them (a line holds at least 19 tokens), plus the
// four bytes appendLiteralBody's last four-byte store may reach past the
// text: a buffer of that capacity is never reallocated by it.
func literalBodyBound(n int, eol string) int {
	return (1+len(eol))*(n/19+2) + 4*n + 4
}
