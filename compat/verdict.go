package compat

import "encoding/json"

// Stage is a point in a signed load at which a kernel can stop a skeleton, in the order a load
// passes them.
type Stage string

const (
	// StageSetup is the host's preparation of the metadata map before BPF_PROG_LOAD (create,
	// update, freeze, hash request): a kernel refusal here stops the load procedure.
	StageSetup Stage = "setup"
	// StageAdmission is the signature check in BPF_PROG_LOAD, before the LSM hook.
	StageAdmission Stage = "admission"
	// StageLSM is security_bpf_prog_load: LSMs decide with what the kernel has verified so far.
	StageLSM Stage = "lsm"
	// StageVerifier is the BPF verifier: exclusive-map binding and map requirements.
	StageVerifier Stage = "verifier"
	// StageRun is BPF_PROG_RUN of the loader: a legacy loader's own metadata check.
	StageRun Stage = "run"
)

// LSMKnowledge is what security_bpf_prog_load can know about a program when it decides.
type LSMKnowledge string

const (
	// LSMNotReached: the load was stopped before the LSM hook.
	LSMNotReached LSMKnowledge = ""
	// LSMUnsigned: nothing was verified (an unsigned load).
	LSMUnsigned LSMKnowledge = "unsigned"
	// LSMLoaderOnly: the loader instructions are verified; the metadata is not yet.
	LSMLoaderOnly LSMKnowledge = "loader-only"
	// LSMFull: the loader instructions and its metadata are verified.
	LSMFull LSMKnowledge = "full"
)

// Outcome is the end result of a load.
type Outcome string

const (
	Accepted Outcome = "accepted"
	Rejected Outcome = "rejected"
)

// StageResult is what one stage decided.
type StageResult struct {
	Stage  Stage
	OK     bool
	Errno  Errno
	Retval *int32
	Detail string
}

// Verdict is how a kernel of one scheme, with that scheme's load procedure, treats an artifact:
// the stages passed, the stage that stopped it, and what an LSM knew when it decided.
type Verdict struct {
	// Kernel is the scheme of the judging kernel.
	Kernel Scheme
	// Artifact is the scheme detected in the artifact's content.
	Artifact   Scheme
	Generation Generation
	// Signed reports that the artifact carried a signature.
	Signed  bool
	Outcome Outcome
	// Stage is the stage that rejected the load; empty when accepted.
	Stage Stage
	// Errno is the kernel's errno at the rejecting stage (0 for a run-stage rejection).
	Errno Errno
	// Retval is the loader's return value, when the loader ran.
	Retval *int32
	// LSM is what security_bpf_prog_load knew, LSMNotReached if the load stopped earlier.
	LSM LSMKnowledge
	// LSMAdmittedThenFailed is set when the LSM hook admitted the program and a later stage
	// (verifier or run) rejected it: an LSM's decision rested on something that was not so.
	LSMAdmittedThenFailed bool
	// Reason explains the outcome in one sentence.
	Reason string
	// Profile and Procedure name the kernel profile and the application load procedure of a
	// verdict reached through a kernel profile (bpfsig.OnKernel); empty for a scheme's model.
	Profile, Procedure string
	// Rule, Source and Subtest name the profile row that decided, the kernel source it
	// follows and the selftest that pins it.
	Rule, Source, Subtest string
	// Record is what the kernel records for the LSM (BPF_SIG_UNSIGNED/VERIFIED, keyring type
	// and serial), nil when the profile records nothing or the hook was not reached.
	Record *SigRecord
	// SchemeVerdict is the scheme's own name for its decision where it has one (Hornet's
	// "LSM_INT_VERDICT_OK"), "" otherwise.
	SchemeVerdict string
	// Signer names the certificate a verified signature was made by ("skid:…" or
	// "issuer:…, serial …"), "" when no signature verified.
	Signer string
	Stages []StageResult
	// Unattested lists values that reach the kernel without being covered by the signature.
	Unattested []string
	// Conformance lists ways the artifact departs from its scheme's loader shape (a raw loader
	// with a check block, a loader of unknown shape). The kernel may still load it; bpfsig's
	// verify does not pass it.
	Conformance []string
	// Findings are what bpfsig saw statically (see Finding); an Error finding makes the
	// verdict a rejection at its stage.
	Findings []Finding
	Notes    []string
}

// OK reports whether the artifact was accepted with a signature: what `bpfsig verify` requires.
func (v *Verdict) OK() bool { return v.Outcome == Accepted && v.Signed && len(v.Conformance) == 0 }

// ErrnoName returns the errno's symbolic name, "" for none.
func (v *Verdict) ErrnoName() string { return v.Errno.Name() }

type stageJSON struct {
	Stage  Stage  `json:"stage"`
	OK     bool   `json:"ok"`
	Errno  string `json:"errno"`
	Retval *int32 `json:"retval"`
	Detail string `json:"detail,omitempty"`
}

