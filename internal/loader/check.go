package loader

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Check block sizes in slots.
const (
	CheckLenV1 = 28 // four groups of 7
	CheckLenV2 = 33 // 5-slot exclusivity prefix + four groups of 7

	checkGroupLen   = 7
	checkPrefixLen  = 5
	pseudoMapIdx    = 5 // BPF_PSEUDO_MAP_IDX
	pseudoMapIdxVal = 6 // BPF_PSEUDO_MAP_IDX_VALUE
	checkErrno      = -22
	mapExclOff      = 32 // offsetof(struct bpf_map, excl) as read by the v2 check
)

// checkLen returns the length of a check block of generation gen.
func checkLen(gen Generation) int {
	switch gen {
	case GenV1:
		return CheckLenV1
	case GenV2:
		return CheckLenV2
	}
	return 0
}

func putSlot(b []byte, i int, code, dst, src byte, off int16, imm int32) {
	s := b[i*SlotSize:]
	s[0] = code
	s[1] = src<<4 | dst&0x0f
	binary.LittleEndian.PutUint16(s[2:], uint16(off))
	binary.LittleEndian.PutUint32(s[4:], uint32(imm))
}

// checkTemplate builds the check block of generation gen for a loader whose
// cleanup label is cleanup, placed at slot at, together with a description of
// every slot's role (used to explain mismatches). ok is false if gen is
// unknown or a jump offset does not fit s16.
func checkTemplate(gen Generation, hash [32]byte, at, cleanup int) (b []byte, ok bool) {
	n := checkLen(gen)
	if n == 0 {
		return nil, false
	}
	b = make([]byte, n*SlotSize)
	jumpOff := func(src, dst int) (int16, bool) {
		d := dst - src - 1
		if d < math.MinInt16 || d > math.MaxInt16 {
			return 0, false
		}
		return int16(d), true
	}
	g := 0 // first group slot, relative to at
	target := cleanup + 1
	if gen == GenV2 {
		off, ok := jumpOff(at+4, cleanup)
		if !ok {
			return nil, false
		}
		putSlot(b, 0, opLdImm64, 1, pseudoMapIdx, 0, 0)
		putSlot(b, 2, 0x61, 2, 1, mapExclOff, 0) // r2 = *(u32 *)(r1 + 32): map->excl
		putSlot(b, 3, 0xb7, 7, 0, 0, checkErrno) // r7 = -22
		putSlot(b, 4, 0x55, 2, 0, off, 1)        // if r2 != 1 goto L
		g = checkPrefixLen
		target = cleanup
	}
	for i := 0; i < 4; i++ {
		s := g + checkGroupLen*i
		off, ok := jumpOff(at+s+6, target)
		if !ok {
			return nil, false
		}
		putSlot(b, s, opLdImm64, 1, pseudoMapIdx, 0, 0)
		putSlot(b, s+2, 0x79, 2, 1, int16(8*i), 0) // r2 = *(u64 *)(r1 + 8i): map->sha
		putSlot(b, s+3, opLdImm64, 3, 0, 0, int32(binary.LittleEndian.Uint32(hash[8*i:])))
		putSlot(b, s+4, 0, 0, 0, 0, int32(binary.LittleEndian.Uint32(hash[8*i+4:])))
		putSlot(b, s+5, 0xb7, 7, 0, 0, checkErrno)
		putSlot(b, s+6, 0x5d, 2, 3, off, 0) // if r2 != r3 goto target
	}
	return b, true
}

// checkRoles names what each slot of a gen check does, for error messages (the template's
// layout, which depends on the generation only).
func checkRoles(gen Generation) []string {
	n := checkLen(gen)
	roles := make([]string, 0, n)
	label := "L+1"
	if gen == GenV2 {
		roles = append(roles,
			"excl: ld_imm64 r1, map_by_idx(0)",
			"excl: second slot of ld_imm64 r1",
			"excl: r2 = *(u32 *)(r1 + 32)",
			"excl: r7 = -22",
			"excl: if r2 != 1 goto L")
		label = "L"
	}
	for i := 0; i < 4 && len(roles) < n; i++ {
		roles = append(roles,
			fmt.Sprintf("group %d: ld_imm64 r1, map_by_idx(0)", i),
			fmt.Sprintf("group %d: second slot of ld_imm64 r1", i),
			fmt.Sprintf("group %d: r2 = *(u64 *)(r1 + %d)", i, 8*i),
			fmt.Sprintf("group %d: ld_imm64 r3, H[%d..%d]", i, 8*i, 8*i+7),
			fmt.Sprintf("group %d: second slot of ld_imm64 r3", i),
			fmt.Sprintf("group %d: r7 = -22", i),
			fmt.Sprintf("group %d: if r2 != r3 goto %s", i, label))
	}
	return roles
}

