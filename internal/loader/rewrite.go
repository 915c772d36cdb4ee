package loader

import (
	"encoding/binary"
	"math"
)

// SlotSize is the size of one instruction slot (struct bpf_insn) in bytes.
const SlotSize = 8

// Raw instruction encoding (struct bpf_insn, little-endian):
// code u8 | dst:4 src:4 u8 | off s16 | imm s32.
const (
	opLdImm64 = 0x18 // BPF_LD | BPF_IMM | BPF_DW, occupies two slots

	classJmp   = 0x05
	classJmp32 = 0x06
	opCall     = 0x80
	opExit     = 0x90
	opJa       = 0x00

	pseudoCall = 1 // src of a bpf-to-bpf call: imm is relative
	pseudoFunc = 4 // src of an ld_imm64 loading a subprogram address: imm is relative
)

func slotCode(b []byte, i int) byte   { return b[i*SlotSize] }
func slotDst(b []byte, i int) byte    { return b[i*SlotSize+1] & 0x0f }
func slotSrc(b []byte, i int) byte    { return b[i*SlotSize+1] >> 4 }
func slotOff(b []byte, i int) int16   { return int16(binary.LittleEndian.Uint16(b[i*SlotSize+2:])) }
func slotImm(b []byte, i int) int32   { return int32(binary.LittleEndian.Uint32(b[i*SlotSize+4:])) }
func setOff(b []byte, i int, v int16) { binary.LittleEndian.PutUint16(b[i*SlotSize+2:], uint16(v)) }
func setImm(b []byte, i int, v int32) { binary.LittleEndian.PutUint32(b[i*SlotSize+4:], uint32(v)) }

// refKind says whether, and through which field, an instruction refers to
// another instruction by a relative displacement (target = slot + 1 + disp).
type refKind uint8

const (
	refNone refKind = iota
	refOff          // 16-bit off field: conditional jumps, JMP ja, may_goto
	refImm          // 32-bit imm field: JMP32 ja (gotol), bpf-to-bpf call, ld_imm64 of a subprogram
)

// relRef classifies the instruction whose first slot is i.
//
// Every JMP (0x05) and JMP32 (0x06) class instruction except call and exit is
// a jump; the JMP32 ja keeps its displacement in imm, all others in off.
// Beyond the jumps libbpf loaders contain, bpf-to-bpf calls (call with src 1)
// and ld_imm64 with src 4 (BPF_PSEUDO_FUNC) are relative too and are fixed up
// the same way, so that rewriting never silently breaks a program using them.
func relRef(b []byte, i int) refKind {
	code := slotCode(b, i)
	if code == opLdImm64 {
		if slotSrc(b, i) == pseudoFunc {
			return refImm
		}
		return refNone
	}
	class := code & 0x07
	if class != classJmp && class != classJmp32 {
		return refNone
	}
	switch code & 0xf0 {
	case opCall:
		if class == classJmp && slotSrc(b, i) == pseudoCall {
			return refImm
		}
		return refNone
	case opExit:
		return refNone
	case opJa:
		if class == classJmp32 {
			return refImm
		}
	}
	return refOff
}

// target returns the absolute slot a relative reference at slot i points to.
func target(b []byte, i int, k refKind) int {
	if k == refImm {
		return i + 1 + int(slotImm(b, i))
	}
	return i + 1 + int(slotOff(b, i))
}

// setTarget rewrites the displacement of the reference at slot i so that it
// points to slot t. It fails with ErrOffsetRange if the displacement does not
// fit the field.
func setTarget(b []byte, i, t int, k refKind) error {
	d := t - i - 1
	if k == refImm {
		if d < math.MinInt32 || d > math.MaxInt32 {
			return shapeErr(i, ErrOffsetRange, "displacement %d to slot %d does not fit imm (s32)", d, t)
		}
		setImm(b, i, int32(d))
		return nil
	}
	if d < math.MinInt16 || d > math.MaxInt16 {
		return shapeErr(i, ErrOffsetRange, "offset %d to slot %d does not fit off (s16)", d, t)
	}
	setOff(b, i, int16(d))
	return nil
}

// layout validates the slot structure of insn and reports, for each slot,
// whether it is the second half of an ld_imm64. The rules: the length is a
// multiple of 8; every ld_imm64 (code 0x18) is followed by a second slot
// whose code, registers and off are zero.
func layout(insn []byte) ([]bool, error) {
	if len(insn)%SlotSize != 0 {
		return nil, shapeErr(len(insn)/SlotSize, ErrShape, "length %d is not a multiple of %d", len(insn), SlotSize)
	}
	n := len(insn) / SlotSize
	second := make([]bool, n)
	for i := 0; i < n; i++ {
		if slotCode(insn, i) != opLdImm64 {
			continue
		}
		if i+1 >= n {
			return nil, shapeErr(i, ErrShape, "ld_imm64 is missing its second slot")
		}
		if binary.LittleEndian.Uint32(insn[(i+1)*SlotSize:]) != 0 {
			return nil, shapeErr(i+1, ErrShape, "second slot of ld_imm64 has non-zero code, registers or off")
		}
		second[i+1] = true
		i++
	}
	return second, nil
}

