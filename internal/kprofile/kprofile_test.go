package kprofile

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
)

var stageOrder = map[compat.Stage]int{compat.StageSetup: 0, compat.StageAdmission: 1, compat.StageLSM: 2, compat.StageVerifier: 3, compat.StageRun: 4}

// TestTablesWellFormed checks every profile's table: unique row IDs, a citation and a subtest
// (or "none …") on every row, one hook, rows in stage order, an errno on every rejection
// before the run stage and a retval on every run-stage one.
func TestTablesWellFormed(t *testing.T) {
	want := []string{"6.18", "chain", "mainline", "mainline-bpf-keyring"}
	if got := Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, name := range want {
		p, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		ids, hooks, last := map[string]bool{}, 0, -1
		for k, r := range p.Rules {
			where := name + " row " + r.ID
			if r.ID == "" || ids[r.ID] {
				t.Errorf("%s (#%d): empty or duplicate ID", where, k)
			}
			ids[r.ID] = true
			if r.Source == "" || r.Subtest == "" || r.Reason == "" {
				t.Errorf("%s: needs Source, Subtest and Reason", where)
			}
			o, ok := stageOrder[r.Stage]
			if !ok {
				t.Errorf("%s: unknown stage %q", where, r.Stage)
			}
			if o < last {
				t.Errorf("%s: stage %s after a later stage", where, r.Stage)
			}
			last = o
			switch r.Kind {
			case Hook:
				hooks++
				if r.Stage != compat.StageLSM || r.Knows == nil || r.Scope != ScopeLoad {
					t.Errorf("%s: a hook row is a load-scoped lsm row with Knows", where)
				}
			case Reject:
				if r.When == nil {
					t.Errorf("%s: a rejection needs a predicate", where)
				}
				if r.Stage == compat.StageRun && (r.Retval >= 0 || r.Errno != 0) {
					t.Errorf("%s: a run-stage rejection is a negative retval", where)
				}
				if r.Stage != compat.StageRun && r.Errno == 0 && r.ErrnoOf == nil {
					t.Errorf("%s: no errno", where)
				}
			}
		}
		if hooks != 1 {
			t.Errorf("%s: %d hook rows, want 1", name, hooks)
		}
	}
	if _, err := Lookup("6.19"); err == nil || !strings.Contains(err.Error(), `"6.19"`) {
		t.Errorf("Lookup(6.19) error = %v", err)
	}
}

// signedLoad is a signed light-skeleton load the procedure's own way: exclusive, frozen,
// digest-bound metadata map, keyring 0, a verified signature.
func signedLoad(proc Procedure) Facts {
	return Facts{
		Procedure: proc, Signed: true, SignatureSize: 300, InsnSize: 2000,
		FdArray:   []Object{{Kind: KindMap, Array: true, Exclusive: true, DigestMatch: true, Frozen: true, ValueSize: 3336}},
		IndexRefs: 1,
	}
}

type mutate func(*Facts)

func withMap(f func(*Object)) mutate { return func(x *Facts) { f(&x.FdArray[0]) } }

func cnt(n uint32) mutate { return func(x *Facts) { x.FdArrayCnt = &n } }

func unsigned(x *Facts) { x.Signed, x.SignatureSize, x.CMS = false, 0, 0 }

func all(ms ...mutate) mutate {
	return func(x *Facts) {
		for _, m := range ms {
			m(x)
		}
	}
}