// VerdictView is a verdict as JSON shows it: errno names rather than numbers. Embed it to add
// fields around a verdict.
type VerdictView struct {
	Kernel                Scheme      `json:"scheme"`
	Artifact              Scheme      `json:"artifact_scheme"`
	Generation            string      `json:"generation"`
	Signed                bool        `json:"signed"`
	OK                    bool        `json:"ok"`
	Outcome               Outcome     `json:"outcome"`
	Stage                 Stage       `json:"stage"`
	Errno                 string      `json:"errno"`
	Retval                *int32      `json:"retval"`
	LSM                   string      `json:"lsm"`
	LSMAdmittedThenFailed bool        `json:"lsm_admitted_then_failed"`
	Reason                string      `json:"reason"`
	Signer                string      `json:"signer,omitempty"`
	SchemeVerdict         string      `json:"scheme_verdict,omitempty"`
	Profile               string      `json:"profile,omitempty"`
	Procedure             string      `json:"procedure,omitempty"`
	Rule                  string      `json:"rule,omitempty"`
	Source                string      `json:"source,omitempty"`
	Subtest               string      `json:"subtest,omitempty"`
	Record                *SigRecord  `json:"record,omitempty"`
	Stages                []stageJSON `json:"stages"`
	Unattested            []string    `json:"unattested,omitempty"`
	Conformance           []string    `json:"conformance,omitempty"`
	Findings              []Finding   `json:"findings,omitempty"`
	Notes                 []string    `json:"notes,omitempty"`
}

// MarshalJSON writes the verdict's View.
func (v *Verdict) MarshalJSON() ([]byte, error) { return json.Marshal(v.View()) }

// View returns the verdict with kernel errno names ("EKEYREJECTED") rather than numbers.
func (v *Verdict) View() VerdictView {
	j := VerdictView{
		Kernel: v.Kernel, Artifact: v.Artifact, Generation: v.Generation.String(), Signed: v.Signed,
		OK: v.OK(), Outcome: v.Outcome, Stage: v.Stage, Errno: v.ErrnoName(), Retval: v.Retval,
		LSM: lsmString(v.LSM), LSMAdmittedThenFailed: v.LSMAdmittedThenFailed, Reason: v.Reason, Signer: v.Signer, SchemeVerdict: v.SchemeVerdict,
		Profile: v.Profile, Procedure: v.Procedure, Rule: v.Rule, Source: v.Source, Subtest: v.Subtest, Record: v.Record,
		Unattested: v.Unattested, Conformance: v.Conformance, Findings: v.Findings, Notes: v.Notes, Stages: []stageJSON{},
	}
	for _, s := range v.Stages {
		j.Stages = append(j.Stages, stageJSON{Stage: s.Stage, OK: s.OK, Errno: s.Errno.Name(), Retval: s.Retval, Detail: s.Detail})
	}
	return j
}

func lsmString(k LSMKnowledge) string {
	if k == LSMNotReached {
		return "not-reached"
	}
	return string(k)
}

// Severity ranks a static finding.
type Severity string

const (
	// SeverityInfo is a fact worth reporting that changes no verdict.
	SeverityInfo Severity = "info"
	// SeverityWarning is a defect that does not stop the load.
	SeverityWarning Severity = "warning"
	// SeverityError is a defect that makes the load fail at the finding's stage, or that lets
	// bytes the signature does not cover reach the kernel: it fails verify.
	SeverityError Severity = "error"
)

// Finding is what bpfsig sees in a skeleton without a kernel: a loader no kernel will load
// (more programs than the loader's fd area holds), a header copy of a map's initial value that
// differs from the signed one, what a kernel profile refuses in a signed loader.
type Finding struct {
	Severity Severity `json:"severity"`
	// Rule is the finding's stable name ("prog-fd-slots", "header-initial-value", …).
	Rule string `json:"rule"`
	// Stage is where the load stops (Error findings); empty otherwise.
	Stage   Stage  `json:"stage,omitempty"`
	Map     string `json:"map,omitempty"`
	Program string `json:"program,omitempty"`
	// Offset is a byte offset (into the map value, or the metadata blob), -1 for none.
	Offset int `json:"offset"`
	// Errno is the kernel's errno for the refusal, when the rule knows it.
	Errno Errno `json:"-"`
	// AfterLSM: the kernel refuses only after security_bpf_prog_load admitted the load.
	AfterLSM bool   `json:"after_lsm,omitempty"`
	Reason   string `json:"reason"`
}

// MarshalJSON writes the errno by name.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	return json.Marshal(struct {
		plain
		Errno string `json:"errno,omitempty"`
	}{plain(f), f.Errno.Name()})
}

// SigRecord is what a kernel with load-time verification records for the LSM hook:
// BPF_SIG_UNSIGNED or BPF_SIG_VERIFIED, the keyring type (NONE, BUILTIN, SECONDARY, PLATFORM,
// USER) and, for a user keyring, its serial.
type SigRecord struct {
	Verdict       string `json:"sig_verdict"`
	KeyringType   string `json:"keyring_type"`
	KeyringSerial int32  `json:"keyring_serial"`
}
