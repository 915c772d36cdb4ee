package bpfsys

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// ProbeItem is the outcome of trying one kernel feature.
type ProbeItem struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// ProbeReport lists what the running kernel offers, each item found by trying it.
type ProbeReport struct {
	Kernel string `json:"kernel"` // uname release
	// BPF: bpf(2) can create an array map.
	BPF ProbeItem `json:"bpf"`
	// SyscallProg: a BPF_PROG_TYPE_SYSCALL program loads and runs.
	SyscallProg ProbeItem `json:"syscall_prog"`
	// ExclusiveMaps: BPF_MAP_CREATE takes excl_prog_hash and the verifier refuses a program
	// whose hash differs (EACCES).
	ExclusiveMaps ProbeItem `json:"exclusive_maps"`
	// MapHash: BPF_OBJ_GET_INFO_BY_FD returns SHA-256 of a frozen array's value.
	MapHash ProbeItem `json:"map_hash"`
	// MapHashNeedsFrozen: the hash request on an unfrozen array fails with EPERM.
	MapHashNeedsFrozen ProbeItem `json:"map_hash_needs_frozen"`
	// MapExclField: a program reading struct bpf_map's excl (offset 32) sees 1 for an
	// exclusive map, 0 for another (what a v2 legacy loader checks).
	MapExclField ProbeItem `json:"map_excl_field"`
	// SignatureFields: BPF_PROG_LOAD accepts attr size 168 with keyring_id set.
	SignatureFields ProbeItem `json:"signature_fields"`
	// SignatureVerification: a signed load reaches a PKCS#7 verifier (a garbage signature
	// is refused as a signature, not with EOPNOTSUPP).
	SignatureVerification ProbeItem `json:"signature_verification"`
	// Keyrings are the keyring facts: system keyrings, the .bpf keyring and its
	// keyring_unsealed parameter, and which keyring ids a signed load resolves.
	Keyrings *KeyringReport `json:"keyrings"`
}

// Items returns the report's items with their snake_case names, in a fixed order.
func (r *ProbeReport) Items() []struct {
	Name string
	Item ProbeItem
} {
	type ni = struct {
		Name string
		Item ProbeItem
	}
	return []ni{
		{"bpf", r.BPF},
		{"syscall_prog", r.SyscallProg},
		{"exclusive_maps", r.ExclusiveMaps},
		{"map_hash", r.MapHash},
		{"map_hash_needs_frozen", r.MapHashNeedsFrozen},
		{"map_excl_field", r.MapExclField},
		{"signature_fields", r.SignatureFields},
		{"signature_verification", r.SignatureVerification},
	}
}

// String renders one line per item.
func (r *ProbeReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel %s\n", r.Kernel)
	for _, it := range r.Items() {
		mark := "no "
		if it.Item.OK {
			mark = "yes"
		}
		fmt.Fprintf(&b, "%-22s %s  %s\n", it.Name, mark, it.Item.Detail)
	}
	if r.Keyrings != nil {
		b.WriteString(r.Keyrings.String())
	}
	return b.String()
}