// decides lists, for every rejecting row of every profile, facts that the row decides.
var decides = []struct {
	profile, rule string
	proc          Procedure
	m             mutate
}{
	// 6.18
	{"6.18", "6.18/attr-tail", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0} }},
	{"6.18", "setup/hash-not-array", Proc618, withMap(func(o *Object) { o.Array = false })},
	{"6.18", "setup/hash-not-frozen", Proc618, withMap(func(o *Object) { o.Frozen = false })},
	{"6.18", "6.18/sig-too-large", Proc618, func(x *Facts) { x.SignatureSize = 8193 }},
	{"6.18", "6.18/keyring-unresolved", Proc618, func(x *Facts) { x.Keyring = Keyring{ID: 12345} }},
	{"6.18", "6.18/pkcs7", Proc618, func(x *Facts) { x.CMS = ENOKEY }},
	{"6.18", "6.18/fd-array-bad-fd", Proc618, all(unsigned, func(x *Facts) { x.SkipHashRequest = true; x.FdArray[0] = Object{Kind: KindBadFD} })},
	{"6.18", "6.18/fd-array-digest-not-computed", ProcMainline, func(*Facts) {}},
	{"6.18", "6.18/bind-digest", Proc618, withMap(func(o *Object) { o.DigestMatch = false })},
	{"6.18", "run/v2-not-exclusive", Proc618, all(withMap(func(o *Object) { o.Exclusive = false }), func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2, HashMatches: true} })},
	{"6.18", "run/sha-not-computed", Proc618, func(x *Facts) { x.SkipHashRequest = true; x.Check = LoaderCheck{Gen: CheckV1, HashMatches: true} }},
	{"6.18", "run/sha-mismatch", Proc618, func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV1} }},
	// chain
	{"chain", "setup/hash-not-array", ProcChain, withMap(func(o *Object) { o.Array = false })},
	{"chain", "setup/hash-not-frozen", ProcChain, withMap(func(o *Object) { o.Frozen = false })},
	{"chain", "chain/sig-too-large", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0}; x.SignatureSize = 9000 }},
	{"chain", "chain/keyring-unresolved", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0}; x.Keyring = Keyring{ID: KeySpecSession} }},
	{"chain", "chain/maps-index", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{1} }},
	{"chain", "chain/maps-not-array", ProcChain, all(withMap(func(o *Object) { o.Array = false }), func(x *Facts) { x.SignatureMaps = []int32{0} })},
	{"chain", "chain/maps-not-frozen", ProcChain, all(withMap(func(o *Object) { o.Frozen = false }), func(x *Facts) { x.SignatureMaps = []int32{0} })},
	{"chain", "chain/pkcs7", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0}; x.CMS = EKEYREJECTED }},
	{"chain", "6.18/fd-array-bad-fd", ProcChain, all(unsigned, func(x *Facts) { x.SkipHashRequest = true; x.FdArray[0] = Object{Kind: KindBadFD} })},
	{"chain", "6.18/fd-array-digest-not-computed", ProcChain, cnt(1)},
	{"chain", "6.18/bind-digest", ProcChain, all(withMap(func(o *Object) { o.DigestMatch = false }), func(x *Facts) { x.SignatureMaps = []int32{0} })},
	{"chain", "run/v2-not-exclusive", ProcChain, all(withMap(func(o *Object) { o.Exclusive = false }), func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2, HashMatches: true} })},
	{"chain", "run/sha-not-computed", ProcChain, func(x *Facts) { x.SkipHashRequest = true; x.Check = LoaderCheck{Gen: CheckV1, HashMatches: true} }},
	{"chain", "run/sha-mismatch", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0}; x.Check = LoaderCheck{Gen: CheckV1} }},
	// mainline
	{"mainline", "mainline/attr-tail", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0} }},
	{"mainline", "setup/hash-not-array", Proc618, withMap(func(o *Object) { o.Array = false })},
	{"mainline", "setup/hash-not-frozen", Proc618, withMap(func(o *Object) { o.Frozen = false })},
	{"mainline", "mainline/fd-array-cnt-too-big", ProcMainline, cnt(0x3FFFFFFF)},
	{"mainline", "mainline/fd-array-bad-fd", ProcMainline, func(x *Facts) { x.FdArray[0] = Object{Kind: KindBadFD} }},
	{"mainline", "mainline/fold-btf", ProcMainline, func(x *Facts) { x.FdArray[0] = Object{Kind: KindBTF}; x.IndexRefs = 0 }},
	{"mainline", "mainline/fold-not-array", ProcMainline, withMap(func(o *Object) { o.Array = false })},
	{"mainline", "mainline/fold-not-frozen", ProcMainline, withMap(func(o *Object) { o.Frozen = false })},
	{"mainline", "mainline/fold-not-exclusive", ProcMainline, withMap(func(o *Object) { o.Exclusive = false })},
	{"mainline", "mainline/fd-array-digest", ProcMainline, withMap(func(o *Object) { o.DigestMatch = false })},
	{"mainline", "mainline/sig-zero-size", ProcMainline, func(x *Facts) { x.SignatureSize = 0 }},
	{"mainline", "mainline/sig-too-large", ProcMainline, func(x *Facts) { x.SignatureSize = 8193 }},
	{"mainline", "mainline/keyring-unresolved", ProcMainline, func(x *Facts) { x.Keyring = Keyring{ID: KeySpecBPFKeyring} }},
	{"mainline", "mainline/sig-buffer-too-large", ProcMainline, withMap(func(o *Object) { o.ValueSize = 1<<24 - 2000 })},
	{"mainline", "mainline/pkcs7", ProcMainline, func(x *Facts) { x.CMS = EBADMSG }},
	{"mainline", "mainline/late-index-map", ProcMainline, cnt(0)},
	{"mainline", "mainline/late-raw-fd-map", ProcMainline, func(x *Facts) { x.Late.RawFDMaps = 1 }},
	{"mainline", "mainline/late-btf", ProcMainline, func(x *Facts) { x.Late.BTFs = 1 }},
	{"mainline", "mainline/bind-bad-fd", ProcMainline, all(unsigned, func(x *Facts) { x.FdArray[0] = Object{Kind: KindBadFD} })},
	{"mainline", "mainline/bind-digest", ProcMainline, all(unsigned, withMap(func(o *Object) { o.DigestMatch = false }))},
	{"mainline", "run/v2-not-exclusive", Proc618, all(unsigned, withMap(func(o *Object) { o.Exclusive = false }), func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2, HashMatches: true} })},
	{"mainline", "run/sha-not-computed", ProcMainline, func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2, HashMatches: true} }},
	{"mainline", "run/sha-mismatch", Proc618, all(unsigned, func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV1} })},
	// mainline-bpf-keyring: its own rows, and the rows it shares with mainline under its prefix
	{"mainline-bpf-keyring", "mainline-bpf-keyring/caller-keyring-refused", ProcMainline, func(x *Facts) {
		x.Boot.BPFKeyringUnsealed = true
		x.Keyring = Keyring{ID: KeySpecSession, Serial: 77}
	}},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/bpf-keyring-not-provisioned", ProcMainline, func(x *Facts) {
		x.Boot.BPFKeyringUnsealed = true
		x.Keyring = Keyring{ID: KeySpecBPFKeyring}
	}},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/attr-tail", ProcChain, func(x *Facts) { x.SignatureMaps = []int32{0} }},
	{"mainline-bpf-keyring", "setup/hash-not-array", Proc618, withMap(func(o *Object) { o.Array = false })},
	{"mainline-bpf-keyring", "setup/hash-not-frozen", Proc618, withMap(func(o *Object) { o.Frozen = false })},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fd-array-cnt-too-big", ProcMainline, cnt(0xFFFFFFFF)},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fd-array-bad-fd", ProcMainline, func(x *Facts) { x.FdArray[0] = Object{Kind: KindBadFD} }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fold-btf", ProcMainline, func(x *Facts) { x.FdArray[0] = Object{Kind: KindBTF}; x.IndexRefs = 0 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fold-not-array", ProcMainline, withMap(func(o *Object) { o.Array = false })},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fold-not-frozen", ProcMainline, withMap(func(o *Object) { o.Frozen = false })},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fold-not-exclusive", ProcMainline, withMap(func(o *Object) { o.Exclusive = false })},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/fd-array-digest", ProcMainline, all(unsigned, cnt(1))},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/sig-zero-size", ProcMainline, func(x *Facts) { x.SignatureSize = 0 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/sig-too-large", ProcMainline, func(x *Facts) { x.SignatureSize = 1 << 26 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/keyring-unresolved", ProcMainline, func(x *Facts) { x.Keyring = Keyring{ID: KeySpecSession} }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/sig-buffer-too-large", ProcMainline, func(x *Facts) { x.InsnSize = 1 << 24 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/pkcs7", ProcMainline, func(x *Facts) { x.CMS = ENOPKG }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/late-index-map", Proc618, func(x *Facts) { x.SkipHashRequest = true }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/late-raw-fd-map", ProcMainline, func(x *Facts) { x.Late.RawFDMaps = 2 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/late-btf", ProcMainline, func(x *Facts) { x.Late.BTFs = 1 }},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/bind-bad-fd", Proc618, all(unsigned, func(x *Facts) { x.SkipHashRequest = true; x.FdArray[0] = Object{Kind: KindBadFD} })},
	{"mainline-bpf-keyring", "mainline-bpf-keyring/bind-digest", Proc618, all(unsigned, withMap(func(o *Object) { o.DigestMatch = false }))},
	{"mainline-bpf-keyring", "run/v2-not-exclusive", Proc618, all(unsigned, withMap(func(o *Object) { o.Exclusive = false }), func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2, HashMatches: true} })},
	{"mainline-bpf-keyring", "run/sha-not-computed", ProcMainline, func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV1, HashMatches: true} }},
	{"mainline-bpf-keyring", "run/sha-mismatch", Proc618, all(unsigned, func(x *Facts) { x.Check = LoaderCheck{Gen: CheckV2} })},
}

