// Package preflight finds, from a light skeleton's bytes alone, what no kernel
// will load and what the header changes outside the signature.
//
// A loader program (opts_insn) made by libbpf's loader generator (gen_loader.c)
// is a straight sequence of steps: each step stores pointers and values into
// bpf_attr images inside the metadata blob (opts_data), then calls a helper —
// bpf_sys_bpf (166) for BTF_LOAD, MAP_CREATE, MAP_UPDATE_ELEM, MAP_FREEZE and
// PROG_LOAD, btf_find_by_name_kind (167) or kallsyms_lookup_name (179) for the
// ksyms of the inner programs — and jumps to the cleanup label when it fails.
// Analyze reads that sequence back: which maps and programs the loader creates
// (with their names and the blob offsets of their attrs, instructions and
// initial values), where each program's fd is kept on the loader's stack, and
// which objects the loader itself binds. Check turns the inventory into
// findings; FailedStep tells, from the blob as the loader left it after a run,
// which step failed.
//
// The analysis follows the loader linearly, as gen_loader emits it: registers
// are tracked from the ld_imm64 and mov that set them up to the store or call
// that uses them. It never guesses: a call whose arguments it cannot trace is
// reported with an unknown command, never attributed to an object.
package preflight

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SlotSize is the size of one BPF instruction slot.
const SlotSize = 8

// bpf(2) commands a loader issues (include/uapi/linux/bpf.h).
const (
	CmdMapCreate     = 0
	CmdMapUpdateElem = 2
	CmdProgLoad      = 5
	CmdBTFLoad       = 18
	CmdMapFreeze     = 22
)

// Helpers a loader calls (include/uapi/linux/bpf.h, enum bpf_func_id).
const (
	helperSysBPF            = 166
	helperBTFFindByNameKind = 167
	helperKallsymsLookup    = 179
)

// Kinds of Step.
const (
	StepSysBPF  = "sys_bpf"
	StepFindBTF = "btf_find_by_name_kind"
	StepKallsym = "kallsyms_lookup_name"
)

// Offsets in the bpf_attr images and in struct bpf_loader_ctx (skel_internal.h).
const (
	mapAttrType       = 0
	mapAttrValueSize  = 8
	mapAttrMaxEntries = 12
	mapAttrName       = 28
	progAttrType      = 0
	progAttrInsnCnt   = 4
	progAttrInsns     = 8
	progAttrName      = 48
	updateAttrValue   = 16
	objNameLen        = 16

	ctxHeader   = 24 // struct bpf_loader_ctx
	mapDescSize = 16 // struct bpf_map_desc: map_fd, max_entries, initial_value
)

// CmdName returns the bpf(2) command's name as bpf.h spells it ("BPF_PROG_LOAD").
func CmdName(cmd int) string {
	switch cmd {
	case CmdMapCreate:
		return "BPF_MAP_CREATE"
	case CmdMapUpdateElem:
		return "BPF_MAP_UPDATE_ELEM"
	case CmdProgLoad:
		return "BPF_PROG_LOAD"
	case CmdBTFLoad:
		return "BPF_BTF_LOAD"
	case CmdMapFreeze:
		return "BPF_MAP_FREEZE"
	case -1:
		return "unknown command"
	}
	return fmt.Sprintf("bpf command %d", cmd)
}

// A Write is a store the loader makes into the metadata blob.
type Write struct {
	Slot int // slot of the store instruction
	Off  int // byte offset in the blob
	Size int // 1, 2, 4 or 8
	// Pointer is set when the stored value is the address of a place in the
	// blob (an emit_rel_store): never zero once the store has run. Target is
	// that place's offset, -1 otherwise.
	Pointer bool
	Target  int
	// From is the blob offset the stored value was loaded from (a copy inside
	// the blob, such as a map fd copied from fd_array into an attr), -1 otherwise.
	From int
	// FD is set when the stored value is a call's result that passed the
	// error check: a file descriptor, never zero.
	FD bool
}

