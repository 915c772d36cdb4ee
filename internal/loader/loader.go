// Package loader models the loader program of a light skeleton (opts_insn):
// the BPF_PROG_TYPE_SYSCALL program libbpf's loader generator emits, which
// creates every map and program of the object at load time.
//
// A loader is a sequence of 8-byte slots (struct bpf_insn, little-endian;
// ld_imm64 takes two slots). libbpf lays it out as:
//
//	slot 0       r6 = r1                          (the loader ctx)
//	slots 1..5   r1 = r10; r1 += -K; r2 = K; r3 = 0; call probe_read_kernel(113)
//	slot 6       ja +N                            (over the cleanup code)
//	slot L = 7   cleanup label: close fds ...; r0 = r7; exit
//	slot S = 7+N first code after the cleanup exit: the metadata check of a
//	             legacy signed loader if there is one, else the loader body
//
// Decode recognises the metadata check at S (v1, 28 slots, or v2, 33 slots;
// see CheckBlock) and the host-override blocks of pre-hardening generators
// (max_entries, 5 slots, and initial_value, 10 slots) exactly, bit for bit.
// A Loader can then be rewritten — check removed or inserted, overrides
// removed — with every jump that crosses a changed block fixed up (see
// RemoveSlots and InsertSlots). Rewrites are byte-exact: removing the check
// and overrides from a libbpf 1.7 loader yields exactly what a hardened
// generator emits for the same object. Instructions are decoded with
// github.com/cilium/ebpf/asm for validation and disassembly; recognition and
// rewriting work on the raw slots.
//
// After any rewrite the metadata hash, the signature and opts_excl_hash must
// be recomputed by the caller.
package loader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cilium/ebpf/asm"
)

// Generation identifies the shape of a metadata check.
type Generation int

const (
	// GenNone means no check.
	GenNone Generation = iota
	// GenV1 is the check of libbpf ≤ 1.7 (bpftool 7.7, Linux 6.18 era):
	// 28 slots, mismatch jumps land on L+1.
	GenV1
	// GenV2 is the check of libbpf from mid-2026: an exclusivity check
	// followed by the v1 groups, 33 slots, mismatch jumps land on L.
	GenV2
)

// String returns "", "v1" or "v2".
func (g Generation) String() string {
	switch g {
	case GenNone:
		return ""
	case GenV1:
		return "v1"
	case GenV2:
		return "v2"
	}
	return fmt.Sprintf("Generation(%d)", int(g))
}

// ParseGeneration parses "v1" or "v2" (and "" as GenNone).
func ParseGeneration(s string) (Generation, error) {
	switch s {
	case "":
		return GenNone, nil
	case "v1":
		return GenV1, nil
	case "v2":
		return GenV2, nil
	}
	return GenNone, fmt.Errorf("loader: %w %q", ErrGeneration, s)
}

// BlockKind identifies a recognised block of a loader.
type BlockKind int

const (
	// BlockCheck is the metadata check at S (legacy scheme).
	BlockCheck BlockKind = iota
	// BlockMaxEntries is a host max_entries override (5 slots).
	BlockMaxEntries
	// BlockInitialValue is a host initial_value override (10 slots).
	BlockInitialValue
)

// String returns "check", "max_entries" or "initial_value".
func (k BlockKind) String() string {
	switch k {
	case BlockCheck:
		return "check"
	case BlockMaxEntries:
		return "max_entries"
	case BlockInitialValue:
		return "initial_value"
	}
	return fmt.Sprintf("BlockKind(%d)", int(k))
}

// A Block is a recognised block of slots [Start, Start+Len).
type Block struct {
	Kind       BlockKind
	Start, Len int // in 8-byte slots

	// Check blocks only.
	Gen  Generation
	Hash [32]byte // the embedded H, reassembled from the imm fields

	// Override blocks only.
	CtxOff    int32 // offset read from the loader ctx (r6); see MapIndex
	BlobOff   int32 // byte offset into the metadata blob (second imm of the src-6 ld_imm64)
	ValueSize int32 // initial_value only: bytes copied
}

// End returns the slot just past the block.
func (b Block) End() int { return b.Start + b.Len }

// MapIndex returns the index of the map an override block applies to: the
// loader ctx is a 24-byte header followed by one 16-byte descriptor per map
// (fd, max_entries, initial_value), so the index is (CtxOff-24)/16. It returns
// -1 for check blocks and for offsets before the first descriptor.
func (b Block) MapIndex() int {
	if b.Kind == BlockCheck || b.CtxOff < ctxHeaderSize {
		return -1
	}
	return int(b.CtxOff-ctxHeaderSize) / mapDescSize
}

// cleanupLabel is L: libbpf's loaders place the cleanup code right after the
// ja at slot 6.
const cleanupLabel = 7

// A Loader is a decoded loader program. The zero value is not usable; create
// one with Decode. Rewriting methods change the Loader in place only on
// success.
type Loader struct {
	raw    []byte
	second []bool // second slot of an ld_imm64
	// insns and slots (the first slot of each element of insns) are decoded with
	// cilium/ebpf/asm on first use; Decode checks on the raw slots everything asm's decoder
	// could refuse.
	asmOnce   sync.Once
	insns     asm.Instructions
	slots     []int
	bodyStart int
	check     *Block
	overrides []Block
}

