// Package skel is bpfsig's document model: one light skeleton parsed once, with its header
// (internal/lskel), its decoded loader (internal/loader) and, lazily, its parsed signature. A
// *Doc is the built-in implementation of compat.Artifact; strategies reach the model with Of.
package skel

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/lskel"
)

// Doc is one parsed light skeleton. It is immutable: edits return a new Doc.
type Doc struct {
	path string
	file *lskel.File
	// The blobs as the header holds them (lskel.File.View): shared, never modified.
	insn, data, sigDER, excl []byte
	loader                   *loader.Loader
	loaderErr                error

	insnHash, dataHash sync.Once
	ih, dh             [32]byte
	sigOnce            sync.Once
	sig                *cms.Signature
	sigErr             error
	detOnce            sync.Once
	det                compat.Detection
	detErr             error
}

// Detect is compat.Detect(d), asked of the registry once per Doc.
func (d *Doc) Detect() (compat.Detection, error) {
	d.detOnce.Do(func() { d.det, d.detErr = compat.Detect(d) })
	return d.det, d.detErr
}

var _ compat.Artifact = (*Doc)(nil)

// Parse parses a light skeleton header; path names it in errors. A header that is not a light
// skeleton is an error; a loader of unknown shape is recorded (LoaderError).
func Parse(path string, src []byte) (*Doc, error) {
	f, err := lskel.Parse(path, src)
	if err != nil {
		return nil, err
	}
	return FromFile(path, f), nil
}

// FromFile wraps a parsed header, decoding its loader.
func FromFile(path string, f *lskel.File) *Doc {
	d := newDoc(path, f)
	l, err := loader.DecodeShared(d.insn) // the Doc's blobs are immutable
	if err != nil {
		d.loaderErr = fmt.Errorf("%s: opts_insn: %w", path, err)
	} else {
		d.loader = l
	}
	return d
}

func newDoc(path string, f *lskel.File) *Doc {
	return &Doc{path: path, file: f, insn: f.View(lskel.BlobInsn), data: f.View(lskel.BlobData), sigDER: f.View(lskel.BlobSig), excl: f.View(lskel.BlobExclHash)}
}

// Of returns the model behind a: a itself when it is a *Doc, else a parse of a.Source().
func Of(a compat.Artifact) (*Doc, error) {
	if d, ok := a.(*Doc); ok {
		return d, nil
	}
	// A foreign artifact's Source may be a buffer its owner later writes: the Doc keeps a copy.
	return Parse(a.Path(), bytes.Clone(a.Source()))
}

// WithPath returns d under another name (for messages), sharing its content.
func (d *Doc) WithPath(path string) *Doc {
	if path == d.path {
		return d
	}
	n := FromFile(path, d.file)
	return n
}

func (d *Doc) Path() string   { return d.path }
func (d *Doc) Name() string   { return d.file.Name() }
func (d *Doc) Source() []byte { return d.file.Bytes() }

// Insn, Data, Sig and ExclHash return the Doc's own blobs (compat.Artifact: not to be modified).
func (d *Doc) Insn() []byte           { return d.insn }
func (d *Doc) Data() []byte           { return d.data }
func (d *Doc) Sig() []byte            { return d.sigDER }
func (d *Doc) ExclHash() []byte       { return d.excl }
func (d *Doc) Signed() bool           { return d.file.Signed() }
func (d *Doc) LoaderError() error     { return d.loaderErr }
func (d *Doc) File() *lskel.File      { return d.file }
func (d *Doc) Loader() *loader.Loader { return d.loader }

// SignatureMaps returns the chain scheme's fd_array indices and whether the lines are present.
func (d *Doc) SignatureMaps() ([]int32, bool) { return d.file.SignatureMaps() }

// Signature returns opts_sig parsed (once). The error wraps EBADMSG for malformed DER.
func (d *Doc) Signature() (*cms.Signature, error) {
	d.sigOnce.Do(func() {
		if sig := d.Sig(); sig == nil {
			d.sigErr = fmt.Errorf("%s: not signed", d.path)
		} else {
			d.sig, d.sigErr = cms.Parse(sig)
		}
	})
	return d.sig, d.sigErr
}

// Check returns the loader's metadata check block, nil when there is none or the loader is not
// decodable.
func (d *Doc) Check() *loader.Block {
	if d.loader == nil {
		return nil
	}
	return d.loader.Check()
}

// CheckGeneration returns the generation of the loader's check block.
func (d *Doc) CheckGeneration() compat.Generation {
	if c := d.Check(); c != nil {
		return GenOut(c.Gen)
	}
	return compat.NoGeneration
}

// CheckGenOr returns the generation of the loader's check block, or def when it has none: the
// default of schemes whose loaders keep the input's check (chain, Hornet).
func (d *Doc) CheckGenOr(def loader.Generation) loader.Generation {
	if c := d.Check(); c != nil {
		return c.Gen
	}
	return def
}

// Overrides returns the loader's host-override blocks.
func (d *Doc) Overrides() []loader.Block {
	if d.loader == nil {
		return nil
	}
	return d.loader.Overrides()
}

// HostOverrides returns the number of host-override blocks.
func (d *Doc) HostOverrides() int { return len(d.Overrides()) }

// DataHash returns SHA-256 of the metadata blob (computed once).
func (d *Doc) DataHash() [32]byte {
	d.dataHash.Do(func() { d.dh = sha256.Sum256(d.Data()) })
	return d.dh
}

// InsnHash returns SHA-256 of the loader instructions (computed once).
func (d *Doc) InsnHash() [32]byte {
	d.insnHash.Do(func() { d.ih = sha256.Sum256(d.Insn()) })
	return d.ih
}

// OverrideMap names the map an override block writes, from its loader-context offset.
func (d *Doc) OverrideMap(b loader.Block) string {
	const ctxHdr, mapDesc = 24, 16
	maps := d.file.Maps()
	if i := int(b.CtxOff-ctxHdr) / mapDesc; b.CtxOff >= ctxHdr && i < len(maps) {
		return maps[i]
	}
	return fmt.Sprintf("ctx+%d", b.CtxOff)
}

// GenIn converts a contract generation to the loader model's.
func GenIn(g compat.Generation) (loader.Generation, error) {
	switch g {
	case compat.NoGeneration:
		return loader.GenNone, nil
	case compat.V1:
		return loader.GenV1, nil
	case compat.V2:
		return loader.GenV2, nil
	}
	return loader.GenNone, fmt.Errorf("no loader check block of generation %q", string(g))
}

// GenOut converts the loader model's generation to the contract's.
func GenOut(g loader.Generation) compat.Generation {
	switch g {
	case loader.GenV1:
		return compat.V1
	case loader.GenV2:
		return compat.V2
	}
	return compat.NoGeneration
}

// CMSOptions returns the CMS signing options for s.
func CMSOptions(s *compat.Signer) cms.SignOptions {
	if s.ID == compat.IssuerSerial {
		return cms.SignOptions{SignerID: cms.IssuerSerial}
	}
	return cms.SignOptions{SignerID: cms.SubjectKeyID} // the default, for any other value
}
