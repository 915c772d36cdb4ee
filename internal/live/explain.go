package live

import (
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/preflight"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// DefaultInnerLogSize is the loader-context log buffer `load` passes by default.
const DefaultInnerLogSize = 4 << 20

// InnerFailure is what failed inside a loader that ran and returned an error: the step (by
// static analysis of the loader and the blob it left behind), the object that step was
// creating, and the verifier's log of it.
type InnerFailure struct {
	// Step is the failing step ("BPF_PROG_LOAD", "btf_find_by_name_kind"); "" when the
	// loader stopped before its first step (a legacy loader's metadata check).
	Step string `json:"step"`
	// What describes it in words: "BPF_PROG_LOAD of program handle_openat".
	What string `json:"what"`
	// Program and Map name the object (the header's member name where it has one, else the
	// kernel name from the metadata).
	Program string `json:"program,omitempty"`
	Map     string `json:"map,omitempty"`
	// Retval is the loader's return value, the failing call's -errno; Errno names it.
	Retval int32  `json:"retval"`
	Errno  string `json:"errno,omitempty"`
	// ErrorLine is the verifier's reason from Log; Log is the verifier log of the failing
	// BPF_PROG_LOAD or BPF_BTF_LOAD (from the loader-context log buffer), "" for other steps.
	ErrorLine string `json:"error_line,omitempty"`
	Log       string `json:"log,omitempty"`
	// LogDropped: the inner log did not fit the buffer (see bpfsys.LoadResult.InnerLogDropped).
	LogDropped bool `json:"log_dropped,omitempty"`
}

// Explain says which step of a's loader failed in res, or returns nil when the loader did
// not run or returned 0. It errs only when the loader cannot be analyzed or the blob the
// loader left was not read back.
func Explain(art compat.Artifact, res *bpfsys.LoadResult) (*InnerFailure, error) {
	a, err := skel.Of(art)
	if err != nil {
		return nil, err
	}
	if res == nil || res.Retval == nil || *res.Retval == 0 {
		return nil, nil
	}
	rv := *res.Retval
	f := &InnerFailure{Retval: rv, LogDropped: res.InnerLogDropped}
	if rv < 0 {
		f.Errno = kerrno.NameOf(compat.Errno(-rv))
	}
	inv, err := preflight.Analyze(a.Insn(), a.Data())
	if err != nil {
		return nil, err
	}
	if res.DataAfter == nil {
		return nil, fmt.Errorf("the metadata map was not read back after the run")
	}
	fail, ok := inv.FailedStep(a.Data(), res.DataAfter)
	if !ok {
		return nil, fmt.Errorf("no step of the loader matches where it stopped")
	}
	progs, maps := a.File().Progs(), a.File().Maps()
	if fail.ProgIndex >= 0 && fail.ProgIndex < len(progs) {
		fail.Program = progs[fail.ProgIndex]
	}
	if fail.MapIndex >= 0 {
		if idx := inv.Maps[fail.MapIndex].Index; idx >= 0 && idx < len(maps) {
			fail.Map = maps[idx]
		}
	}
	f.What, f.Program, f.Map = fail.What(), fail.Program, fail.Map
	if fail.Step >= 0 {
		f.Step = preflight.Step{Kind: fail.Kind, Cmd: fail.Cmd}.What()
		if fail.Kind == preflight.StepSysBPF && (fail.Cmd == preflight.CmdProgLoad || fail.Cmd == preflight.CmdBTFLoad) {
			f.Log = res.InnerLog
			f.ErrorLine = bpfsys.VerifierError(res.InnerLog)
		}
	}
	return f, nil
}
