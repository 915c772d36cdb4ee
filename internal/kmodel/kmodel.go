// Package kmodel holds the parts of the kernel model that the built-in strategies share: the
// verdict builder and the admission, exclusive-binding, host-override and loader-run stages.
// Each stage records into a *compat.Verdict; the stage functions return false when they ended
// the verdict with a rejection.
package kmodel

import (
	"bytes"
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// New starts a verdict of the kernel of scheme kernel on d.
func New(kernel compat.Scheme, d *skel.Doc) *compat.Verdict {
	det, err := d.Detect()
	v := &compat.Verdict{Kernel: kernel, Artifact: det.Scheme, Generation: d.CheckGeneration(), Signed: d.Signed()}
	if err != nil {
		v.Notes = append(v.Notes, err.Error())
	}
	return v
}

// Unreadable is the verdict on an artifact whose source bpfsig cannot read as a light
// skeleton: rejected, failing closed.
func Unreadable(kernel compat.Scheme, err error) *compat.Verdict {
	return &compat.Verdict{Kernel: kernel, Outcome: compat.Rejected, Reason: err.Error(), Conformance: []string{"not a light skeleton bpfsig can read"}}
}

// Pass records that stage accepted the load.
func Pass(v *compat.Verdict, stage compat.Stage, detail string) {
	v.Stages = append(v.Stages, compat.StageResult{Stage: stage, OK: true, Detail: detail})
}

// PassLSM records the LSM hook with what it could know.
func PassLSM(v *compat.Verdict, k compat.LSMKnowledge) {
	v.LSM = k
	Pass(v, compat.StageLSM, "security_bpf_prog_load sees: "+string(k))
}

// Reject records that stage rejected the load with errno and ends the verdict.
func Reject(v *compat.Verdict, stage compat.Stage, errno compat.Errno, reason string) *compat.Verdict {
	v.Stages = append(v.Stages, compat.StageResult{Stage: stage, Errno: errno, Detail: reason})
	v.Outcome, v.Stage, v.Errno, v.Reason = compat.Rejected, stage, errno, reason
	v.LSMAdmittedThenFailed = v.LSM != compat.LSMNotReached && (stage == compat.StageVerifier || stage == compat.StageRun)
	return v
}

// RejectRun records that the loader ran and returned retval (non-zero) and ends the verdict.
func RejectRun(v *compat.Verdict, retval int32, reason string) *compat.Verdict {
	r := retval
	v.Retval = &r
	v.Stages = append(v.Stages, compat.StageResult{Stage: compat.StageRun, Retval: &r, Detail: reason})
	v.Outcome, v.Stage, v.Reason = compat.Rejected, compat.StageRun, reason
	v.LSMAdmittedThenFailed = v.LSM != compat.LSMNotReached
	return v
}

// AcceptRun records that the loader ran and returned 0, and ends the verdict as accepted.
func AcceptRun(v *compat.Verdict, detail, reason string) *compat.Verdict {
	var zero int32
	v.Retval = &zero
	v.Stages = append(v.Stages, compat.StageResult{Stage: compat.StageRun, OK: true, Retval: &zero, Detail: detail})
	v.Outcome, v.Reason = compat.Accepted, reason
	return v
}

// Note adds a remark that does not change the outcome.
func Note(v *compat.Verdict, format string, args ...any) {
	v.Notes = append(v.Notes, fmt.Sprintf(format, args...))
}

// Malformed ends v because d is not a loader of a known shape: bpfsig fails closed rather than
// guess what a kernel would do with it.
func Malformed(v *compat.Verdict, d *skel.Doc) *compat.Verdict {
	v.Outcome, v.Reason = compat.Rejected, d.LoaderError().Error()
	v.Conformance = append(v.Conformance, "loader is not of a known shape")
	return v
}

// Admit runs the admission stage: for a signed artifact, the kernel's PKCS#7 check of content
// against trust; for an unsigned one, nothing. It then records what the LSM hook knows: know
// for a verified signature.
func Admit(v *compat.Verdict, d *skel.Doc, what string, content []byte, trust []*x509.Certificate, know compat.LSMKnowledge) bool {
	if !d.Signed() {
		Pass(v, compat.StageAdmission, "unsigned load: there is no signature to check")
		PassLSM(v, compat.LSMUnsigned)
		return true
	}
	if !AdmitOnly(v, d, what, content, trust) {
		return false
	}
	PassLSM(v, know)
	return true
}

// AdmitOnly runs the signature check of admission without recording the LSM stage, for a
// scheme whose LSM stage decides on more (Hornet). It reports whether the signature verified.
func AdmitOnly(v *compat.Verdict, d *skel.Doc, what string, content []byte, trust []*x509.Certificate) bool {
	sig, err := cms.Verify(content, d.Sig(), trust)
	if err != nil {
		errno, ok := kerrno.Of(err)
		if !ok {
			errno = compat.EBADMSG
		}
		Reject(v, compat.StageAdmission, errno, fmt.Sprintf("signature over %s: %v", what, err))
		return false
	}
	v.Signer = sig.SignerString()
	Pass(v, compat.StageAdmission, fmt.Sprintf("signature over %s verified (signer %s)", what, v.Signer))
	return true
}

// AdmitAndBind runs the stages a signed load passes before its loader runs: admission (Admit),
// the loader-shape check (Malformed), the host overrides (Overrides) and the verifier's
// exclusive-map binding (BindExclusive). ok is false when it ended v.
func AdmitAndBind(v *compat.Verdict, d *skel.Doc, what string, content []byte, trust []*x509.Certificate, know compat.LSMKnowledge, cond compat.Conditions) (exclusive, ok bool) {
	if !Admit(v, d, what, content, trust, know) {
		return false, false
	}
	if d.LoaderError() != nil {
		Malformed(v, d)
		return false, false
	}
	Overrides(v, d, cond)
	return BindExclusive(v, d, cond)
}

// BindExclusive runs the verifier's exclusive-map check (BPF_MAP_CREATE with excl_prog_hash):
// a map created with excl_prog_hash may only be used by a program whose instructions hash to
// it, else EACCES. It reports whether the metadata map is exclusive.
func BindExclusive(v *compat.Verdict, d *skel.Doc, cond compat.Conditions) (exclusive, ok bool) {
	excl := d.ExclHash()
	switch {
	case cond.MapNotExclusive:
		Pass(v, compat.StageVerifier, "metadata map created without excl_prog_hash: no exclusive binding")
		return false, true
	case excl == nil:
		Pass(v, compat.StageVerifier, "unsigned skeleton: metadata map created without excl_prog_hash")
		return false, true
	}
	h := d.InsnHash()
	if !bytes.Equal(excl, h[:]) {
		Reject(v, compat.StageVerifier, compat.EACCES, "program's hash doesn't match map's excl_prog_hash (opts_excl_hash != SHA-256(opts_insn))")
		return true, false
	}
	Pass(v, compat.StageVerifier, "metadata map bound exclusively to this loader (excl_prog_hash = SHA-256(opts_insn))")
	return true, true
}

// RunLoader models BPF_PROG_RUN of the loader: with a check block, the loader compares map->sha
// with its embedded hash (and, v2, map->excl with 1) and returns -EINVAL on a mismatch; without
// one it checks nothing. hashed says whether map->sha holds the map's hash.
func RunLoader(v *compat.Verdict, d *skel.Doc, exclusive, hashed bool) *compat.Verdict {
	c := d.Check()
	if c == nil {
		return AcceptRun(v, "loader carries no metadata check", "accepted")
	}
	if c.Gen == loader.GenV2 && !exclusive {
		return RejectRun(v, -22, "loader's v2 check: map->excl is 0 (metadata map not exclusive) → -EINVAL")
	}
	if c.Gen == loader.GenV1 && !exclusive {
		Note(v, "v1 check does not test map->excl: a non-exclusive metadata map is accepted (CVE-2026-80675)")
	}
	if !hashed {
		return RejectRun(v, -22, "loader's check: map->sha is all zero (the map's hash was never computed) → -EINVAL")
	}
	if h := d.DataHash(); c.Hash != h {
		return RejectRun(v, -22, fmt.Sprintf("loader's check: embedded hash %x != SHA-256(opts_data) %x → -EINVAL", c.Hash[:], h[:]))
	}
	return AcceptRun(v, fmt.Sprintf("loader's %s check: map->sha equals the embedded hash", c.Gen), "accepted")
}

// Overrides records what the host-override blocks let through when the host uses them.
func Overrides(v *compat.Verdict, d *skel.Doc, cond compat.Conditions) {
	ov := d.Overrides()
	if !cond.HostOverrides {
		if len(ov) > 0 {
			Note(v, "loader has %d host-override block(s): values the host sets before load would bypass the signature", len(ov))
		}
		return
	}
	if len(ov) == 0 {
		Note(v, "host-set values are ignored: the loader has no override blocks, the signed initial values are used")
		return
	}
	for _, b := range ov {
		v.Unattested = append(v.Unattested, fmt.Sprintf("%s of map %s (set by the host, not covered by the signature)", b.Kind, d.OverrideMap(b)))
	}
}

// JudgeLegacy runs the 6.18 (legacy) kernel model on d, recording into v. The chain scheme uses it for
// loads that list no signature maps, which its kernel treats exactly as legacy ones.
func JudgeLegacy(v *compat.Verdict, d *skel.Doc, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	if cond.MapNotFrozen && !cond.MapHashNotComputed {
		// libbpf's bpf_load_and_run requests the map's hash before the program load and gives
		// up when that fails; 6.18 refuses to hash an unfrozen map (map_get_hash: EPERM).
		// Without the hash request nothing refuses the unfrozen map: the loader's own check
		// then fails on the all-zero map->sha.
		return Reject(v, compat.StageSetup, compat.EPERM, "BPF_OBJ_GET_INFO_BY_FD refuses to hash an unfrozen map: the load procedure stops before BPF_PROG_LOAD")
	}
	exclusive, ok := AdmitAndBind(v, d, "opts_insn", d.Insn(), trust, compat.LSMLoaderOnly, cond)
	if !ok {
		return v
	}
	hashed := !cond.MapHashNotComputed
	if !hashed {
		Note(v, "the load procedure skipped the hash request, so map->sha stays zero")
	}
	if d.Check() == nil && d.Signed() {
		v.Conformance = append(v.Conformance, "a legacy loader must carry a metadata check block; this one has none, so opts_data is vouched for by nothing")
	}
	return RunLoader(v, d, exclusive, hashed)
}