var ownProcedure = map[string]Procedure{"6.18": Proc618, "chain": ProcChain, "mainline": ProcMainline, "mainline-bpf-keyring": ProcMainline}

// TestEveryRowDecides makes every rejecting row decide a load, and checks that the loads are
// otherwise accepted: each row is reachable and is what stops its case.
func TestEveryRowDecides(t *testing.T) {
	covered := map[string]map[string]bool{}
	for _, c := range decides {
		p, err := Lookup(c.profile)
		if err != nil {
			t.Fatal(err)
		}
		base := signedLoad(c.proc)
		if c.proc == ProcChain {
			base.SignatureMaps = nil
		}
		good, err := p.Evaluate(base)
		if err != nil {
			t.Fatalf("%s %s base: %v", c.profile, c.proc, err)
		}
		if c.proc == ownProcedure[c.profile] && good.Outcome != compat.Accepted {
			t.Errorf("%s: base load with the %s procedure: %s %s (%s)", c.profile, c.proc, good.Outcome, good.Errno, good.Rule)
		}
		f := signedLoad(c.proc)
		c.m(&f)
		got, err := p.Evaluate(f)
		if err != nil {
			t.Errorf("%s %s: %v", c.profile, c.rule, err)
			continue
		}
		if got.Outcome != compat.Rejected || got.Rule != c.rule {
			t.Errorf("%s: want rejected by %s, got %s by %q (%s %s)", c.profile, c.rule, got.Outcome, got.Rule, got.Stage, got.Errno)
		}
		if covered[c.profile] == nil {
			covered[c.profile] = map[string]bool{}
		}
		covered[c.profile][c.rule] = true
	}
	for _, name := range Names() {
		p, _ := Lookup(name)
		for _, r := range p.Rules {
			if r.Kind == Reject && !covered[name][r.ID] {
				t.Errorf("%s: row %s decides no test load", name, r.ID)
			}
		}
	}
}