// checkTargets verifies that every relative reference in insn lands on the
// first slot of an instruction inside the program.
func checkTargets(insn []byte, second []bool) error {
	n := len(second)
	for i := 0; i < n; i++ {
		if second[i] {
			continue
		}
		k := relRef(insn, i)
		if k == refNone {
			continue
		}
		t := target(insn, i, k)
		if t < 0 || t >= n {
			return shapeErr(i, ErrShape, "jump target %d is outside the program (0..%d)", t, n-1)
		}
		if second[t] {
			return shapeErr(i, ErrShape, "jump target %d is the second slot of an ld_imm64", t)
		}
	}
	return nil
}

// RemoveSlots returns a copy of insn with the n slots starting at slot start
// removed and every relative jump fixed up:
//
//   - a jump whose source and target lie on opposite sides of the block has
//     its offset changed by ∓n;
//   - a jump that targets the first slot of the block lands on whatever
//     follows it (ErrShape if nothing follows);
//   - a jump from outside the block into the middle of it fails with
//     ErrJumpIntoBlock;
//   - jumps inside the block are dropped with it.
//
// The block must not split an ld_imm64 pair, every jump of insn must land on
// an instruction (ErrShape otherwise) and rewritten offsets must fit their
// field (ErrOffsetRange). insn itself is never modified.
//
// "Jump" means every JMP (0x05) and JMP32 (0x06) class instruction except
// call and exit (the JMP32 ja carries its offset in imm); bpf-to-bpf calls
// (call with src 1) and ld_imm64 with src 4 are relative too and are fixed up
// the same way. The same holds for InsertSlots.
func RemoveSlots(insn []byte, start, n int) ([]byte, error) {
	second, err := layout(insn)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(insn, second); err != nil {
		return nil, err
	}
	return removeSlots(insn, second, start, n)
}

// removeSlots is RemoveSlots on a program already known to be well formed, whose layout is
// second.
func removeSlots(insn []byte, second []bool, start, n int) ([]byte, error) {
	total := len(second)
	if start < 0 || n < 0 || start > total || n > total-start {
		return nil, shapeErr(start, ErrShape, "block [%d, %d+%d) is outside the program (%d slots)", start, start, n, total)
	}
	if start < total && second[start] {
		return nil, shapeErr(start, ErrShape, "block start splits an ld_imm64")
	}
	end := start + n
	if end < total && second[end] {
		return nil, shapeErr(end, ErrShape, "block end splits an ld_imm64")
	}
	out := make([]byte, 0, len(insn)-n*SlotSize)
	out = append(out, insn[:start*SlotSize]...)
	out = append(out, insn[end*SlotSize:]...)
	if n == 0 {
		return out, nil
	}
	newTotal := total - n
	for i := 0; i < total; i++ {
		if second[i] || (i >= start && i < end) {
			continue
		}
		k := relRef(insn, i)
		if k == refNone {
			continue
		}
		t := target(insn, i, k)
		if t > start && t < end {
			return nil, shapeErr(i, ErrJumpIntoBlock, "jump targets slot %d inside removed block [%d, %d)", t, start, end)
		}
		ni, nt := i, t
		if i >= end {
			ni = i - n
		}
		if t >= end {
			nt = t - n
		}
		if nt >= newTotal {
			return nil, shapeErr(i, ErrShape, "jump to slot %d would land past the end after removing [%d, %d)", t, start, end)
		}
		if err := setTarget(out, ni, nt, k); err != nil {
			err.(*ShapeError).Slot = i
			return nil, err
		}
	}
	return out, nil
}

// InsertSlots returns a copy of insn with block (whole slots) inserted before
// slot at, fixing up the jumps of insn:
//
//   - a jump whose source and target lie on opposite sides of the insertion
//     point has its offset changed by ±len(block)/8;
//   - a jump that targeted slot at now targets the first slot of the inserted
//     block (so the ja at slot 6 of a loader, inserted at S, enters the block);
//   - jumps inside block are copied verbatim: they must already be correct for
//     the block's final position (see CheckBlock).
//
// at must not split an ld_imm64, block must be a whole number of slots with
// complete ld_imm64 pairs, every jump of the result must land on an
// instruction (ErrShape otherwise) and offsets must fit their field
// (ErrOffsetRange). Neither argument is modified.
func InsertSlots(insn []byte, at int, block []byte) ([]byte, error) {
	second, err := layout(insn)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(insn, second); err != nil {
		return nil, err
	}
	out, err := insertSlots(insn, second, at, block)
	if err != nil {
		return nil, err
	}
	outSecond, err := layout(out)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(out, outSecond); err != nil {
		return nil, err
	}
	return out, nil
}

