// Package bpfsys drives a live kernel through bpf(2): it loads a light skeleton's loader the
// way each signing scheme's host code does (create the metadata map, fill, freeze, hash, load,
// run), reports the kernel's answer at every stage, and closes everything it created.
//
// Attribute buffers are laid out by hand at the offsets of the 6.18 UAPI (docs/spec.md §5.1), so
// fields newer than the kernel (the chain scheme's signature_maps) reach it exactly as a real
// host would send them. The loader is run with github.com/cilium/ebpf.
//
// Each procedure runs on its own OS thread with a private copy of the descriptor table: a
// loader creates and closes descriptors in the table of whoever runs it, and a legacy loader's
// error path closes descriptors named by the (possibly tampered) metadata blob.
package bpfsys

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Procedure is the host-side load procedure of a signing scheme (docs/spec.md §4).
type Procedure int

const (
	// Legacy is bpf_load_and_run of Linux 6.18: exclusive metadata map, update, freeze,
	// BPF_OBJ_GET_INFO_BY_FD hash request (which caches map->sha for the loader's check),
	// BPF_PROG_LOAD with fd_array = &map_fd and fd_array_cnt = 0, then one BPF_PROG_RUN.
	Legacy Procedure = iota
	// Chain is Legacy plus the hash-chain UAPI: attr size 180 with signature_maps
	// (indices into fd_array) and signature_maps_size (their count).
	Chain
	// Raw is the load-time verification procedure: as Legacy but without the hash request and
	// with fd_array_cnt = 1 for a signed load (0 for an unsigned one, see FdArrayCnt).
	Raw
)

// String returns "legacy", "chain" or "raw".
func (p Procedure) String() string {
	switch p {
	case Legacy:
		return "legacy"
	case Chain:
		return "chain"
	case Raw:
		return "raw"
	}
	return fmt.Sprintf("Procedure(%d)", int(p))
}

// Loader context layout (libbpf skel_internal.h): struct bpf_loader_ctx (24 bytes), then one
// struct bpf_map_desc (16 bytes) per map, then one struct bpf_prog_desc (4 bytes) per program.
const (
	loaderCtxHeader = 24
	ctxLogLevel     = 8 // struct bpf_loader_ctx: sz, flags, log_level, log_size, log_buf
	ctxLogSize      = 12
	ctxLogBuf       = 16
	mapDescSize     = 16
	progDescSize    = 4
)

// LoadSpec describes one load of a skeleton loader. The zero values of the knobs give the
// scheme's correct procedure.
type LoadSpec struct {
	// Name is the object name, used in error messages.
	Name string
	// Insn is the loader program (opts_insn); Data the metadata blob (opts_data).
	Insn, Data []byte
	// Signature is the DER CMS blob; nil makes an unsigned load (signature fields zero).
	Signature []byte
	// KeyringID is passed as keyring_id (ignored by the kernel when Signature is nil).
	KeyringID int32
	// Procedure selects the scheme's load procedure.
	Procedure Procedure
	// SignatureMaps are indices into fd_array (chain only).
	SignatureMaps []int32
	// CtxSize is the loader context size (ctx.sz): 24 + 16*maps + 4*progs.
	CtxSize int

	// NoExclusive creates the metadata map without excl_prog_hash.
	NoExclusive bool
	// NoFreeze skips BPF_MAP_FREEZE.
	NoFreeze bool
	// NoHashRequest skips the BPF_OBJ_GET_INFO_BY_FD hash round-trip (legacy/chain).
	NoHashRequest bool
	// ExclHash is the map's excl_prog_hash; nil means SHA-256(Insn).
	ExclHash []byte
	// FdArrayCnt overrides fd_array_cnt; nil means the procedure's rule: 0 for Legacy and
	// Chain; for Raw 1 when signed, 0 when unsigned (6.18 rejects an unsigned raw load with
	// fd_array_cnt = 1, see the package tests).
	FdArrayCnt *uint32

	// InnerLogSize, when positive, is the size of a verifier log buffer passed to the loader
	// in its context (struct bpf_loader_ctx: log_level 1 at offset 8, log_size at 12, log_buf
	// at 16). The loader copies the three fields into the attr of every BPF_BTF_LOAD and
	// BPF_PROG_LOAD it issues, so when one of them fails the buffer holds the verifier's log
	// of that object (see LoadResult.InnerLog). Zero leaves the fields zero, as a host that
	// asks for no log does.
	InnerLogSize int
}