// A Step is one helper call of the loader that can fail it (its result goes to
// r7 and a negative r7 jumps to the cleanup label).
type Step struct {
	Slot int    // slot of the call
	Kind string // StepSysBPF, StepFindBTF or StepKallsym
	// Cmd is the bpf(2) command (StepSysBPF), -1 when r1 was not traced.
	Cmd int
	// AttrOff and AttrSize locate the attr image in the blob (StepSysBPF);
	// AttrOff is -1 when r2 was not traced.
	AttrOff, AttrSize int
	// Map and Prog index Inventory.Maps / Inventory.Progs for the object this
	// step creates or acts on, -1 for none.
	Map, Prog int
	// Symbol is the name looked up by StepFindBTF and StepKallsym.
	Symbol string
}

// What returns a short description: "BPF_PROG_LOAD", "btf_find_by_name_kind(bpf_foo)".
func (s Step) What() string {
	if s.Kind == StepSysBPF {
		return CmdName(s.Cmd)
	}
	return s.Kind + "(" + s.Symbol + ")"
}

// MapInfo is one map the loader creates.
type MapInfo struct {
	Index      int    // index in fd_array and in the loader ctx's map descriptors; -1 for an inner map
	Name       string // kernel name, from the attr in the blob (at most 15 bytes)
	Type       uint32 // enum bpf_map_type
	ValueSize  uint32
	MaxEntries uint32
	AttrOff    int // blob offset of the BPF_MAP_CREATE attr
	CreateStep int // index into Inventory.Steps
	// ValueOff is the blob offset of the initial value the loader's
	// BPF_MAP_UPDATE_ELEM step writes, -1 if the loader writes none.
	ValueOff int
	// InitialOverride: the loader reads this map's initial_value pointer from
	// its ctx and copies the host's bytes over ValueOff (a host-override block).
	InitialOverride bool
	// MaxEntriesOverride: the loader reads max_entries from its ctx.
	MaxEntriesOverride bool
}

// ProgInfo is one program the loader loads.
type ProgInfo struct {
	Index    int    // load order, the index of its struct bpf_prog_desc in the ctx
	Name     string // kernel name, from the attr in the blob (at most 15 bytes)
	Type     uint32 // enum bpf_prog_type
	AttrOff  int    // blob offset of the BPF_PROG_LOAD attr
	InsnOff  int    // blob offset of its instructions, -1 if not traced
	InsnCnt  uint32
	LoadStep int // index into Inventory.Steps
	// FDSlot is the stack offset (from r10) where the loader keeps the fd;
	// FDStoreSlot the slot of that store. FDStoreSlot is -1 if none was seen.
	FDSlot      int
	FDStoreSlot int
}

// Binding is an object the loader program itself references, as the kernel's
// verifier resolves it when the loader is loaded.
type Binding struct {
	Slot int
	// Kind is "map_fd" (ld_imm64 src 1, BPF_PSEUDO_MAP_FD), "map_value" (src 2,
	// BPF_PSEUDO_MAP_VALUE), "btf_id" (src 3, BPF_PSEUDO_BTF_ID: a ksym),
	// "map_idx" (src 5) or "map_idx_value" (src 6) with Index ≥ 0 into fd_array,
	// "kfunc" (call src 2; Index is the fd_array index of its BTF, 0 for vmlinux).
	Kind  string
	Index int32
	Imm   int32
}

// Inventory is what Analyze finds in a loader and its blob.
type Inventory struct {
	Slots     int
	StackSize int // bytes the prologue zeroes (sizeof(struct loader_stack))
	Steps     []Step
	Writes    []Write
	Maps      []MapInfo
	Progs     []ProgInfo
	Bindings  []Binding

	ctxReads []ctxRead
}

// ErrNotLoader is wrapped by Analyze's errors for bytes that are not a
// loader program of libbpf's shape.
var ErrNotLoader = errors.New("not a loader program")

type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func decode(b []byte, i int) insn {
	s := b[i*SlotSize:]
	return insn{code: s[0], dst: s[1] & 0xf, src: s[1] >> 4, off: int16(binary.LittleEndian.Uint16(s[2:])), imm: int32(binary.LittleEndian.Uint32(s[4:]))}
}

// regKind says what the analysis knows about a register.
type regKind int

const (
	regUnknown    regKind = iota
	regConst              // val
	regBlob               // address of blob+val
	regBlobLoad           // a value loaded from blob+val
	regCtxLoad            // a value loaded from ctx+val
	regStackLoad          // a value loaded from r10+val
	regCallResult         // r0 after a call, or r7 after `r7 = r0`
)

