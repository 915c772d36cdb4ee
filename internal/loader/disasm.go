package loader

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
)

// Disasm writes one line per instruction:
//
//	<slot> <first slot's 8 bytes in hex>  <cilium/ebpf/asm rendering>[  ; note]
//
// Notes give the absolute target of every jump (named L, L+1 or S where it
// applies) and the meaning of ld_imm64 with src 5 (map_by_idx) or 6
// (map_by_idx_value). Comment lines mark the cleanup label, the body start and
// each recognised block:
//
//	; --- check v1 begin: slots 36..63, H = d681... ---
//	; --- check v1 end ---
//	; --- max_entries begin: slots 93..97, ctx_off 28 (map 0), blob_off 2364 ---
func (l *Loader) Disasm(w io.Writer) error {
	bw := bufio.NewWriter(w)
	begins := map[int]string{}
	ends := map[int]string{}
	blocks := l.Overrides()
	if l.check != nil {
		blocks = append(blocks, *l.check)
	}
	for _, b := range blocks {
		name := b.Kind.String()
		var detail string
		switch b.Kind {
		case BlockCheck:
			name += " " + b.Gen.String()
			detail = "H = " + hex.EncodeToString(b.Hash[:])
		case BlockMaxEntries:
			detail = fmt.Sprintf("ctx_off %d (map %d), blob_off %d", b.CtxOff, b.MapIndex(), b.BlobOff)
		case BlockInitialValue:
			detail = fmt.Sprintf("ctx_off %d (map %d), blob_off %d, value_size %d", b.CtxOff, b.MapIndex(), b.BlobOff, b.ValueSize)
		}
		begins[b.Start] = fmt.Sprintf("; --- %s begin: slots %d..%d, %s ---", name, b.Start, b.End()-1, detail)
		ends[b.End()-1] = fmt.Sprintf("; --- %s end ---", name)
	}
	l.decodeASM()
	for j, ins := range l.insns {
		slot := l.slots[j]
		switch slot {
		case cleanupLabel:
			fmt.Fprintf(bw, "; L: cleanup (slot %d)\n", slot)
		case l.bodyStart:
			fmt.Fprintf(bw, "; S: first code after the cleanup exit (slot %d)\n", slot)
		}
		if s, ok := begins[slot]; ok {
			fmt.Fprintln(bw, s)
		}
		fmt.Fprintf(bw, "%5d  %x  %v%s\n", slot, l.raw[slot*SlotSize:(slot+1)*SlotSize], ins, l.note(slot))
		end := slot
		if l.second[min(slot+1, len(l.second)-1)] {
			end = slot + 1
		}
		if s, ok := ends[end]; ok {
			fmt.Fprintln(bw, s)
		}
	}
	return bw.Flush()
}

// note returns the comment for the instruction at slot i ("" for none).
func (l *Loader) note(i int) string {
	b := l.raw
	if k := relRef(b, i); k != refNone {
		t := target(b, i, k)
		name := ""
		switch t {
		case cleanupLabel:
			name = " (L)"
		case cleanupLabel + 1:
			name = " (L+1)"
		case l.bodyStart:
			name = " (S)"
		}
		return fmt.Sprintf("  ; -> %d%s", t, name)
	}
	if slotCode(b, i) == opLdImm64 {
		switch slotSrc(b, i) {
		case pseudoMapIdx:
			return fmt.Sprintf("  ; r%d = map_by_idx(%d)", slotDst(b, i), slotImm(b, i))
		case pseudoMapIdxVal:
			return fmt.Sprintf("  ; r%d = map_by_idx_value(%d) + %d", slotDst(b, i), slotImm(b, i), slotImm(b, i+1))
		case 0:
			if c := l.check; c != nil && i >= c.Start && i < c.End() {
				return fmt.Sprintf("  ; bytes %x%x", b[i*SlotSize+4:i*SlotSize+8], b[(i+1)*SlotSize+4:(i+2)*SlotSize])
			}
		}
	}
	return ""
}
