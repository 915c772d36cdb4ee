// Package legacy implements Linux 6.18's signing scheme (KP Singh): the loader program is signed,
// and the loader itself checks SHA-256 of its metadata blob when it runs.
//
// The rules:
//   - Signed content: opts_insn only. SHA-256(opts_data) is baked into the loader's check block,
//     v1 (28 slots, libbpf ≤ 1.7) or v2 (33 slots, with an exclusivity test; mid-2026).
//   - opts_excl_hash = SHA-256(opts_insn); the metadata map is exclusive to the loader.
//   - Load procedure: create, fill and freeze the metadata map, request its hash
//     (BPF_OBJ_GET_INFO_BY_FD, which fills map->sha), load the loader with fd_array_cnt = 0, run it.
//   - A bad signature or tampered opts_insn is stopped at admission, before the LSM hook. Tampered
//     opts_data is stopped only when the loader runs (retval -22), after an LSM has admitted a
//     "validly signed" program.
//
// Importing the package registers the strategy with compat.
package legacy

import (
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/loader"
	"golang.org/x/sys/unix"
)

func init() { compat.Register(Strategy{}) }

// DefaultGeneration is the check block Sign inserts when none is asked for: the last one
// upstream emitted before the check was dropped.
const DefaultGeneration = loader.GenV2

// Strategy is the legacy scheme. The zero value is ready to use.
type Strategy struct{}

// Scheme returns compat.Legacy.
func (Strategy) Scheme() compat.Scheme { return compat.Legacy }

// Sign converts a into a legacy skeleton of opts.Generation (default v2) and signs opts_insn.
// v2 drops the host-override blocks (as the hardened generator does) unless
// opts.KeepHostOverrides; v1 keeps them, as every v1 generator did.
func (Strategy) Sign(a *compat.Artifact, s *compat.Signer, opts compat.SignOptions) (*compat.Artifact, error) {
	gen := opts.Generation
	if gen == loader.GenNone {
		gen = DefaultGeneration
	}
	insn, _, err := compat.Rebuild(a, gen, gen == loader.GenV1 || opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	return compat.Assemble(a, insn, insn, s, nil)
}

// Verify judges a as a 6.18 kernel does with libbpf's bpf_load_and_run.
func (Strategy) Verify(a *compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	return Judge(compat.NewVerdict(compat.Legacy, a), a, trust, cond)
}

// Judge runs the legacy kernel model on a, recording into v. The chain scheme uses it for
// loads that list no signature maps, which its kernel treats exactly as legacy ones.
func Judge(v *compat.Verdict, a *compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	if cond.MapNotFrozen {
		// libbpf's bpf_load_and_run requests the map's hash before the program load and gives
		// up when that fails; 6.18 refuses to hash an unfrozen map (kernel.md).
		return v.Reject(compat.StageSetup, unix.EPERM, "BPF_OBJ_GET_INFO_BY_FD refuses to hash an unfrozen map: the load procedure stops before BPF_PROG_LOAD")
	}
	exclusive, ok := compat.AdmitAndBind(v, a, "opts_insn", a.Insn(), trust, compat.LSMLoaderOnly, cond)
	if !ok {
		return v
	}
	hashed := !cond.MapHashNotComputed
	if !hashed {
		v.Note("the load procedure skipped the hash request, so map->sha stays zero")
	}
	if a.Check() == nil && a.Signed() {
		v.Conformance = append(v.Conformance, "a legacy loader must carry a metadata check block; this one has none, so opts_data is vouched for by nothing")
	}
	return compat.RunLoader(v, a, exclusive, hashed)
}

// SignedContent returns opts_insn.
func (Strategy) SignedContent(a *compat.Artifact) []byte { return a.Insn() }

// Explain describes what the legacy scheme checks for a.
func (Strategy) Explain(a *compat.Artifact) []string {
	out := []string{
		"signed content: opts_insn only; SHA-256(opts_data) must be embedded in the loader's check block",
		"admission (before the LSM hook): PKCS#7 signature over opts_insn; the LSM sees a verified loader, metadata not yet verified",
		"verifier: the metadata map is exclusive to a program whose SHA-256 equals opts_excl_hash",
		"run: the loader compares map->sha (filled by the hash request) with its embedded hash and returns -EINVAL on a mismatch",
	}
	if c := a.Check(); c != nil {
		h := a.DataHash()
		out = append(out, fmt.Sprintf("this loader: %s check, embedded hash %x, SHA-256(opts_data) %x, match %t", c.Gen, c.Hash[:], h[:], c.Hash == h))
	} else {
		out = append(out, "this loader has no check block: under the legacy scheme its metadata would be vouched for by nothing")
	}
	return out
}
