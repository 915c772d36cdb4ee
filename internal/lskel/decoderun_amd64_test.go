//go:build amd64 && !purego

package lskel

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestDecodeRunTable: the shuffle table gathers, for every 8-bit set of starts, exactly
// those positions in order (the rule decode_amd64.s relies on).
func TestDecodeRunTable(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector decoder on this CPU or build")
	}
	for h := range compactTab {
		for m := range compactTab[h] {
			idx := compactTab[h][m]
			k := 0
			for p := 0; p < 8; p++ {
				if m&(1<<p) != 0 {
					if got := byte(idx >> (8 * k)); got != byte(p+8*h) {
						t.Fatalf("tab[%d][%#x] lane %d = %d, want %d", h, m, k, got, p+8*h)
					}
					k++
				}
			}
			for ; k < 8; k++ {
				if got := byte(idx >> (8 * k)); got != 0x80 {
					t.Fatalf("tab[%d][%#x] unused lane %d = %#x, want 0x80", h, m, k, got)
				}
			}
		}
	}
}

// TestDecodeRunTakesValidText: on valid token text the vector decoder stops only for want of
// room, within 35 bytes of the closing quote, having decoded what the portable decoder does:
// a decoder that turns down every window holding a `\0` or a `\xHH` token would still agree
// with the portable one everywhere else, and only this test would see it.
func TestDecodeRunTakesValidText(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector decoder on this CPU or build")
	}
	r := rand.New(rand.NewPCG(5, 6))
	texts := [][]byte{
		bytes.Repeat([]byte(`\0`), 100),
		bytes.Repeat([]byte(`\xAb`), 50),
		bytes.Repeat([]byte("\\\n"), 100),
	}
	for n := 0; n < 400; n++ {
		texts = append(texts, tokenText(r, n))
	}
	out := make([]byte, 4096)
	for _, text := range texts {
		b := append(bytes.Clone(text), '"')
		ni, nn, nl := decodeRun(b, 0, out, 0)
		if ni+35 <= len(b) {
			t.Fatalf("%q: decodeRun stopped at %d of %d", text, ni, len(b))
		}
		want, _, line, err := decodeWith(false, b[:ni])
		if err != "" || !bytes.Equal(out[:nn], want) || nl != line-3 {
			t.Fatalf("%q: decodeRun wrote %x and %d lines for %q, want %x and %d (%s)", text, out[:nn], nl, b[:ni], want, line-3, err)
		}
	}
}
