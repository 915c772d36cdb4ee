package compat

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/loader"
	"golang.org/x/sys/unix"
)

// Conditions are the ways a host's load procedure can deviate from the one its scheme
// prescribes. The zero value is the scheme's own, correct procedure.
type Conditions struct {
	// MapNotFrozen: the metadata map was not frozen before the program load.
	MapNotFrozen bool
	// MapNotExclusive: the metadata map was created without excl_prog_hash.
	MapNotExclusive bool
	// MapHashNotComputed: the host skipped the BPF_OBJ_GET_INFO_BY_FD hash request, so
	// map->sha is all zero (legacy load procedure).
	MapHashNotComputed bool
	// HostOverrides: the host sets map initial values (or max_entries) in the skeleton before
	// load, as a program does with skel->rodata.
	HostOverrides bool
}

// The stages below are the parts of the kernel model every strategy shares. Each returns false
// when it ended the verdict with a rejection.

// Malformed ends v because a is not a loader of a known shape: bpfsig fails closed rather than
// guess what a kernel would do with it.
func Malformed(v *Verdict, a *Artifact) *Verdict {
	v.Outcome, v.Reason = Rejected, a.LoaderErr.Error()
	v.Conformance = append(v.Conformance, "loader is not of a known shape")
	return v
}

// Admit runs the admission stage: for a signed artifact, the kernel's PKCS#7 check of content
// against trust (schemes.md, "Kernel outcomes of the signature check"); for an unsigned one,
// nothing. It then records what the LSM hook knows: know for a verified signature.
func Admit(v *Verdict, a *Artifact, what string, content []byte, trust []*x509.Certificate, know LSMKnowledge) bool {
	if !a.Signed() {
		v.Pass(StageAdmission, "unsigned load: there is no signature to check")
		v.PassLSM(LSMUnsigned)
		return true
	}
	sig, err := cms.Verify(content, a.Sig(), trust)
	if err != nil {
		errno, ok := kerrno.Of(err)
		if !ok {
			errno = unix.EBADMSG
		}
		v.Reject(StageAdmission, errno, fmt.Sprintf("signature over %s: %v", what, err))
		return false
	}
	v.Pass(StageAdmission, fmt.Sprintf("signature over %s verified (signer %s)", what, sig.SignerString()))
	v.PassLSM(know)
	return true
}

// AdmitAndBind runs the stages a signed load passes before its loader runs: admission (Admit),
// the loader-shape check (Malformed), the host overrides (Overrides) and the verifier's
// exclusive-map binding (BindExclusive). ok is false when it ended v.
func AdmitAndBind(v *Verdict, a *Artifact, what string, content []byte, trust []*x509.Certificate, know LSMKnowledge, cond Conditions) (exclusive, ok bool) {
	if !Admit(v, a, what, content, trust, know) {
		return false, false
	}
	if a.LoaderErr != nil {
		Malformed(v, a)
		return false, false
	}
	Overrides(v, a, cond)
	return BindExclusive(v, a, cond)
}

// BindExclusive runs the verifier's exclusive-map check (kernel.md, BPF_MAP_CREATE): a map
// created with excl_prog_hash may only be used by a program whose instructions hash to it,
// else EACCES. It reports whether the metadata map is exclusive.
func BindExclusive(v *Verdict, a *Artifact, cond Conditions) (exclusive, ok bool) {
	excl := a.ExclHash()
	switch {
	case cond.MapNotExclusive:
		v.Pass(StageVerifier, "metadata map created without excl_prog_hash: no exclusive binding")
		return false, true
	case excl == nil:
		v.Pass(StageVerifier, "unsigned skeleton: metadata map created without excl_prog_hash")
		return false, true
	}
	h := a.InsnHash()
	if !bytes.Equal(excl, h[:]) {
		v.Reject(StageVerifier, unix.EACCES, "program's hash doesn't match map's excl_prog_hash (opts_excl_hash != SHA-256(opts_insn))")
		return true, false
	}
	v.Pass(StageVerifier, "metadata map bound exclusively to this loader (excl_prog_hash = SHA-256(opts_insn))")
	return true, true
}

// RunLoader models BPF_PROG_RUN of the loader: with a check block (lskel.md), the loader
// compares map->sha with its embedded hash (and, v2, map->excl with 1) and returns -EINVAL on
// a mismatch; without one it checks nothing. hashed says whether map->sha holds the map's hash.
func RunLoader(v *Verdict, a *Artifact, exclusive, hashed bool) *Verdict {
	c := a.Check()
	if c == nil {
		return v.AcceptRun("loader carries no metadata check", "accepted")
	}
	if c.Gen == loader.GenV2 && !exclusive {
		return v.RejectRun(-22, "loader's v2 check: map->excl is 0 (metadata map not exclusive) → -EINVAL")
	}
	if c.Gen == loader.GenV1 && !exclusive {
		v.Note("v1 check does not test map->excl: a non-exclusive metadata map is accepted (CVE-2026-80675)")
	}
	if !hashed {
		return v.RejectRun(-22, "loader's check: map->sha is all zero (the map's hash was never computed) → -EINVAL")
	}
	if h := a.DataHash(); c.Hash != h {
		return v.RejectRun(-22, fmt.Sprintf("loader's check: embedded hash %x != SHA-256(opts_data) %x → -EINVAL", c.Hash[:], h[:]))
	}
	return v.AcceptRun(fmt.Sprintf("loader's %s check: map->sha equals the embedded hash", c.Gen), "accepted")
}

// Overrides records what the host-override blocks let through when the host uses them.
func Overrides(v *Verdict, a *Artifact, cond Conditions) {
	if a.Loader == nil {
		return
	}
	ov := a.Loader.Overrides()
	if !cond.HostOverrides {
		if len(ov) > 0 {
			v.Note("loader has %d host-override block(s): values the host sets before load would bypass the signature", len(ov))
		}
		return
	}
	if len(ov) == 0 {
		v.Note("host-set values are ignored: the loader has no override blocks, the signed initial values are used")
		return
	}
	for _, b := range ov {
		v.Unattested = append(v.Unattested, fmt.Sprintf("%s of map %s (set by the host, not covered by the signature)", b.Kind, OverrideMap(a, b)))
	}
}

// OverrideMap names the map an override block writes, from its loader-context offset.
func OverrideMap(a *Artifact, b loader.Block) string {
	const ctxHdr, mapDesc = 24, 16
	maps := a.File.Maps()
	if i := int(b.CtxOff-ctxHdr) / mapDesc; b.CtxOff >= ctxHdr && i < len(maps) {
		return maps[i]
	}
	return fmt.Sprintf("ctx+%d", b.CtxOff)
}

// sha returns SHA-256 of the concatenation of parts.
func sha(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
