// Package live puts compat's artifacts and cases in front of the running kernel: it maps a
// scheme's load procedure (and a scenario's deviations from it) onto bpfsys, runs it, and reads
// the kernel's answer back as a stage, an errno and a loader retval.
//
// The running kernel is one kernel of one scheme (a 6.18 host runs the legacy procedure); it
// decides only what it can. Without CONFIG_SYSTEM_DATA_VERIFICATION it cannot check signatures
// at all, so signature scenarios are not decided live, and every unsigned load says so.
package live

import (
	"fmt"

	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/skel"
	"golang.org/x/sys/unix"
)

// Mode says whether a load passed the signature to the kernel.
type Mode string

const (
	Signed   Mode = "signed"
	Unsigned Mode = "unsigned"
)

// procedures maps the load procedure a strategy names (compat.Info.Procedure) to bpfsys's.
var procedures = map[string]bpfsys.Procedure{"6.18": bpfsys.Legacy, "chain": bpfsys.Chain, "mainline": bpfsys.Raw}

// Procedure returns the bpfsys load procedure of a scheme's host code, as its strategy names it.
func Procedure(s compat.Scheme) (bpfsys.Procedure, error) {
	st, err := compat.Lookup(s)
	if err != nil {
		return 0, err
	}
	name := st.Info().Procedure
	p, ok := procedures[name]
	if !ok {
		return 0, fmt.Errorf("no live load procedure for scheme %s (it names %q)", s, name)
	}
	return p, nil
}

// HostScheme returns the scheme whose load procedure a host runs for a skeleton detected as
// detected: its own, and for an unsigned skeleton the one its generator's host code uses —
// libbpf's 6.18 procedure (bpf_load_and_run), which every released unsigned lskel host runs.
func HostScheme(detected compat.Scheme) compat.Scheme {
	if detected == compat.Unsigned || detected == "" {
		return compat.Legacy
	}
	return detected
}

// ProcedureName returns the procedure name a scheme's strategy gives, "" if unknown.
func ProcedureName(s compat.Scheme) string {
	st, err := compat.Lookup(s)
	if err != nil {
		return ""
	}
	return st.Info().Procedure
}

// Spec returns the load of a under scheme's procedure, altered by cond. mode Unsigned passes no
// signature and leaves everything else as the signed load would have it.
func Spec(a compat.Artifact, scheme compat.Scheme, cond compat.Conditions, mode Mode, keyringID int32) (bpfsys.LoadSpec, error) {
	d, err := skel.Of(a)
	if err != nil {
		return bpfsys.LoadSpec{}, err
	}
	proc, err := Procedure(scheme)
	if err != nil {
		return bpfsys.LoadSpec{}, err
	}
	spec := bpfsys.LoadSpec{
		Name: d.Name(), Insn: d.Insn(), Data: d.Data(), KeyringID: keyringID, Procedure: proc,
		CtxSize:       d.File().LoaderCtxSize(),
		NoExclusive:   cond.MapNotExclusive || a.ExclHash() == nil, // unsigned skeletons pass no excl_prog_hash
		ExclHash:      a.ExclHash(),
		NoFreeze:      cond.MapNotFrozen,
		NoHashRequest: cond.MapHashNotComputed,
	}
	if mode == Signed {
		spec.Signature = a.Sig()
	}
	if maps, ok := a.SignatureMaps(); ok && proc == bpfsys.Chain {
		spec.SignatureMaps = maps
	}
	return spec, nil
}

// Cell is the running kernel's answer in the terms of compat's verdicts.
type Cell struct {
	Mode    Mode           `json:"mode"`
	Outcome compat.Outcome `json:"outcome"`
	Stage   compat.Stage   `json:"stage"`
	Errno   unix.Errno     `json:"-"`
	Retval  *int32         `json:"retval"`
	Detail  string         `json:"detail,omitempty"`
}

// ErrnoName returns the errno's name, "" for none.
func (c Cell) ErrnoName() string { return compat.Errno(c.Errno).Name() }

// String is a compact form: "accepted", "setup EPERM", "run -22".
func (c Cell) String() string {
	switch {
	case c.Outcome == compat.Accepted:
		return "accepted"
	case c.Stage == compat.StageRun && c.Retval != nil:
		return fmt.Sprintf("run %d", *c.Retval)
	}
	return string(c.Stage) + " " + c.ErrnoName()
}

// Classify reads a load result as an outcome and the stage that decided it.
func Classify(mode Mode, r *bpfsys.LoadResult) Cell {
	c := Cell{Mode: mode, Outcome: compat.Accepted, Retval: r.Retval}
	for _, s := range r.Stages {
		if s.Skipped {
			continue
		}
		switch {
		case s.Errno != 0:
			c.Outcome, c.Errno, c.Detail = compat.Rejected, s.Errno, logTail(s.Log, 4096)
			c.Stage = stageOf(s.Stage, s.Errno)
			return c
		case s.Stage == bpfsys.StageProgRun && s.Retval != nil && *s.Retval != 0:
			c.Outcome, c.Stage = compat.Rejected, compat.StageRun
			return c
		}
	}
	return c
}

// stageOf maps a failing bpfsys stage to the compat stage it belongs to: the map preparation is
// setup; in BPF_PROG_LOAD the attr-size and signature errnos come before the LSM hook
// (docs/spec.md §5.5, order of checks), everything else from the verifier.
func stageOf(stage string, e unix.Errno) compat.Stage {
	switch stage {
	case bpfsys.StageMapCreate, bpfsys.StageMapUpdate, bpfsys.StageMapFreeze, bpfsys.StageMapHash:
		return compat.StageSetup
	case bpfsys.StageProgRun:
		return compat.StageRun
	}
	switch e {
	case unix.E2BIG, unix.EBADMSG, unix.ENOPKG, unix.ENOKEY, unix.EKEYREJECTED, unix.EOPNOTSUPP:
		return compat.StageAdmission
	}
	return compat.StageVerifier
}

