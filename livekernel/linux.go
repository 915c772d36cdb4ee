//go:build linux

package livekernel

import (
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/live"
)

// Probe tries each feature on the running kernel. Without privileges the items fail with the
// errno and say so; the error is non-nil only where the probe cannot run at all (not Linux).
func Probe() (*ProbeReport, error) { return probeFrom(bpfsys.Probe()), nil }

// Detect probes the running kernel for Decide.
func Detect() (*Kernel, error) {
	p, err := Probe()
	if err != nil {
		return nil, err
	}
	return &Kernel{Probe: p, CanVerify: p.SignatureVerification.OK, Usable: p.Usable()}, nil
}

// Load performs sk's load procedure on the running kernel (in a private descriptor table) and
// reports each stage's answer. A failed stage or loader is a result, not an error; the error
// is for a load that cannot be attempted (a loader of unknown shape, a bad option, bpf(2)
// unavailable).
func Load(sk *bpfsig.Skeleton, opts LoadOptions) (*LoadResult, error) {
	if err := sk.LoaderError(); err != nil {
		return nil, err
	}
	if opts.LogSize < 0 || opts.LogSize > MaxLogSize {
		return nil, fmt.Errorf("livekernel: %s: log size %d out of range 0..%d", sk.Path(), opts.LogSize, MaxLogSize)
	}
	scheme := opts.Scheme
	if scheme == "" {
		scheme = HostScheme(sk.Scheme())
	}
	mode := live.Signed
	if opts.Unsigned || !sk.Signed() {
		mode = live.Unsigned
	}
	spec, err := live.Spec(sk.Artifact(), scheme, opts.Conditions, mode, opts.KeyringID)
	if err != nil {
		return nil, err
	}
	spec.InnerLogSize = opts.LogSize
	res, err := bpfsys.Load(spec)
	if err != nil {
		return nil, err
	}
	out := &LoadResult{
		Scheme: scheme, Mode: Mode(mode), KeyringID: opts.KeyringID,
		OK: res.OK, Errno: compat.Errno(res.Errno), Retval: res.Retval,
		Cell:    cellFrom(live.Classify(mode, res)),
		LogSize: opts.LogSize, LogDropped: res.InnerLogDropped,
		ClosedFDs: append([]int(nil), res.ClosedFDs...),
	}
	for _, s := range res.Stages {
		if !s.Skipped {
			out.Stages = append(out.Stages, StageResult{Stage: s.Stage, Errno: compat.Errno(s.Errno), Retval: s.Retval, Log: s.Log})
		}
	}
	for _, o := range res.Created {
		out.Created = append(out.Created, Object(o))
	}
	if f, err := live.Explain(sk.Artifact(), res); err != nil {
		out.FailureUnknown = err
	} else if f != nil {
		g := InnerFailure(*f)
		out.Failure = &g
	}
	return out, nil
}

// Decide puts one case of a compare tamper matrix (the skeleton signed, tampered and judged by
// the model as model) in front of the running kernel, when k can decide it: the legacy
// procedure signed where k verifies signatures (against a fresh keyring of the case's trust
// set), unsigned otherwise where the signature check does not decide the case. A case k cannot
// decide is returned with Why; the error is for a load that could not be attempted.
func Decide(k *Kernel, scenario, column string, c compare.Case, model *compat.Verdict) (Decision, error) {
	if k == nil {
		return Decision{}, fmt.Errorf("livekernel: Decide: nil kernel (use Detect)")
	}
	d, err := live.Decide(&live.Kernel{CanVerify: k.CanVerify, Usable: k.Usable}, scenario, column, c, model)
	out := Decision{Scenario: d.Scenario, Column: d.Column, Decided: d.Decided, Why: d.Why, Model: d.Model, Agree: d.Agree}
	if d.Live != nil {
		cell := cellFrom(*d.Live)
		out.Live = &cell
	}
	return out, err
}

// Keyring is a fresh kernel keyring holding certificates as asymmetric keys, linked into the
// session keyring: its ID is a keyring_id for a signed load. Close removes it.
type Keyring struct {
	ID int32
	kr *bpfsys.Keyring
}

// NewKeyring makes a keyring holding certs; on failure nothing is left behind.
func NewKeyring(certs []*x509.Certificate) (*Keyring, error) {
	var ders [][]byte
	for _, c := range certs {
		ders = append(ders, c.Raw)
	}
	kr, err := bpfsys.NewKeyring(ders)
	if err != nil {
		return nil, err
	}
	return &Keyring{ID: kr.ID, kr: kr}, nil
}

// Close removes the keyring and its keys.
func (k *Keyring) Close() error {
	if k == nil || k.kr == nil {
		return nil
	}
	return k.kr.Close()
}

func cellFrom(c live.Cell) Cell {
	return Cell{Mode: Mode(c.Mode), Outcome: c.Outcome, Stage: c.Stage, Errno: compat.Errno(c.Errno), Retval: c.Retval, Detail: c.Detail}
}

func itemFrom(i bpfsys.ProbeItem) Item { return Item{OK: i.OK, Detail: i.Detail} }

func probeFrom(p *bpfsys.ProbeReport) *ProbeReport {
	r := &ProbeReport{
		Kernel: p.Kernel, BPF: itemFrom(p.BPF), SyscallProg: itemFrom(p.SyscallProg),
		ExclusiveMaps: itemFrom(p.ExclusiveMaps), MapHash: itemFrom(p.MapHash),
		MapHashNeedsFrozen: itemFrom(p.MapHashNeedsFrozen), MapExclField: itemFrom(p.MapExclField),
		SignatureFields: itemFrom(p.SignatureFields), SignatureVerification: itemFrom(p.SignatureVerification),
	}
	if k := p.Keyrings; k != nil {
		kr := &KeyringReport{BPFKeyring: itemFrom(k.BPFKeyring), KeyringUnsealed: itemFrom(k.KeyringUnsealed), LookupFirst: k.LookupFirst}
		for _, s := range k.System {
			kr.System = append(kr.System, SystemKeyring(s))
		}
		for _, id := range k.IDs {
			kr.IDs = append(kr.IDs, KeyringID(id))
		}
		r.Keyrings = kr
	}
	return r
}
