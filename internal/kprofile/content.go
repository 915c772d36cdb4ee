package kprofile

import (
	"crypto/sha256"

	"github.com/bpfsig/bpfsig/chain"
	"github.com/bpfsig/bpfsig/raw"
)

// insnOnly is 6.18's signed content: the instructions alone.
func insnOnly(insn []byte, _ [][]byte) []byte { return append([]byte(nil), insn...) }

// concat is mainline's signed content: insns ‖ metadata_0 ‖ metadata_1 ‖ …, raw bytes in
// used_maps order (torvalds/linux Documentation/bpf/signing.rst, "Load-time verification") —
// the raw scheme's content.
func concat(insn []byte, maps [][]byte) []byte { return raw.Content(insn, maps...) }

// chainRoot is the chain series' signed content: root = H(H(insn) ‖ h) with h the chain over
// the listed maps in list order (docs/spec.md §4.2). With no map listed the chain kernel behaves
// as 6.18 and the content is the instructions.
func chainRoot(insn []byte, maps [][]byte) []byte {
	if len(maps) == 0 {
		return insnOnly(insn, nil)
	}
	hashes := make([][32]byte, len(maps))
	for i, m := range maps {
		hashes[i] = chain.MapHash(m)
	}
	root := chain.Root(sha256.Sum256(insn), hashes...)
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