// Probe tries each feature against the running kernel. Every object it creates is closed.
func Probe() *ProbeReport {
	loadMu.Lock()
	defer loadMu.Unlock()
	r := &ProbeReport{Kernel: kernelRelease()}
	r.BPF = probeBPF()
	r.SyscallProg = probeSyscallProg()
	r.ExclusiveMaps = probeExclusiveMaps()
	r.MapHash = probeMapHash()
	r.MapHashNeedsFrozen = probeMapHashNeedsFrozen()
	r.MapExclField = probeMapExclField()
	r.SignatureFields = probeSignatureFields()
	r.SignatureVerification = probeSignatureVerification()
	r.Keyrings = probeKeyrings()
	return r
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// failed describes an errno for a probe item, naming the privilege problem on EPERM.
func failed(what string, e unix.Errno) ProbeItem {
	d := fmt.Sprintf("%s: %s (%v)", what, unix.ErrnoName(e), e)
	if e == unix.EPERM {
		d += "; needs CAP_BPF and CAP_PERFMON (run as root)"
	}
	return ProbeItem{Detail: d}
}

// Probe programs.
var (
	// progReturn0: r0 = 0; exit.
	progReturn0 = concat(insn(0xb7, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0))
	// progReadExcl: r1 = map_by_idx(0); r0 = *(u32 *)(r1 + 32) (map->excl); exit.
	progReadExcl = concat(
		insn(0x18, 1, 5, 0, 0), insn(0, 0, 0, 0, 0),
		insn(0x61, 0, 1, 32, 0),
		insn(0x95, 0, 0, 0, 0))
	// progReadExclOther is progReadExcl with one more instruction: another hash.
	progReadExclOther = concat(
		insn(0x18, 1, 5, 0, 0), insn(0, 0, 0, 0, 0),
		insn(0x61, 0, 1, 32, 0),
		insn(0xbf, 0, 0, 0, 0), // r0 = r0
		insn(0x95, 0, 0, 0, 0))
)

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// probeLoad describes one probe program load.
type probeLoad struct {
	insns     []byte
	mapFD     int // -1: no fd_array
	signature []byte
	keyringID int32
}

func (p probeLoad) load() (int, unix.Errno) {
	a := newAttr(progLoadAttrSize)
	defer a.release()
	a.u32(offProgType, progTypeSyscall)
	a.u32(offInsnCnt, uint32(len(p.insns)/8))
	a.ptr(offInsns, p.insns)
	a.ptr(offLicense, licenseGPL)
	a.u32(offProgFlags, flagSleepable) // "Syscall programs can only be sleepable"
	copy(a.b[offProgName:], "bpfsig_probe")
	if p.mapFD >= 0 {
		fa := make([]byte, 4)
		binary.LittleEndian.PutUint32(fa, uint32(p.mapFD))
		a.ptr(offFdArray, fa)
	}
	if p.signature != nil {
		a.ptr(offSignature, p.signature)
		a.u32(offSignatureSize, uint32(len(p.signature)))
	}
	a.u32(offKeyringID, uint32(p.keyringID))
	for i := 1; ; i++ {
		fd, e := sysBPF(cmdProgLoad, a)
		if e != unix.EAGAIN || i == progLoadAttempts {
			return fd, e
		}
	}
}

// runProg runs a syscall program once without context and returns its retval.
func runProg(fd int) (int32, unix.Errno) {
	a := newAttr(progRunAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	if _, e := sysBPF(cmdProgRun, a); e != 0 {
		return 0, e
	}
	return int32(binary.LittleEndian.Uint32(a.b[4:])), 0
}

func probeBPF() ProbeItem {
	fd, e := mapCreate("bpfsig_probe", 4, 8, 1, nil)
	if e != 0 {
		return failed("BPF_MAP_CREATE of an array", e)
	}
	unix.Close(fd)
	return ProbeItem{OK: true, Detail: "BPF_MAP_CREATE works"}
}

func probeSyscallProg() ProbeItem {
	fd, e := probeLoad{insns: progReturn0, mapFD: -1}.load()
	if e != 0 {
		return failed("BPF_PROG_LOAD of a syscall program", e)
	}
	defer unix.Close(fd)
	rv, e := runProg(fd)
	if e != 0 {
		return failed("BPF_PROG_RUN of a syscall program", e)
	}
	if rv != 0 {
		return ProbeItem{Detail: fmt.Sprintf("syscall program returned %d, want 0", rv)}
	}
	return ProbeItem{OK: true, Detail: "syscall programs load and run"}
}

func probeExclusiveMaps() ProbeItem {
	h := sha256.Sum256(progReadExcl)
	fd, e := mapCreate("bpfsig_probe", 4, 8, 1, h[:])
	if e != 0 {
		if e == unix.E2BIG || e == unix.EINVAL {
			return ProbeItem{Detail: fmt.Sprintf("BPF_MAP_CREATE with excl_prog_hash: %s: field unknown to this kernel", unix.ErrnoName(e))}
		}
		return failed("BPF_MAP_CREATE with excl_prog_hash", e)
	}
	defer unix.Close(fd)
	pfd, e := probeLoad{insns: progReadExclOther, mapFD: fd}.load()
	if e == 0 {
		unix.Close(pfd)
		return ProbeItem{Detail: "a program with another hash was allowed to use the exclusive map"}
	}
	if e != unix.EACCES {
		return failed("loading a program with another hash", e)
	}
	pfd, e = probeLoad{insns: progReadExcl, mapFD: fd}.load()
	if e != 0 {
		return failed("loading the program whose hash the map names", e)
	}
	unix.Close(pfd)
	return ProbeItem{OK: true, Detail: "excl_prog_hash accepted; other program refused with EACCES, matching one loads"}
}

// frozenArray creates an 8-byte array holding value, frozen if asked.
func frozenArray(value []byte, freeze bool) (int, unix.Errno, string) {
	fd, e := mapCreate("bpfsig_probe", 4, uint32(len(value)), 1, nil)
	if e != 0 {
		return -1, e, "BPF_MAP_CREATE"
	}
	if e := mapUpdate(fd, 0, value); e != 0 {
		unix.Close(fd)
		return -1, e, "BPF_MAP_UPDATE_ELEM"
	}
	if freeze {
		if e := mapFreeze(fd); e != 0 {
			unix.Close(fd)
			return -1, e, "BPF_MAP_FREEZE"
		}
	}
	return fd, 0, ""
}

var probeValue = []byte("bpfsig!\n")

func probeMapHash() ProbeItem {
	fd, e, what := frozenArray(probeValue, true)
	if e != 0 {
		return failed(what, e)
	}
	defer unix.Close(fd)
	h, e := mapHash(fd)
	if e != 0 {
		if e == unix.E2BIG || e == unix.EINVAL {
			return ProbeItem{Detail: fmt.Sprintf("map info hash: %s: not supported by this kernel", unix.ErrnoName(e))}
		}
		return failed("BPF_OBJ_GET_INFO_BY_FD with hash", e)
	}
	want := sha256.Sum256(probeValue)
	if !bytes.Equal(h, want[:]) {
		return ProbeItem{Detail: fmt.Sprintf("hash %x, want SHA-256 of the value %x", h, want)}
	}
	return ProbeItem{OK: true, Detail: "frozen array answers SHA-256 of its value"}
}

func probeMapHashNeedsFrozen() ProbeItem {
	fd, e, what := frozenArray(probeValue, false)
	if e != 0 {
		return failed(what, e)
	}
	defer unix.Close(fd)
	_, e = mapHash(fd)
	switch e {
	case unix.EPERM:
		return ProbeItem{OK: true, Detail: "unfrozen array: EPERM"}
	case 0:
		return ProbeItem{Detail: "an unfrozen array answered its hash"}
	}
	return ProbeItem{Detail: fmt.Sprintf("unfrozen array: %s (hash request unsupported?)", unix.ErrnoName(e))}
}

func probeMapExclField() ProbeItem {
	read := func(excl []byte) (int32, unix.Errno, string) {
		fd, e := mapCreate("bpfsig_probe", 4, 8, 1, excl)
		if e != 0 {
			return 0, e, "BPF_MAP_CREATE"
		}
		defer unix.Close(fd)
		pfd, e := probeLoad{insns: progReadExcl, mapFD: fd}.load()
		if e != 0 {
			return 0, e, "BPF_PROG_LOAD of a program reading map->excl"
		}
		defer unix.Close(pfd)
		rv, e := runProg(pfd)
		if e != 0 {
			return 0, e, "BPF_PROG_RUN"
		}
		return rv, 0, ""
	}
	h := sha256.Sum256(progReadExcl)
	ex, e, what := read(h[:])
	if e != 0 {
		return failed(what+" (exclusive map)", e)
	}
	plain, e, what := read(nil)
	if e != 0 {
		return failed(what+" (plain map)", e)
	}
	if ex != 1 || plain != 0 {
		return ProbeItem{Detail: fmt.Sprintf("map->excl at offset 32 reads %d (exclusive) and %d (plain), want 1 and 0", ex, plain)}
	}
	return ProbeItem{OK: true, Detail: "map->excl at offset 32: 1 for an exclusive map, 0 otherwise"}
}

func probeSignatureFields() ProbeItem {
	fd, e := probeLoad{insns: progReturn0, mapFD: -1, keyringID: 7}.load()
	if e != 0 {
		if e == unix.E2BIG {
			return ProbeItem{Detail: "attr size 168 with keyring_id: E2BIG (no signature fields)"}
		}
		return failed("BPF_PROG_LOAD, attr size 168 with keyring_id", e)
	}
	unix.Close(fd)
	return ProbeItem{OK: true, Detail: "attr size 168 with keyring_id accepted"}
}

// garbageSignature is a DER SEQUENCE that is not a CMS ContentInfo.
var garbageSignature = concat([]byte{0x30, 0x0e, 0x06, 0x03, 0x2a, 0x03, 0x04}, bytes.Repeat([]byte{0x05}, 7))

func probeSignatureVerification() ProbeItem {
	fd, e := probeLoad{insns: progReturn0, mapFD: -1, signature: garbageSignature, keyringID: 0}.load()
	switch e {
	case 0:
		unix.Close(fd)
		return ProbeItem{Detail: "a garbage signature was ACCEPTED: signature fields ignored"}
	case unix.EOPNOTSUPP:
		return ProbeItem{Detail: "signed BPF_PROG_LOAD fails with EOPNOTSUPP: kernel built without CONFIG_SYSTEM_DATA_VERIFICATION; signatures cannot be checked here"}
	case unix.E2BIG:
		return ProbeItem{Detail: "signed BPF_PROG_LOAD: E2BIG: kernel has no signature fields"}
	case unix.EBADMSG, unix.EKEYREJECTED, unix.ENOKEY, unix.ENOPKG:
		return ProbeItem{OK: true, Detail: fmt.Sprintf("garbage signature refused with %s: kernel verifies PKCS#7 signatures", unix.ErrnoName(e))}
	}
	return failed("signed BPF_PROG_LOAD with a garbage signature", e)
}