// CheckBlock returns the exact bytes of the metadata check of generation gen
// for hash (H = SHA-256 of the metadata blob), placed at slot at of a loader
// whose cleanup label is cleanup.
//
// v1 (28 slots) is four groups of 7, group i = 0..3:
//
//	ld_imm64 r1, map_by_idx(0)      18 51 00 00 00000000 / 00..00
//	r2 = *(u64 *)(r1 + 8i)          79 12 8i 00 00000000
//	ld_imm64 r3, H[8i..8i+7]        18 03 00 00 H[8i..8i+3] / 00 00 00 00 H[8i+4..8i+7]
//	r7 = -22                        b7 07 00 00 eaffffff
//	if r2 != r3 goto cleanup+1      5d 32 off 00000000
//
// The v1 jumps land one slot past the cleanup label, as libbpf ≤ 1.7 emits
// them. v2 (33 slots) prefixes the exclusivity check
//
//	ld_imm64 r1, map_by_idx(0); r2 = *(u32 *)(r1 + 32); r7 = -22; if r2 != 1 goto cleanup
//
// and its groups jump exactly to cleanup. CheckBlock returns nil if gen is
// neither GenV1 nor GenV2 or a jump offset would not fit s16.
func CheckBlock(gen Generation, hash [32]byte, at, cleanup int) []byte {
	b, ok := checkTemplate(gen, hash, at, cleanup)
	if !ok {
		return nil
	}
	return b
}

// looksLikeCheck reports whether the code at slot s begins like a metadata
// check: an ld_imm64 with src BPF_PSEUDO_MAP_IDX (5). libbpf's loader
// generator emits map_by_idx only for the check (the body addresses the blob
// with src 6), so anything that starts this way is held to the exact check
// shapes rather than silently treated as body code.
func looksLikeCheck(insn []byte, second []bool, s int) bool {
	return s < len(second) && slotCode(insn, s) == opLdImm64 && slotSrc(insn, s) == pseudoMapIdx
}

// matchCheck recognises the check block at slot s, which looksLikeCheck
// accepted. The generation is chosen by the first load: a load from offset 32
// (map->excl) means v2, anything else v1. The hash is read from the imm fields
// where the chosen template keeps it; every other bit must match the template
// exactly, otherwise the result is an ErrMalformedCheck naming the first slot
// that differs.
func matchCheck(insn []byte, second []bool, s, cleanup int) (*Block, error) {
	n := len(second)
	gen := GenV1
	if s+2 < n && slotOff(insn, s+2) == mapExclOff {
		gen = GenV2
	}
	var hash [32]byte
	g := s
	if gen == GenV2 {
		g += checkPrefixLen
	}
	for i := 0; i < 4; i++ {
		lo, hi := g+checkGroupLen*i+3, g+checkGroupLen*i+4
		if lo < n {
			copy(hash[8*i:], insn[lo*SlotSize+4:lo*SlotSize+8])
		}
		if hi < n {
			copy(hash[8*i+4:], insn[hi*SlotSize+4:hi*SlotSize+8])
		}
	}
	want, ok := checkTemplate(gen, hash, s, cleanup)
	if !ok {
		return nil, shapeErr(s, ErrMalformedCheck, "check %s at slot %d: jump offsets to the cleanup label do not fit s16", gen, s)
	}
	k := checkLen(gen)
	if s+k <= n && string(insn[s*SlotSize:(s+k)*SlotSize]) == string(want) {
		return &Block{Kind: BlockCheck, Start: s, Len: k, Gen: gen, Hash: hash}, nil
	}
	roles := checkRoles(gen)
	for j := 0; j < k; j++ {
		if s+j >= n {
			return nil, shapeErr(s+j, ErrMalformedCheck,
				"check %s truncated: program ends at slot %d, the check needs slots %d..%d (missing %s)",
				gen, n, s, s+k-1, roles[j])
		}
		got := insn[(s+j)*SlotSize : (s+j+1)*SlotSize]
		exp := want[j*SlotSize : (j+1)*SlotSize]
		if string(got) != string(exp) {
			return nil, shapeErr(s+j, ErrMalformedCheck, "check %s, %s: %s", gen, roles[j], slotDiff(got, exp))
		}
	}
	return &Block{Kind: BlockCheck, Start: s, Len: k, Gen: gen, Hash: hash}, nil
}

// slotDiff describes how slot got differs from slot want, field by field.
func slotDiff(got, want []byte) string {
	var d []string
	if got[0] != want[0] {
		d = append(d, fmt.Sprintf("code %#02x, want %#02x", got[0], want[0]))
	}
	if got[1]&0x0f != want[1]&0x0f {
		d = append(d, fmt.Sprintf("dst r%d, want r%d", got[1]&0x0f, want[1]&0x0f))
	}
	if got[1]>>4 != want[1]>>4 {
		d = append(d, fmt.Sprintf("src %d, want %d", got[1]>>4, want[1]>>4))
	}
	if go_, wo := int16(binary.LittleEndian.Uint16(got[2:])), int16(binary.LittleEndian.Uint16(want[2:])); go_ != wo {
		d = append(d, fmt.Sprintf("off %d, want %d", go_, wo))
	}
	if gi, wi := int32(binary.LittleEndian.Uint32(got[4:])), int32(binary.LittleEndian.Uint32(want[4:])); gi != wi {
		d = append(d, fmt.Sprintf("imm %d, want %d", gi, wi))
	}
	return fmt.Sprintf("got %x, want %x (%s)", got, want, strings.Join(d, "; "))
}