// Decode parses a loader program. It requires:
//
//   - a whole number of 8-byte slots, every ld_imm64 complete (second slot
//     with zero code, registers and off), every instruction decodable by
//     cilium/ebpf/asm;
//   - the libbpf prologue: slot 0 `r6 = r1`; slots 1..5 `r1 = r10; r1 += -K;
//     r2 = K; r3 = 0; call 113` with the same K > 0; slot 6 `ja +N`, N ≥ 2;
//     slots S-2, S-1 `r0 = r7; exit`, S = 7+N inside the program;
//   - if the code at S begins like a check (an ld_imm64 with src 5,
//     map_by_idx, which only the check uses), an exact v1 or v2 check, else
//     ErrMalformedCheck naming the first differing slot; the generation is
//     chosen by the off of the load at S+2 (32, map->excl, means v2); the
//     embedded hash is data and may be anything;
//   - every jump landing on the first slot of an instruction in the program.
//
// Override blocks are recognised anywhere after S and after the check.
// Violations are reported as *ShapeError wrapping ErrShape or
// ErrMalformedCheck. Decode keeps its own copy of insn.
func Decode(insn []byte) (*Loader, error) { return decode(insn, true) }

// DecodeShared is Decode without the copy: the Loader keeps insn itself, which the caller
// must never modify afterwards (an immutable document's blob, or a buffer just built).
func DecodeShared(insn []byte) (*Loader, error) { return decode(insn, false) }

func decode(insn []byte, clone bool) (*Loader, error) {
	second, err := layout(insn)
	if err != nil {
		return nil, err
	}
	n := len(second)
	for i := 0; i < n; i++ {
		if second[i] {
			continue
		}
		// The one refusal of asm's decoder past the slot layout: a call of a builtin function
		// (src 0, imm ≥ 0) whose number names none on Linux.
		b := insn[i*SlotSize:]
		ins := asm.Instruction{OpCode: asm.OpCode(b[0]), Dst: asm.Register(b[1] & 0xf), Src: asm.Register(b[1] >> 4), Constant: int64(int32(binary.LittleEndian.Uint32(b[4:8])))}
		if ins.IsBuiltinCall() && ins.Constant >= 0 {
			if _, err := asm.BuiltinFuncForPlatform("linux", uint32(ins.Constant)); err != nil {
				return nil, shapeErr(i, ErrShape, "cannot decode instruction: %v", err)
			}
		}
	}
	s, err := prologue(insn, n)
	if err != nil {
		return nil, err
	}
	if clone {
		insn = slices.Clone(insn)
	}
	l := &Loader{
		raw:       insn,
		second:    second,
		bodyStart: s,
	}
	from := s
	if looksLikeCheck(insn, second, s) {
		c, err := matchCheck(insn, second, s, cleanupLabel)
		if err != nil {
			return nil, err
		}
		l.check = c
		from = c.End()
	}
	l.overrides = findOverrides(insn, second, from)
	if err := checkTargets(insn, second); err != nil {
		return nil, err
	}
	return l, nil
}

// prologue validates slots 0..6 and the cleanup exit and returns S.
func prologue(b []byte, n int) (int, error) {
	if n < cleanupLabel+2 {
		return 0, shapeErr(n, ErrShape, "program of %d slots is too short for a loader", n)
	}
	if !slotIs(b, 0, 0xbf, 6, 1, 0, 0) {
		return 0, shapeErr(0, ErrShape, "prologue: want r6 = r1 (bf 16 0000 00000000), got %x", b[:8])
	}
	if !slotIs(b, 1, 0xbf, 1, 10, 0, 0) {
		return 0, shapeErr(1, ErrShape, "prologue: want r1 = r10, got %x", b[8:16])
	}
	k := -slotImm(b, 2)
	if k <= 0 || !slotIs(b, 2, 0x07, 1, 0, 0, -k) {
		return 0, shapeErr(2, ErrShape, "prologue: want r1 += -stack_size, got %x", b[16:24])
	}
	if !slotIs(b, 3, 0xb7, 2, 0, 0, k) {
		return 0, shapeErr(3, ErrShape, "prologue: want r2 = %d, got %x", k, b[24:32])
	}
	if !slotIs(b, 4, 0xb7, 3, 0, 0, 0) {
		return 0, shapeErr(4, ErrShape, "prologue: want r3 = 0, got %x", b[32:40])
	}
	if !slotIs(b, 5, 0x85, 0, 0, 0, helperProbeKer) {
		return 0, shapeErr(5, ErrShape, "prologue: want call probe_read_kernel (113), got %x", b[40:48])
	}
	if slotCode(b, 6) != 0x05 || b[6*SlotSize+1] != 0 || slotImm(b, 6) != 0 {
		return 0, shapeErr(6, ErrShape, "prologue: want ja +N over the cleanup code, got %x", b[48:56])
	}
	s := cleanupLabel + int(slotOff(b, 6))
	if s < cleanupLabel+2 || s >= n {
		return 0, shapeErr(6, ErrShape, "prologue: ja lands on slot %d, want %d..%d", s, cleanupLabel+2, n-1)
	}
	if !slotIs(b, s-2, 0xbf, 0, 7, 0, 0) || !slotIs(b, s-1, 0x95, 0, 0, 0, 0) {
		return 0, shapeErr(s-2, ErrShape, "cleanup code does not end with r0 = r7; exit before slot %d", s)
	}
	return s, nil
}