type reg struct {
	kind regKind
	val  int64
	// fd: the value is a file descriptor a call returned (r7 after its error
	// check, or a stack slot such a value was stored in), never zero.
	fd bool
}

// Analyze decodes insn (the loader) against data (its metadata blob). It
// requires a whole number of slots, complete ld_imm64 pairs and libbpf's
// prologue (`r6 = r1; r1 = r10; r1 += -K; r2 = K; r3 = 0; call 113`), and
// attr offsets inside the blob; otherwise it returns an error wrapping
// ErrNotLoader that names the slot.
func Analyze(insnBytes, data []byte) (*Inventory, error) {
	if len(insnBytes) == 0 || len(insnBytes)%SlotSize != 0 {
		return nil, fmt.Errorf("preflight: %w: %d bytes is not a whole number of %d-byte slots", ErrNotLoader, len(insnBytes), SlotSize)
	}
	n := len(insnBytes) / SlotSize
	if n < 7 {
		return nil, fmt.Errorf("preflight: %w: %d slots is too short", ErrNotLoader, n)
	}
	inv := &Inventory{Slots: n}
	p := [6]insn{}
	for i := range p {
		p[i] = decode(insnBytes, i)
	}
	k := -int(p[2].imm)
	if p[0] != (insn{code: 0xbf, dst: 6, src: 1}) || p[1] != (insn{code: 0xbf, dst: 1, src: 10}) ||
		p[2].code != 0x07 || p[2].dst != 1 || k <= 0 || p[3] != (insn{code: 0xb7, dst: 2, imm: int32(k)}) ||
		p[4] != (insn{code: 0xb7, dst: 3}) || p[5] != (insn{code: 0x85, imm: 113}) {
		return nil, fmt.Errorf("preflight: %w: slots 0..5 are not libbpf's prologue (r6 = r1; zero the stack with probe_read_kernel)", ErrNotLoader)
	}
	inv.StackSize = k
	// Size the lists once: at most one binding per ld_imm64 or kfunc call, one step per helper
	// call, one write per store.
	var nLd, nCall, nStore int
	for i := 0; i < n; i++ {
		switch c := insnBytes[i*SlotSize]; {
		case c == 0x18:
			nLd++
			i++
		case c == 0x85:
			nCall++
		case c&7 == 2 || c&7 == 3:
			nStore++
		}
	}
	if nLd+nCall > 0 { // an empty list stays nil, as it always was
		inv.Bindings = make([]Binding, 0, nLd+nCall)
	}
	if nCall > 0 {
		inv.Steps = make([]Step, 0, nCall)
	}
	if nStore > 0 {
		inv.Writes = make([]Write, 0, nStore)
	}

	var regs [11]reg
	clobber := func() {
		for r := 0; r <= 5; r++ {
			regs[r] = reg{}
		}
	}
	progByStep := map[int]int{}
	stackFD := map[int64]bool{} // stack offsets holding a call's fd
	lastCall := -1              // index into inv.Steps of the last call, for fd stores after it
	for i := 0; i < n; i++ {
		in := decode(insnBytes, i)
		if in.code == 0x18 { // ld_imm64
			if i+1 >= n {
				return nil, fmt.Errorf("preflight: %w: slot %d: ld_imm64 without its second slot", ErrNotLoader, i)
			}
			hi := decode(insnBytes, i+1)
			if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
				return nil, fmt.Errorf("preflight: %w: slot %d: second slot of ld_imm64 is not blank", ErrNotLoader, i+1)
			}
			d := in.dst
			if d > 10 {
				return nil, fmt.Errorf("preflight: %w: slot %d: register r%d", ErrNotLoader, i, d)
			}
			switch in.src {
			case 0:
				regs[d] = reg{kind: regConst, val: int64(uint64(uint32(in.imm)) | uint64(uint32(hi.imm))<<32)}
			case 1:
				inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "map_fd", Index: -1, Imm: in.imm})
				regs[d] = reg{}
			case 2:
				inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "map_value", Index: -1, Imm: in.imm})
				regs[d] = reg{}
			case 3:
				inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "btf_id", Index: -1, Imm: in.imm})
				regs[d] = reg{}
			case 5:
				inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "map_idx", Index: in.imm})
				regs[d] = reg{}
			case 6:
				inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "map_idx_value", Index: in.imm, Imm: hi.imm})
				if in.imm == 0 {
					regs[d] = reg{kind: regBlob, val: int64(hi.imm)}
				} else {
					regs[d] = reg{}
				}
			default:
				regs[d] = reg{}
			}
			i++
			continue
		}
		if in.dst > 10 || in.src > 10 {
			continue // not a register operand; the kernel's verifier will say so
		}
		switch cls := in.code & 7; {
		case in.code == 0xb7 || in.code == 0xb4: // mov imm
			regs[in.dst] = reg{kind: regConst, val: int64(in.imm)}
		case in.code == 0xbf || in.code == 0xbc: // mov reg
			regs[in.dst] = regs[in.src]
		case in.code == 0x85 && in.src == 0: // helper call
			st, ok, err := helperStep(in.imm, regs, data, i)
			if err != nil {
				return nil, fmt.Errorf("preflight: %w: slot %d: %v", ErrNotLoader, i, err)
			}
			clobber()
			regs[0] = reg{kind: regCallResult}
			if ok {
				inv.Steps = append(inv.Steps, st)
				lastCall = len(inv.Steps) - 1
			}
		case in.code == 0x85 && in.src == 2: // kfunc call
			inv.Bindings = append(inv.Bindings, Binding{Slot: i, Kind: "kfunc", Index: int32(in.off), Imm: in.imm})
			clobber()
		case in.code == 0x85:
			clobber()
		case cls == 1: // LDX
			size := sizeOf(in.code)
			switch r := regs[in.src]; {
			case r.kind == regBlob:
				regs[in.dst] = reg{kind: regBlobLoad, val: r.val + int64(in.off)}
			case in.src == 6:
				regs[in.dst] = reg{kind: regCtxLoad, val: int64(in.off)}
				noteCtxRead(inv, int(in.off), size)
			case in.src == 10:
				regs[in.dst] = reg{kind: regStackLoad, val: int64(in.off), fd: stackFD[int64(in.off)] && size == 4}
			default:
				regs[in.dst] = reg{}
			}
		case cls == 3 || cls == 2: // STX, ST
			size := sizeOf(in.code)
			dst := regs[in.dst]
			switch {
			case dst.kind == regBlob:
				w := Write{Slot: i, Off: int(dst.val) + int(in.off), Size: size, Target: -1, From: -1}
				if cls == 3 {
					switch src := regs[in.src]; src.kind {
					case regBlob:
						w.Pointer, w.Target = true, int(src.val)
					case regBlobLoad:
						w.From = int(src.val)
					}
				}
				inv.Writes = append(inv.Writes, w)
				if cls == 3 && regs[in.src].fd {
					inv.Writes[len(inv.Writes)-1].FD = true
				}
				if cls == 3 && in.src == 7 && regs[7].fd && lastCall >= 0 {
					noteFDStore(inv, lastCall, w.Off)
				}
			case in.dst == 10:
				if cls == 3 && size == 4 {
					stackFD[int64(in.off)] = regs[in.src].fd
				} else {
					stackFD[int64(in.off)] = false
				}
				if cls != 3 || in.src != 7 || !regs[7].fd || lastCall < 0 {
					break
				}
				if pi, ok := progByStep[lastCall]; ok && inv.Progs[pi].FDStoreSlot < 0 {
					inv.Progs[pi].FDSlot = int(in.off)
					inv.Progs[pi].FDStoreSlot = i
				}
			}
		case cls == 4 || cls == 7: // ALU, ALU64 other than mov: the result is no longer what we traced
			if in.code != 0xb7 && in.code != 0xb4 && in.code != 0xbf && in.code != 0xbc {
				regs[in.dst] = reg{}
			}
		}
		// `if r7 s< 0 goto cleanup` after `r7 = r0`: past it, r7 is the call's fd.
		if in.code == 0xc5 && in.dst == 7 && in.imm == 0 && regs[7].kind == regCallResult {
			regs[7].fd = true
		}
		if len(inv.Steps) > 0 && lastCall == len(inv.Steps)-1 {
			st := inv.Steps[lastCall]
			if st.Slot == i && st.Kind == StepSysBPF {
				switch st.Cmd {
				case CmdMapCreate:
					m, err := mapFromAttr(data, st.AttrOff)
					if err != nil {
						return nil, fmt.Errorf("preflight: %w: slot %d: %v", ErrNotLoader, i, err)
					}
					m.CreateStep = lastCall
					inv.Maps = append(inv.Maps, m)
					inv.Steps[lastCall].Map = len(inv.Maps) - 1
				case CmdProgLoad:
					pr, err := progFromAttr(data, st.AttrOff)
					if err != nil {
						return nil, fmt.Errorf("preflight: %w: slot %d: %v", ErrNotLoader, i, err)
					}
					pr.Index = len(inv.Progs)
					pr.LoadStep = lastCall
					pr.InsnOff = pointerTarget(inv.Writes, st.AttrOff+progAttrInsns)
					inv.Progs = append(inv.Progs, pr)
					inv.Steps[lastCall].Prog = pr.Index
					progByStep[lastCall] = pr.Index
				}
			}
		}
	}
	resolveMaps(inv)
	return inv, nil
}

