package compat

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/loader"
)

// Changes describes what a conversion did to the loader.
type Changes struct {
	RemovedCheck     loader.Generation // the check block removed, GenNone if none
	InsertedCheck    loader.Generation // the check block inserted, GenNone if none
	RemovedOverrides []string          // "max_entries of map counts", ... in program order
	KeptOverrides    []string
}

// Rebuild returns the loader a generator of the target shape would emit for a's object: any
// check block removed, the host-override blocks removed unless keepOverrides, and a check of
// generation check (GenNone for none) over SHA-256(opts_data) inserted at the body start.
//
// The fixtures pin this down: these edits, with the jump fix-ups of lskel.md, turn each
// generator's loader into another's byte for byte.
func Rebuild(a *Artifact, check loader.Generation, keepOverrides bool) ([]byte, Changes, error) {
	var ch Changes
	if a.LoaderErr != nil {
		return nil, ch, a.LoaderErr
	}
	l, err := loader.Decode(a.Insn())
	if err != nil {
		return nil, ch, fmt.Errorf("%s: opts_insn: %w", a.Path, err)
	}
	if c := l.Check(); c != nil {
		ch.RemovedCheck = c.Gen
		if err := l.RemoveCheck(); err != nil {
			return nil, ch, fmt.Errorf("%s: removing the %s check block: %w", a.Path, c.Gen, err)
		}
	}
	for _, b := range l.Overrides() {
		d := fmt.Sprintf("%s of map %s", b.Kind, OverrideMap(a, b))
		if keepOverrides {
			ch.KeptOverrides = append(ch.KeptOverrides, d)
		} else {
			ch.RemovedOverrides = append(ch.RemovedOverrides, d)
		}
	}
	if !keepOverrides && len(l.Overrides()) > 0 {
		if err := l.RemoveOverrides(); err != nil {
			return nil, ch, fmt.Errorf("%s: removing host-override blocks: %w", a.Path, err)
		}
	}
	if check != loader.GenNone {
		if err := l.InsertCheck(check, a.DataHash()); err != nil {
			return nil, ch, fmt.Errorf("%s: inserting a %s check block: %w", a.Path, check, err)
		}
		ch.InsertedCheck = check
	}
	return l.Bytes(), ch, nil
}

// Assemble returns a copy of a with insn as its loader, signed with s over content, and with
// the chain scheme's signature-map lines set to maps (nil removes them).
func Assemble(a *Artifact, insn, content []byte, s *Signer, maps []int32) (*Artifact, error) {
	if s == nil || s.Key == nil || s.Cert == nil {
		return nil, errors.New("signing needs a private key and its certificate")
	}
	sig, err := cms.Sign(content, s.Key, s.Cert, s.CMS)
	if err != nil {
		return nil, fmt.Errorf("%s: signing: %w", a.Path, err)
	}
	f := a.File.Clone()
	f.SetInsn(insn)
	excl := sha256.Sum256(insn)
	f.SetSignature(sig, excl[:])
	f.SetSignatureMaps(maps)
	out := FromFile(a.Path, f)
	if out.LoaderErr != nil {
		return nil, out.LoaderErr
	}
	return out, nil
}
