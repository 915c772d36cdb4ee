//go:build !purego

package lskel

import (
	"bytes"
	"math/rand/v2"
	"syscall"
	"testing"
)

// guarded returns a buffer of n bytes that ends where an inaccessible page begins: any read
// or write past its end faults.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	pg := syscall.Getpagesize()
	size := (n + pg - 1) / pg * pg
	m, err := syscall.Mmap(-1, 0, size+pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	if err := syscall.Mprotect(m[size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	return m[size-n : size : size]
}

// TestDecodeRunBounds: the vector decoder reads nothing past the end of b (the literal's
// closing quote) and writes nothing past the end of out, and what it returns is in range and
// agrees with the portable decoder, for b and out of every length ending at a guard page.
func TestDecodeRunBounds(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector decoder on this CPU or build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	inBuf, outBuf := guarded(t, 4096), guarded(t, 4096)
	ran := 0
	for _, text := range [][]byte{
		bytes.Repeat([]byte(`\0`), 64),
		bytes.Repeat([]byte(`\xab`), 40),
		tokenText(r, 160),
	} {
		text = append(bytes.Clone(text), '"')
		for start := 0; start+1 < len(text); start++ {
			src := text[start:]
			b := inBuf[len(inBuf)-len(src):]
			copy(b, src)
			for outLen := 0; outLen <= len(b)/2+8; outLen++ {
				out := outBuf[len(outBuf)-outLen:]
				ni, nn, nl := decodeRun(b, 0, out, 0)
				if ni < 0 || ni > len(b)-1 || nn < 0 || nn > outLen || nl < 0 {
					t.Fatalf("%q, out %d: decodeRun returned i %d, n %d, lines %d", src, outLen, ni, nn, nl)
				}
				if ni > 0 {
					ran++
				}
				if ni > 0 && b[ni] != '\\' {
					t.Fatalf("%q, out %d: decodeRun stopped at %d, not at a backslash", src, outLen, ni)
				}
				want, _, line, err := decodeWith(false, src[:ni])
				if err != "" || !bytes.Equal(out[:nn], want) || nl != line-3 {
					t.Fatalf("%q, out %d: decodeRun wrote %x and %d lines for %q, want %x and %d (%s)", src, outLen, out[:nn], nl, src[:ni], want, line-3, err)
				}
			}
		}
	}
	if ran == 0 {
		t.Fatal("the vector decoder never ran")
	}
}
