package bpfsig_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/skel"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// checkVerdictAdv holds the rules every verdict keeps, whoever judged it: OK means accepted
// and signed; a rejection says where (a stage) or why (a conformance remark, an error finding,
// no signature); the LSM-admitted-then-failed flag only for a rejection after the hook.
func checkVerdictAdv(t *testing.T, what string, v *compat.Verdict) {
	t.Helper()
	if v.OK() && (v.Outcome != compat.Accepted || !v.Signed) {
		t.Errorf("%s: OK with outcome %s, signed %v", what, v.Outcome, v.Signed)
	}
	if v.Outcome == compat.Rejected && v.Stage == "" && len(v.Conformance) == 0 && !hasErrorFindingAdv(v) && v.Signed {
		t.Errorf("%s: a signed rejection without a stage, a conformance remark or an error finding: %s", what, v.Reason)
	}
	if v.Outcome == compat.Rejected && v.Reason == "" {
		t.Errorf("%s: a rejection without a reason", what)
	}
	if v.LSMAdmittedThenFailed && (v.Outcome != compat.Rejected || (v.Stage != compat.StageVerifier && v.Stage != compat.StageRun)) {
		t.Errorf("%s: lsm_admitted_then_failed with outcome %s at stage %q", what, v.Outcome, v.Stage)
	}
	if v.LSMAdmittedThenFailed && v.LSM == compat.LSMNotReached {
		t.Errorf("%s: lsm_admitted_then_failed but the LSM hook was not reached", what)
	}
	if v.Outcome == compat.Accepted && v.Stage != "" {
		t.Errorf("%s: accepted with a rejecting stage %s", what, v.Stage)
	}
}

func hasErrorFindingAdv(v *compat.Verdict) bool {
	for _, f := range v.Findings {
		if f.Severity == compat.SeverityError {
			return true
		}
	}
	return false
}

// contentTamperAdv are the scenarios that change what was signed or who signed it: no kernel
// of any profile, under any application procedure, may load the result as signed.
var contentTamperAdv = map[string]bool{"flip-insn": true, "flip-data": true, "flip-sig": true, "truncate-sig": true, "unknown-signer": true}

// TestKernelProfilesTamperAdv signs the unsigned fixture under every column, applies every
// tamper scenario, and judges each case on every profile with every procedure.
func TestKernelProfilesTamperAdv(t *testing.T) {
	signer := testfix.Signer(t)
	trust := front.Trust(t)
	cols := compare.Columns()
	signed, err := compare.SignAll(front.Skeleton(t, "unsigned"), signer, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range compare.Scenarios {
		for _, col := range cols {
			c, err := compare.Prepare(signed, col, sc, trust)
			if err != nil {
				t.Fatal(err)
			}
			if c.NotApplicable != "" {
				continue
			}
			// The scheme's own kernel.
			if v, err := c.Judge(); err != nil {
				t.Fatal(err)
			} else {
				checkVerdictAdv(t, sc.Name+"/"+col.Name+"/model", v)
				if contentTamperAdv[sc.Name] && v.Outcome == compat.Accepted {
					t.Errorf("%s/%s: the scheme's kernel accepts tampered content", sc.Name, col.Name)
				}
			}
			for _, p := range bpfsig.KernelProfiles() {
				for _, proc := range bpfsig.Procedures() {
					what := sc.Name + "/" + col.Name + "/" + p + "/" + string(proc)
					v, err := bpfsig.OnKernel(c.Skeleton, p, proc, c.Trust, c.Cond)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					checkVerdictAdv(t, what, v)
					if v.Profile != p || v.Procedure != string(proc) {
						t.Errorf("%s: verdict names profile %q procedure %q", what, v.Profile, v.Procedure)
					}
					if v.Outcome == compat.Rejected && !hasErrorFindingAdv(v) && (v.Rule == "" || v.Source == "") {
						t.Errorf("%s: a profile rejection without its rule (%q) or source (%q)", what, v.Rule, v.Source)
					}
					if contentTamperAdv[sc.Name] && v.Outcome == compat.Accepted {
						t.Errorf("%s: tampered content accepted: %s", what, v.Reason)
					}
					if sc.Name == "intact" && col.Name == "raw" && p == "mainline" && proc == bpfsig.ProcMainline && !v.OK() {
						t.Errorf("%s: the intact raw skeleton does not load on mainline: %s", what, v.Reason)
					}
				}
			}
		}
	}
}

// TestAsIsVerdictsAdv: every fixture on every registered scheme's kernel keeps the verdict
// rules, and OK only where the fixture's own scheme judges it.
func TestAsIsVerdictsAdv(t *testing.T) {
	trust := front.Trust(t)
	for _, name := range []string{"legacy-v1", "legacy-v2", "chain", "raw", "unsigned"} {
		sk := front.Skeleton(t, name)
		vs, err := compare.AsIs(sk, trust)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			checkVerdictAdv(t, name+" on "+string(v.Kernel), v)
		}
		checkVerdictAdv(t, name+" verify", bpfsig.Verify(sk, trust))
	}
}