// MaxInnerLogSize bounds LoadSpec.InnerLogSize: the kernel refuses a log_size above
// UINT_MAX >> 2 (EINVAL), and bpfsys allocates the buffer.
const MaxInnerLogSize = 1 << 28

// Stage names, in procedure order.
const (
	StageMapCreate = "map_create"
	StageMapUpdate = "map_update"
	StageMapFreeze = "map_freeze"
	StageMapHash   = "map_hash"
	StageProgLoad  = "prog_load"
	StageProgRun   = "prog_run"
)

// Stage is the kernel's answer to one step of the procedure.
type Stage struct {
	Stage string
	// Errno is the bpf(2) error of this step (0 on success).
	Errno unix.Errno
	// Retval is the loader's return value (prog_run only, when the run syscall succeeded).
	Retval *int32
	// Log is the verifier log of the loader when prog_load failed (the load is repeated once
	// with log_level 1 and a 1 MiB buffer to get it; the kernel keeps the end of a longer
	// log), or the error text when prog_run failed. See VerifierError and LogTail.
	Log string
	// Skipped is set when the step was not attempted: a knob left it out, the procedure has no
	// such step, or an earlier step failed.
	Skipped bool
}

// Object describes one kernel object created during a load, read from its fd before closing it.
type Object struct {
	Kind string `json:"kind"` // "map" or "prog"
	Name string `json:"name"` // kernel name (at most 15 bytes)
	Type string `json:"type"` // map or program type, e.g. "Array", "Syscall"
	ID   uint32 `json:"id"`
}

// LoadResult is the outcome of Load.
type LoadResult struct {
	Stages []Stage
	// OK is true when every attempted stage succeeded and the loader returned 0.
	OK bool
	// Errno is the first failing stage's bpf(2) errno; 0 when every syscall succeeded (a
	// loader that returned non-zero is reported in Retval, not here).
	Errno unix.Errno
	// Retval is the loader's return value when it ran.
	Retval *int32
	// Created lists what the loader created and wrote into the context (maps, then programs).
	Created []Object
	// Loader lists the objects of the procedure itself: the metadata map and the loader prog.
	Loader []Object
	// MapHash is the hash the kernel returned for the metadata map (map_hash stage).
	MapHash []byte
	// Attempts is how many times the procedure ran (more than 1 only after a loader
	// returned -EAGAIN, see Load).
	Attempts int
	// InnerLog is the text the kernel left in the loader's log buffer (LoadSpec.InnerLogSize)
	// when the loader returned non-zero: the verifier log of the last BPF_BTF_LOAD or
	// BPF_PROG_LOAD the loader issued, which is the failing one when the loader failed there.
	InnerLog string
	// InnerLogDropped is set when the loader returned -ENOSPC with the log buffer in place (an
	// inner log did not fit, which fails a load that would otherwise succeed): the procedure
	// was then repeated without the buffer, and InnerLog is the truncated log of the first run.
	InnerLogDropped bool
	// DataAfter is the metadata map's value as the loader left it (read with
	// BPF_MAP_LOOKUP_ELEM after the run), nil if the loader did not run or the read failed. The
	// loader writes fds and attr pointers into it step by step, so it tells how far the loader
	// got (see preflight.Inventory.FailedStep).
	DataAfter []byte
	// ClosedFDs lists descriptors that were open before the loader ran and that the loader
	// closed. A legacy loader's error path closes the map descriptors stored in the metadata
	// blob, so a tampered blob can name any descriptor of the host. Load runs the procedure
	// with a private copy of the descriptor table, so these closes did not reach the caller's
	// descriptors; they are reported because a real host (libbpf) would have lost them.
	ClosedFDs []int
}

