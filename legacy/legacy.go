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
	"github.com/bpfsig/bpfsig/internal/kmodel"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
)

func init() { compat.Register(Strategy{}) }

// DefaultGeneration is the check block Sign inserts when none is asked for: the last one
// upstream emitted before the check was dropped.
const DefaultGeneration = compat.V2

// Strategy is the legacy scheme. The zero value is ready to use.
type Strategy struct{}

// Info describes the legacy scheme: generations v1 and v2 (default v2), the 6.18 procedure.
func (Strategy) Info() compat.Info {
	return compat.Info{
		Scheme:            compat.Legacy,
		Summary:           "Linux 6.18: opts_insn signed; the loader checks SHA-256(opts_data) itself when it runs",
		Generations:       []compat.Generation{compat.V1, compat.V2},
		DefaultGeneration: DefaultGeneration,
		Compare:           []compat.Generation{compat.V1, compat.V2},
		Procedure:         "6.18",
		Order:             10,
	}
}

// Detect claims a signed skeleton whose loader carries a metadata check block.
func (Strategy) Detect(a compat.Artifact) (compat.Claim, bool) {
	d, err := skel.Of(a)
	if err != nil || !d.Signed() {
		return compat.Claim{}, false
	}
	c := d.Check()
	if c == nil {
		return compat.Claim{}, false
	}
	return compat.Claim{Specificity: 10, Evidence: []string{fmt.Sprintf("signed; loader has a %s metadata check block at slots %d..%d", c.Gen, c.Start, c.Start+c.Len-1)}}, true
}

// Convert converts a into a legacy skeleton of t.Generation (default v2), to be signed over
// opts_insn. v2 drops the host-override blocks (as the hardened generator does) unless
// opts.KeepHostOverrides; v1 keeps them, as every v1 generator did.
func (Strategy) Convert(a compat.Artifact, t compat.Target, opts compat.SignOptions) (compat.Pending, error) {
	if !opts.SigningTime.IsZero() {
		return nil, fmt.Errorf("%s: the %s scheme's signatures carry no signed attributes: a signing time does not apply", a.Path(), t.Scheme)
	}
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	t.Scheme = compat.Legacy
	if t.Generation == compat.NoGeneration {
		t.Generation = DefaultGeneration
	}
	gen, err := skel.GenIn(t.Generation)
	if err != nil {
		return nil, err
	}
	l, ch, err := d.Rebuild(gen, gen == loader.GenV1 || opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	return d.Pending(t, l, ch, l.Bytes(), nil), nil
}

// Verify judges a as a 6.18 kernel does with libbpf's bpf_load_and_run.
func (Strategy) Verify(a compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	d, err := skel.Of(a)
	if err != nil {
		return kmodel.Unreadable(compat.Legacy, err)
	}
	return kmodel.JudgeLegacy(kmodel.New(compat.Legacy, d), d, trust, cond)
}

// SignedContent returns opts_insn.
func (Strategy) SignedContent(a compat.Artifact) []byte { return a.Insn() }

// Explain describes what the legacy scheme checks for a.
func (Strategy) Explain(a compat.Artifact) []string {
	out := []string{
		"signed content: opts_insn only; SHA-256(opts_data) must be embedded in the loader's check block",
		"admission (before the LSM hook): PKCS#7 signature over opts_insn; the LSM sees a verified loader, metadata not yet verified",
		"verifier: the metadata map is exclusive to a program whose SHA-256 equals opts_excl_hash",
		"run: the loader compares map->sha (filled by the hash request) with its embedded hash and returns -EINVAL on a mismatch",
	}
	d, err := skel.Of(a)
	if err != nil {
		return append(out, err.Error())
	}
	if c := d.Check(); c != nil {
		h := d.DataHash()
		out = append(out, fmt.Sprintf("this loader: %s check, embedded hash %x, SHA-256(opts_data) %x, match %t", c.Gen, c.Hash[:], h[:], c.Hash == h))
	} else {
		out = append(out, "this loader has no check block: under the legacy scheme its metadata would be vouched for by nothing")
	}
	return out
}
