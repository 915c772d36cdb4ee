// Package livekernel puts light skeletons in front of the running Linux kernel: Probe says what
// the kernel offers for signed BPF (each item found by trying it), Load performs a skeleton's
// load procedure and reports each stage's real answer, and Decide runs one case of a compare
// tamper matrix for real, next to the model's verdict.
//
// Everything here needs Linux and, for bpf(2), root (CAP_BPF and CAP_PERFMON). On other
// systems the package builds, and every function that would touch the kernel returns an error
// wrapping ErrNotLinux.
package livekernel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfsig/bpfsig/compat"
)

// ErrNotLinux is returned (wrapped) by every kernel operation on a system that is not Linux.
var ErrNotLinux = errors.New("livekernel: needs Linux (bpf(2) and kernel keyrings)")

// Item is one probed feature: whether it works, and what the kernel answered.
type Item struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// NamedItem is an Item with its report name.
type NamedItem struct {
	Name string
	Item Item
}

// ProbeReport is what Probe found. Each item was tried, not read from a version number.
type ProbeReport struct {
	Kernel string `json:"kernel"` // uname release
	// BPF: bpf(2) can create a map at all (privileges, syscall present).
	BPF Item `json:"bpf"`
	// SyscallProg: a BPF_PROG_TYPE_SYSCALL program loads and runs (a light skeleton's loader).
	SyscallProg Item `json:"syscall_prog"`
	// ExclusiveMaps: BPF_MAP_CREATE takes excl_prog_hash and the kernel enforces it.
	ExclusiveMaps Item `json:"exclusive_maps"`
	// MapHash: BPF_OBJ_GET_INFO_BY_FD answers the SHA-256 of a frozen array's value.
	MapHash Item `json:"map_hash"`
	// MapHashNeedsFrozen: the hash request on an unfrozen map fails with EPERM.
	MapHashNeedsFrozen Item `json:"map_hash_needs_frozen"`
	// MapExclField: a program reads map->excl at offset 32 (what a v2 check block relies on).
	MapExclField Item `json:"map_excl_field"`
	// SignatureFields: BPF_PROG_LOAD takes the attr size with keyring_id.
	SignatureFields Item `json:"signature_fields"`
	// SignatureVerification: a signed load is checked (a garbage signature is refused).
	SignatureVerification Item `json:"signature_verification"`
	// Keyrings are the keyring facts; nil if they were not probed.
	Keyrings *KeyringReport `json:"keyrings"`
}

