//go:build amd64 && !purego

package lskel

import "golang.org/x/sys/cpu"

// useAVX2 says whether decodeRun uses the AVX2 decoder: the CPU has AVX2 and POPCNT. Tests
// turn it off to hold the two decoders to the same results.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT

// decodeTokensAVX2 is decodeRun in AVX2, 24 text positions per step; see decode_amd64.s.
//
//go:noescape
func decodeTokensAVX2(b []byte, i int, out []byte, n int, tab *[2][256]uint64) (ni, nn, lines int)

// decodeRun decodes the run of bpftool's tokens (`\0`, `\xHH`, backslash-newline) that
// starts at b[i], writing their bytes at out[n:], for as long as it can vouch for them: it
// stops at the first token that is not one of these three or is not followed by another
// token's backslash, and within 35 bytes of the end of b or 24 of the end of out. It
// returns the new i and n and the number of backslash-newlines passed. It may write up to 8
// bytes past the new n.
func decodeRun(b []byte, i int, out []byte, n int) (int, int, int) {
	if !useAVX2 {
		return i, n, 0
	}
	return decodeTokensAVX2(b, i, out, n, &compactTab)
}

// compactTab[h][m] is the PSHUFB index that gathers, from the 16 candidate bytes of a
// window's half, the bytes at the positions of the set bits of m (offset by 8h) into the low
// bytes of the result in order; the unused lanes are 0x80 (zero).
var compactTab = func() (t [2][256]uint64) {
	for h := range t {
		for m := range t[h] {
			var idx uint64 = 0x8080808080808080
			k := 0
			for p := 0; p < 8; p++ {
				if m&(1<<p) != 0 {
					idx &^= 0xff << (8 * k)
					idx |= uint64(p+8*h) << (8 * k)
					k++
				}
			}
			t[h][m] = idx
		}
	}
	return
}()
