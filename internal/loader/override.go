package loader

// Host-override block sizes in slots.
const (
	MaxEntriesLen   = 5
	InitialValueLen = 10

	ctxRegister    = 6   // r6 holds the loader ctx
	ctxHeaderSize  = 24  // struct bpf_loader_ctx before the per-map descriptors
	mapDescSize    = 16  // struct bpf_map_desc
	helperCopyUser = 148 // bpf_copy_from_user
	helperProbeKer = 113 // bpf_probe_read_kernel
	ctxFlagsOff    = 4   // offsetof(struct bpf_loader_ctx, flags)
)

// slotIs reports whether slot i of b has exactly the given fields.
func slotIs(b []byte, i int, code, dst, src byte, off int16, imm int32) bool {
	return slotCode(b, i) == code && slotDst(b, i) == dst && slotSrc(b, i) == src &&
		slotOff(b, i) == off && slotImm(b, i) == imm
}

// matchBlobAddr matches `ld_imm64 r1, blob+off` at slot i: code 0x18, dst 1,
// src 6 (BPF_PSEUDO_MAP_IDX_VALUE), first imm 0 (fd_array index of the
// metadata map); the second slot's imm is the byte offset into the blob.
func matchBlobAddr(b []byte, i int) (int32, bool) {
	if !slotIs(b, i, opLdImm64, 1, pseudoMapIdxVal, 0, 0) {
		return 0, false
	}
	return slotImm(b, i+1), true
}

// matchMaxEntries recognises the 5-slot max_entries override at slot i:
//
//	r0 = *(u32 *)(r6 + ctx_off)     61 60 ctx_off 00000000
//	if r0 == 0 goto +3              15 00 0300 00000000
//	ld_imm64 r1, blob+off           18 61 0000 00000000 / 00000000 off
//	*(u32 *)(r1 + 0) = r0           63 01 0000 00000000
func matchMaxEntries(b []byte, second []bool, i int) (Block, bool) {
	if i+MaxEntriesLen > len(second) || slotCode(b, i) != 0x61 || slotDst(b, i) != 0 ||
		slotSrc(b, i) != ctxRegister || slotImm(b, i) != 0 {
		return Block{}, false
	}
	if !slotIs(b, i+1, 0x15, 0, 0, 3, 0) {
		return Block{}, false
	}
	off, ok := matchBlobAddr(b, i+2)
	if !ok || !slotIs(b, i+4, 0x63, 1, 0, 0, 0) {
		return Block{}, false
	}
	return Block{Kind: BlockMaxEntries, Start: i, Len: MaxEntriesLen, CtxOff: int32(slotOff(b, i)), BlobOff: off}, true
}

// matchInitialValue recognises the 10-slot initial_value override at slot i:
//
//	r3 = *(u64 *)(r6 + ctx_off)     79 63 ctx_off 00000000
//	if r3 == 0 goto +8              15 03 0800 00000000
//	ld_imm64 r1, blob+off           18 61 0000 00000000 / 00000000 off
//	r2 = value_size                 b7 02 0000 value_size
//	r0 = *(u32 *)(r6 + 4)           61 60 0400 00000000
//	if r0 & 1 goto +2               45 00 0200 01000000
//	call bpf_copy_from_user         85 00 0000 94000000
//	goto +1                         05 00 0100 00000000
//	call bpf_probe_read_kernel      85 00 0000 71000000
func matchInitialValue(b []byte, second []bool, i int) (Block, bool) {
	if i+InitialValueLen > len(second) || slotCode(b, i) != 0x79 || slotDst(b, i) != 3 ||
		slotSrc(b, i) != ctxRegister || slotImm(b, i) != 0 {
		return Block{}, false
	}
	if !slotIs(b, i+1, 0x15, 3, 0, 8, 0) {
		return Block{}, false
	}
	off, ok := matchBlobAddr(b, i+2)
	if !ok || slotCode(b, i+4) != 0xb7 || slotDst(b, i+4) != 2 || slotSrc(b, i+4) != 0 || slotOff(b, i+4) != 0 {
		return Block{}, false
	}
	if !slotIs(b, i+5, 0x61, 0, ctxRegister, ctxFlagsOff, 0) ||
		!slotIs(b, i+6, 0x45, 0, 0, 2, 1) ||
		!slotIs(b, i+7, 0x85, 0, 0, 0, helperCopyUser) ||
		!slotIs(b, i+8, 0x05, 0, 0, 1, 0) ||
		!slotIs(b, i+9, 0x85, 0, 0, 0, helperProbeKer) {
		return Block{}, false
	}
	return Block{Kind: BlockInitialValue, Start: i, Len: InitialValueLen,
		CtxOff: int32(slotOff(b, i)), BlobOff: off, ValueSize: slotImm(b, i+4)}, true
}

// findOverrides scans the instructions in [from, len) for host-override
// blocks, in program order. Blocks never overlap: scanning resumes after each
// one found.
func findOverrides(b []byte, second []bool, from int) []Block {
	var out []Block
	for i := from; i < len(second); i++ {
		if second[i] {
			continue
		}
		// Each block opens with a load from the ctx: 61 (max_entries) or 79 (initial_value).
		if c := b[i*SlotSize]; c != 0x61 && c != 0x79 {
			continue
		}
		if blk, ok := matchMaxEntries(b, second, i); ok {
			out = append(out, blk)
			i += blk.Len - 1
			continue
		}
		if blk, ok := matchInitialValue(b, second, i); ok {
			out = append(out, blk)
			i += blk.Len - 1
		}
	}
	return out
}