// Items lists the feature items in report order, with their JSON names.
func (r *ProbeReport) Items() []NamedItem {
	return []NamedItem{
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

// Usable reports whether skeletons can be loaded here at all: bpf(2), syscall programs and
// exclusive maps all work.
func (r *ProbeReport) Usable() bool { return r.BPF.OK && r.SyscallProg.OK && r.ExclusiveMaps.OK }

// String renders the report as `bpfsig probe` prints it.
func (r *ProbeReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel %s\n", r.Kernel)
	for _, it := range r.Items() {
		fmt.Fprintf(&b, "%-22s %s  %s\n", it.Name, mark(it.Item.OK), it.Item.Detail)
	}
	if r.Keyrings != nil {
		b.WriteString(r.Keyrings.String())
	}
	return b.String()
}

func mark(ok bool) string {
	if ok {
		return "yes"
	}
	return "no "
}

// SystemKeyring is one system keyring as /proc/keys shows it.
type SystemKeyring struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Serial  string `json:"serial,omitempty"` // hex, as /proc/keys prints it
	// Keys is /proc/keys' description column ("empty", "1" …).
	Keys string `json:"keys,omitempty"`
}

// KeyringID is what a signed load with one keyring_id value showed.
type KeyringID struct {
	ID   int32  `json:"id"`
	Name string `json:"name"`
	// Resolves: the kernel went past the keyring lookup (true), refused the id (false), or
	// the probe could not tell (nil).
	Resolves *bool  `json:"resolves"`
	Errno    string `json:"errno"` // the signed load's errno
	Detail   string `json:"detail"`
}

// KeyringReport is the keyring part of a probe.
type KeyringReport struct {
	System []SystemKeyring `json:"system"`
	// BPFKeyring: the .bpf keyring of the later mainline revision exists.
	BPFKeyring Item `json:"bpf_keyring"`
	// KeyringUnsealed: the bpf module's keyring_unsealed parameter.
	KeyringUnsealed Item        `json:"keyring_unsealed"`
	IDs             []KeyringID `json:"ids"`
	// LookupFirst: the kernel resolves keyring_id before it parses the signature.
	LookupFirst bool `json:"lookup_before_signature"`
}

// String renders the keyring facts as `bpfsig probe` prints them.
func (r *KeyringReport) String() string {
	var b strings.Builder
	b.WriteString("keyrings\n")
	for _, k := range r.System {
		if k.Present {
			fmt.Fprintf(&b, "  %-24s present (%s, %s)\n", k.Name, k.Serial, k.Keys)
		} else {
			fmt.Fprintf(&b, "  %-24s absent\n", k.Name)
		}
	}
	fmt.Fprintf(&b, "  %-24s %s  %s\n", "bpf_keyring", mark(r.BPFKeyring.OK), r.BPFKeyring.Detail)
	fmt.Fprintf(&b, "  %-24s %s  %s\n", "keyring_unsealed", mark(r.KeyringUnsealed.OK), r.KeyringUnsealed.Detail)
	for _, id := range r.IDs {
		res := "?  "
		if id.Resolves != nil {
			res = mark(*id.Resolves)
		}
		fmt.Fprintf(&b, "  keyring_id %-11d %s  %s: %s\n", id.ID, res, id.Name, id.Detail)
	}
	return b.String()
}

// Mode says whether a load passes the skeleton's signature.
type Mode string

const (
	Signed   Mode = "signed"
	Unsigned Mode = "unsigned"
)

// The stages of a load procedure, in order (StageResult.Stage).
const (
	StageMapCreate = "map_create"
	StageMapUpdate = "map_update"
	StageMapFreeze = "map_freeze"
	StageMapHash   = "map_hash"
	StageProgLoad  = "prog_load"
	StageProgRun   = "prog_run"
)

// DefaultLogSize is the verifier log buffer `bpfsig load` hands the loader for the programs it
// loads; MaxLogSize bounds LoadOptions.LogSize (the kernel refuses a larger log_size).
const (
	DefaultLogSize = 4 << 20
	MaxLogSize     = 1 << 28
)

// LoadOptions adjust Load. The zero value is the host procedure of the skeleton's scheme, signed
// when the skeleton is, keyring_id 0 (builtin), no log buffer.
type LoadOptions struct {
	// Scheme whose load procedure to run; "" is HostScheme(sk.Scheme()).
	Scheme compat.Scheme
	// Unsigned loads without the signature even when the skeleton has one.
	Unsigned bool
	// KeyringID is the signed load's keyring_id (0 builtin, 1 secondary, 2 platform, or a
	// keyring serial such as Keyring.ID).
	KeyringID int32
	// LogSize is the verifier log buffer passed to the loader in its context, for the programs
	// it loads (0: none; at most MaxLogSize).
	LogSize int
	// Conditions alter the procedure (map not frozen, not exclusive, hash not requested).
	Conditions compat.Conditions
}

// StageResult is the kernel's answer to one attempted stage.
type StageResult struct {
	Stage string
	// Errno is the stage's bpf(2) error, 0 on success.
	Errno compat.Errno
	// Retval is the loader's return value (prog_run, when the run syscall succeeded).
	Retval *int32
	// Log is the loader's verifier log when prog_load failed, or the error text of prog_run.
	Log string
}

// Object is one kernel object the loader created, read from its descriptor before closing it.
type Object struct {
	Kind string `json:"kind"` // "map" or "prog"
	Name string `json:"name"` // kernel name (at most 15 bytes)
	Type string `json:"type"` // map or program type, e.g. "Array", "Syscall"
	ID   uint32 `json:"id"`
}

// InnerFailure says where a loader that returned non-zero stopped: the step, the program or
// map it was working on, and the verifier's error line when a program load failed.
type InnerFailure struct {
	// Step names the kind of step ("BPF_PROG_LOAD").
	Step string `json:"step"`
	// What describes the step with its object ("BPF_PROG_LOAD of program handle_openat").
	What    string `json:"what"`
	Program string `json:"program,omitempty"`
	Map     string `json:"map,omitempty"`
	// Retval is the loader's return value; Errno its name when negative.
	Retval int32  `json:"retval"`
	Errno  string `json:"errno,omitempty"`
	// ErrorLine is the verifier's own reason (the last line of its log that is not a
	// statistic); Log the log itself.
	ErrorLine  string `json:"error_line,omitempty"`
	Log        string `json:"log,omitempty"`
	LogDropped bool   `json:"log_dropped,omitempty"`
}

// Cell is a load's outcome as a verdict: accepted, or rejected at a stage with an errno (or a
// loader return value, for the run stage).
type Cell struct {
	Mode    Mode           `json:"mode"`
	Outcome compat.Outcome `json:"outcome"`
	Stage   compat.Stage   `json:"stage"`
	Errno   compat.Errno   `json:"-"`
	Retval  *int32         `json:"retval"`
	Detail  string         `json:"detail,omitempty"`
}

// ErrnoName is the errno's name ("" for none).
func (c Cell) ErrnoName() string { return c.Errno.Name() }

// String is "accepted", "run N" or "STAGE ERRNO".
func (c Cell) String() string {
	switch {
	case c.Outcome == compat.Accepted:
		return "accepted"
	case c.Stage == compat.StageRun && c.Retval != nil:
		return fmt.Sprintf("run %d", *c.Retval)
	}
	return string(c.Stage) + " " + c.ErrnoName()
}

// LoadResult is what Load saw.
type LoadResult struct {
	// Scheme is the scheme whose procedure ran; Mode whether the signature was passed;
	// KeyringID the keyring_id given.
	Scheme    compat.Scheme
	Mode      Mode
	KeyringID int32
	// OK: every attempted stage succeeded and the loader returned 0.
	OK bool
	// Errno is the first failing stage's errno (0 when every syscall succeeded; a loader that
	// returned non-zero is in Retval).
	Errno compat.Errno
	// Retval is the loader's return value when it ran.
	Retval *int32
	// Cell is the outcome as a verdict (the stage a failure belongs to).
	Cell Cell
	// Stages are the attempted stages, in order.
	Stages []StageResult
	// Created lists what the loader created (maps, then programs).
	Created []Object
	// ClosedFDs are host descriptors the loader closed (it ran in a private descriptor table,
	// so the caller lost none; a real libbpf host would have).
	ClosedFDs []int
	// LogSize is the log buffer used; LogDropped is set when an inner log did not fit in it
	// (the loader then failed with ENOSPC and the load was repeated without the buffer).
	LogSize    int
	LogDropped bool
	// Failure says where the loader stopped when it returned non-zero; FailureUnknown why that
	// could not be told (nil otherwise).
	Failure        *InnerFailure
	FailureUnknown error
}

// Stage returns the named stage, or nil when it was not attempted.
func (r *LoadResult) Stage(name string) *StageResult {
	for i := range r.Stages {
		if r.Stages[i].Stage == name {
			return &r.Stages[i]
		}
	}
	return nil
}

// HostScheme is the scheme whose procedure an application loading a skeleton of scheme detected
// runs: an unsigned (or undetected) skeleton is loaded as libbpf loads one, the legacy way.
func HostScheme(detected compat.Scheme) compat.Scheme {
	if detected == compat.Unsigned || detected == "" {
		return compat.Legacy
	}
	return detected
}

// Kernel is the running kernel as Decide needs it.
type Kernel struct {
	Probe *ProbeReport
	// CanVerify: signed loads are checked here.
	CanVerify bool
	// Usable: bpf(2) with syscall programs and exclusive maps works.
	Usable bool
}

// Decision is one compare case on the running kernel: decided (with the live cell and whether
// it agrees with the model) or not, with why.
type Decision struct {
	Scenario string `json:"scenario"`
	Column   string `json:"column"`
	Decided  bool   `json:"decided"`
	Why      string `json:"why,omitempty"`
	Model    string `json:"model"`
	Live     *Cell  `json:"live,omitempty"`
	Agree    bool   `json:"agree"`
}

// VerifierError returns the verifier's reason from its log: the last line that is not one of
// the statistics lines it ends with ("" for none).
func VerifierError(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimRight(lines[i], " \t\r")
		if l == "" || isStatsLine(l) {
			continue
		}
		return l
	}
	return ""
}

func isStatsLine(l string) bool {
	for _, p := range []string{"processed ", "verification time ", "stack depth ", "max_states_per_insn "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// LogTail returns the last n lines of a log (all of them for n <= 0) and how many were left
// out before them.
func LogTail(log string, n int) (lines []string, omitted int) {
	log = strings.TrimRight(log, "\n")
	if log == "" {
		return nil, 0
	}
	all := strings.Split(log, "\n")
	if n <= 0 || len(all) <= n {
		return all, 0
	}
	return all[len(all)-n:], len(all) - n
}
