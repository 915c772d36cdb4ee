package bpfsig

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/kprofile"
	"github.com/bpfsig/bpfsig/internal/loader"
)

// Procedure is how an application loads a light skeleton: the skel_internal.h of the libbpf
// headers it was built against, not anything in the header. An old binary runs the 6.18
// procedure even on a new kernel.
type Procedure string

const (
	// Proc618 is libbpf's bpf_load_and_run as of Linux 6.18: metadata map created exclusive,
	// filled, frozen, hashed (BPF_OBJ_GET_INFO_BY_FD), BPF_PROG_LOAD with fd_array_cnt = 0.
	Proc618 Procedure = "6.18"
	// ProcMainline is libbpf with load-time verification: no hash request, fd_array_cnt set
	// for a signed load.
	ProcMainline Procedure = "mainline"
	// ProcChain is the posted hash-chain series' procedure (attr size 180, signature_maps).
	ProcChain Procedure = "chain"
)

// Procedures lists the application load procedures bpfsig models.
func Procedures() []Procedure { return []Procedure{Proc618, ProcMainline, ProcChain} }

// KernelProfiles lists the named kernel profiles: "6.18" (the in-loader check, as 6.18.y
// behaves), "mainline" (load-time verification as merged), "mainline-bpf-keyring" (the .bpf
// keyring revision) and "chain" (the posted series). Each is one ordered table of rules, each
// row citing the kernel source and selftest it follows.
func KernelProfiles() []string { return kprofile.Names() }

// KernelProfileTable renders a profile's rules, one per line, with their citations.
func KernelProfileTable(profile string) (string, error) {
	p, err := kprofile.Lookup(profile)
	if err != nil {
		return "", err
	}
	return p.Table(), nil
}

// HostProcedure is the procedure an application built for sk's scheme runs (legacy and
// unsigned skeletons: 6.18; raw: mainline; chain: chain), from the scheme's strategy.
func HostProcedure(sk *Skeleton) Procedure {
	if st, err := compat.Lookup(sk.Scheme()); err == nil && st.Info().Procedure != "" {
		return Procedure(st.Info().Procedure)
	}
	return Proc618
}

// profileScheme is the scheme whose kernel a profile is, for Verdict.Kernel.
var profileScheme = map[string]compat.Scheme{"6.18": compat.Legacy, "mainline": compat.Raw, "mainline-bpf-keyring": compat.Raw, "chain": compat.Chain}

// OnKernel judges sk loaded by an application running procedure proc on a kernel of the
// named profile, altered by cond, against trust (which stands in for the keyring the load
// names). The verdict's Profile, Procedure, Rule and Record say which row decided and what the
// kernel recorded for the LSM. Static findings of the profile (what mainline refuses in a
// signed loader; what no kernel loads) are applied as Verify applies them.
func OnKernel(sk *Skeleton, profile string, proc Procedure, trust *Trust, cond Conditions) (*Verdict, error) {
	p, err := kprofile.Lookup(profile)
	if err != nil {
		return nil, err
	}
	if err := sk.LoaderError(); err != nil {
		return nil, err
	}
	f, err := sk.facts(p, proc, trust, cond)
	if err != nil {
		return nil, err
	}
	r, err := p.Evaluate(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sk.Path(), err)
	}
	v := &Verdict{
		Kernel: profileScheme[profile], Profile: profile, Procedure: string(proc),
		Artifact: sk.Scheme(), Generation: sk.Generation(), Signed: sk.Signed(),
		Outcome: r.Outcome, Stage: r.Stage, Errno: compat.Errno(r.Errno), Retval: r.Retval,
		LSM: r.LSM, LSMAdmittedThenFailed: r.LSMAdmittedThenFailed,
		Reason: r.Reason, Rule: r.Rule, Source: r.Source, Subtest: r.Subtest,
	}
	if r.Record != nil {
		v.Record = &compat.SigRecord{Verdict: r.Record.Verdict.String(), KeyringType: r.Record.KeyringType.String(), KeyringSerial: r.Record.KeyringSerial}
	}
	if v.LSM != compat.LSMNotReached {
		v.Stages = append(v.Stages, compat.StageResult{Stage: compat.StageLSM, OK: true, Detail: "security_bpf_prog_load sees: " + string(v.LSM)})
	}
	if v.Outcome == compat.Rejected {
		v.Stages = append(v.Stages, compat.StageResult{Stage: v.Stage, Errno: v.Errno, Retval: v.Retval, Detail: r.Reason})
	}
	if n := sk.doc.HostOverrides(); n > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("loader has %d host-override block(s): values the host sets before load bypass the signature", n))
	}
	_, fs, err := sk.Findings(profile)
	if err != nil {
		// A loader of a known shape that the analysis cannot follow: fail closed, as Verify does.
		fs = []compat.Finding{{Severity: compat.SeverityError, Rule: "analysis", Offset: -1, Reason: err.Error()}}
	}
	applyFindings(v, fs)
	return v, nil
}

