package lskel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// decodeWith decodes body, the text between the quotes of a literal, with the vector decoder
// on or off; it returns what decode returns, the error as text.
func decodeWith(avx bool, body []byte) (data []byte, closePos, line int, err string) {
	saved := useAVX2
	useAVX2 = avx && saved
	defer func() { useAVX2 = saved }()
	src := append(append([]byte("static const char opts_data[] = \""), body...), "\";\n"...)
	p := &parser{f: &File{filename: "t.skel.h"}, src: src}
	d, c, l, e := p.decode(BlobData, bytes.IndexByte(src, '"'), 3)
	if e != nil {
		err = e.Error()
	}
	return bytes.Clone(d), c, l, err
}

// sameDecode fails t unless both decoders give the same answer for body.
func sameDecode(t *testing.T, what string, body []byte) {
	t.Helper()
	d0, c0, l0, e0 := decodeWith(false, body)
	d1, c1, l1, e1 := decodeWith(true, body)
	if !bytes.Equal(d0, d1) || c0 != c1 || l0 != l1 || e0 != e1 {
		t.Fatalf("%s: the decoders differ on %q:\nportable %x %d %d %q\nvector   %x %d %d %q", what, body, d0, c0, l0, e0, d1, c1, l1, e1)
	}
}

// tokenText returns random bpftool-style text: `\0`, `\xHH` (either case) and
// backslash-newline tokens, with zero runs and hex runs as real loaders have them.
func tokenText(r *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		switch k := r.IntN(10); {
		case k < 4:
			b = append(b, bytes.Repeat([]byte(`\0`), 1+r.IntN(12))...)
		case k < 8:
			for j := r.IntN(6); j >= 0; j-- {
				f := `\x%02x`
				if r.IntN(8) == 0 {
					f = `\x%02X`
				}
				b = fmt.Appendf(b, f, r.IntN(256))
			}
		default:
			b = append(b, "\\\n"...)
		}
	}
	return b
}

// TestDecodeRunSame holds the vector decoder to the portable one: valid token text of
// every length, starting at every alignment, and the same text with each byte at each
// position replaced by every byte that means something to the decoder (a quote, a
// backslash, digits, octal and hex digits of both cases, letters, the bytes just outside the
// hex digits' ranges ('/', ':', '@', '`', 'g', 'G'), line breaks, NUL, bytes above 0x7f),
// so that every way a window can stop is met at every place in it.
func TestDecodeRunSame(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector decoder on this CPU or build: nothing to compare")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		sameDecode(t, "valid", tokenText(r, n))
		sameDecode(t, "valid after a line break", append([]byte("\\\n"), tokenText(r, n)...))
	}
	subst := []byte("\"\\0178xXaAfFgG/:@`\n\r \t\x00\x7f\x80\xff")
	base := append([]byte("\\\n"), tokenText(r, 120)...)
	for pos := range base {
		for _, c := range subst {
			b := bytes.Clone(base)
			b[pos] = c
			sameDecode(t, fmt.Sprintf("byte %d = %q", pos, c), b)
			// Cut there too: the literal ends (or the file does) at every position.
			sameDecode(t, fmt.Sprintf("cut at %d", pos), b[:pos])
		}
		// Insert and delete a byte: the tokens after it are misaligned.
		sameDecode(t, fmt.Sprintf("byte deleted at %d", pos), append(bytes.Clone(base[:pos]), base[pos+1:]...))
		sameDecode(t, fmt.Sprintf("'0' inserted at %d", pos), append(append(bytes.Clone(base[:pos]), '0'), base[pos:]...))
	}
	// Long literals: the real fixtures' bodies.
	for _, name := range fixtureNames {
		src := readFixture(t, name)
		f := mustParse(t, name, src)
		for bn, l := range f.blobs {
			sameDecode(t, name+" "+bn, src[l.open+1:l.close])
		}
	}
}

// FuzzDecodeRun: the two decoders agree on any text. The input is read as a program: bytes
// below 0xc0 choose a token (most of the text is valid, so that the vector decoder runs),
// the others put the next byte in verbatim.
func FuzzDecodeRun(f *testing.F) {
	if !useAVX2 {
		f.Skip("no vector decoder on this CPU or build: nothing to compare")
	}
	f.Add([]byte{0, 1, 2, 0x80, 0xc0, '"', 3})
	f.Add(bytes.Repeat([]byte{0x10, 0x90, 0xb0}, 40))
	f.Fuzz(func(t *testing.T, prog []byte) {
		var b []byte
		for i := 0; i < len(prog); i++ {
			switch c := prog[i]; {
			case c < 0x60:
				b = append(b, `\0`...)
			case c < 0xb8:
				b = fmt.Appendf(b, `\x%02x`, c)
			case c < 0xc0:
				b = append(b, "\\\n"...)
			case i+1 < len(prog):
				i++
				b = append(b, prog[i])
			}
		}
		sameDecode(t, "fuzz", b)
	})
}