// TestProceduresAccepted: each profile accepts its own procedure's correct load.
func TestProceduresAccepted(t *testing.T) {
	for _, c := range []struct {
		profile string
		f       Facts
		lsm     compat.LSMKnowledge
	}{
		{"6.18", func() Facts {
			f := signedLoad(Proc618)
			f.Check = LoaderCheck{Gen: CheckV2, HashMatches: true}
			return f
		}(), compat.LSMLoaderOnly},
		{"chain", func() Facts {
			f := signedLoad(ProcChain)
			f.SignatureMaps = []int32{0}
			f.Check = LoaderCheck{Gen: CheckV1, HashMatches: true}
			return f
		}(), compat.LSMFull},
		{"mainline", signedLoad(ProcMainline), compat.LSMFull},
		{"mainline-bpf-keyring", func() Facts {
			f := signedLoad(ProcMainline)
			f.Keyring.ID, f.Boot = KeySpecBPFKeyring, Boot{BPFKeyringUnsealed: true, BPFKeyringProvisioned: true}
			return f
		}(), compat.LSMFull},
	} {
		p, _ := Lookup(c.profile)
		got, err := p.Evaluate(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != compat.Accepted || got.Retval == nil || *got.Retval != 0 || got.LSM != c.lsm || got.LSMAdmittedThenFailed {
			t.Errorf("%s: %+v", c.profile, got)
		}
	}
}

// TestEntryOrder: fd_array entries are checked one after another, all checks of an entry
// before the next entry, as process_fd_array() loops.
func TestEntryOrder(t *testing.T) {
	good := Object{Kind: KindMap, Array: true, Exclusive: true, DigestMatch: true, Frozen: true, ValueSize: 8}
	unfrozen, hash := good, good
	unfrozen.Frozen, hash.Array = false, false
	for _, c := range []struct {
		entries []Object
		errno   Errno
		reason  string
	}{
		{[]Object{unfrozen, hash}, EPERM, "fd_array[0]: "},
		{[]Object{hash, unfrozen}, EINVAL, "fd_array[0]: "},
		{[]Object{good, hash}, EINVAL, "fd_array[1]: "},
		{[]Object{good, {Kind: KindBTF}, unfrozen}, EACCES, "fd_array[1]: "},
	} {
		f := signedLoad(ProcMainline)
		f.FdArray = c.entries
		got, err := ProfileMainline.Evaluate(f)
		if err != nil {
			t.Fatal(err)
		}
		if got.Errno != c.errno || !strings.HasPrefix(got.Reason, c.reason) {
			t.Errorf("%v: %s %q, want %s %q…", c.entries, got.Errno, got.Reason, c.errno, c.reason)
		}
	}
}

// TestRecord: the verdict fields as the hook sees them, per keyring_id.
func TestRecord(t *testing.T) {
	for _, c := range []struct {
		profile string
		id      int32
		want    Record
	}{
		{"mainline", KeyringBuiltin, Record{SigVerified, KeyringTBuiltin, 0}},
		{"mainline", KeyringSecondary, Record{SigVerified, KeyringTSecond, 0}},
		{"mainline", KeyringPlatform, Record{SigVerified, KeyringTPlatform, 0}},
		{"mainline", KeySpecSession, Record{SigVerified, KeyringTUser, 4242}},
		{"mainline", 4242, Record{SigVerified, KeyringTUser, 4242}},
		{"mainline-bpf-keyring", KeySpecBPFKeyring, Record{SigVerified, KeyringTBPF, 0}},
		{"mainline-bpf-keyring", KeySpecSession, Record{SigVerified, KeyringTUser, 4242}},
	} {
		p, _ := Lookup(c.profile)
		f := signedLoad(ProcMainline)
		f.Keyring = Keyring{ID: c.id, Serial: 4242}
		f.Boot.BPFKeyringProvisioned = true
		got, err := p.Evaluate(f)
		if err != nil {
			t.Fatal(err)
		}
		if got.Record == nil || *got.Record != c.want {
			t.Errorf("%s keyring %d: record %+v, want %+v", c.profile, c.id, got.Record, c.want)
		}
	}
	// Without the .bpf keyring, -9 is no KEY_SPEC id at all: it never resolves.
	f0 := signedLoad(ProcMainline)
	f0.Keyring = Keyring{ID: KeySpecBPFKeyring, Serial: 4242}
	for _, p := range []*Profile{ProfileMainline, Profile618, ProfileChain} {
		if got, _ := p.Evaluate(f0); got.Errno != EINVAL || got.Record != nil {
			t.Errorf("%s, keyring -9: %s %+v, want EINVAL before the hook", p.Name, got.Errno, got.Record)
		}
	}
	// Not recorded where the hook is not reached, and by the profiles without verdict fields.
	f := signedLoad(ProcMainline)
	f.CMS = EKEYREJECTED
	if got, _ := ProfileMainline.Evaluate(f); got.Record != nil || got.LSM != compat.LSMNotReached {
		t.Errorf("failed verification: record %+v lsm %q", got.Record, got.LSM)
	}
	if got, _ := Profile618.Evaluate(signedLoad(Proc618)); got.Record != nil {
		t.Errorf("6.18: record %+v", got.Record)
	}
}

func TestFactsValidation(t *testing.T) {
	for _, c := range []struct {
		m    mutate
		want string
	}{
		{func(x *Facts) { x.Procedure = "5.15" }, `unknown procedure "5.15"`},
		{func(x *Facts) { x.Procedure = "" }, `unknown procedure ""`},
		{func(x *Facts) { x.InsnSize = -1 }, "negative instruction size"},
		{func(x *Facts) { x.IndexRefs = 2 }, "reference 2 fd_array slots, fd_array has 1"},
		{func(x *Facts) { x.IndexRefs = -1 }, "reference -1 fd_array slots"},
		{func(x *Facts) { x.FdArray[0].Kind = 7 }, "fd_array[0]: unknown kind 7"},
		{func(x *Facts) { x.FdArray[0].ValueSize = -4 }, "fd_array[0]: negative value size"},
		{func(x *Facts) { x.Signed = false; x.SignatureSize = 0; x.CMS = EBADMSG }, "PKCS#7 result (EBADMSG) for an unsigned load"},
		{func(x *Facts) { x.Signed = false }, "signature_size 300 without a signature"},
		{func(x *Facts) { x.SignatureMaps = []int32{0} }, "signature_maps given for the mainline procedure"},
		{cnt(2), "fd_array_cnt 2 exceeds the 1 fd_array entries given"},
		{func(x *Facts) { x.Check.Gen = 3 }, "unknown loader check generation 3"},
		{func(x *Facts) { x.Late.BTFs = -1 }, "negative late-bound object count"},
	} {
		f := signedLoad(ProcMainline)
		c.m(&f)
		for _, p := range []*Profile{Profile618, ProfileMainline, ProfileMainlineBPFKeyring, ProfileChain} {
			_, err := p.Evaluate(f)
			if !errors.Is(err, ErrFacts) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: error %v, want ErrFacts %q", p.Name, err, c.want)
			}
		}
	}
}

