package bpfsig

import (
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/preflight"
)

// LoaderSummary is what a skeleton's loader creates, read statically from the loader and its
// metadata.
type LoaderSummary struct {
	Maps     int `json:"maps"`
	Programs int `json:"programs"`
}

// Findings returns what bpfsig sees in the skeleton without a kernel, for every kernel and,
// with profile "mainline" (or a mainline-based profile), what load-time verification refuses
// in a signed loader: errors first. The error is non-nil only when the loader cannot be
// analysed.
func (s *Skeleton) Findings(profile string) (LoaderSummary, []compat.Finding, error) {
	var p preflight.Profile
	switch profile {
	case "", "6.18", "chain":
		p = preflight.AnyKernel
	case "mainline", "mainline-bpf-keyring":
		p = preflight.Mainline
	default:
		return LoaderSummary{}, nil, fmt.Errorf("unknown kernel profile %q", profile)
	}
	in := preflight.FromFile(s.doc.File(), p)
	in.Name = "" // named below by the skeleton's own path, once
	inv, fs, err := preflight.Check(in)
	if err != nil {
		return LoaderSummary{}, nil, fmt.Errorf("%s: %w", s.Path(), err)
	}
	out := make([]compat.Finding, 0, len(fs))
	for _, f := range fs {
		cf := compat.Finding{Rule: f.Rule, Stage: f.Stage, Map: f.Map, Program: f.Program, Offset: f.Offset, AfterLSM: f.AfterLSM, Reason: f.Reason}
		switch f.Severity {
		case preflight.Error:
			cf.Severity = compat.SeverityError
		case preflight.Warning:
			cf.Severity = compat.SeverityWarning
		default:
			cf.Severity = compat.SeverityInfo
		}
		if e, ok := kerrno.Parse(f.Errno); ok {
			cf.Errno = e
		}
		out = append(out, cf)
	}
	return LoaderSummary{Maps: len(inv.Maps), Programs: len(inv.Progs)}, out, nil
}

// applyFindings records the static findings in v; the first Error finding turns an accepted
// verdict into a rejection at its stage, since no kernel of any profile loads such a skeleton
// as signed (or the header feeds the kernel bytes the signature does not cover).
func applyFindings(v *Verdict, fs []compat.Finding) {
	v.Findings = append(v.Findings, fs...)
	for _, f := range fs {
		if f.Severity != compat.SeverityError || v.Outcome == compat.Rejected {
			continue
		}
		v.Outcome, v.Stage, v.Errno, v.Retval = compat.Rejected, f.Stage, f.Errno, nil
		v.Reason = "static finding " + f.Rule + ": " + f.Reason
		v.LSMAdmittedThenFailed = v.LSM != compat.LSMNotReached && (f.Stage == compat.StageVerifier || f.Stage == compat.StageRun)
		if f.Stage == compat.StageSetup || f.Stage == compat.StageAdmission {
			v.LSM = compat.LSMNotReached
		}
	}
}