// facts describes sk's load for profile p: the light skeleton's one metadata map in fd_array,
// referenced by index, and the PKCS#7 verdict over what p folds.
func (sk *Skeleton) facts(p *kprofile.Profile, proc Procedure, trust *Trust, cond Conditions) (kprofile.Facts, error) {
	d := sk.doc
	insn, data, excl := d.Insn(), d.Data(), d.ExclHash()
	ih := d.InsnHash()
	f := kprofile.Facts{
		Procedure:       kprofile.Procedure(proc),
		SkipHashRequest: cond.MapHashNotComputed,
		InsnSize:        len(insn),
		FdArray: []kprofile.Object{{
			Kind: kprofile.KindMap, Array: true,
			Exclusive:   excl != nil && !cond.MapNotExclusive,
			DigestMatch: string(excl) == string(ih[:]),
			Frozen:      !cond.MapNotFrozen,
			ValueSize:   len(data),
		}},
		IndexRefs: 1,
	}
	if c := d.Check(); c != nil {
		f.Check = kprofile.LoaderCheck{Gen: kprofile.CheckV1, HashMatches: c.Hash == d.DataHash()}
		if c.Gen == loader.GenV2 {
			f.Check.Gen = kprofile.CheckV2
		}
	}
	if !d.Signed() {
		return f, nil
	}
	if proc == ProcChain {
		f.SignatureMaps, _ = d.SignatureMaps()
	}
	f.Signed, f.SignatureSize = true, uint32(len(d.Sig()))
	var maps [][]byte
	for range p.Folded(f) {
		maps = append(maps, data) // a light skeleton's fd_array holds only the metadata map
	}
	f.CMS = sk.cmsVerdict(kprofile.SignedContent(p, insn, maps), trust)
	return f, nil
}

// cmsVerdict is the kernel model's PKCS#7 verdict on the skeleton's signature over content,
// remembered per content (the profiles share a few contents between them).
func (sk *Skeleton) cmsVerdict(content []byte, trust *Trust) kprofile.Errno {
	key := sha256.Sum256(content)
	sk.cmsMu.Lock()
	defer sk.cmsMu.Unlock()
	if sk.cmsMemo == nil || sk.cmsTrust != trust {
		sk.cmsMemo, sk.cmsTrust = map[[32]byte]kprofile.Errno{}, trust
	}
	if e, ok := sk.cmsMemo[key]; ok {
		return e
	}
	var e kprofile.Errno
	if _, err := cms.Verify(content, sk.doc.Sig(), trust.certs()); err != nil {
		ke, ok := kerrno.Of(err)
		if !ok {
			ke = compat.EBADMSG
		}
		e = kprofile.Errno(ke)
	}
	sk.cmsMemo[key] = e
	return e
}

// cmsCache is the memo cmsVerdict keeps on a Skeleton.
type cmsCache struct {
	cmsMu    sync.Mutex
	cmsMemo  map[[32]byte]kprofile.Errno
	cmsTrust *Trust
}
