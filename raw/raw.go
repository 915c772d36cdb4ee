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
//   - Every map in fd_array must be exclusive and frozen (else EPERM) and a plain array.
//   - Tampered instructions or metadata are stopped at admission (EKEYREJECTED), before any LSM
//     decision; the LSM sees BPF_SIG_VERIFIED.
//
// Importing the package registers the strategy with compat.
package raw

import (
	"crypto/x509"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/loader"
	"golang.org/x/sys/unix"
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

// Scheme returns compat.Raw.
func (Strategy) Scheme() compat.Scheme { return compat.Raw }

// Sign converts a into a raw skeleton: check block removed, host-override blocks removed
// (unless opts.KeepHostOverrides), signature over opts_insn ‖ opts_data.
func (Strategy) Sign(a *compat.Artifact, s *compat.Signer, opts compat.SignOptions) (*compat.Artifact, error) {
	insn, _, err := compat.Rebuild(a, loader.GenNone, opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	return compat.Assemble(a, insn, Content(insn, a.Data()), s, nil)
}

// Verify judges a as a kernel with raw-bytes load-time verification does, loaded with the
// matching procedure (fd_array_cnt = 1, no hash request).
func (Strategy) Verify(a *compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	v := compat.NewVerdict(compat.Raw, a)
	if !compat.Admit(v, a, "opts_insn ‖ opts_data", Content(a.Insn(), a.Data()), trust, compat.LSMFull) {
		return v
	}
	if a.LoaderErr != nil {
		return compat.Malformed(v, a)
	}
	compat.Overrides(v, a, cond)
	if a.Signed() {
		switch {
		case cond.MapNotExclusive:
			return v.Reject(compat.StageVerifier, unix.EPERM, "a signed program's fd_array map must be exclusive")
		case cond.MapNotFrozen:
			return v.Reject(compat.StageVerifier, unix.EPERM, "a signed program's fd_array map must be frozen")
		}
	}
	exclusive, ok := compat.BindExclusive(v, a, cond)
	if !ok {
		return v
	}
	if c := a.Check(); c != nil {
		v.Conformance = append(v.Conformance, "a raw-scheme loader carries no check block; this one has a "+c.Gen.String()+" check, which fails without the hash request")
	}
	if a.Loader != nil && len(a.Loader.Overrides()) > 0 {
		v.Conformance = append(v.Conformance, "a raw-scheme loader carries no host-override blocks; this one has some")
	}
	// The raw procedure never requests the map's hash.
	return compat.RunLoader(v, a, exclusive, false)
}

// SignedContent returns opts_insn ‖ opts_data.
func (Strategy) SignedContent(a *compat.Artifact) []byte { return Content(a.Insn(), a.Data()) }

// Explain describes what the raw scheme checks for a.
func (Strategy) Explain(a *compat.Artifact) []string {
	out := []string{
		"signed content: opts_insn ‖ opts_data (raw bytes, fd_array order, no hashing)",
		"admission (before the LSM hook): the kernel checks the signature over the loader and its metadata map; the LSM sees BPF_SIG_VERIFIED",
		"verifier: every fd_array map must be exclusive and frozen (EPERM) and a plain array",
		"run: the loader checks nothing itself",
	}
	if c := a.Check(); c != nil {
		out = append(out, "this loader still has a "+c.Gen.String()+" check block: migrate it (the raw procedure never fills map->sha)")
	}
	return out
}