// TestVerifyOnKernelJSONAdv: a profile verdict's JSON names the profile, the procedure, the
// deciding rule and its source, and (mainline, signed and accepted) the LSM record.
func TestVerifyOnKernelJSONAdv(t *testing.T) {
	trust := front.Trust(t)
	tests := []struct {
		skel, profile string
		proc          bpfsig.Procedure
		ok            bool
		record        bool
	}{
		{"raw", "mainline", bpfsig.ProcMainline, true, true},
		{"raw", "mainline-bpf-keyring", bpfsig.ProcMainline, true, true},
		{"raw", "6.18", bpfsig.ProcMainline, false, false},
		{"legacy-v2", "mainline", bpfsig.Proc618, false, true},
		{"chain", "chain", bpfsig.ProcChain, true, false},
	}
	for _, tt := range tests {
		v, err := bpfsig.VerifyOnKernel(front.Skeleton(t, tt.skel), tt.profile, tt.proc, trust)
		if err != nil {
			t.Fatal(err)
		}
		if v.OK() != tt.ok {
			t.Errorf("%s on %s: OK %v, want %v (%s)", tt.skel, tt.profile, v.OK(), tt.ok, v.Reason)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["profile"] != tt.profile || m["procedure"] != string(tt.proc) {
			t.Errorf("%s on %s: JSON profile %v procedure %v", tt.skel, tt.profile, m["profile"], m["procedure"])
		}
		if !tt.ok && (m["rule"] == nil || m["source"] == nil || !strings.HasPrefix(m["rule"].(string), tt.profile+"/")) {
			t.Errorf("%s on %s: a rejection's JSON has rule %v source %v", tt.skel, tt.profile, m["rule"], m["source"])
		}
		if _, has := m["record"]; has != tt.record {
			t.Errorf("%s on %s: JSON record present %v, want %v: %s", tt.skel, tt.profile, has, tt.record, b)
		}
	}
}

// TestVerifyOnKernelAnalysisFailsClosedAdv: a signed skeleton whose loader the static analysis
// cannot follow (its metadata cut short, then signed) is refused by Verify, and must be
// refused on every kernel profile too; before the fix VerifyOnKernel dropped the analysis
// error and passed it on mainline.
func TestVerifyOnKernelAnalysisFailsClosedAdv(t *testing.T) {
	trust := front.Trust(t)
	signer := testfix.Signer(t)
	d, err := skel.Of(front.Skeleton(t, "unsigned").Artifact())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1, 100, len(d.Data()) / 2, len(d.Data()) - 1} {
		nd, err := d.Blobs(d.Insn(), d.Data()[:cut], nil)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := bpfsig.FromArtifact(nd)
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range compare.Columns() {
			ssk, err := bpfsig.Sign(sk, signer, col.Target)
			if err != nil {
				continue // a scheme that cannot sign the cut loader: nothing to judge
			}
			if _, _, err := ssk.Findings(""); err == nil {
				continue // the cut left a loader the analysis follows
			} else if n := strings.Count(err.Error(), ssk.Path()); n != 1 {
				t.Errorf("cut %d: the analysis error names the file %d times: %v", cut, n, err)
			}
			if v := bpfsig.Verify(ssk, trust); v.OK() {
				t.Errorf("cut %d, %s: Verify passes a loader it cannot analyse", cut, col.Name)
			}
			for _, p := range bpfsig.KernelProfiles() {
				for _, proc := range bpfsig.Procedures() {
					v, err := bpfsig.VerifyOnKernel(ssk, p, proc, trust)
					if err != nil {
						continue
					}
					checkVerdictAdv(t, col.Name+"/"+p, v)
					if v.OK() {
						t.Errorf("cut %d, %s on %s (%s): accepted a loader the analysis cannot follow", cut, col.Name, p, proc)
					}
					if !hasErrorFindingAdv(v) {
						t.Errorf("cut %d, %s on %s (%s): no error finding says the analysis failed", cut, col.Name, p, proc)
					}
				}
			}
		}
	}
}