// Stage returns the named stage, or nil.
func (r *LoadResult) Stage(name string) *Stage {
	for i := range r.Stages {
		if r.Stages[i].Stage == name {
			return &r.Stages[i]
		}
	}
	return nil
}

// ErrUnavailable is returned (wrapped with the errno) when bpf(2) cannot be used at all: the
// syscall is missing or the caller lacks the privileges to create a map.
var ErrUnavailable = errors.New("bpf(2) unavailable")

// loadMu serialises loads: fds the loader writes into the context are validated against the
// fd table as it was before the run.
var loadMu sync.Mutex

func (s *LoadSpec) check() error {
	if s == nil {
		return errors.New("bpfsys: nil spec")
	}
	switch {
	case s.Procedure != Legacy && s.Procedure != Chain && s.Procedure != Raw:
		return fmt.Errorf("bpfsys: unknown procedure %d", int(s.Procedure))
	case len(s.Insn) == 0 || len(s.Insn)%8 != 0:
		return fmt.Errorf("bpfsys: %s: loader is %d bytes, want a non-zero multiple of 8", s.Name, len(s.Insn))
	case len(s.Data) == 0:
		return fmt.Errorf("bpfsys: %s: empty metadata blob", s.Name)
	case s.CtxSize < loaderCtxHeader || s.CtxSize%4 != 0 || s.CtxSize > 1<<16:
		return fmt.Errorf("bpfsys: %s: loader context size %d invalid (want 24 + 16*maps + 4*progs)", s.Name, s.CtxSize)
	case len(s.SignatureMaps) > 0 && s.Procedure != Chain:
		return fmt.Errorf("bpfsys: %s: signature maps given for the %s procedure", s.Name, s.Procedure)
	case s.Signature != nil && len(s.Signature) == 0:
		return fmt.Errorf("bpfsys: %s: empty signature (use nil for an unsigned load)", s.Name)
	case s.InnerLogSize < 0 || s.InnerLogSize > MaxInnerLogSize:
		return fmt.Errorf("bpfsys: %s: inner log size %d out of range 0..%d", s.Name, s.InnerLogSize, MaxInnerLogSize)
	case s.CtxSize < loaderCtxHeader+8 && s.InnerLogSize > 0:
		return fmt.Errorf("bpfsys: %s: loader context of %d bytes has no room for the log fields", s.Name, s.CtxSize)
	}
	return nil
}

// Load runs the spec's procedure against the kernel. Kernel failures are reported in the
// result; the error is non-nil only for a malformed spec or when bpf(2) is unavailable
// (wrapping ErrUnavailable and the errno). Every object created — the metadata map, the
// loader program and every fd the loader wrote into its context — is described and closed
// before Load returns; the procedure runs in a private descriptor table (see ClosedFDs) that
// is discarded with its thread, so even descriptors a loader leaks do not outlive Load.
//
// A loader whose own BPF_PROG_LOAD of an object was interrupted by a signal returns -EAGAIN
// (the verifier gives up when a signal is pending; Go's runtime signals its threads). Load then
// repeats the whole procedure from a fresh map, at most maxAttempts times in all, and reports
// the number of attempts.
func Load(spec LoadSpec) (*LoadResult, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	for attempt := 1; ; attempt++ {
		var res *LoadResult
		var err error
		if perr := inPrivateFDTable(func() { res, err = loadOnce(&spec) }); perr != nil {
			return nil, fmt.Errorf("bpfsys: %s: private descriptor table: %w", spec.Name, perr)
		}
		if res != nil {
			res.Attempts = attempt
		}
		if err == nil && spec.InnerLogSize > 0 && res.Retval != nil && *res.Retval == -int32(unix.ENOSPC) {
			// The inner log did not fit; a host without a log buffer would not have failed.
			first := res.InnerLog
			spec.InnerLogSize = 0
			if perr := inPrivateFDTable(func() { res, err = loadOnce(&spec) }); perr != nil {
				return nil, fmt.Errorf("bpfsys: %s: private descriptor table: %w", spec.Name, perr)
			}
			if res != nil {
				res.Attempts, res.InnerLog, res.InnerLogDropped = attempt+1, first, true
			}
			return res, err
		}
		if err != nil || res.Retval == nil || *res.Retval != -int32(unix.EAGAIN) || attempt == maxAttempts {
			return res, err
		}
	}
}