func TestSignedContent(t *testing.T) {
	insn := []byte("instructions")
	d0, d1 := []byte("metadata-zero"), []byte("m1")
	if got := SignedContent(Profile618, insn, [][]byte{d0}); !bytes.Equal(got, insn) {
		t.Errorf("6.18: %q", got)
	}
	for _, p := range []*Profile{ProfileMainline, ProfileMainlineBPFKeyring} {
		if got := SignedContent(p, insn, [][]byte{d0, d1}); string(got) != "instructionsmetadata-zerom1" {
			t.Errorf("%s: %q", p.Name, got)
		}
	}
	if got := SignedContent(ProfileChain, insn, nil); !bytes.Equal(got, insn) {
		t.Errorf("chain, no map listed: %q", got)
	}
	// root = H(H(insn) ‖ H(H(pad8(d1)) ‖ H(pad8(d0)))… per the chain rule: h = MH(1), then
	// h = H(h ‖ MH(0)).
	pad := func(b []byte) []byte { return append(append([]byte(nil), b...), make([]byte, (8-len(b)%8)%8)...) }
	mh0, mh1 := sha256.Sum256(pad(d0)), sha256.Sum256(pad(d1))
	h := sha256.Sum256(append(mh1[:], mh0[:]...))
	ih := sha256.Sum256(insn)
	root := sha256.Sum256(append(ih[:], h[:]...))
	if got := SignedContent(ProfileChain, insn, [][]byte{d0, d1}); !bytes.Equal(got, root[:]) {
		t.Errorf("chain root %x, want %x", got, root)
	}
	one := sha256.Sum256(append(ih[:], func() []byte { m := sha256.Sum256(pad(d0)); return m[:] }()...))
	if got := SignedContent(ProfileChain, insn, [][]byte{d0}); !bytes.Equal(got, one[:]) {
		t.Errorf("chain root, one map: %x, want %x", got, one)
	}
}