func sizeOf(code uint8) int {
	switch code & 0x18 {
	case 0x00:
		return 4
	case 0x08:
		return 2
	case 0x10:
		return 1
	}
	return 8
}

// helperStep describes a helper call that can fail the loader.
func helperStep(id int32, regs [11]reg, data []byte, slot int) (Step, bool, error) {
	st := Step{Slot: slot, Cmd: -1, AttrOff: -1, Map: -1, Prog: -1}
	switch id {
	case helperSysBPF:
		st.Kind = StepSysBPF
		if regs[1].kind == regConst {
			st.Cmd = int(regs[1].val)
		}
		if regs[3].kind == regConst {
			st.AttrSize = int(regs[3].val)
		}
		if regs[2].kind == regBlob {
			if regs[2].val < 0 || regs[2].val+int64(st.AttrSize) > int64(len(data)) {
				return Step{}, false, fmt.Errorf("bpf_sys_bpf attr at blob offset %d (%d bytes) does not fit the %d-byte blob", regs[2].val, st.AttrSize, len(data))
			}
			st.AttrOff = int(regs[2].val)
		}
		if st.AttrOff < 0 {
			st.Cmd = -1
		}
	case helperBTFFindByNameKind, helperKallsymsLookup:
		st.Kind = StepFindBTF
		if id == helperKallsymsLookup {
			st.Kind = StepKallsym
		}
		if regs[1].kind == regBlob && regs[2].kind == regConst {
			st.Symbol = cString(data, int(regs[1].val), int(regs[2].val))
		}
	default:
		return Step{}, false, nil
	}
	return st, true, nil
}

