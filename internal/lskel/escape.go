package lskel

// wrapWidth is the widest run of escape tokens bpftool puts on one line.
const wrapWidth = 78

const hexDigits = "0123456789abcdef"

// appendLiteralBody appends the text that goes between the quotes of a blob
// literal: a backslash-newline, then every byte of b escaped (`\0` for zero,
// `\xHH` otherwise) and wrapped as bpftool's print_hex does. eol is the line
// ending to use ("\n" or "\r\n").
func appendLiteralBody(dst, b []byte, eol string) []byte {
	dst = append(dst, '\\')
	dst = append(dst, eol...)
	w := 0
	for _, c := range b {
		tw := 4
		if c == 0 {
			tw = 2
		}
		if w+tw > wrapWidth {
			dst = append(dst, '\\')
			dst = append(dst, eol...)
			w = 0
		}
		w += tw
		if c == 0 {
			dst = append(dst, '\\', '0')
		} else {
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

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
// bytes, without reading them: a line holds at least 19 tokens.
func literalBodyBound(n int, eol string) int {
	return (1+len(eol))*(n/19+2) + 4*n
}
