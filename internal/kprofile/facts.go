package kprofile

import (
	"errors"
	"fmt"
)

// Procedure is the host's load procedure: how the application (libbpf's skel_internal.h, or a
// hand-written loader) prepares the metadata map and fills the BPF_PROG_LOAD attributes.
type Procedure string

const (
	// Proc618 is libbpf's bpf_load_and_run as shipped with Linux 6.18: create the exclusive
	// metadata map, update, freeze, request its hash (BPF_OBJ_GET_INFO_BY_FD, which caches
	// map->sha), BPF_PROG_LOAD with fd_array = &map_fd and fd_array_cnt = 0 (the loader
	// references the map by index), then BPF_PROG_RUN.
	Proc618 Procedure = "6.18"
	// ProcMainline is libbpf with load-time verification: as Proc618 but without the hash
	// request, and with fd_array_cnt = len(fd_array) for a signed load (0 for an unsigned one).
	ProcMainline Procedure = "mainline"
	// ProcChain is Proc618 plus the posted hash-chain UAPI: signature_maps (indices into
	// fd_array) and signature_maps_size, attr size 180. With signature maps listed the host
	// skips the hash request (the chain kernel hashes the listed maps itself).
	ProcChain Procedure = "chain"
)

// ObjectKind is what an fd_array entry refers to.
type ObjectKind uint8

const (
	// KindMap is a BPF map.
	KindMap ObjectKind = iota
	// KindBTF is a BTF object (fd_array binds maps and module BTFs alike).
	KindBTF
	// KindBadFD is a descriptor that is neither (closed, -1, another file).
	KindBadFD
)

// String returns "map", "btf" or "bad-fd".
func (k ObjectKind) String() string {
	switch k {
	case KindMap:
		return "map"
	case KindBTF:
		return "btf"
	case KindBadFD:
		return "bad-fd"
	}
	return fmt.Sprintf("ObjectKind(%d)", int(k))
}

// Object is one fd_array entry. The zero value is a map that is nothing a signed load
// accepts: not an array, not exclusive, not frozen.
type Object struct {
	Kind ObjectKind
	// Array: the map is a plain BPF_MAP_TYPE_ARRAY.
	Array bool
	// Exclusive: the map was created with excl_prog_hash.
	Exclusive bool
	// DigestMatch: excl_prog_hash equals SHA-256 of the program's instructions (prog->digest).
	// Meaningful only for an exclusive map.
	DigestMatch bool
	// Frozen: BPF_MAP_FREEZE was called before the load.
	Frozen bool
	// ValueSize is the map's value_size: the bytes a load-time verification folds.
	ValueSize int
}

// Keyring is the keyring_id of the load and what it resolves to on the host.
type Keyring struct {
	// ID is attr.keyring_id: 0 builtin, 1 secondary, 2 platform, KeySpecBPFKeyring (-9) the
	// .bpf keyring where the profile has one, anything else a user key or keyring (a serial or
	// a KEY_SPEC_* id such as KeySpecSession).
	ID int32
	// Serial is the serial of the user key or keyring ID resolves to on the host; 0 when it
	// resolves to nothing. Ignored for the system keyrings and the .bpf keyring.
	Serial int32
}

// Well-known keyring_id values.
const (
	KeyringBuiltin   int32 = 0
	KeyringSecondary int32 = 1 // VERIFY_USE_SECONDARY_KEYRING
	KeyringPlatform  int32 = 2 // VERIFY_USE_PLATFORM_KEYRING
	// KeySpecSession is KEY_SPEC_SESSION_KEYRING, what bpftool and the selftests pass.
	KeySpecSession int32 = -3
	// KeySpecBPFKeyring is KEY_SPEC_BPF_KEYRING of the .bpf keyring revision
	// (analogdevicesinc/linux Documentation/bpf/signing.rst @06dfa707). The cilium/linux
	// selftest revision (@1e8f6163) names the keyring with the well-known id 3 instead
	// (BPF_KEYRING_BPF); torvalds/linux has no .bpf keyring at all.
	KeySpecBPFKeyring int32 = -9
)

// Boot is the kernel command line state the .bpf keyring revision depends on.
type Boot struct {
	// BPFKeyringUnsealed: booted with bpf.keyring_unsealed=1.
	BPFKeyringUnsealed bool
	// BPFKeyringProvisioned: the .bpf keyring holds at least one key and is restricted, the
	// only state in which it is consulted (kernel/bpf/keys.c bpf_lookup_keyring()). A keyring
	// sealed empty at boot is never provisioned.
	BPFKeyringProvisioned bool
}

