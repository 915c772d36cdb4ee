package bpfsys

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpf(2) commands used by this package (include/uapi/linux/bpf.h).
const (
	cmdMapCreate     = 0
	cmdMapLookupElem = 1
	cmdMapUpdateElem = 2
	cmdProgLoad      = 5
	cmdProgRun       = 10
	cmdProgGetNextID = 11
	cmdMapGetNextID  = 12
	cmdObjGetInfo    = 15
	cmdMapFreeze     = 22
)

// Attribute sizes and offsets measured against the 6.18 UAPI (docs/spec.md §5.1).
const (
	// mapCreateAttrSize is offsetofend(union bpf_attr, excl_prog_hash_size), what libbpf passes.
	mapCreateAttrSize  = 92
	offMapExclHash     = 80
	offMapExclHashSize = 88

	mapUpdateAttrSize = 32
	mapFreezeAttrSize = 4
	getInfoAttrSize   = 16
	mapInfoSize       = 104
	offMapInfoHash    = 88
	offMapInfoHashLen = 96
	nextIDAttrSize    = 8
	progRunAttrSize   = 80 // offsetofend(union bpf_attr, test)

	// progLoadAttrSize is sizeof(union bpf_attr) on 6.18: it ends with keyring_id.
	progLoadAttrSize = 168
	// chainProgLoadAttrSize adds signature_maps (u64 at 168) and signature_maps_size (u32 at 176).
	chainProgLoadAttrSize = 180

	offProgType       = 0
	offInsnCnt        = 4
	offInsns          = 8
	offLicense        = 16
	offLogLevel       = 24
	offLogSize        = 28
	offLogBuf         = 32
	offProgFlags      = 44
	offProgName       = 48
	offFdArray        = 120
	offFdArrayCnt     = 148
	offSignature      = 152
	offSignatureSize  = 160
	offKeyringID      = 164
	offSignatureMaps  = 168
	offSignatureMapsN = 176

	progTypeSyscall = 31
	mapTypeArray    = 2
	flagSleepable   = 0x10

	hashSize = 32 // SHA-256
)

// attr is a bpf(2) attribute buffer. Pointers stored in it refer to pinned Go memory until
// release is called.
type attr struct {
	b   []byte
	pin runtime.Pinner
}

func newAttr(size int) *attr {
	a := &attr{b: make([]byte, size)}
	a.pin.Pin(&a.b[0])
	return a
}

func (a *attr) u32(off int, v uint32) { binary.LittleEndian.PutUint32(a.b[off:], v) }
func (a *attr) u64(off int, v uint64) { binary.LittleEndian.PutUint64(a.b[off:], v) }

// ptr stores the address of p at off (0 for an empty p) and pins p.
func (a *attr) ptr(off int, p []byte) {
	if len(p) == 0 {
		a.u64(off, 0)
		return
	}
	a.pin.Pin(&p[0])
	a.u64(off, uint64(uintptr(unsafe.Pointer(&p[0]))))
}

func (a *attr) release() { a.pin.Unpin() }

// sysBPF issues bpf(cmd, attr, len(attr)) and returns the result or the errno.
func sysBPF(cmd int, a *attr) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(unsafe.Pointer(&a.b[0])), uintptr(len(a.b)))
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// insn encodes one struct bpf_insn.
func insn(code, dst, src uint8, off int16, imm int32) []byte {
	b := make([]byte, 8)
	b[0] = code
	b[1] = dst&0xf | src<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(off))
	binary.LittleEndian.PutUint32(b[4:], uint32(imm))
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// licenseGPL is what libbpf's loader uses; syscall programs reading kernel memory need a GPL license.
var licenseGPL = cstr("Dual BSD/GPL")

// objectIDs lists the IDs of all BPF programs (cmd BPF_PROG_GET_NEXT_ID) or maps
// (BPF_MAP_GET_NEXT_ID) in the system.
func objectIDs(cmd int) ([]uint32, unix.Errno) {
	var ids []uint32
	start := uint32(0)
	for {
		a := newAttr(nextIDAttrSize)
		a.u32(0, start)
		_, e := sysBPF(cmd, a)
		next := binary.LittleEndian.Uint32(a.b[4:])
		a.release()
		if e == unix.ENOENT {
			return ids, 0
		}
		if e != 0 {
			return ids, e
		}
		ids = append(ids, next)
		start = next
	}
}
