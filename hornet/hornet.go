// Package hornet implements the Hornet LSM's signing scheme (Blaise Boscaccy, v7, May 2026) as
// a bpfsig strategy, through the public seam only: it registers a compat.Strategy like any
// scheme from outside would.
//
// Status: refused upstream. The BPF maintainers NAKed v7 and Linus Torvalds refused the
// series in June 2026; no released kernel has it. Its signatures exist in the wild, so bpfsig
// reads, verifies, converts and produces them.
//
// The rules (internal/hornet has the details and citations):
//   - The skeleton is a bpftool -S one (the loader keeps its legacy metadata check block)
//     whose opts_sig was replaced by scripts/hornet/write-sig.sh with gen_sig's signature.
//   - The signature is PKCS#7 over opts_insn with signed attributes: contentType,
//     messageDigest and the Hornet attribute (OID 2.25.316487325684022475439036912669789383960)
//     listing each signed map's fd_array index and SHA-256; the signer is named by issuer and
//     serial, as gen_sig does. A light skeleton signs one map: index 0, the metadata.
//   - On a kernel with the 6.18 core check, bpf_prog_verify_signature checks the signature
//     over opts_insn before the LSM hook; Hornet then checks the listed maps at
//     security_bpf_prog_load and gives a verdict (OK, UNSIGNED, PARTIALSIG, UNKNOWNKEY,
//     UNEXPECTED, FAULT, BADSIG). bpfsig models an LSM policy that admits only OK: tampered
//     metadata is stopped at the LSM stage, before the verifier and before the loader runs.
//
// Importing the package registers the strategy; the root package bpfsig imports it.
package hornet

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	ihornet "github.com/bpfsig/bpfsig/internal/hornet"
	"github.com/bpfsig/bpfsig/internal/kmodel"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// Scheme is the Hornet scheme's name.
const Scheme compat.Scheme = "hornet"

func init() { compat.Register(Strategy{}) }

// Strategy is the Hornet scheme. The zero value is ready to use.
type Strategy struct{}

// Info describes the Hornet scheme.
func (Strategy) Info() compat.Info {
	return compat.Info{
		Scheme:      Scheme,
		Summary:     "Hornet LSM v7 (refused upstream): PKCS#7 over opts_insn with signed attributes listing each map's SHA-256, checked at security_bpf_prog_load",
		Generations: []compat.Generation{compat.V1, compat.V2},
		Procedure:   "6.18",
		LSM:         "hornet",
		Order:       40,
		Status:      ihornet.Status,
	}
}

// Detect claims a signed skeleton whose signature carries the Hornet attribute.
func (Strategy) Detect(a compat.Artifact) (compat.Claim, bool) {
	// The attribute's OID bytes must occur in the DER before the signature is parsed: most
	// signatures are not Hornet's, and detection asks every strategy.
	if !a.Signed() || !bytes.Contains(a.Sig(), ihornet.OIDContents()) || !ihornet.IsHornet(a.Sig()) {
		return compat.Claim{}, false
	}
	return compat.Claim{Specificity: 30, Evidence: []string{"opts_sig has the Hornet signed attribute " + ihornet.OIDString}}, true
}

// Convert rebuilds a's loader with a check block of t.Generation (default: the input's own,
// else v2) — the host-override blocks dropped unless v1 or opts.KeepHostOverrides — to be
// signed over opts_insn with the metadata map (index 0) listed.
func (Strategy) Convert(a compat.Artifact, t compat.Target, opts compat.SignOptions) (compat.Pending, error) {
	d, err := skel.Of(a)
	if err != nil {
		return nil, err
	}
	gen, err := skel.GenIn(t.Generation)
	if err != nil {
		return nil, err
	}
	if gen == loader.GenNone {
		gen = d.CheckGenOr(loader.GenV2)
	}
	l, ch, err := d.Rebuild(gen, gen == loader.GenV1 || opts.KeepHostOverrides)
	if err != nil {
		return nil, err
	}
	return &pending{d: d, l: l, ch: ch, t: compat.Target{Scheme: Scheme, Generation: skel.GenOut(gen)}, when: opts.SigningTime}, nil
}

type pending struct {
	d    *skel.Doc
	l    *loader.Loader
	ch   skel.Changes
	t    compat.Target
	when time.Time // the signingTime attribute, zero for none
}

func (p *pending) Content() []byte       { return p.l.Bytes() }
func (p *pending) Insn() []byte          { return p.l.Bytes() }
func (p *pending) Data() []byte          { return p.d.Data() }
func (p *pending) Target() compat.Target { return p.t }
func (p *pending) Changes() skel.Changes { return p.ch }

