// Package chain implements the hash-chain signature maps scheme (Blaise Boscaccy, "BPF signature
// hash chains", September 2025; posted, never merged).
//
// The rules:
//   - BPF_PROG_LOAD gains signature_maps (pointer to s32 indices into fd_array, attr offset 168)
//     and signature_maps_size (count, offset 176); attr size 180.
//   - A map's hash MH(m) is SHA-256 over all max_entries elements, each zero-padded to a multiple
//     of 8 bytes. For a light skeleton's single metadata map that is SHA-256(opts_data padded).
//   - The chain over the N listed maps, in list order: h = MH(N-1); for n = N-2 down to 0,
//     h = SHA-256(h ‖ MH(n)). The signed content is the 32-byte root = SHA-256(SHA-256(insns) ‖ h).
//   - The kernel checks the chain before the LSM hook (EKEYREJECTED on any mismatch); with
//     signature_maps_size == 0 it behaves exactly like the legacy scheme. The loader still
//     carries the legacy check block.
//
// Importing the package registers the strategy with compat.
package chain

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kmodel"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
)

func init() { compat.Register(Strategy{}) }

// MapHash returns MH(m) for a map whose elements are values: SHA-256 over every element
// zero-padded to a multiple of 8 bytes.
func MapHash(values ...[]byte) [32]byte {
	h := sha256.New()
	var pad [8]byte
	for _, v := range values {
		h.Write(v)
		if r := len(v) % 8; r != 0 {
			h.Write(pad[:8-r])
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Root returns the signed content for a program whose instructions hash to insnHash and whose
// listed maps hash to mapHashes, in signature_maps order. With no maps the root is undefined
// (the kernel falls back to the legacy scheme); Root then returns insnHash unchanged.
func Root(insnHash [32]byte, mapHashes ...[32]byte) [32]byte {
	n := len(mapHashes)
	if n == 0 {
		return insnHash
	}
	h := mapHashes[n-1]
	for i := n - 2; i >= 0; i-- {
		h = sha256.Sum256(append(h[:], mapHashes[i][:]...))
	}
	return sha256.Sum256(append(insnHash[:], h[:]...))
}

// SkeletonRoot is Root for a light skeleton: its loader and the one metadata map (fd_array
// index 0) holding opts_data.
func SkeletonRoot(insn, data []byte) [32]byte {
	return Root(sha256.Sum256(insn), MapHash(data))
}

// Strategy is the chain scheme. The zero value is ready to use.
type Strategy struct{}

// Info describes the chain scheme: the loader keeps a legacy check block (v1 or v2; by default
// the input's own, else v1), the chain procedure (attr size 180).
func (Strategy) Info() compat.Info {
	return compat.Info{
		Scheme:            compat.Chain,
		Summary:           "posted 2025 series (never merged): signature over H(H(opts_insn) ‖ H(opts_data)), checked before the LSM hook",
		Generations:       []compat.Generation{compat.V1, compat.V2},
		DefaultGeneration: compat.NoGeneration,
		Procedure:         "chain",
		Order:             20,
	}
}

// Detect claims a signed skeleton with opts_signature_maps lines.
func (Strategy) Detect(a compat.Artifact) (compat.Claim, bool) {
	maps, ok := a.SignatureMaps()
	if !a.Signed() || !ok {
		return compat.Claim{}, false
	}
	return compat.Claim{Specificity: 20, Evidence: []string{fmt.Sprintf("opts_signature_maps lines list %d map(s) %v", len(maps), maps)}}, true
}

// Convert converts a into a chain skeleton: the loader keeps (or gains) a check block of
// t.Generation — default the input's own generation, else v1, as the posted bpftool built on
// the 6.18 generator — to be signed over SkeletonRoot; one signature map, index 0.
func (Strategy) Convert(a compat.Artifact, t compat.Target, opts compat.SignOptions) (compat.Pending, error) {
	if !opts.SigningTime.IsZero() {
		return nil, fmt.Errorf("%s: the %s scheme's signatures carry no signed attributes: a signing time does not apply", a.Path(), t.Scheme)
	}
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	gen, err := skel.GenIn(t.Generation)
	if err != nil {
		return nil, err
	}
	if gen == loader.GenNone {
		gen = d.CheckGenOr(loader.GenV1)
	}
	l, ch, err := d.Rebuild(gen, gen == loader.GenV1 || opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	root := SkeletonRoot(l.Raw(), d.Data())
	t.Generation = skel.GenOut(gen)
	return d.Pending(t, l, ch, root[:], []int32{0}), nil
}

// Verify judges a as a kernel with the posted chain series would, loaded with its procedure
// (attr size 180, signature_maps from the header).
func (Strategy) Verify(a compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	d, err := skel.Of(a)
	if err != nil {
		return kmodel.Unreadable(compat.Chain, err)
	}
	v := kmodel.New(compat.Chain, d)
	maps, _ := d.SignatureMaps()
	if !d.Signed() || len(maps) == 0 {
		if d.Signed() {
			kmodel.Note(v, "signature_maps_size == 0: the chain kernel treats this load exactly as a legacy one")
		}
		return kmodel.JudgeLegacy(v, d, trust, cond)
	}
	for _, i := range maps {
		// A light skeleton's fd_array holds one map, the metadata map.
		if i != 0 {
			return kmodel.Reject(v, compat.StageAdmission, compat.EINVAL, fmt.Sprintf("signature_maps lists fd_array index %d; the skeleton's fd_array has 1 entry", i))
		}
	}
	if cond.MapNotFrozen {
		// The series hashes maps with the same map_get_hash that 6.18 restricts to frozen maps.
		return kmodel.Reject(v, compat.StageAdmission, compat.EPERM, "the kernel cannot hash an unfrozen signature map (EPERM)")
	}
	exclusive, ok := kmodel.AdmitAndBind(v, d, "the hash chain root H(H(opts_insn) ‖ H(opts_data))", Strategy{}.SignedContent(d), trust, compat.LSMFull, cond)
	if !ok {
		return v
	}
	kmodel.Note(v, "the kernel computed map->sha itself while checking the chain")
	if d.Check() == nil {
		kmodel.Note(v, "the loader carries no check block; the chain already vouched for opts_data")
	}
	return kmodel.RunLoader(v, d, exclusive, true)
}

// SignedContent returns the 32-byte root over the skeleton's loader and its listed maps; with
// no signature maps, opts_insn (the chain kernel then behaves as a legacy one).
func (Strategy) SignedContent(a compat.Artifact) []byte {
	maps, _ := a.SignatureMaps()
	if len(maps) == 0 {
		return a.Insn()
	}
	hashes := make([][32]byte, len(maps))
	for k := range maps {
		hashes[k] = MapHash(a.Data())
	}
	root := Root(sha256.Sum256(a.Insn()), hashes...)
	return root[:]
}

// Explain describes what the chain scheme checks for a.
func (Strategy) Explain(a compat.Artifact) []string {
	root := SkeletonRoot(a.Insn(), a.Data())
	out := []string{
		"signed content: root = H(H(opts_insn) ‖ h), h the hash chain over the listed maps (here the metadata map: H(opts_data padded to 8))",
		"admission (before the LSM hook): the kernel hashes the listed maps and checks the signature over the root; the LSM sees instructions and maps verified",
		"the loader still contains the legacy check block; the kernel fills map->sha while hashing, so it passes",
		fmt.Sprintf("this skeleton's root: %x", root[:]),
	}
	if maps, ok := a.SignatureMaps(); ok {
		out = append(out, fmt.Sprintf("signature maps listed: %v", maps))
	} else {
		out = append(out, "no opts_signature_maps lines: a chain kernel would treat the load as legacy")
	}
	return out
}
