// Package bpfsig is the front door to bpfsig for Go programs: open a signed (or unsigned) BPF
// light skeleton, verify it as a kernel would, sign it for any scheme, and write it back
// atomically. Every built-in signing scheme is included.
//
//	sk, err := bpfsig.Open("old/app.skel.h")
//	signer, err := bpfsig.LoadSigner("new.key", "new.crt")
//	trust, err := bpfsig.LoadTrust("old.crt", "keyring-dir/")
//	v := bpfsig.Verify(sk, trust)           // judged as its detected scheme; v.OK()
//	out, err := bpfsig.Sign(sk, signer, bpfsig.Target{Scheme: bpfsig.Raw})
//	err = out.WriteFile("new/app.skel.h")   // atomic; out.Bytes() for the text
//
// The vocabulary (schemes, generations, targets, verdicts and their stages, the Strategy
// interface a new scheme implements) is package compat's; the names here are aliases of it.
// Policies are in package policy, cross-scheme comparison in package compare, tree migration
// in package migrate.
package bpfsig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/skel"

	// The built-in strategies register themselves.
	_ "github.com/bpfsig/bpfsig/chain"
	_ "github.com/bpfsig/bpfsig/hornet"
	_ "github.com/bpfsig/bpfsig/legacy"
	_ "github.com/bpfsig/bpfsig/raw"
)

// The contract's types, under the front door's names.
type (
	// Scheme names a signing scheme.
	Scheme = compat.Scheme
	// Generation names a loader generation (the legacy check block's).
	Generation = compat.Generation
	// Target is a scheme and generation to sign for.
	Target = compat.Target
	// Verdict is how a kernel treats a skeleton, stage by stage.
	Verdict = compat.Verdict
	// Stage is a point of a load at which a kernel can stop it.
	Stage = compat.Stage
	// Signer is a private key with its certificate.
	Signer = compat.Signer
	// SignerIDForm is how a signature names its certificate.
	SignerIDForm = compat.SignerIDForm
	// Errno is a Linux errno, portable across build platforms.
	Errno = compat.Errno
	// Conditions are deviations of a host's load procedure from its scheme's.
	Conditions = compat.Conditions
	// Detection is a skeleton's scheme with the evidence for it.
	Detection = compat.Detection
)

// The built-in schemes and generations, and the signer-id forms.
const (
	Unsigned = compat.Unsigned
	Legacy   = compat.Legacy
	Chain    = compat.Chain
	Raw      = compat.Raw

	V1 = compat.V1
	V2 = compat.V2

	SubjectKeyID = compat.SubjectKeyID
	IssuerSerial = compat.IssuerSerial
)

// MaxHeaderSize bounds the light skeleton headers Open reads: a raw-scheme payload may reach
// about 16 MiB, which a header escapes to about four times that. Key, certificate, keyring
// entry and policy files are bounded at 1 MiB.
const MaxHeaderSize = fsio.SkeletonLimit

// Skeleton is one parsed light skeleton. It is immutable: Sign returns a new one. Parsing,
// loader decoding and detection happen once, when it is opened.
type Skeleton struct {
	doc *skel.Doc
	cmsCache
}

// Open reads and parses the light skeleton header at path. path must name a regular file (or
// a symbolic link to one) of at most MaxHeaderSize bytes.
func Open(path string) (*Skeleton, error) {
	src, err := fsio.ReadFile(path, MaxHeaderSize)
	if err != nil {
		return nil, err
	}
	return parse(path, src) // src is ours: no copy
}

// Parse parses a light skeleton header; name identifies it in messages. A header that is not
// a complete light skeleton is an error; a loader of unknown shape is not (see LoaderError),
// so that it can still be inspected, but it never verifies and cannot be signed.
func Parse(name string, src []byte) (*Skeleton, error) {
	// The Skeleton keeps its text: it must not be the caller's buffer, which the caller may
	// overwrite (Skeleton is immutable).
	return parse(name, bytes.Clone(src))
}

func parse(name string, src []byte) (*Skeleton, error) {
	d, err := skel.Parse(name, src)
	if err != nil {
		return nil, err
	}
	return wrap(d), nil
}

// FromArtifact returns the skeleton behind a strategy's artifact.
func FromArtifact(a compat.Artifact) (*Skeleton, error) {
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	return wrap(d), nil
}