// LateBound lists objects the verifier binds while it resolves instructions, after the
// admission hook: none of them is covered by a signature.
type LateBound struct {
	// RawFDMaps: maps referenced by a raw fd baked into an ld_imm64 (BPF_PSEUDO_MAP_FD).
	RawFDMaps int
	// BTFs: BTF objects bound lazily: ksyms, module kfunc BTFs resolved from fd_array slots.
	BTFs int
}

// CheckGen is the generation of a legacy loader's in-loader metadata check.
type CheckGen uint8

const (
	// CheckNone: the loader checks nothing itself.
	CheckNone CheckGen = iota
	// CheckV1: 28 slots; compares map->sha with the embedded hash only.
	CheckV1
	// CheckV2: 33 slots; tests map->excl == 1 first, then compares map->sha.
	CheckV2
)

// LoaderCheck is the loader's own metadata check (the legacy scheme's check block).
type LoaderCheck struct {
	Gen CheckGen
	// HashMatches: the embedded hash equals SHA-256 of the metadata value (fd_array[0]).
	HashMatches bool
}

// Facts are the facts of one load that decide how a kernel treats it. The zero value is an
// unsigned load with the 6.18 procedure of a program without maps.
type Facts struct {
	Procedure Procedure
	// FdArrayCnt overrides the procedure's fd_array_cnt; nil means the procedure's rule.
	FdArrayCnt *uint32
	// SkipHashRequest: a procedure that requests the map hash skipped it (map->sha stays 0).
	SkipHashRequest bool
	// SkipRun: the host does not BPF_PROG_RUN the program (a directly loaded program, or a
	// test that only loads).
	SkipRun bool

	// Signed: attr.signature is set.
	Signed bool
	// SignatureSize is attr.signature_size.
	SignatureSize uint32
	Keyring       Keyring
	// CMS is the PKCS#7 verification result, 0 for verified, computed by the caller (for
	// example with internal/cms) over the content the profile says is signed: SignedContent
	// with the values of the entries Profile.Folded names.
	CMS Errno

	// InsnSize is the size of the instructions in bytes.
	InsnSize int
	// FdArray is attr.fd_array (fd_array[0] is a light skeleton's metadata map).
	FdArray []Object
	// IndexRefs: the instructions reference fd_array[0..IndexRefs-1] by index
	// (BPF_PSEUDO_MAP_IDX / _IDX_VALUE). A light skeleton's loader: 1.
	IndexRefs int
	// SignatureMaps are the chain scheme's signature_maps (indices into fd_array).
	SignatureMaps []int32
	Late          LateBound
	Check         LoaderCheck
	Boot          Boot
}

// ErrFacts is wrapped by every error about malformed facts.
var ErrFacts = errors.New("kprofile: invalid load facts")

func (f *Facts) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrFacts, fmt.Sprintf(format, a...))
	}
	switch f.Procedure {
	case Proc618, ProcMainline, ProcChain:
	default:
		return bad("unknown procedure %q", f.Procedure)
	}
	if f.InsnSize < 0 {
		return bad("negative instruction size %d", f.InsnSize)
	}
	if f.IndexRefs < 0 || f.IndexRefs > len(f.FdArray) {
		return bad("instructions reference %d fd_array slots, fd_array has %d", f.IndexRefs, len(f.FdArray))
	}
	for i, o := range f.FdArray {
		if o.Kind > KindBadFD {
			return bad("fd_array[%d]: unknown kind %d", i, int(o.Kind))
		}
		if o.ValueSize < 0 {
			return bad("fd_array[%d]: negative value size %d", i, o.ValueSize)
		}
	}
	if !f.Signed && f.CMS != 0 {
		return bad("a PKCS#7 result (%s) for an unsigned load", f.CMS.Name())
	}
	if !f.Signed && f.SignatureSize != 0 {
		return bad("signature_size %d without a signature", f.SignatureSize)
	}
	if len(f.SignatureMaps) > 0 && f.Procedure != ProcChain {
		return bad("signature_maps given for the %s procedure", f.Procedure)
	}
	if f.FdArrayCnt != nil && *f.FdArrayCnt < maxFdArrayCnt && int64(*f.FdArrayCnt) > int64(len(f.FdArray)) {
		return bad("fd_array_cnt %d exceeds the %d fd_array entries given", *f.FdArrayCnt, len(f.FdArray))
	}
	if f.Check.Gen > CheckV2 {
		return bad("unknown loader check generation %d", int(f.Check.Gen))
	}
	if f.Late.RawFDMaps < 0 || f.Late.BTFs < 0 {
		return bad("negative late-bound object count")
	}
	return nil
}