// maxAttempts bounds the repetitions of an interrupted procedure (see Load).
const maxAttempts = 3

func loadOnce(spec *LoadSpec) (*LoadResult, error) {
	res := &LoadResult{}
	st := newStages(res)
	mapFD, progFD := -1, -1
	defer func() {
		// Close whatever was not handed to cilium/ebpf (and so already closed).
		if progFD >= 0 {
			unix.Close(progFD)
		}
		if mapFD >= 0 {
			unix.Close(mapFD)
		}
	}()

	// 1. BPF_MAP_CREATE "__loader.map": ARRAY, key 4, value len(D), 1 entry, excl_prog_hash.
	excl := spec.ExclHash
	if excl == nil {
		h := sha256.Sum256(spec.Insn)
		excl = h[:]
	}
	if spec.NoExclusive {
		excl = nil
	}
	fd, e := mapCreate("__loader.map", 4, uint32(len(spec.Data)), 1, excl)
	if !st.record(StageMapCreate, e) {
		st.skipRest()
		if e == unix.ENOSYS || e == unix.EPERM {
			return res, fmt.Errorf("bpfsys: %s: create loader map: %w: %w", spec.Name, ErrUnavailable, e)
		}
		return res, nil
	}
	mapFD = fd

	// 2. Element 0 = D.
	if !st.record(StageMapUpdate, mapUpdate(mapFD, 0, spec.Data)) {
		st.skipRest()
		res.Loader = describe(&mapFD, nil)
		return res, nil
	}

	// 3. Freeze.
	if spec.NoFreeze {
		st.skip(StageMapFreeze)
	} else if !st.record(StageMapFreeze, mapFreeze(mapFD)) {
		st.skipRest()
		res.Loader = describe(&mapFD, nil)
		return res, nil
	}

	// 4. Hash request (legacy, chain): computes and caches map->sha.
	if spec.Procedure == Raw || spec.NoHashRequest {
		st.skip(StageMapHash)
	} else {
		h, e := mapHash(mapFD)
		if !st.record(StageMapHash, e) {
			st.skipRest()
			res.Loader = describe(&mapFD, nil)
			return res, nil
		}
		res.MapHash = h
	}

	// 5. BPF_PROG_LOAD of the loader.
	fd, e, log := progLoad(spec, mapFD)
	if !st.record(StageProgLoad, e) {
		st.stages()[len(res.Stages)-1].Log = log
		st.skipRest()
		res.Loader = describe(&mapFD, nil)
		return res, nil
	}
	progFD = fd

	// 6. BPF_PROG_RUN once with the context.
	before := openFDs()
	progFDRun := progFD
	prog, err := ebpf.NewProgramFromFD(progFD)
	progFD = -1 // owned (and on error closed) by cilium/ebpf
	if err != nil {
		st.record(StageProgRun, errnoOf(err, unix.EINVAL))
		st.stages()[len(res.Stages)-1].Log = err.Error()
		res.Loader = describe(&mapFD, nil)
		return res, nil
	}
	loaderProg := Object{Kind: "prog"}
	if typ, id, name, e := objInfo(progFDRun, progInfoNameOff); e == 0 {
		loaderProg = Object{Kind: "prog", Name: name, Type: ebpf.ProgramType(typ).String(), ID: id}
	}
	ctx := make([]byte, spec.CtxSize)
	binary.LittleEndian.PutUint32(ctx, uint32(spec.CtxSize))
	var innerLog []byte
	var pin runtime.Pinner
	if spec.InnerLogSize > 0 {
		innerLog = make([]byte, spec.InnerLogSize)
		pin.Pin(&innerLog[0])
		binary.LittleEndian.PutUint32(ctx[ctxLogLevel:], 1)
		binary.LittleEndian.PutUint32(ctx[ctxLogSize:], uint32(len(innerLog)))
		binary.LittleEndian.PutUint64(ctx[ctxLogBuf:], uint64(uintptr(unsafe.Pointer(&innerLog[0]))))
	}
	out := make([]byte, spec.CtxSize)
	ret, err := prog.Run(&ebpf.RunOptions{Context: ctx, ContextOut: out})
	pin.Unpin()
	prog.Close()
	if err == nil {
		if v, e := mapLookup(mapFD, 0, len(spec.Data)); e == 0 {
			res.DataAfter = v
		}
	}
	delete(before, progFDRun)
	res.ClosedFDs = closedSince(before)
	if err != nil {
		st.record(StageProgRun, errnoOf(err, unix.EINVAL))
		st.stages()[len(res.Stages)-1].Log = err.Error()
	} else {
		rv := int32(ret)
		res.Retval = &rv
		st.record(StageProgRun, 0)
		st.stages()[len(res.Stages)-1].Retval = &rv
		if rv == 0 {
			res.Created = collectCreated(out, before)
		} else if innerLog != nil {
			res.InnerLog = logText(innerLog)
		}
	}
	res.Loader = describe(&mapFD, &loaderProg)
	res.OK = res.Errno == 0 && res.Retval != nil && *res.Retval == 0
	return res, nil
}