func TestFolded(t *testing.T) {
	f := signedLoad(ProcMainline)
	f.FdArray = append(f.FdArray, Object{Kind: KindBTF}, Object{Kind: KindMap, ValueSize: 1})
	if got := ProfileMainline.Folded(f); len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("mainline folds %v, want [0 2] (BTF entries are not folded)", got)
	}
	f.FdArrayCnt = new(uint32)
	if got := ProfileMainline.Folded(f); len(got) != 0 {
		t.Errorf("fd_array_cnt 0: folds %v", got)
	}
	if got := Profile618.Folded(signedLoad(Proc618)); len(got) != 0 {
		t.Errorf("6.18 folds %v", got)
	}
	c := signedLoad(ProcChain)
	c.FdArray = append(c.FdArray, c.FdArray[0])
	c.SignatureMaps = []int32{1, 0}
	if got := ProfileChain.Folded(c); len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Errorf("chain folds %v, want [1 0] (list order)", got)
	}
	unsignedMainline := signedLoad(ProcMainline)
	unsigned(&unsignedMainline)
	if got := ProfileMainline.Folded(unsignedMainline); len(got) != 0 {
		t.Errorf("unsigned load folds %v", got)
	}
}

func TestErrnoNames(t *testing.T) {
	for e, n := range map[Errno]string{0: "", EPERM: "EPERM", EKEYREJECTED: "EKEYREJECTED", ENOKEY: "ENOKEY", 200: "errno 200"} {
		if e.Name() != n || e.String() != n {
			t.Errorf("%d: %q", uint16(e), e.Name())
		}
		b, _ := e.MarshalText()
		if string(b) != n {
			t.Errorf("%d: MarshalText %q", uint16(e), b)
		}
	}
}
