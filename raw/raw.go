// Package raw implements the 2026 upstream scheme: the kernel verifies one signature over the raw
// bytes instructions ‖ metadata at load time, and loaders carry no check of their own.
//
// It is the degenerate hash chain whose links are the bytes themselves, but it shares none of
// the chain's hashing and a different load procedure (fd_array_cnt = 1, no hash request, map
// requirements enforced), so it reads better as its own package than as a mode of chain.
//
// The rules:
//   - Signed content: opts_insn ‖ D_0 ‖ D_1 ‖ …, the first value_size bytes of each map in
//     fd_array, in fd_array order, unpadded. For a light skeleton: opts_insn ‖ opts_data.
//   - opts_excl_hash = SHA-256(opts_insn); the loader has no check block and no host overrides.
//   - Every map in fd_array must be frozen and exclusive (else EPERM), a plain array, and bound
//     to the program's digest (else EACCES): checked before the signature and before the LSM
//     hook, as merged in mainline.
//   - Tampered instructions fail the digest binding (EACCES), tampered metadata the signature
//     (EKEYREJECTED), both before any LSM decision; the LSM sees BPF_SIG_VERIFIED.
//
// Importing the package registers the strategy with compat.
package raw

import (
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kmodel"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
)

func init() { compat.Register(Strategy{}) }

// Content returns the signed content for a loader and its fd_array maps' values.
func Content(insn []byte, maps ...[]byte) []byte {
	n := len(insn)
	for _, m := range maps {
		n += len(m)
	}
	out := make([]byte, 0, n)
	out = append(out, insn...)
	for _, m := range maps {
		out = append(out, m...)
	}
	return out
}

// Strategy is the raw scheme. The zero value is ready to use.
type Strategy struct{}

// Info describes the raw scheme: no loader generations, the raw load procedure.
func (Strategy) Info() compat.Info {
	return compat.Info{
		Scheme:    compat.Raw,
		Summary:   "2026 upstream: one signature over opts_insn ‖ opts_data, verified at load time; the loader checks nothing",
		Procedure: "mainline",
		Order:     30,
	}
}

// Detect claims any signed skeleton no more specific scheme claims: raw has no marker of its
// own beyond a signature and a loader without a check block.
func (Strategy) Detect(a compat.Artifact) (compat.Claim, bool) {
	if !a.Signed() {
		return compat.Claim{}, false
	}
	ev := []string{"signed; loader carries no metadata check block"}
	if g := a.CheckGeneration(); g != compat.NoGeneration {
		ev = []string{"signed; loader still carries a " + string(g) + " check block, but nothing more specific claims it"}
	}
	return compat.Claim{Specificity: 1, Evidence: ev}, true
}

// Convert converts a into a raw skeleton: check block removed, host-override blocks removed
// (unless opts.KeepHostOverrides), to be signed over opts_insn ‖ opts_data.
func (Strategy) Convert(a compat.Artifact, t compat.Target, opts compat.SignOptions) (compat.Pending, error) {
	if !opts.SigningTime.IsZero() {
		return nil, fmt.Errorf("%s: the %s scheme's signatures carry no signed attributes: a signing time does not apply", a.Path(), t.Scheme)
	}
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	l, ch, err := d.Rebuild(loader.GenNone, opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	return d.Pending(compat.Target{Scheme: compat.Raw}, l, ch, Content(l.Raw(), d.Data()), nil), nil
}

// Verify judges a as mainline's load-time verification does (the mainline kernel profile,
// which follows torvalds/linux Documentation/bpf/signing.rst and the signed_loader selftests),
// loaded with the matching procedure (fd_array_cnt = 1, no hash request). The order is the
// merged kernel's: fd_array is resolved into used_maps and each folded map checked — frozen
// (EPERM, signed_unfrozen_fd_array_rejected), exclusive (EPERM,
// signed_nonexcl_fd_array_rejected), bound to this program's digest (EACCES,
// signature_authenticates_insns) — then the signature over insn ‖ metadata, all before
// security_bpf_prog_load; a failure there is never "LSM admitted, then failed".
func (Strategy) Verify(a compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	d, err := skel.Of(a)
	if err != nil {
		return kmodel.Unreadable(compat.Raw, err)
	}
	v := kmodel.New(compat.Raw, d)
	if d.Signed() {
		h := d.InsnHash()
		switch {
		case cond.MapNotFrozen:
			return kmodel.Reject(v, compat.StageAdmission, compat.EPERM, "a folded map must be frozen, so the signed bytes cannot change before the loader runs (refused before the LSM hook)")
		case cond.MapNotExclusive:
			return kmodel.Reject(v, compat.StageAdmission, compat.EPERM, "a signed program's fd_array map must be exclusive (refused before the LSM hook)")
		case string(d.ExclHash()) != string(h[:]):
			return kmodel.Reject(v, compat.StageAdmission, compat.EACCES, "program's hash doesn't match map's excl_prog_hash: the digest binding fails before the signature is examined")
		}
		kmodel.Pass(v, compat.StageAdmission, "fd_array resolved: the metadata map is frozen, exclusive and bound to this program's digest")
	}
	if !kmodel.Admit(v, d, "opts_insn ‖ opts_data", Content(d.Insn(), d.Data()), trust, compat.LSMFull) {
		return v
	}
	if d.LoaderError() != nil {
		return kmodel.Malformed(v, d)
	}
	kmodel.Overrides(v, d, cond)
	exclusive := d.Signed()
	if !d.Signed() {
		var ok bool
		if exclusive, ok = kmodel.BindExclusive(v, d, cond); !ok {
			return v
		}
	}
	if c := d.Check(); c != nil {
		v.Conformance = append(v.Conformance, "a raw-scheme loader carries no check block; this one has a "+c.Gen.String()+" check, which fails without the hash request")
	}
	if d.HostOverrides() > 0 {
		v.Conformance = append(v.Conformance, "a raw-scheme loader carries no host-override blocks; this one has some")
	}
	// The raw procedure never requests the map's hash.
	return kmodel.RunLoader(v, d, exclusive, false)
}

// SignedContent returns opts_insn ‖ opts_data.
func (Strategy) SignedContent(a compat.Artifact) []byte { return Content(a.Insn(), a.Data()) }

// Explain describes what the raw scheme checks for a.
func (Strategy) Explain(a compat.Artifact) []string {
	out := []string{
		"signed content: opts_insn ‖ opts_data (raw bytes, fd_array order, no hashing)",
		"admission (before the LSM hook): the kernel checks the signature over the loader and its metadata map; the LSM sees BPF_SIG_VERIFIED",
		"admission, before the signature: every fd_array map must be frozen and exclusive (EPERM), a plain array, and bound to this program's digest (EACCES)",
		"run: the loader checks nothing itself",
	}
	if g := a.CheckGeneration(); g != compat.NoGeneration {
		out = append(out, "this loader still has a "+string(g)+" check block: migrate it (the raw procedure never fills map->sha)")
	}
	return out
}
