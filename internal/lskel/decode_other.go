//go:build !amd64 || purego

package lskel

// useAVX2 is false where there is no AVX2 decoder.
var useAVX2 = false

// decodeRun is a no-op without the AVX2 decoder (see decode_amd64.go): the portable loop in
// decode does the work.
func decodeRun(b []byte, i int, out []byte, n int) (int, int, int) { return i, n, 0 }
