package preflight

import "encoding/binary"

// tgen emits loaders the way libbpf's gen_loader.c does (the same
// instruction sequences for the steps this package reads), so tests can make
// loaders of any shape: any number of programs and maps, either stack layout,
// with or without host overrides, with extra bindings.
type tgen struct {
	insn, data []byte
	stack      int // sizeof(struct loader_stack)
	progFD0    int // offset of prog_fd[0] in the stack struct
	fdArray    int
	nMaps      int
	nProgs     int
	progNames  []string
	mapNames   []string
}

// Stack layouts of struct loader_stack seen in libbpf: {btf_fd, inner_map_fd,
// prog_fd[32]} (libbpf 1.1 and the fixtures' 1.7/1.8) and {btf_fd,
// prog_fd[32], inner_map_fd}.
const (
	layoutInnerFirst = 8
	layoutProgsFirst = 4
)

func newGen(progFD0 int) *tgen {
	g := &tgen{stack: 136, progFD0: progFD0}
	g.emit(0xbf, 6, 1, 0, 0)
	g.emit(0xbf, 1, 10, 0, 0)
	g.emit(0x07, 1, 0, 0, int32(-g.stack))
	g.emit(0xb7, 2, 0, 0, int32(g.stack))
	g.emit(0xb7, 3, 0, 0, 0)
	g.emit(0x85, 0, 0, 0, 113)
	g.emit(0x05, 0, 0, int16(g.stack/4*3+2), 0)
	for i := 0; i < g.stack; i += 4 {
		g.emit(0x61, 1, 10, int16(-g.stack+i), 0)
		g.emit(0xd5, 1, 0, 1, 0)
		g.emit(0x85, 0, 0, 0, 168)
	}
	g.emit(0xbf, 0, 7, 0, 0)
	g.emit(0x95, 0, 0, 0, 0)
	g.fdArray = g.add(make([]byte, 64*4))
	return g
}

func (g *tgen) slots() int { return len(g.insn) / SlotSize }

func (g *tgen) emit(code, dst, src uint8, off int16, imm int32) {
	var b [8]byte
	b[0], b[1] = code, dst|src<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(off))
	binary.LittleEndian.PutUint32(b[4:], uint32(imm))
	g.insn = append(g.insn, b[:]...)
}

// ld64 emits ld_imm64 dst with the given src and the two imms.
func (g *tgen) ld64(dst, src uint8, lo, hi int32) {
	g.emit(0x18, dst, src, 0, lo)
	g.emit(0, 0, 0, 0, hi)
}

func (g *tgen) ldBlob(dst uint8, off int) { g.ld64(dst, 6, 0, int32(off)) }

func (g *tgen) add(b []byte) int {
	off := len(g.data)
	g.data = append(g.data, b...)
	for len(g.data)%8 != 0 {
		g.data = append(g.data, 0)
	}
	return off
}

// relStore is emit_rel_store: *(u64 *)(blob + off) = blob + target.
func (g *tgen) relStore(off, target int) {
	g.ldBlob(0, target)
	g.ldBlob(1, off)
	g.emit(0x7b, 1, 0, 0, 0)
}

// sysBPF is emit_sys_bpf followed by emit_check_err.
func (g *tgen) sysBPF(cmd, attr, size int) {
	g.emit(0xb7, 1, 0, 0, int32(cmd))
	g.ldBlob(2, attr)
	g.emit(0xb7, 3, 0, 0, int32(size))
	g.emit(0x85, 0, 0, 0, 166)
	g.emit(0xbf, 7, 0, 0, 0)
	g.checkErr()
}

func (g *tgen) checkErr() {
	g.emit(0xc5, 7, 0, int16(7-g.slots()-1), 0)
}

func (g *tgen) mapCreate(name string, typ, valueSize uint32, override bool) int {
	idx := g.nMaps
	a := make([]byte, 72)
	binary.LittleEndian.PutUint32(a[0:], typ)
	binary.LittleEndian.PutUint32(a[4:], 4)
	binary.LittleEndian.PutUint32(a[8:], valueSize)
	binary.LittleEndian.PutUint32(a[12:], 1)
	copy(a[28:43], name)
	attr := g.add(a)
	if override {
		g.emit(0x61, 0, 6, int16(24+16*idx+4), 0)
		g.emit(0x15, 0, 0, 3, 0)
		g.ldBlob(1, attr+12)
		g.emit(0x63, 1, 0, 0, 0)
	}
	g.sysBPF(CmdMapCreate, attr, 72)
	g.ldBlob(1, g.fdArray+4*idx)
	g.emit(0x63, 1, 7, 0, 0)
	g.nMaps++
	g.mapNames = append(g.mapNames, name)
	return idx
}

func (g *tgen) mapUpdate(idx int, value []byte, override bool) {
	val := g.add(value)
	key := g.add(make([]byte, 4))
	if override {
		g.emit(0x79, 3, 6, int16(24+16*idx+8), 0)
		g.emit(0x15, 3, 0, 8, 0)
		g.ldBlob(1, val)
		g.emit(0xb7, 2, 0, 0, int32(len(value)))
		g.emit(0x61, 0, 6, 4, 0)
		g.emit(0x45, 0, 0, 2, 1)
		g.emit(0x85, 0, 0, 0, 148)
		g.emit(0x05, 0, 0, 1, 0)
		g.emit(0x85, 0, 0, 0, 113)
	}
	attr := g.add(make([]byte, 32))
	g.ldBlob(2, g.fdArray+4*idx)
	g.emit(0x61, 0, 2, 0, 0)
	g.ldBlob(1, attr)
	g.emit(0x63, 1, 0, 0, 0)
	g.relStore(attr+8, key)
	g.relStore(attr+16, val)
	g.sysBPF(CmdMapUpdateElem, attr, 32)
}

func (g *tgen) ksym(name string) {
	off := g.add(append([]byte(name), 0))
	g.ldBlob(1, off)
	g.emit(0xb7, 2, 0, 0, int32(len(name)+1))
	g.emit(0xb7, 3, 0, 0, 14) // BTF_KIND_VAR
	g.emit(0xb7, 4, 0, 0, 0)
	g.emit(0x85, 0, 0, 0, 167)
	g.emit(0xbf, 7, 0, 0, 0)
	g.checkErr()
}

func (g *tgen) progLoad(name string) {
	lic := g.add([]byte("GPL\x00"))
	ins := g.add([]byte{0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})
	a := make([]byte, 140)
	binary.LittleEndian.PutUint32(a[0:], 1)
	binary.LittleEndian.PutUint32(a[4:], 2)
	copy(a[48:63], name)
	attr := g.add(a)
	g.relStore(attr+16, lic)
	g.relStore(attr+8, ins)
	g.sysBPF(CmdProgLoad, attr, 140)
	g.emit(0x63, 10, 7, int16(-g.stack+g.progFD0+4*g.nProgs), 0)
	g.nProgs++
	g.progNames = append(g.progNames, name)
}

func (g *tgen) finish() {
	g.emit(0xb7, 0, 0, 0, 0)
	g.emit(0x95, 0, 0, 0, 0)
}

func (g *tgen) input() Input {
	return Input{Name: "gen", Insn: g.insn, Data: g.data, Maps: g.mapNames, Progs: g.progNames}
}
