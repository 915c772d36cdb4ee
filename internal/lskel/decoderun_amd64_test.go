//go:build amd64 && !purego

package lskel

import "testing"

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
