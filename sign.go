package bpfsig

import (
	"fmt"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// SignOption adjusts Sign and Prepare.
type SignOption func(*compat.SignOptions)

// KeepHostOverrides keeps the loader's host-override blocks where the target would drop them;
// the values they let the host set are then outside the signature.
func KeepHostOverrides(keep bool) SignOption {
	return func(o *compat.SignOptions) { o.KeepHostOverrides = keep }
}

// SigningTime adds a signingTime signed attribute, for schemes whose signatures have signed
// attributes (Hornet; gen_sig always writes one); the kernel-profile schemes refuse it.
func SigningTime(t time.Time) SignOption {
	return func(o *compat.SignOptions) { o.SigningTime = t }
}

// Sign converts sk (signed or unsigned, any scheme) into target t and signs it with signer. The
// zero Target is raw; the zero Generation is the scheme's default (legacy: v2; chain: the
// input's own, else v1). sk is not modified.
func Sign(sk *Skeleton, signer *Signer, t Target, opts ...SignOption) (*Skeleton, error) {
	p, err := Prepare(sk, t, opts...)
	if err != nil {
		return nil, err
	}
	return p.Sign(signer)
}

// Prepared is a skeleton converted for a target and waiting for its signature: the first phase
// of a two-phase signing.
type Prepared struct {
	src *Skeleton
	p   compat.Pending
}

// Prepare converts sk into target t without signing it.
func Prepare(sk *Skeleton, t Target, opts ...SignOption) (*Prepared, error) {
	if t.Scheme == "" {
		t.Scheme = Raw
	}
	t, err := t.Validate()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sk.Path(), err)
	}
	if err := sk.LoaderError(); err != nil {
		return nil, err
	}
	st, err := compat.Lookup(t.Scheme)
	if err != nil {
		return nil, err
	}
	var o compat.SignOptions
	for _, f := range opts {
		f(&o)
	}
	p, err := st.Convert(sk.doc, t, o)
	if err != nil {
		return nil, err
	}
	return &Prepared{src: sk, p: p}, nil
}

// Target returns the target, its generation resolved.
func (p *Prepared) Target() Target { return p.p.Target() }

// Content returns the exact bytes the signature must cover.
func (p *Prepared) Content() []byte { return append([]byte(nil), p.p.Content()...) }

// Insn returns the converted loader (opts_insn); Data the metadata.
func (p *Prepared) Insn() []byte { return append([]byte(nil), p.p.Insn()...) }

// Data returns the metadata blob (opts_data).
func (p *Prepared) Data() []byte { return append([]byte(nil), p.p.Data()...) }

// Sign signs the prepared skeleton.
func (p *Prepared) Sign(signer *Signer) (*Skeleton, error) {
	if signer == nil || signer.Key == nil || signer.Cert == nil {
		return nil, fmt.Errorf("%s: signing needs a private key and its certificate", p.src.Path())
	}
	out, err := p.p.Sign(signer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.src.Path(), err)
	}
	return fromArtifact(out)
}

// Attach returns the prepared skeleton with sig, a detached DER PKCS#7 over Content made
// elsewhere, attached. It does not check the signature: Verify the result. An empty sig is
// an error.
func (p *Prepared) Attach(sig []byte) (*Skeleton, error) {
	if len(sig) == 0 {
		// nil reached the header editor as "keep the signature" and failed there with its own
		// wording; an empty one made a skeleton that says it is signed by nothing.
		return nil, fmt.Errorf("%s: attach: no signature given (an empty or nil DER blob)", p.src.Path())
	}
	out, err := p.p.Attach(sig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.src.Path(), err)
	}
	return fromArtifact(out)
}

func fromArtifact(a compat.Artifact) (*Skeleton, error) {
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	return wrap(d), nil
}

// Changes says what a conversion did to the loader.
type Changes struct {
	// RemovedCheck and InsertedCheck are the check block generations removed and inserted
	// (NoGeneration for none).
	RemovedCheck, InsertedCheck Generation
	// RemovedOverrides and KeptOverrides describe host-override blocks ("max_entries of map
	// counts"), in program order.
	RemovedOverrides, KeptOverrides []string
}

// Changes returns what the conversion did to the loader (empty for a strategy that does not
// say).
func (p *Prepared) Changes() Changes {
	c, ok := p.p.(interface{ Changes() skel.Changes })
	if !ok {
		return Changes{}
	}
	ch := c.Changes()
	return Changes{RemovedCheck: skel.GenOut(ch.RemovedCheck), InsertedCheck: skel.GenOut(ch.InsertedCheck), RemovedOverrides: ch.RemovedOverrides, KeptOverrides: ch.KeptOverrides}
}
