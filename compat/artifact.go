package compat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/lskel"
)

// Artifact is one light skeleton: its header text and its decoded loader program.
type Artifact struct {
	// Path names the artifact in messages; it need not exist on disk.
	Path string
	// File is the parsed header.
	File *lskel.File
	// Loader is the decoded loader program, nil when LoaderErr is set.
	Loader *loader.Loader
	// LoaderErr says why opts_insn is not a loader of a known shape. An artifact with a
	// LoaderErr can be inspected but never verifies and cannot be signed.
	LoaderErr error
}

// Open reads and parses the light skeleton header at path.
func Open(path string) (*Artifact, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse parses a light skeleton header. A header that is not a light skeleton is an error; a
// loader of unknown shape is recorded in LoaderErr.
func Parse(path string, src []byte) (*Artifact, error) {
	f, err := lskel.Parse(path, src)
	if err != nil {
		return nil, err
	}
	return FromFile(path, f), nil
}

// FromFile wraps a parsed header, decoding its loader.
func FromFile(path string, f *lskel.File) *Artifact {
	a := &Artifact{Path: path, File: f}
	l, err := loader.Decode(f.Insn())
	if err != nil {
		a.LoaderErr = fmt.Errorf("%s: opts_insn: %w", path, err)
	} else {
		a.Loader = l
	}
	return a
}

// Insn returns the loader instructions (opts_insn).
func (a *Artifact) Insn() []byte { return a.File.Insn() }

// Data returns the metadata blob (opts_data).
func (a *Artifact) Data() []byte { return a.File.Data() }

// Sig returns the DER signature (opts_sig), nil when unsigned.
func (a *Artifact) Sig() []byte { return a.File.Sig() }

// ExclHash returns opts_excl_hash, nil when unsigned.
func (a *Artifact) ExclHash() []byte { return a.File.ExclHash() }

// Signed reports whether the header carries a signature.
func (a *Artifact) Signed() bool { return a.File.Signed() }

// SignatureMaps returns the chain scheme's fd_array indices and whether the lines are present.
func (a *Artifact) SignatureMaps() ([]int32, bool) { return a.File.SignatureMaps() }

// Signature parses opts_sig. It returns an error wrapping EBADMSG when the DER is malformed.
func (a *Artifact) Signature() (*cms.Signature, error) {
	sig := a.Sig()
	if sig == nil {
		return nil, fmt.Errorf("%s: not signed", a.Path)
	}
	return cms.Parse(sig)
}

// Check returns the loader's metadata check block, nil when there is none or the loader is
// not decodable.
func (a *Artifact) Check() *loader.Block {
	if a.Loader == nil {
		return nil
	}
	return a.Loader.Check()
}

// Generation returns the generation of the loader's check block (GenNone without one).
func (a *Artifact) Generation() loader.Generation {
	if c := a.Check(); c != nil {
		return c.Gen
	}
	return loader.GenNone
}

// Detection is the scheme an artifact's content has, with the evidence for it.
type Detection struct {
	Scheme     Scheme
	Generation loader.Generation
	Evidence   []string
}

// Detect names the scheme of a's content. It looks only at the content (which lines and blocks
// are present), never at file names; it does not verify anything.
//
// The rules, in order: no opts_sig → unsigned; opts_signature_maps lines → chain; a check block
// in the loader → legacy; otherwise → raw.
func Detect(a *Artifact) Detection {
	d := Detection{Generation: a.Generation()}
	maps, chain := a.SignatureMaps()
	switch {
	case !a.Signed():
		d.Scheme = Unsigned
		d.Evidence = append(d.Evidence, "no opts_sig literal and no opts.signature lines")
	case chain:
		d.Scheme = Chain
		d.Evidence = append(d.Evidence, fmt.Sprintf("opts_signature_maps lines list %d map(s) %v", len(maps), maps))
	case a.Check() != nil:
		d.Scheme = Legacy
		c := a.Check()
		d.Evidence = append(d.Evidence, fmt.Sprintf("signed; loader has a %s metadata check block at slots %d..%d", c.Gen, c.Start, c.Start+c.Len-1))
	default:
		d.Scheme = Raw
		d.Evidence = append(d.Evidence, "signed; loader carries no metadata check block")
	}
	if a.LoaderErr != nil {
		d.Evidence = append(d.Evidence, "loader not of a known shape: "+a.LoaderErr.Error())
	} else if c := a.Check(); c != nil && d.Scheme != Legacy {
		d.Evidence = append(d.Evidence, fmt.Sprintf("loader still contains a %s check block", c.Gen))
	}
	if a.Loader != nil {
		if n := len(a.Loader.Overrides()); n > 0 {
			d.Evidence = append(d.Evidence, fmt.Sprintf("%d host-override block(s)", n))
		}
	}
	return d
}

// DataHash returns SHA-256 of the metadata blob.
func (a *Artifact) DataHash() [32]byte { return sha256.Sum256(a.Data()) }

// InsnHash returns SHA-256 of the loader instructions.
func (a *Artifact) InsnHash() [32]byte { return sha256.Sum256(a.Insn()) }

func hexs(b []byte) string { return hex.EncodeToString(b) }
