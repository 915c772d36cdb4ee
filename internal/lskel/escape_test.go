package lskel

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendLiteralBody(t *testing.T) {
	x := func(n int) []byte { return bytes.Repeat([]byte{0xab}, n) }
	z := func(n int) []byte { return make([]byte, n) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name string
		in   []byte
		eol  string
		want string
	}{
		{"empty", nil, "\n", "\\\n"},
		{"one zero", z(1), "\n", "\\\n\\0"},
		{"one byte", []byte{0x0a}, "\n", "\\\n\\x0a"},
		{"lowercase hex", []byte{0xff, 0xa0}, "\n", "\\\n\\xff\\xa0"},
		// 39 zeros fill 78 columns exactly; the 40th starts a new line.
		{"39 zeros", z(39), "\n", "\\\n" + strings.Repeat(`\0`, 39)},
		{"40 zeros", z(40), "\n", "\\\n" + strings.Repeat(`\0`, 39) + "\\\n\\0"},
		// 19 \xHH = 76 columns: a \0 still fits (78), a further \xHH does not.
		{"19 hex + zero", cat(x(19), z(1)), "\n", "\\\n" + strings.Repeat(`\xab`, 19) + `\0`},
		{"19 hex + hex", x(20), "\n", "\\\n" + strings.Repeat(`\xab`, 19) + "\\\n\\xab"},
		{"19 hex + zero + hex", cat(x(19), z(1), x(1)), "\n", "\\\n" + strings.Repeat(`\xab`, 19) + `\0` + "\\\n\\xab"},
		{"crlf", x(20), "\r\n", "\\\r\n" + strings.Repeat(`\xab`, 19) + "\\\r\n\\xab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := appendLiteralBody(nil, tc.in, tc.eol)
			if string(got) != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if n := literalBodySize(tc.in, tc.eol); n != len(got) {
				t.Errorf("literalBodySize = %d, want %d", n, len(got))
			}
		})
	}
}

// Every byte value survives SetData and a re-parse, in both line-ending styles.
func TestSetDataAllBytes(t *testing.T) {
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	for _, crlf := range []bool{false, true} {
		src := readFixture(t, "unsigned")
		if crlf {
			src = bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
		}
		f := mustParse(t, "x", src)
		f.SetData(all)
		if f.editErr != nil {
			t.Fatal(f.editErr)
		}
		g := mustParse(t, "x", f.Bytes())
		if !bytes.Equal(g.Data(), all) || !bytes.Equal(g.Insn(), readBlob(t, "unsigned", "insn")) {
			t.Fatalf("crlf=%v: round trip lost bytes", crlf)
		}
		if crlf && bytes.Count(f.Bytes(), []byte("\n")) != bytes.Count(f.Bytes(), []byte("\r\n")) {
			t.Fatal("edit introduced a bare LF in a CRLF header")
		}
	}
}

// literalBodyBound bounds literalBodySize for every length and both line
// endings, with the worst case (all non-zero bytes) and the best (zeros).
func TestLiteralBodyBound(t *testing.T) {
	for n := 0; n < 400; n++ {
		for _, eol := range []string{"\n", "\r\n"} {
			for _, fill := range []byte{0, 0xff} {
				b := bytes.Repeat([]byte{fill}, n)
				if got, bound := literalBodySize(b, eol), literalBodyBound(n, eol); got > bound {
					t.Fatalf("n=%d eol=%q fill=%#x: size %d > bound %d", n, eol, fill, got, bound)
				}
			}
		}
	}
}

// refLiteralBody is the rule written plainly (one append per token), for the table-driven
// writer to be held to on every byte value, every line position and every prefix of dst.
func refLiteralBody(b []byte, eol string) string {
	var sb strings.Builder
	sb.WriteString("\\" + eol)
	w := 0
	for _, c := range b {
		tok := `\0`
		if c != 0 {
			tok = `\x` + string(hexDigits[c>>4]) + string(hexDigits[c&15])
		}
		if w+len(tok) > wrapWidth {
			sb.WriteString("\\" + eol)
			w = 0
		}
		w += len(tok)
		sb.WriteString(tok)
	}
	return sb.String()
}

func TestAppendLiteralBodyReference(t *testing.T) {
	var in []byte
	for i := 0; i < 3*256; i++ { // every byte value, mixed with zero runs of every length
		in = append(in, byte(i))
		if i%7 == 0 {
			in = append(in, make([]byte, i%41)...)
		}
	}
	for _, eol := range []string{"\n", "\r\n"} {
		for n := 0; n <= len(in); n += 1 + n/16 {
			b := in[:n]
			want := refLiteralBody(b, eol)
			// Into nil, into a prefix with spare capacity, and into a full slice.
			for _, dst := range [][]byte{nil, append(make([]byte, 0, 64), "xyz"...), []byte("xyz")} {
				pre := string(dst)
				got := appendLiteralBody(dst, b, eol)
				if string(got) != pre+want {
					t.Fatalf("n=%d eol=%q prefix=%q: got %q, want %q", n, eol, pre, got, pre+want)
				}
			}
		}
	}
}
