//go:build linux

package kprofile_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	. "github.com/bpfsig/bpfsig/internal/kprofile"
	"github.com/bpfsig/bpfsig/internal/loader"
	"github.com/bpfsig/bpfsig/internal/skel"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// errnoOf is internal/cms's verdict on sig over content, as an errno (0: verified).
func errnoOf(t *testing.T, content, sig []byte, trust []*x509.Certificate) Errno {
	t.Helper()
	_, err := cms.Verify(content, sig, trust)
	if err == nil {
		return 0
	}
	if e, ok := kerrno.Of(err); ok {
		return Errno(e)
	}
	return EBADMSG
}

// factsOf turns a compat case into load facts for profile p with the procedure of the case's
// kernel: the lskel's loader, its one metadata map, keyring 0 (builtin, the skeleton default),
// and the PKCS#7 result of internal/cms over p's signed content.
func factsOf(t *testing.T, p *Profile, c compare.Case, proc Procedure) Facts {
	t.Helper()
	a, err := skel.Of(c.Skeleton.Artifact())
	if err != nil {
		t.Fatal(err)
	}
	insn, data := a.Insn(), a.Data()
	excl := a.ExclHash()
	ih := sha256.Sum256(insn)
	f := Facts{
		Procedure:       proc,
		SkipHashRequest: c.Cond.MapHashNotComputed,
		InsnSize:        len(insn),
		FdArray: []Object{{
			Kind: KindMap, Array: true,
			Exclusive:   excl != nil && !c.Cond.MapNotExclusive,
			DigestMatch: bytes.Equal(excl, ih[:]),
			Frozen:      !c.Cond.MapNotFrozen,
			ValueSize:   len(data),
		}},
		IndexRefs: 1,
	}
	if chk := a.Check(); chk != nil {
		f.Check = LoaderCheck{Gen: CheckV1, HashMatches: chk.Hash == a.DataHash()}
		if chk.Gen == loader.GenV2 {
			f.Check.Gen = CheckV2
		}
	}
	if proc == ProcChain && a.Signed() {
		f.SignatureMaps, _ = a.SignatureMaps()
	}
	if a.Signed() {
		f.Signed, f.SignatureSize = true, uint32(len(a.Sig()))
		var maps [][]byte
		for range p.Folded(f) {
			maps = append(maps, data) // the lskel's fd_array holds only the metadata map
		}
		f.CMS = errnoOf(t, SignedContent(p, insn, maps), a.Sig(), c.Trust.Certs)
	}
	return f
}

// summary is the part of a verdict both models decide.
func summary(outcome, stage string, errno uint, retval *int32, lsm string, admitted bool) string {
	r := "-"
	if retval != nil {
		r = fmt.Sprint(*retval)
	}
	return fmt.Sprintf("%s stage=%s errno=%d retval=%s lsm=%s admitted-then-failed=%t", outcome, stage, errno, r, lsm, admitted)
}

func ofVerdict(v *compat.Verdict) string {
	return summary(string(v.Outcome), string(v.Stage), uint(v.Errno), v.Retval, string(v.LSM), v.LSMAdmittedThenFailed)
}

func ofResult(r Result) string {
	return summary(string(r.Outcome), string(r.Stage), uint(r.Errno), r.Retval, string(r.LSM), r.LSMAdmittedThenFailed)
}

// matrix signs the fixture program under every compat column and applies every tamper
// scenario, plus every combination of the load conditions, and returns the cases keyed by
// a readable name.
func matrix(t *testing.T) map[string]compare.Case {
	t.Helper()
	cols := compare.Columns()
	signed, err := compare.SignAll(front.Skeleton(t, "unsigned"), testfix.Signer(t), cols)
	if err != nil {
		t.Fatal(err)
	}
	trust := front.Trust(t)
	out := map[string]compare.Case{}
	for _, col := range cols {
		for _, sc := range compare.Scenarios {
			c, err := compare.Prepare(signed, col, sc, trust)
			if err != nil {
				t.Fatal(err)
			}
			out[col.Name+"/"+sc.Name] = c
		}
		for bits := 0; bits < 8; bits++ {
			cond := compat.Conditions{MapNotFrozen: bits&1 != 0, MapNotExclusive: bits&2 != 0, MapHashNotComputed: bits&4 != 0}
			out[fmt.Sprintf("%s/conditions-%03b", col.Name, bits)] = compare.Case{Skeleton: signed[col.Name], Trust: trust, Cond: cond, Kernel: col.Target.Scheme}
		}
	}
	for _, name := range []string{"unsigned", "legacy-v1", "legacy-v2", "raw", "chain"} {
		for _, k := range []compat.Scheme{compat.Legacy, compat.Chain, compat.Raw} {
			out["fixture-"+name+"/kernel-"+string(k)] = compare.Case{Skeleton: front.Skeleton(t, name), Trust: trust, Kernel: k}
		}
	}
	return out
}

var kernelProfile = map[compat.Scheme]struct {
	profile string
	proc    Procedure
}{
	compat.Legacy: {"6.18", Proc618},
	compat.Chain:  {"chain", ProcChain},
	compat.Raw:    {"mainline", ProcMainline},
}

// knownDifferences are the cases where a profile and the current compat model disagree, with
// the profile's reason. For 6.18 and chain there is one: the model stops an unfrozen map at
// setup even when the host skipped the hash request, which is the only setup step that
// refuses an unfrozen map. For the raw model (judged by the mainline profile) every
// difference follows from the merged order: fd_array is resolved, and each folded map
// checked (exclusive, frozen, digest), before the signature and before the LSM hook.
//
// Since the raw strategy follows the merged order, and the legacy model stops an unfrozen map
// at setup only when the host requests the hash, there are none: every case must agree.
var knownDifferences = map[string]string{}

// TestProfilesMatchCompatModels checks the 6.18 and chain profiles against the current
// legacy and chain strategies, and the mainline profile against the raw strategy, on the
// whole tamper matrix: equal on every case except knownDifferences, each of which must still
// differ.
func TestProfilesMatchCompatModels(t *testing.T) {
	cases := matrix(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	same, differ := 0, 0
	for _, name := range names {
		if _, ok := kernelProfile[cases[name].Kernel]; !ok {
			continue
		}
		c := cases[name]
		kp, ok := kernelProfile[c.Kernel]
		if !ok {
			continue // a scheme no kernel profile models (hornet)
		}
		p, err := Lookup(kp.profile)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Judge()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.Stage == "" && v.Outcome == compat.Rejected {
			t.Fatalf("%s: the model rejected without a stage (%s): not a kernel verdict", name, v.Reason)
		}
		got, err := p.Evaluate(factsOf(t, p, c, kp.proc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m, k := ofVerdict(v), ofResult(got)
		why, known := knownDifferences[name]
		switch {
		case m == k && known:
			t.Errorf("%s: listed as a difference (%s) but both answer %s", name, why, m)
		case m != k && !known:
			t.Errorf("%s (profile %s):\n  model   %s (%s)\n  profile %s (%s: %s)", name, p.Name, m, v.Reason, k, got.Rule, got.Reason)
		case m != k:
			differ++
			t.Logf("%s: model %s | profile %s (%s)", name, m, k, got.Rule)
		default:
			same++
		}
	}
	if differ != len(knownDifferences) {
		t.Errorf("%d known differences listed, %d seen", len(knownDifferences), differ)
	}
	t.Logf("%d cases: %d agree, %d documented differences", len(names), same, differ)
	if same == 0 || !strings.HasPrefix(names[0], "chain/") {
		t.Errorf("matrix looks wrong: %d agreeing cases, first %q", same, names[0])
	}
}