// Sign signs as gen_sig does, naming the signer by issuer and serial whatever s.ID says. gen_sig
// always adds a signingTime (the time it ran); Sign adds one only when asked
// (SignOptions.SigningTime), so that signing is reproducible by default.
func (p *pending) Sign(s *compat.Signer) (compat.Artifact, error) {
	if s == nil || s.Key == nil || s.Cert == nil {
		return nil, fmt.Errorf("signing needs a private key and its certificate")
	}
	sig, err := ihornet.Sign(p.l.Bytes(), []ihornet.Map{{Index: 0, Value: p.d.Data()}}, s.Key, s.Cert, ihornet.SignOptions{SigningTime: p.when})
	if err != nil {
		return nil, err
	}
	return p.Attach(sig)
}

// Attach attaches a signature made elsewhere and lays out opts_sig as write-sig.sh does.
func (p *pending) Attach(sig []byte) (compat.Artifact, error) {
	signed, err := p.d.Attach(p.l, sig, nil)
	if err != nil {
		return nil, err
	}
	src, err := ihornet.WriteSig(signed.Source(), sig)
	if err != nil {
		return nil, err
	}
	return skel.Parse(p.d.Path(), src)
}

// Verify judges a on a kernel with the 6.18 core signature check and Hornet as the LSM, loaded
// with the 6.18 procedure, under a policy that admits only Hornet's OK.
func (Strategy) Verify(a compat.Artifact, trust []*x509.Certificate, cond compat.Conditions) *compat.Verdict {
	d, err := skel.Of(a)
	if err != nil {
		return kmodel.Unreadable(Scheme, err)
	}
	v := kmodel.New(Scheme, d)
	if cond.MapNotFrozen {
		return kmodel.Reject(v, compat.StageSetup, compat.EPERM, "BPF_OBJ_GET_INFO_BY_FD refuses to hash an unfrozen map: the 6.18 load procedure stops before BPF_PROG_LOAD")
	}
	if d.Signed() {
		// The core check (bpf_prog_verify_signature) over opts_insn, before the LSM hook.
		if !kmodel.AdmitOnly(v, d, "opts_insn (bpf_prog_verify_signature, before Hornet)", d.Insn(), trust) {
			return v
		}
	} else {
		kmodel.Pass(v, compat.StageAdmission, "unsigned load: there is no signature to check")
	}
	load := ihornet.LoadOf(d.Insn(), []ihornet.Map{{Index: 0, Value: d.Data()}}, d.Sig())
	r := ihornet.Check(load, trust)
	v.SchemeVerdict = r.Verdict.KernelName()
	if r.Verdict != ihornet.OK {
		if r.Verdict == ihornet.Unsigned {
			kmodel.PassLSM(v, compat.LSMUnsigned)
			kmodel.Note(v, "Hornet: %s (%s); a policy requiring OK would refuse it", r.Verdict, r.Reason)
		} else {
			v.LSM = compat.LSMLoaderOnly
			return kmodel.Reject(v, compat.StageLSM, compat.EPERM, fmt.Sprintf("Hornet verdict %s: %s; the LSM policy admits only OK", r.Verdict.KernelName(), r.Reason))
		}
	} else {
		kmodel.PassLSM(v, compat.LSMFull)
	}
	if d.LoaderError() != nil {
		return kmodel.Malformed(v, d)
	}
	kmodel.Overrides(v, d, cond)
	exclusive, ok := kmodel.BindExclusive(v, d, cond)
	if !ok {
		return v
	}
	// Hornet hashed the listed map with map_get_hash, which fills map->sha; the loader's own
	// check then compares it with its embedded hash.
	hashed := r.Verdict == ihornet.OK || !cond.MapHashNotComputed
	return kmodel.RunLoader(v, d, exclusive, hashed)
}

// SignedContent returns opts_insn (the signed attributes carry the map hashes).
func (Strategy) SignedContent(a compat.Artifact) []byte { return a.Insn() }

// Explain describes what Hornet checks for a.
func (Strategy) Explain(a compat.Artifact) []string {
	out := []string{
		"signed content: opts_insn, with signed attributes listing each map's fd_array index and SHA-256 (the metadata map, index 0)",
		"admission: the 6.18 core check verifies the signature over opts_insn before the LSM hook",
		"lsm: Hornet checks every listed map (frozen, hash equal) and gives its verdict; bpfsig's model admits only OK",
		"run: the loader's own legacy check still runs",
		"status: " + ihornet.Status,
	}
	if info, err := ihornet.Inspect(a.Sig()); err == nil {
		for _, e := range info.Entries {
			out = append(out, "listed map: "+e.String())
		}
	}
	return out
}