// stages records stage outcomes in procedure order.
type stageRec struct {
	res  *LoadResult
	next int
}

var stageOrder = []string{StageMapCreate, StageMapUpdate, StageMapFreeze, StageMapHash, StageProgLoad, StageProgRun}

func newStages(res *LoadResult) *stageRec { return &stageRec{res: res} }

func (s *stageRec) stages() []Stage { return s.res.Stages }

// record appends the stage and reports whether it succeeded.
func (s *stageRec) record(name string, e unix.Errno) bool {
	s.res.Stages = append(s.res.Stages, Stage{Stage: name, Errno: e})
	s.next++
	if e != 0 && s.res.Errno == 0 {
		s.res.Errno = e
	}
	return e == 0
}

func (s *stageRec) skip(name string) {
	s.res.Stages = append(s.res.Stages, Stage{Stage: name, Skipped: true})
	s.next++
}

func (s *stageRec) skipRest() {
	for s.next < len(stageOrder) {
		s.skip(stageOrder[s.next])
	}
}

func errnoOf(err error, fallback unix.Errno) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return fallback
}

// mapCreate creates a map with an optional excl_prog_hash (nil: not exclusive).
func mapCreate(name string, keySize, valueSize, maxEntries uint32, excl []byte) (int, unix.Errno) {
	a := newAttr(mapCreateAttrSize)
	defer a.release()
	a.u32(0, mapTypeArray)
	a.u32(4, keySize)
	a.u32(8, valueSize)
	a.u32(12, maxEntries)
	copy(a.b[28:28+15], name)
	if excl != nil {
		a.ptr(offMapExclHash, excl)
		a.u32(offMapExclHashSize, uint32(len(excl)))
	}
	return sysBPF(cmdMapCreate, a)
}