// Bytes returns a copy of the loader's raw instruction bytes.
func (l *Loader) Bytes() []byte { return slices.Clone(l.raw) }

// Raw returns the loader's instruction bytes without copying. They are never modified in
// place (every edit builds a new buffer); callers must not modify them either.
func (l *Loader) Raw() []byte { return l.raw[:len(l.raw):len(l.raw)] }

// Len returns the number of 8-byte slots.
func (l *Loader) Len() int { return len(l.second) }

// Cleanup returns the cleanup label L (7 in libbpf loaders).
func (l *Loader) Cleanup() int { return cleanupLabel }

// BodyStart returns S = 7 + N, where the ja at slot 6 lands: the check if
// there is one, else the loader body.
func (l *Loader) BodyStart() int { return l.bodyStart }

// Check returns a copy of the check block, or nil if the loader has none.
func (l *Loader) Check() *Block {
	if l.check == nil {
		return nil
	}
	c := *l.check
	return &c
}

// Overrides returns the host-override blocks in program order.
func (l *Loader) Overrides() []Block { return slices.Clone(l.overrides) }

// Instructions returns the decoded instructions (a copy of the slice).
func (l *Loader) Instructions() asm.Instructions {
	l.decodeASM()
	return slices.Clone(l.insns)
}

// decodeASM decodes the instructions with cilium/ebpf/asm, once.
func (l *Loader) decodeASM() {
	l.asmOnce.Do(func() {
		n := len(l.second)
		l.insns = make(asm.Instructions, 0, n)
		l.slots = make([]int, 0, n)
		r := bytes.NewReader(l.raw)
		for i := 0; i < n; i++ {
			if l.second[i] {
				continue
			}
			var ins asm.Instruction
			if err := ins.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
				return // Decode has ruled this out
			}
			l.insns = append(l.insns, ins)
			l.slots = append(l.slots, i)
		}
	})
}

// Generation returns the check's generation, GenNone without a check.
func (l *Loader) Generation() Generation {
	if l.check == nil {
		return GenNone
	}
	return l.check.Gen
}

// replace re-decodes out and, on success, makes it the loader's content.
func (l *Loader) replace(out []byte) error {
	nl, err := Decode(out)
	if err != nil {
		return err
	}
	l.raw, l.second, l.bodyStart, l.check, l.overrides = nl.raw, nl.second, nl.bodyStart, nl.check, nl.overrides
	l.asmOnce, l.insns, l.slots = sync.Once{}, nil, nil
	return nil
}

// RemoveCheck removes the metadata check block, fixing the jumps that cross
// it: the ja at slot 6 then lands on the body, and the error paths of the body
// jump 28 (v1) or 33 (v2) slots less far back to L. It returns ErrNoCheck if
// the loader has none.
func (l *Loader) RemoveCheck() error {
	if l.check == nil {
		return fmt.Errorf("loader: %w", ErrNoCheck)
	}
	out, err := RemoveSlots(l.raw, l.check.Start, l.check.Len)
	if err != nil {
		return err
	}
	return l.replace(out)
}

// RemoveOverrides removes every host-override block, fixing the jumps that
// cross them (as a hardened generator would have emitted the loader). It is a
// no-op for a loader without overrides.
func (l *Loader) RemoveOverrides() error {
	if len(l.overrides) == 0 {
		return nil
	}
	out := l.raw
	for i := len(l.overrides) - 1; i >= 0; i-- {
		b := l.overrides[i]
		var err error
		if out, err = RemoveSlots(out, b.Start, b.Len); err != nil {
			return err
		}
	}
	return l.replace(out)
}

// InsertCheck inserts the check of generation gen embedding hash (H =
// SHA-256 of the metadata blob) at S, as CheckBlock(gen, hash, S, L). The ja
// at slot 6 then enters the check and the body's jumps back to L are
// lengthened. It fails with ErrCheckExists if there is a check already and
// with ErrGeneration for an unknown gen.
func (l *Loader) InsertCheck(gen Generation, hash [32]byte) error {
	if l.check != nil {
		return fmt.Errorf("loader: %w (%s at slot %d)", ErrCheckExists, l.check.Gen, l.check.Start)
	}
	if checkLen(gen) == 0 {
		return fmt.Errorf("loader: %w %s", ErrGeneration, gen)
	}
	blk := CheckBlock(gen, hash, l.bodyStart, cleanupLabel)
	if blk == nil {
		return shapeErr(l.bodyStart, ErrOffsetRange, "check %s at slot %d: jumps to L do not fit s16", gen, l.bodyStart)
	}
	out, err := InsertSlots(l.raw, l.bodyStart, blk)
	if err != nil {
		return err
	}
	return l.replace(out)
}