// TestVerifyOnKernelConformanceAdv: VerifyOnKernel promises the conformance check of the
// skeleton's scheme; a raw skeleton that kept its host-override blocks is not a well-formed
// raw skeleton, whether judged by the raw model or on the mainline profile.
func TestVerifyOnKernelConformanceAdv(t *testing.T) {
	trust := front.Trust(t)
	sk, err := bpfsig.Sign(front.Skeleton(t, "legacy-v1"), testfix.Signer(t), compat.Target{Scheme: compat.Raw}, bpfsig.KeepHostOverrides(true))
	if err != nil {
		t.Fatal(err)
	}
	if sk.Scheme() != compat.Raw {
		t.Fatalf("signed as raw, detected as %s", sk.Scheme())
	}
	v := bpfsig.Verify(sk, trust)
	if v.OK() || len(v.Conformance) == 0 {
		t.Fatalf("the raw model passes a raw loader with host-override blocks: %+v", v.Conformance)
	}
	for _, p := range []string{"mainline", "mainline-bpf-keyring"} {
		k, err := bpfsig.VerifyOnKernel(sk, p, bpfsig.ProcMainline, trust)
		if err != nil {
			t.Fatal(err)
		}
		if k.OK() {
			t.Errorf("%s: VerifyOnKernel passes what Verify refuses (%v)", p, v.Conformance)
		}
		if strings.Join(k.Conformance, ";") != strings.Join(v.Conformance, ";") {
			t.Errorf("%s: conformance %q, the scheme says %q", p, k.Conformance, v.Conformance)
		}
	}
}

// TestKernelProfileNamesAdv: names that are not profiles, or not procedures, are errors.
func TestKernelProfileNamesAdv(t *testing.T) {
	sk, trust := front.Skeleton(t, "raw"), front.Trust(t)
	for _, p := range []string{"", ",", "Mainline", "mainline ", "mainline,", "6.18.1", "../mainline", "\x00"} {
		if _, err := bpfsig.OnKernel(sk, p, bpfsig.ProcMainline, trust, bpfsig.Conditions{}); err == nil {
			t.Errorf("profile %q accepted", p)
		}
		if _, err := bpfsig.KernelProfileTable(p); err == nil {
			t.Errorf("profile table %q rendered", p)
		}
		if _, _, err := sk.Findings(p); p != "" && err == nil {
			t.Errorf("findings for profile %q", p)
		}
	}
	for _, proc := range []bpfsig.Procedure{"", "6.19", "Mainline"} {
		if v, err := bpfsig.OnKernel(sk, "mainline", proc, trust, bpfsig.Conditions{}); err == nil || !strings.Contains(err.Error(), "unknown procedure") {
			t.Errorf("procedure %q: %v, %+v; want an unknown-procedure error", proc, err, v)
		}
	}
}

// TestRawVerifyAppliesMainlineRefusalsAdv: a raw skeleton whose loader binds a map by raw fd
// or a BTF id is refused by mainline (after the LSM hook); Verify judges a raw skeleton as
// mainline does, so it refuses it too (before the fix it passed what its kernel refuses).
func TestRawVerifyAppliesMainlineRefusalsAdv(t *testing.T) {
	trust := front.Trust(t)
	d, err := skel.Of(front.Skeleton(t, "unsigned").Artifact())
	if err != nil {
		t.Fatal(err)
	}
	insn := d.Insn()
	// The loader's first ld_imm64 of the metadata map by fd_array index (src 6,
	// BPF_PSEUDO_MAP_IDX_VALUE, or 5).
	at := -1
	for i := 0; i+16 <= len(insn); i += 8 {
		if src := insn[i+1] >> 4; insn[i] == 0x18 && (src == 5 || src == 6) {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatal("no ld_imm64 of a map by index in the unsigned loader")
	}
	for _, tc := range []struct {
		src  byte
		rule string
	}{{1, "mainline-map-fd"}, {2, "mainline-map-fd"}, {3, "mainline-btf"}} {
		m := bytes.Clone(insn)
		m[at+1] = m[at+1]&0x0f | tc.src<<4
		nd, err := d.Blobs(m, d.Data(), nil)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := bpfsig.FromArtifact(nd)
		if err != nil || sk.LoaderError() != nil {
			t.Fatalf("src %d: %v %v", tc.src, err, sk.LoaderError())
		}
		r, err := bpfsig.Sign(sk, testfix.Signer(t), compat.Target{Scheme: compat.Raw})
		if err != nil {
			t.Fatal(err)
		}
		k, err := bpfsig.VerifyOnKernel(r, "mainline", bpfsig.ProcMainline, trust)
		if err != nil {
			t.Fatal(err)
		}
		v := bpfsig.Verify(r, trust)
		for what, x := range map[string]*compat.Verdict{"verify": v, "mainline": k} {
			checkVerdictAdv(t, what, x)
			if x.OK() || x.Stage != compat.StageVerifier || !x.LSMAdmittedThenFailed || !strings.Contains(x.Reason, tc.rule) {
				t.Errorf("src %d, %s: OK %v at %s (LSM then failed %v): %s; want a %s refusal at the verifier", tc.src, what, x.OK(), x.Stage, x.LSMAdmittedThenFailed, x.Reason, tc.rule)
			}
		}
	}
}