func mapUpdate(fd int, key uint32, value []byte) unix.Errno {
	k := make([]byte, 4)
	binary.LittleEndian.PutUint32(k, key)
	a := newAttr(mapUpdateAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	a.ptr(8, k)
	a.ptr(16, value)
	_, e := sysBPF(cmdMapUpdateElem, a)
	return e
}

func mapFreeze(fd int) unix.Errno {
	a := newAttr(mapFreezeAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	_, e := sysBPF(cmdMapFreeze, a)
	return e
}

// mapHash asks for the map's SHA-256 (struct bpf_map_info.hash), which also caches it in
// map->sha.
func mapHash(fd int) ([]byte, unix.Errno) {
	info := make([]byte, mapInfoSize)
	hash := make([]byte, hashSize)
	ia := &attr{b: info}
	ia.ptr(offMapInfoHash, hash)
	ia.u32(offMapInfoHashLen, hashSize)
	defer ia.release()
	a := newAttr(getInfoAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	a.u32(4, mapInfoSize)
	a.ptr(8, info)
	if _, e := sysBPF(cmdObjGetInfo, a); e != 0 {
		return nil, e
	}
	return hash, 0
}

const logSize = 1 << 20

// progLoadAttempts is how often an interrupted BPF_PROG_LOAD (EAGAIN: the verifier saw a
// pending signal) is tried, as libbpf's and cilium/ebpf's prog loads do.
const progLoadAttempts = 5

// progLoad loads the loader. On failure it repeats the load once with a verifier log and
// returns the log's tail; the reported errno is the first attempt's.
func progLoad(spec *LoadSpec, mapFD int) (int, unix.Errno, string) {
	var fd int
	var e unix.Errno
	for i := 0; i < progLoadAttempts; i++ {
		if fd, e = progLoadOnce(spec, mapFD, nil); e != unix.EAGAIN {
			break
		}
	}
	if e == 0 {
		return fd, 0, ""
	}
	log := make([]byte, logSize)
	if fd2, _ := progLoadOnce(spec, mapFD, log); fd2 >= 0 {
		unix.Close(fd2)
	}
	return -1, e, logText(log)
}

func progLoadOnce(spec *LoadSpec, mapFD int, log []byte) (int, unix.Errno) {
	size := progLoadAttrSize
	if spec.Procedure == Chain {
		size = chainProgLoadAttrSize
	}
	a := newAttr(size)
	defer a.release()
	fdArray := make([]byte, 4)
	binary.LittleEndian.PutUint32(fdArray, uint32(mapFD))

	a.u32(offProgType, progTypeSyscall)
	a.u32(offInsnCnt, uint32(len(spec.Insn)/8))
	a.ptr(offInsns, spec.Insn)
	a.ptr(offLicense, licenseGPL)
	if log != nil {
		a.u32(offLogLevel, 1)
		a.u32(offLogSize, uint32(len(log)))
		a.ptr(offLogBuf, log)
	}
	a.u32(offProgFlags, flagSleepable)
	copy(a.b[offProgName:offProgName+15], "__loader.prog")
	a.ptr(offFdArray, fdArray)
	a.u32(offFdArrayCnt, fdArrayCnt(spec))
	if spec.Signature != nil {
		a.ptr(offSignature, spec.Signature)
		a.u32(offSignatureSize, uint32(len(spec.Signature)))
	}
	a.u32(offKeyringID, uint32(spec.KeyringID))
	if spec.Procedure == Chain && len(spec.SignatureMaps) > 0 {
		sm := make([]byte, 4*len(spec.SignatureMaps))
		for i, v := range spec.SignatureMaps {
			binary.LittleEndian.PutUint32(sm[4*i:], uint32(v))
		}
		a.ptr(offSignatureMaps, sm)
		a.u32(offSignatureMapsN, uint32(len(spec.SignatureMaps)))
	}
	return sysBPF(cmdProgLoad, a)
}

// fdArrayCnt is fd_array_cnt for the spec: 0 for legacy and chain (6.18 refuses a legacy
// loader with 1: EACCES), 1 for a signed raw load, 0 for an unsigned raw load.
func fdArrayCnt(spec *LoadSpec) uint32 {
	if spec.FdArrayCnt != nil {
		return *spec.FdArrayCnt
	}
	if spec.Procedure == Raw && spec.Signature != nil {
		return 1
	}
	return 0
}

// logText returns the NUL-terminated text of a verifier log buffer.
func logText(log []byte) string {
	n := 0
	for n < len(log) && log[n] != 0 {
		n++
	}
	return string(log[:n])
}

// mapLookup reads element key of an array map whose values are size bytes.
func mapLookup(fd int, key uint32, size int) ([]byte, unix.Errno) {
	k := make([]byte, 4)
	binary.LittleEndian.PutUint32(k, key)
	v := make([]byte, size)
	a := newAttr(mapUpdateAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	a.ptr(8, k)
	a.ptr(16, v)
	if _, e := sysBPF(cmdMapLookupElem, a); e != 0 {
		return nil, e
	}
	return v, 0
}

// describe closes *mapFD (if open) after reading its info, and returns the loader objects.
func describe(mapFD *int, prog *Object) []Object {
	var objs []Object
	if *mapFD >= 0 {
		if o, ok := describeMapFD(*mapFD); ok {
			objs = append(objs, o)
		}
		*mapFD = -1 // closed by describeMapFD
	}
	if prog != nil {
		objs = append(objs, *prog)
	}
	return objs
}

// Object info is read with BPF_OBJ_GET_INFO_BY_FD directly rather than with cilium/ebpf's
// Info methods: those supplement the answer from /proc/self/fdinfo, which names the process's
// main descriptor table, not the private one the procedure runs in (see inPrivateFDTable).
const (
	mapInfoNameOff  = 24 // struct bpf_map_info: type 0, id 4, ..., name[16] at 24
	progInfoNameOff = 64 // struct bpf_prog_info: type 0, id 4, ..., name[16] at 64
)

// objInfo returns the type, id and name of the BPF object behind fd.
func objInfo(fd, nameOff int) (typ, id uint32, name string, e unix.Errno) {
	info := make([]byte, nameOff+16)
	a := newAttr(getInfoAttrSize)
	defer a.release()
	a.u32(0, uint32(fd))
	a.u32(4, uint32(len(info)))
	a.ptr(8, info)
	if _, e := sysBPF(cmdObjGetInfo, a); e != 0 {
		return 0, 0, "", e
	}
	return binary.LittleEndian.Uint32(info), binary.LittleEndian.Uint32(info[4:]),
		unix.ByteSliceToString(info[nameOff:]), 0
}

// describeMapFD reads the map's info and closes fd.
func describeMapFD(fd int) (Object, bool) {
	defer unix.Close(fd)
	typ, id, name, e := objInfo(fd, mapInfoNameOff)
	if e != 0 {
		return Object{}, false
	}
	return Object{Kind: "map", Name: name, Type: ebpf.MapType(typ).String(), ID: id}, true
}

// describeProgFD reads the program's info and closes fd.
func describeProgFD(fd int) (Object, bool) {
	defer unix.Close(fd)
	typ, id, name, e := objInfo(fd, progInfoNameOff)
	if e != 0 {
		return Object{}, false
	}
	return Object{Kind: "prog", Name: name, Type: ebpf.ProgramType(typ).String(), ID: id}, true
}

// collectCreated reads the fds a successful loader wrote into its context — map_fd of each
// struct bpf_map_desc, then prog_fd of each struct bpf_prog_desc — describes and closes them.
// An fd is taken only if it was not open before the run and is a BPF map (resp. program), so
// a loader writing arbitrary numbers cannot make Load close a descriptor it does not own.
func collectCreated(ctx []byte, before map[int]bool) []Object {
	var objs []Object
	off := loaderCtxHeader
	for off+mapDescSize <= len(ctx) {
		fd := int(int32(binary.LittleEndian.Uint32(ctx[off:])))
		if fd <= 0 || before[fd] || fdKind(fd) != "bpf-map" {
			break
		}
		if o, ok := describeMapFD(fd); ok {
			objs = append(objs, o)
		}
		before[fd] = true // never take the same fd twice
		off += mapDescSize
	}
	for ; off+progDescSize <= len(ctx); off += progDescSize {
		fd := int(int32(binary.LittleEndian.Uint32(ctx[off:])))
		if fd <= 0 || before[fd] || fdKind(fd) != "bpf-prog" {
			continue
		}
		if o, ok := describeProgFD(fd); ok {
			objs = append(objs, o)
		}
		before[fd] = true
	}
	return objs
}