// insertSlots is InsertSlots on a program already known to be well formed, whose layout is
// second, without the final validation of the result (the caller decodes it).
func insertSlots(insn []byte, second []bool, at int, block []byte) ([]byte, error) {
	if _, err := layout(block); err != nil {
		se := err.(*ShapeError)
		return nil, shapeErr(at, ErrShape, "inserted block: slot %d: %s", se.Slot, se.Reason)
	}
	total := len(second)
	if at < 0 || at > total {
		return nil, shapeErr(at, ErrShape, "insertion point outside the program (%d slots)", total)
	}
	if at < total && second[at] {
		return nil, shapeErr(at, ErrShape, "insertion point splits an ld_imm64")
	}
	k := len(block) / SlotSize
	out := make([]byte, 0, len(insn)+len(block))
	out = append(out, insn[:at*SlotSize]...)
	out = append(out, block...)
	out = append(out, insn[at*SlotSize:]...)
	if k == 0 {
		return out, nil
	}
	for i := 0; i < total; i++ {
		if second[i] {
			continue
		}
		kind := relRef(insn, i)
		if kind == refNone {
			continue
		}
		t := target(insn, i, kind)
		ni, nt := i, t
		if i >= at {
			ni = i + k
		}
		if t > at {
			nt = t + k
		}
		if err := setTarget(out, ni, nt, kind); err != nil {
			err.(*ShapeError).Slot = i
			return nil, err
		}
	}
	return out, nil
}

// Span is a block of slots [Start, Start+Len).
type Span struct{ Start, Len int }

// RemoveSpans is RemoveSlots for several disjoint blocks at once, in one pass over insn: the
// result is what removing them one by one, the last first, gives, with the same rules and
// errors for a jump into a block, a block that splits an ld_imm64 and offsets that no longer
// fit. spans must be sorted and disjoint. insn itself is never modified.
func RemoveSpans(insn []byte, spans []Span) ([]byte, error) {
	second, err := layout(insn)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(insn, second); err != nil {
		return nil, err
	}
	return removeSpans(insn, second, spans)
}

// removeSpans is RemoveSpans on a program already known to be well formed, whose layout is
// second.
func removeSpans(insn []byte, second []bool, spans []Span) ([]byte, error) {
	if len(spans) == 1 {
		return removeSlots(insn, second, spans[0].Start, spans[0].Len)
	}
	total := len(second)
	// removedBefore[t] is the number of removed slots before slot t (t = total allowed);
	// inside[t] is the block slot t lies in past its first slot, -1 if none.
	removedBefore := make([]int, total+1)
	removed := make([]bool, total)
	first := make([]bool, total) // the first slot of a block: a landing place
	prevEnd := 0
	for _, sp := range spans {
		start, end := sp.Start, sp.Start+sp.Len
		if sp.Start < prevEnd || sp.Len < 0 || end > total {
			return nil, shapeErr(sp.Start, ErrShape, "block [%d, %d+%d) is outside the program (%d slots) or overlaps the one before", sp.Start, sp.Start, sp.Len, total)
		}
		if start < total && second[start] {
			return nil, shapeErr(start, ErrShape, "block start splits an ld_imm64")
		}
		if end < total && second[end] {
			return nil, shapeErr(end, ErrShape, "block end splits an ld_imm64")
		}
		for i := start; i < end; i++ {
			removed[i] = true
		}
		if sp.Len > 0 {
			first[start] = true
		}
		prevEnd = end
	}
	for t := 0; t < total; t++ {
		removedBefore[t+1] = removedBefore[t]
		if removed[t] {
			removedBefore[t+1]++
		}
	}
	newTotal := total - removedBefore[total]
	out := make([]byte, 0, newTotal*SlotSize)
	for i := 0; i < total; i++ {
		if !removed[i] {
			out = append(out, insn[i*SlotSize:(i+1)*SlotSize]...)
		}
	}
	for i := 0; i < total; i++ {
		if second[i] || removed[i] {
			continue
		}
		k := relRef(insn, i)
		if k == refNone {
			continue
		}
		t := target(insn, i, k)
		if removed[t] && !first[t] {
			// The first slot of a block is a landing place (the slot after the block); any
			// other removed slot is inside one.
			return nil, shapeErr(i, ErrJumpIntoBlock, "jump targets slot %d inside a removed block", t)
		}
		ni, nt := i-removedBefore[i], t-removedBefore[t]
		if nt >= newTotal {
			return nil, shapeErr(i, ErrShape, "jump to slot %d would land past the end after removing the blocks", t)
		}
		if err := setTarget(out, ni, nt, k); err != nil {
			err.(*ShapeError).Slot = i
			return nil, err
		}
	}
	return out, nil
}
