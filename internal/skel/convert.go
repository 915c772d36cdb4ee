package skel

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/lskel"
)

// Changes describes what a conversion did to the loader.
type Changes struct {
	RemovedCheck     loader.Generation // the check block removed, GenNone if none
	InsertedCheck    loader.Generation // the check block inserted, GenNone if none
	RemovedOverrides []string          // "max_entries of map counts", ... in program order
	KeptOverrides    []string
}

// Rebuild returns the loader a generator of the target shape would emit for d's object: any
// check block removed, the host-override blocks removed unless keepOverrides, and a check of
// generation check (GenNone for none) over SHA-256(opts_data) inserted at the body start.
//
// The fixtures pin this down: these edits, with the jump fix-ups of the loader model, turn each
// generator's loader into another's byte for byte. The loader is decoded once (when d was
// parsed) and rewritten here on a copy.
func (d *Doc) Rebuild(check loader.Generation, keepOverrides bool) (*loader.Loader, Changes, error) {
	var ch Changes
	if d.loaderErr != nil {
		return nil, ch, d.loaderErr
	}
	if c := d.loader.Check(); c != nil {
		ch.RemovedCheck = c.Gen
	}
	for _, b := range d.loader.Overrides() {
		desc := fmt.Sprintf("%s of map %s", b.Kind, d.OverrideMap(b))
		if keepOverrides {
			ch.KeptOverrides = append(ch.KeptOverrides, desc)
		} else {
			ch.RemovedOverrides = append(ch.RemovedOverrides, desc)
		}
	}
	ch.InsertedCheck = check
	var h [32]byte // the check embeds H = SHA-256(opts_data); no check, no hash to compute
	if check != loader.GenNone {
		h = d.DataHash()
	}
	l, err := d.loader.Convert(!keepOverrides, check, h)
	if err != nil {
		return nil, ch, fmt.Errorf("%s: rebuilding the loader: %w", d.path, err)
	}
	return l, ch, nil
}

// Attach returns d with l as its loader and sig (made elsewhere) as its signature.
func (d *Doc) Attach(l *loader.Loader, sig []byte, maps []int32) (*Doc, error) {
	insn := l.Raw() // shared: the Loader and the new Doc are both immutable
	excl := sha256.Sum256(insn)
	f, err := d.file.Edit(lskel.Edit{Insn: insn, Signature: sig, ExclHash: excl[:], SignatureMaps: maps, SetSignatureMaps: true})
	if err != nil {
		return nil, err
	}
	nd := newDoc(d.path, f)
	nd.loader = l
	return nd, nil
}

// Blobs returns a copy of d whose blobs are replaced (nil sig keeps the signature): the
// tamper scenarios' edit.
func (d *Doc) Blobs(insn, data, sig []byte) (*Doc, error) {
	e := lskel.Edit{Insn: insn, Data: data}
	if sig != nil {
		e.Signature, e.ExclHash = sig, d.ExclHash()
	}
	f, err := d.file.Edit(e)
	if err != nil {
		return nil, err
	}
	return FromFile(d.path, f), nil
}

// pending is a converted Doc waiting for its signature.
type pending struct {
	ch      Changes
	d       *Doc
	l       *loader.Loader
	content []byte
	maps    []int32
	t       compat.Target
}

// Pending returns d converted to loader l for target t, to be signed over content; maps are
// the chain scheme's signature-map lines (nil for none).
func (d *Doc) Pending(t compat.Target, l *loader.Loader, ch Changes, content []byte, maps []int32) compat.Pending {
	return &pending{d: d, l: l, ch: ch, content: content, maps: maps, t: t}
}

// Changes returns what the conversion did to the loader.
func (p *pending) Changes() Changes { return p.ch }

func (p *pending) Content() []byte                                { return p.content }
func (p *pending) Insn() []byte                                   { return p.l.Bytes() }
func (p *pending) Data() []byte                                   { return p.d.Data() }
func (p *pending) Target() compat.Target                          { return p.t }
func (p *pending) Sign(s *compat.Signer) (compat.Artifact, error) { return SignPending(p, s) }
func (p *pending) Attach(sig []byte) (compat.Artifact, error) {
	return p.d.Attach(p.l, sig, p.maps)
}

// SignPending signs p's content with s in the kernel profile (detached PKCS#7, SHA-256, no
// attributes, no certificates, the signer id form s asks for) and attaches the signature.
func SignPending(p compat.Pending, s *compat.Signer) (compat.Artifact, error) {
	if s == nil || s.Key == nil || s.Cert == nil {
		return nil, errors.New("signing needs a private key and its certificate")
	}
	sig, err := cms.Sign(p.Content(), s.Key, s.Cert, CMSOptions(s))
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return p.Attach(sig)
}
