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
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/legacy"
	"golang.org/x/sys/unix"
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

// Scheme returns compat.Chain.
func (Strategy) Scheme() compat.Scheme { return compat.Chain }

// Sign converts a into a chain skeleton: the loader keeps (or gains) a check block of
// opts.Generation — default the input's own generation, else v1, as the posted bpftool built on
// the 6.18 generator — and the signature covers SkeletonRoot; one signature map, index 0.
func (Strategy) Sign(a *compat.Artifact, s *compat.Signer, opts compat.SignOptions) (*compat.Artifact, error) {
	gen := opts.Generation
	if gen == loader.GenNone {
		gen = a.Generation()
	}
	if gen == loader.GenNone {
		gen = loader.GenV1
	}
	insn, _, err := compat.Rebuild(a, gen, gen == loader.GenV1 || opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	root := SkeletonRoot(insn, a.Data())
	return compat.Assemble(a, insn, root[:], s, []int32{0})
}

// Verify judges a as a kernel with the posted chain series would, loaded with its procedure
// (attr size 180, signature_maps from the header).
func (Strategy) Verify(a *compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	v := compat.NewVerdict(compat.Chain, a)
	maps, _ := a.SignatureMaps()
	if !a.Signed() || len(maps) == 0 {
		if a.Signed() {
			v.Note("signature_maps_size == 0: the chain kernel treats this load exactly as a legacy one")
		}
		return legacy.Judge(v, a, trust, cond)
	}
	for _, i := range maps {
		// A light skeleton's fd_array holds one map, the metadata map.
		if i != 0 {
			return v.Reject(compat.StageAdmission, unix.EINVAL, fmt.Sprintf("signature_maps lists fd_array index %d; the skeleton's fd_array has 1 entry", i))
		}
	}
	if cond.MapNotFrozen {
		// The series hashes maps with the same map_get_hash that 6.18 restricts to frozen maps.
		return v.Reject(compat.StageAdmission, unix.EPERM, "the kernel cannot hash an unfrozen signature map (EPERM)")
	}
	exclusive, ok := compat.AdmitAndBind(v, a, "the hash chain root H(H(opts_insn) ‖ H(opts_data))", Strategy{}.SignedContent(a), trust, compat.LSMFull, cond)
	if !ok {
		return v
	}
	v.Note("the kernel computed map->sha itself while checking the chain")
	if a.Check() == nil {
		v.Note("the loader carries no check block; the chain already vouched for opts_data")
	}
	return compat.RunLoader(v, a, exclusive, true)
}

// SignedContent returns the 32-byte root over the skeleton's loader and its listed maps; with
// no signature maps, opts_insn (the chain kernel then behaves as a legacy one).
func (Strategy) SignedContent(a *compat.Artifact) []byte {
	maps, _ := a.SignatureMaps()
	if len(maps) == 0 {
		return a.Insn()
	}
	hashes := make([][32]byte, len(maps))
	for k := range maps {
		hashes[k] = MapHash(a.Data())
	}
	root := Root(a.InsnHash(), hashes...)
	return root[:]
}

// Explain describes what the chain scheme checks for a.
func (Strategy) Explain(a *compat.Artifact) []string {
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