// Kernel describes what the running kernel can decide.
type Kernel struct {
	Probe *bpfsys.ProbeReport
	// CanVerify: signed loads are verified (not EOPNOTSUPP).
	CanVerify bool
	// Usable: bpf(2), syscall programs and exclusive maps work.
	Usable bool
}

// Detect probes the running kernel.
func Detect() *Kernel {
	p := bpfsys.Probe()
	return &Kernel{Probe: p, CanVerify: p.SignatureVerification.OK, Usable: p.BPF.OK && p.SyscallProg.OK && p.ExclusiveMaps.OK}
}

// Decision is the live kernel's answer for one tamper case, or why it cannot give one.
type Decision struct {
	Scenario string `json:"scenario"`
	Column   string `json:"column"`
	Decided  bool   `json:"decided"`
	Why      string `json:"why,omitempty"`
	Model    string `json:"model"`
	Live     *Cell  `json:"live,omitempty"`
	Agree    bool   `json:"agree"`
}

// Decide runs case c on the running kernel when it can decide it, and compares the kernel's
// answer with the model's verdict.
//
// What a 6.18 host decides: the legacy procedure's stages after admission (setup, verifier,
// run), and a raw loader's run stage. It cannot decide: signature checks (without
// CONFIG_SYSTEM_DATA_VERIFICATION), the chain procedure (attr size 180 → E2BIG on any released
// kernel), the raw scheme's signed-load map requirements, or host-set override values.
func Decide(k *Kernel, scenario, column string, c compare.Case, model *compat.Verdict) (Decision, error) {
	if c.NotApplicable != "" {
		return Decision{Scenario: scenario, Column: column, Why: "does not apply: " + c.NotApplicable}, nil
	}
	proc := ProcedureName(c.Kernel)
	if st, err := compat.Lookup(c.Kernel); err == nil && st.Info().LSM != "" {
		return Decision{Scenario: scenario, Column: column, Model: modelString(model),
			Why: fmt.Sprintf("the %s scheme is judged by the %s LSM, which the running kernel does not run", c.Kernel, st.Info().LSM)}, nil
	}
	d := Decision{Scenario: scenario, Column: column, Model: modelString(model)}
	switch {
	case !k.Usable:
		d.Why = "bpf(2) with syscall programs and exclusive maps is not usable here"
		return d, nil
	case proc == "chain":
		d.Why = "the chain procedure needs attr fields no released kernel has (E2BIG)"
		return d, nil
	case proc != "6.18" && proc != "mainline":
		d.Why = fmt.Sprintf("bpfsig cannot run the %s scheme's load procedure", c.Kernel)
		return d, nil
	case c.Cond.HostOverrides:
		d.Why = "host-set override values are not exercised live"
		return d, nil
	case proc == "mainline" && (c.Cond.MapNotExclusive || c.Cond.MapNotFrozen):
		d.Why = "the raw scheme's map requirements are checked only in signed loads by a raw-bytes kernel"
		return d, nil
	case !k.CanVerify && rejectedAt(model, compat.StageAdmission):
		d.Why = "decided by the signature check, which this kernel cannot perform"
		return d, nil
	case proc == "mainline" && k.CanVerify:
		d.Why = "this kernel verifies signatures the legacy way; a raw-bytes kernel is not running"
		return d, nil
	}
	mode := Unsigned
	var keyringID int32
	if k.CanVerify && proc == "6.18" {
		mode = Signed
		kr, err := keyringFor(c)
		if err != nil {
			return d, err
		}
		defer kr.Close()
		keyringID = kr.ID
	}
	spec, err := Spec(c.Skeleton.Artifact(), c.Kernel, c.Cond, mode, keyringID)
	if err != nil {
		return d, err
	}
	res, err := bpfsys.Load(spec)
	if err != nil {
		return d, err
	}
	cell := Classify(mode, res)
	d.Decided, d.Live = true, &cell
	d.Agree = agree(model, cell, mode)
	return d, nil
}

func keyringFor(c compare.Case) (*bpfsys.Keyring, error) {
	var ders [][]byte
	for _, t := range c.Trust.Certs {
		ders = append(ders, t.Raw)
	}
	return bpfsys.NewKeyring(ders)
}

func rejectedAt(v *compat.Verdict, s compat.Stage) bool {
	return v.Outcome == compat.Rejected && v.Stage == s
}

// agree compares the stages both could see: an unsigned live load has no admission stage, so
// only a model verdict that passed admission is compared.
func agree(v *compat.Verdict, c Cell, mode Mode) bool {
	if v.Outcome != c.Outcome {
		return false
	}
	if v.Outcome == compat.Accepted {
		return true
	}
	if v.Stage != c.Stage {
		return false
	}
	if v.Stage == compat.StageRun {
		return v.Retval != nil && c.Retval != nil && *v.Retval == *c.Retval
	}
	return v.Errno == compat.Errno(c.Errno)
}

func modelString(v *compat.Verdict) string {
	switch {
	case v.Outcome == compat.Accepted:
		return "accepted"
	case v.Stage == compat.StageRun && v.Retval != nil:
		return fmt.Sprintf("run %d", *v.Retval)
	}
	return string(v.Stage) + " " + v.ErrnoName()
}

// logTail returns the last max bytes of a log, starting at a line.
func logTail(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[len(s)-max:]
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