// cString returns the NUL-terminated string at blob[off:off+n], "" if out of range.
func cString(data []byte, off, n int) string {
	if off < 0 || n <= 0 || off+n > len(data) {
		return ""
	}
	b := data[off : off+n]
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func mapFromAttr(data []byte, off int) (MapInfo, error) {
	if off < 0 || off+mapAttrName+objNameLen > len(data) {
		return MapInfo{}, fmt.Errorf("BPF_MAP_CREATE attr at blob offset %d does not fit the %d-byte blob", off, len(data))
	}
	a := data[off:]
	return MapInfo{
		Index:      -1,
		Name:       cString(a, mapAttrName, objNameLen),
		Type:       binary.LittleEndian.Uint32(a[mapAttrType:]),
		ValueSize:  binary.LittleEndian.Uint32(a[mapAttrValueSize:]),
		MaxEntries: binary.LittleEndian.Uint32(a[mapAttrMaxEntries:]),
		AttrOff:    off,
		ValueOff:   -1,
	}, nil
}

func progFromAttr(data []byte, off int) (ProgInfo, error) {
	if off < 0 || off+progAttrName+objNameLen > len(data) {
		return ProgInfo{}, fmt.Errorf("BPF_PROG_LOAD attr at blob offset %d does not fit the %d-byte blob", off, len(data))
	}
	a := data[off:]
	return ProgInfo{
		Name:        cString(a, progAttrName, objNameLen),
		Type:        binary.LittleEndian.Uint32(a[progAttrType:]),
		InsnCnt:     binary.LittleEndian.Uint32(a[progAttrInsnCnt:]),
		AttrOff:     off,
		FDSlot:      0,
		FDStoreSlot: -1,
	}, nil
}

// pointerTarget returns the blob offset stored (as a pointer) at blob offset
// at, -1 if the loader stores none there. The target is recovered from the
// ld_imm64 that loaded the stored register; Analyze records it in the write.
func pointerTarget(ws []Write, at int) int {
	for i := len(ws) - 1; i >= 0; i-- {
		if ws[i].Off == at && ws[i].Pointer {
			return ws[i].Target
		}
	}
	return -1
}

// noteFDStore records where a successful call's fd went: for BPF_MAP_CREATE,
// the fd_array slot gives the map's index.
func noteFDStore(inv *Inventory, step, off int) {
	st := &inv.Steps[step]
	if st.Kind != StepSysBPF || st.Cmd != CmdMapCreate || st.Map < 0 {
		return
	}
	m := &inv.Maps[st.Map]
	if m.Index != -1 {
		return // the first store of the fd is the fd_array slot
	}
	m.Index = -2 - off // resolved to an index in resolveMaps, once the fd_array base is known
}

// noteCtxRead records host-override reads of the ctx's map descriptors.
func noteCtxRead(inv *Inventory, off, size int) {
	if off < ctxHeader {
		return
	}
	inv.ctxReads = append(inv.ctxReads, ctxRead{off: off, size: size})
}

type ctxRead struct{ off, size int }

// resolveMaps gives each map its fd_array index (gen_loader numbers maps in
// creation order and stores each fd at fd_array + 4*index), its initial value
// (the BPF_MAP_UPDATE_ELEM step that names its fd_array slot) and its
// host-override reads of the loader ctx.
func resolveMaps(inv *Inventory) {
	base, next := -1, 0
	for i := range inv.Maps {
		m := &inv.Maps[i]
		if m.Index >= -1 {
			continue // inner map (fd kept on the stack) or fd store not seen
		}
		off := -2 - m.Index
		m.Index = -1
		if base < 0 {
			base = off
		}
		if off != base+4*next {
			continue // not gen_loader's numbering: leave it unresolved
		}
		m.Index = next
		next++
	}
	byIndex := map[int]int{}
	for i, m := range inv.Maps {
		if m.Index >= 0 {
			byIndex[m.Index] = i
		}
	}
	for si, st := range inv.Steps {
		if st.Kind != StepSysBPF || base < 0 || (st.Cmd != CmdMapUpdateElem && st.Cmd != CmdMapFreeze) {
			continue
		}
		from := -1
		for _, w := range inv.Writes {
			if w.Off == st.AttrOff && w.From >= 0 && w.Slot < st.Slot {
				from = w.From // the last copy into attr.map_fd before the call
			}
		}
		if from < base || (from-base)%4 != 0 {
			continue
		}
		mi, ok := byIndex[(from-base)/4]
		if !ok {
			continue
		}
		inv.Steps[si].Map = mi
		if st.Cmd == CmdMapUpdateElem {
			var val int = -1
			for _, w := range inv.Writes {
				if w.Off == st.AttrOff+updateAttrValue && w.Pointer && w.Slot < st.Slot {
					val = w.Target
				}
			}
			inv.Maps[mi].ValueOff = val
		}
	}
	for _, r := range inv.ctxReads {
		idx, field := (r.off-ctxHeader)/mapDescSize, (r.off-ctxHeader)%mapDescSize
		mi, ok := byIndex[idx]
		if !ok {
			continue
		}
		switch {
		case field == 4 && r.size == 4:
			inv.Maps[mi].MaxEntriesOverride = true
		case field == 8 && r.size == 8:
			inv.Maps[mi].InitialOverride = true
		}
	}
}

// MapByIndex returns the map with fd_array index idx, or nil.
func (inv *Inventory) MapByIndex(idx int) *MapInfo {
	for i := range inv.Maps {
		if inv.Maps[i].Index == idx {
			return &inv.Maps[i]
		}
	}
	return nil
}