func wrap(d *skel.Doc) *Skeleton { return &Skeleton{doc: d} }

// Artifact returns the skeleton as the Strategy interface takes it.
func (s *Skeleton) Artifact() compat.Artifact { return s.doc }

// Path returns the name the skeleton was opened or parsed under.
func (s *Skeleton) Path() string { return s.doc.Path() }

// Name returns the skeleton's object name (struct NAME in the header).
func (s *Skeleton) Name() string { return s.doc.Name() }

// Bytes returns the header text.
func (s *Skeleton) Bytes() []byte { return s.doc.Source() }

// Insn returns a copy of the loader instructions (opts_insn).
func (s *Skeleton) Insn() []byte { return append([]byte(nil), s.doc.Insn()...) }

// Data returns a copy of the metadata blob (opts_data).
func (s *Skeleton) Data() []byte { return append([]byte(nil), s.doc.Data()...) }

// Sig returns a copy of the DER signature (opts_sig), nil when unsigned.
func (s *Skeleton) Sig() []byte {
	if sig := s.doc.Sig(); sig != nil {
		return append([]byte(nil), sig...)
	}
	return nil
}

// Signed reports whether the header carries a signature.
func (s *Skeleton) Signed() bool { return s.doc.Signed() }

// Scheme returns the scheme detected from the content ("" when detection failed: Detection
// says why).
func (s *Skeleton) Scheme() Scheme { det, _ := s.doc.Detect(); return det.Scheme }

// Generation returns the generation of the loader's check block, NoGeneration without one.
func (s *Skeleton) Generation() Generation { return s.doc.CheckGeneration() }

// Detection returns the scheme detected from the content with its evidence, or the reason no
// scheme, or more than one, claims it.
func (s *Skeleton) Detection() (Detection, error) {
	det, err := s.doc.Detect() // memoised: the evidence is the caller's copy
	det.Evidence = slices.Clone(det.Evidence)
	return det, err
}

// LoaderError says why opts_insn is not a loader of a known shape, nil when it is.
func (s *Skeleton) LoaderError() error { return s.doc.LoaderError() }

// WithPath returns the skeleton under another name, for messages and reports.
func (s *Skeleton) WithPath(path string) *Skeleton {
	return &Skeleton{doc: s.doc.WithPath(path)}
}

// WriteFile writes the header to path atomically: a reader, or a crash, sees the old file or
// the whole new one. An existing file keeps its permissions; a new one gets 0644.
func (s *Skeleton) WriteFile(path string) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%w; not replacing it", &fsio.NotRegularError{Path: path, Kind: fsio.Kind(fi.Mode())})
		}
		mode = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.WriteFile(path, s.doc.Source(), mode)
}

// Explain describes what the skeleton's scheme signs and checks, for this skeleton.
func (s *Skeleton) Explain() ([]string, error) {
	if s.Scheme() == Unsigned {
		return []string{"unsigned: nothing is signed; a kernel that requires signatures refuses it"}, nil
	}
	st, err := s.strategy()
	if err != nil {
		return nil, err
	}
	return st.Explain(s.doc), nil
}

func (s *Skeleton) strategy() (compat.Strategy, error) {
	det, err := s.doc.Detect()
	if err != nil {
		return nil, err
	}
	return compat.Lookup(det.Scheme)
}

// Schemes lists the registered schemes.
func Schemes() []Scheme { return compat.Schemes() }

// ParseScheme returns the registered scheme called name.
func ParseScheme(name string) (Scheme, error) {
	if _, err := compat.Lookup(Scheme(name)); err != nil {
		return "", err
	}
	return Scheme(name), nil
}

// ParseTarget parses a scheme and an optional generation ("" for the scheme's default, which
// stays unresolved in the result) into a Target checked against the registry.
func ParseTarget(scheme, generation string) (Target, error) {
	g, err := compat.ParseGeneration(generation)
	if err != nil {
		return Target{}, err
	}
	if scheme == "" {
		if g != compat.NoGeneration {
			return Target{}, fmt.Errorf("generation %s given without a scheme", g)
		}
		return Target{}, nil
	}
	t := Target{Scheme: Scheme(strings.TrimSpace(scheme)), Generation: g}
	if _, err := t.Validate(); err != nil {
		return Target{}, err
	}
	return t, nil
}
