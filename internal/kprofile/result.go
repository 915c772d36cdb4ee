package kprofile

import "github.com/bpfsig/bpfsig/compat"

// SigVerdict is prog->aux->sig.verdict (enum bpf_sig_verdict).
type SigVerdict uint8

const (
	SigUnsigned SigVerdict = 0 // BPF_SIG_UNSIGNED
	SigVerified SigVerdict = 1 // BPF_SIG_VERIFIED
)

// String returns the kernel's enumerator name.
func (v SigVerdict) String() string {
	if v == SigVerified {
		return "BPF_SIG_VERIFIED"
	}
	return "BPF_SIG_UNSIGNED"
}

// KeyringType is prog->aux->sig.keyring_type (enum bpf_sig_keyring).
type KeyringType uint8

const (
	KeyringNone      KeyringType = 0 // BPF_SIG_KEYRING_NONE
	KeyringTBuiltin  KeyringType = 1 // BPF_SIG_KEYRING_BUILTIN
	KeyringTSecond   KeyringType = 2 // BPF_SIG_KEYRING_SECONDARY
	KeyringTPlatform KeyringType = 3 // BPF_SIG_KEYRING_PLATFORM
	KeyringTUser     KeyringType = 4 // BPF_SIG_KEYRING_USER
	KeyringTBPF      KeyringType = 5 // BPF_SIG_KEYRING_BPF (the .bpf keyring revision)
)

// String returns the kernel's enumerator name.
func (t KeyringType) String() string {
	switch t {
	case KeyringNone:
		return "BPF_SIG_KEYRING_NONE"
	case KeyringTBuiltin:
		return "BPF_SIG_KEYRING_BUILTIN"
	case KeyringTSecond:
		return "BPF_SIG_KEYRING_SECONDARY"
	case KeyringTPlatform:
		return "BPF_SIG_KEYRING_PLATFORM"
	case KeyringTUser:
		return "BPF_SIG_KEYRING_USER"
	case KeyringTBPF:
		return "BPF_SIG_KEYRING_BPF"
	}
	return "bpf_sig_keyring(?)"
}

// Record is what the kernel records in prog->aux->sig, as security_bpf_prog_load sees it.
type Record struct {
	Verdict     SigVerdict  `json:"sig_verdict"`
	KeyringType KeyringType `json:"keyring_type"`
	// KeyringSerial is the serial of the user key or keyring the signature was verified
	// against; 0 for unsigned programs and system (or .bpf) keyrings.
	KeyringSerial int32 `json:"keyring_serial"`
}

// Result is how a profile's kernel treats a load.
type Result struct {
	Profile string         `json:"profile"`
	Outcome compat.Outcome `json:"outcome"`
	// Stage is the stage that rejected the load; "" when accepted.
	Stage compat.Stage `json:"stage,omitempty"`
	// Errno is the bpf(2) errno of a rejection before the loader ran; 0 otherwise.
	Errno Errno `json:"errno"`
	// Retval is the loader's return value when it ran.
	Retval *int32 `json:"retval"`
	// LSM is what was really verified when security_bpf_prog_load decided.
	LSM compat.LSMKnowledge `json:"lsm"`
	// LSMAdmittedThenFailed: the hook admitted the program and the verifier or the loader
	// rejected it afterwards.
	LSMAdmittedThenFailed bool `json:"lsm_admitted_then_failed"`
	// Record is prog->aux->sig as the hook saw it; nil when the hook was not reached or the
	// profile's kernel records no verdict.
	Record *Record `json:"record"`
	// Rule is the ID of the row that decided the outcome ("" when accepted).
	Rule string `json:"rule,omitempty"`
	// Reason says why, in one sentence; Source and Subtest are the row's citations.
	Reason  string `json:"reason"`
	Source  string `json:"source,omitempty"`
	Subtest string `json:"subtest,omitempty"`
}

// ErrnoName returns the errno's kernel name, "" for none.
func (r Result) ErrnoName() string { return r.Errno.Name() }
