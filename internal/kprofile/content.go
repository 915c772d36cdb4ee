package kprofile

import "crypto/sha256"

// insnOnly is 6.18's signed content: the instructions alone.
func insnOnly(insn []byte, _ [][]byte) []byte { return append([]byte(nil), insn...) }

// concat is mainline's signed content: insns ‖ metadata_0 ‖ metadata_1 ‖ …, raw bytes in
// used_maps order (torvalds/linux Documentation/bpf/signing.rst, "Load-time verification").
func concat(insn []byte, maps [][]byte) []byte {
	n := len(insn)
	for _, m := range maps {
		n += len(m)
	}
	out := make([]byte, 0, n)
	out = append(out, insn...)
	for _, m := range maps {
		out = append(out, m...)
	}
	return out
}

// chainMapHash is the chain series' MH(m) for a one-element map: SHA-256 of the value
// zero-padded to a multiple of 8 bytes (docs/spec.md §4.2).
func chainMapHash(v []byte) [32]byte {
	h := sha256.New()
	h.Write(v)
	if r := len(v) % 8; r != 0 {
		h.Write(make([]byte, 8-r))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// chainRoot is the chain series' signed content: root = H(H(insn) ‖ h) with h the chain over
// the listed maps in list order, h = MH(N-1), then h = H(h ‖ MH(n)) for n = N-2 … 0. With no
// map listed the chain kernel behaves as 6.18 and the content is the instructions.
func chainRoot(insn []byte, maps [][]byte) []byte {
	if len(maps) == 0 {
		return insnOnly(insn, nil)
	}
	h := chainMapHash(maps[len(maps)-1])
	for n := len(maps) - 2; n >= 0; n-- {
		mh := chainMapHash(maps[n])
		h = sha256.Sum256(append(h[:], mh[:]...))
	}
	ih := sha256.Sum256(insn)
	root := sha256.Sum256(append(ih[:], h[:]...))
	return root[:]
}

// foldNone: 6.18 folds no map into the signature.
func foldNone(*Load) []int { return nil }

// foldScanned: mainline folds the maps resolved up front (fd_array[0..fd_array_cnt-1]) in
// used_maps order, which for distinct maps is fd_array order (process_fd_array() adds them
// in order; a map given twice is used, and folded, once — not modelled).
func foldScanned(l *Load) []int {
	if !l.Signed {
		return nil
	}
	var out []int
	for i := range l.FdArray {
		if l.Scanned(i) && l.FdArray[i].Kind == KindMap {
			out = append(out, i)
		}
	}
	return out
}

// foldListed: the chain series covers the listed signature maps, in list order.
func foldListed(l *Load) []int {
	if !l.Signed {
		return nil
	}
	var out []int
	for _, i := range l.SignatureMaps {
		if i >= 0 && int(i) < len(l.FdArray) {
			out = append(out, int(i))
		}
	}
	return out
}
