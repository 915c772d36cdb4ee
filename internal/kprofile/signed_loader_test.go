//go:build linux

package kprofile

import (
	"github.com/bpfsig/bpfsig/compat"
	"math"
	"sort"
	"strings"
	"testing"
)

// The errno contract of tools/testing/selftests/bpf/prog_tests/signed_loader.c, one case per
// subtest the model can express, named after it.
//
// loadTimeSubtests is test_signed_loader()'s subtest list in cilium/linux @1e8f6163 (the
// analogdevicesinc/linux copy @1841d6cb has the same 30). Each is either a case in
// TestSignedLoaderContract or listed, with the reason, in loadTimeInexpressible.
var loadTimeSubtests = []string{
	"loadtime_no_map", "loadtime_with_map", "metadata_match", "signature_enforced",
	"signed_nonexcl_fd_array_rejected", "signed_unfrozen_fd_array_rejected",
	"signed_nonarray_fd_array_rejected", "signed_btf_fd_array_rejected",
	"signed_module_kfunc_rejected", "signature_failure_logs", "signature_too_large",
	"signature_zero_size", "signature_bad_keyring", "bpf_keyring_sealed",
	"metadata_ctx_max_entries_ignored", "metadata_ctx_initial_value_ignored",
	"signature_authenticates_insns", "signature_authenticates_metadata", "hash_requires_frozen",
	"no_update_after_freeze", "freeze_writable_mmap", "no_writable_mmap_frozen",
	"map_hash_matches_libbpf", "map_hash_multi_element", "map_hash_bad_size",
	"map_hash_unsupported_type", "lsm_signature_verdict", "signed_no_fd_array",
	"signed_map_by_fd_rejected", "signed_sparse_fd_array_rejected",
}

// loadTimeInexpressible are the subtests the model cannot express, and why.
var loadTimeInexpressible = map[string]string{
	"metadata_ctx_max_entries_ignored":   "asserts what the loader creates (map max_entries ignores the ctx): loader behaviour, not a kernel decision",
	"metadata_ctx_initial_value_ignored": "asserts the created .data map's contents (ctx initial_value ignored): loader behaviour",
	"no_update_after_freeze":             "BPF_MAP_UPDATE_ELEM after BPF_MAP_FREEZE (EPERM): a map operation, not part of a load",
	"freeze_writable_mmap":               "BPF_MAP_FREEZE with a writable mmap held (EBUSY): mmap state is not a load fact",
	"no_writable_mmap_frozen":            "mmap(PROT_WRITE) of a frozen map fails: not a bpf(2) load",
	"map_hash_matches_libbpf":            "compares hash values (kernel array_map_get_hash vs libbpf_sha256): no errno, no load",
	"map_hash_multi_element":             "hash over a multi-element array's value area: the model carries no map hash values",
	"map_hash_bad_size":                  "info.hash_size of 16 (EINVAL): the procedures always pass 32; the size is not a fact",
}

// step is one load of a subtest.
type step struct {
	profile string
	facts   Facts
	insn    []byte
	values  map[int][]byte
	sig     []byte
	want    want
	// reason, when set, must appear in the result's reason (a kernel log line).
	reason string
}

const sessionSerial int32 = 0x2a1b3c4d

func TestSignedLoaderContract(t *testing.T) {
	fx := loadFixture(t)
	session := Keyring{ID: KeySpecSession, Serial: sessionSerial}
	userRecord := &Record{Verdict: SigVerified, KeyringType: KeyringTUser, KeyringSerial: sessionSerial}
	unsignedRecord := &Record{Verdict: SigUnsigned, KeyringType: KeyringNone}
	meta := Object{Kind: KindMap, Array: true, Exclusive: true, DigestMatch: true, Frozen: true, ValueSize: len(fx.rawData)}
	vals := map[int][]byte{0: fx.rawData}
	ran0 := i32(0)

	// signedLoader is run_gen_loader()/loadtime_drive() with a signature: exclusive frozen
	// metadata map, fd_array_cnt = 1, session keyring.
	signedLoader := func(insn, data, sig []byte, digestMatch bool) step {
		m := meta
		m.DigestMatch = digestMatch
		return step{
			profile: "mainline",
			facts: Facts{Procedure: ProcMainline, Signed: true, SignatureSize: uint32(len(sig)), Keyring: session,
				InsnSize: len(insn), FdArray: []Object{m}, IndexRefs: 1},
			insn: insn, values: map[int][]byte{0: data}, sig: sig,
		}
	}
	accepted := func(s step) step {
		s.want = want{outcome: compat.Accepted, retval: ran0, lsm: compat.LSMFull, record: userRecord}
		return s
	}
	// junkLoad is load_loader(insns, -1, junk, …, fd_array_cnt = 0): fd_array = &(-1).
	junkLoad := func(size uint32, keyring Keyring) Facts {
		return Facts{Procedure: ProcMainline, FdArrayCnt: u32(0), SkipRun: true, Signed: true, SignatureSize: size,
			Keyring: keyring, InsnSize: len(fx.rawInsn), FdArray: []Object{{Kind: KindBadFD}}, IndexRefs: 1}
	}
	// junkFold is load_loader(insns, map_fd, junk, session, fd_array_cnt = 1).
	junkFold := func(m Object) Facts {
		return Facts{Procedure: ProcMainline, FdArrayCnt: u32(1), SkipRun: true, Signed: true, SignatureSize: 64,
			Keyring: session, InsnSize: len(fx.rawInsn), FdArray: []Object{m}, IndexRefs: 1}
	}
	rejected := func(stage compat.Stage, e Errno, rule string) want {
		return want{outcome: compat.Rejected, stage: stage, errno: e, rule: rule}
	}
	// afterHook is a rejection after the hook admitted a validly signed program.
	afterHook := func(e Errno, rule string, lsm compat.LSMKnowledge) want {
		return want{outcome: compat.Rejected, stage: compat.StageVerifier, errno: e, lsm: lsm, admitted: true, record: userRecord, rule: rule}
	}
	// program is a directly loaded signed program (not a loader): no fd_array, no run.
	program := func(insn, sig []byte) Facts {
		return Facts{Procedure: ProcMainline, SkipRun: true, Signed: true, SignatureSize: uint32(len(sig)), Keyring: session, InsnSize: len(insn)}
	}

	cases := map[string][]step{
		"loadtime_no_map":   {accepted(signedLoader(fx.rawInsn, fx.rawData, fx.rawSig, true))},
		"loadtime_with_map": {accepted(signedLoader(fx.rawInsn, fx.rawData, fx.rawSig, true))},
		"metadata_match": {{
			// run_gen_loader() without a signature: fd_array_cnt stays 0, no hash request.
			profile: "mainline",
			facts:   Facts{Procedure: ProcMainline, InsnSize: len(fx.rawInsn), FdArray: []Object{meta}, IndexRefs: 1},
			want:    want{outcome: compat.Accepted, retval: ran0, lsm: compat.LSMUnsigned, record: unsignedRecord},
		}},
		"signature_enforced": {{
			profile: "mainline", facts: junkLoad(64, session), insn: fx.rawInsn, sig: junkSig,
			want: rejected(compat.StageAdmission, EBADMSG, "mainline/pkcs7"),
		}},
		"signed_nonexcl_fd_array_rejected": {{
			profile: "mainline", facts: junkFold(Object{Kind: KindMap, Array: true, Frozen: true, ValueSize: len(fx.rawData)}),
			insn: fx.rawInsn, values: vals, sig: junkSig,
			want: rejected(compat.StageAdmission, EPERM, "mainline/fold-not-exclusive"),
		}},
		"signed_unfrozen_fd_array_rejected": {{
			profile: "mainline", facts: junkFold(Object{Kind: KindMap, Array: true, Exclusive: true, DigestMatch: true, ValueSize: len(fx.rawData)}),
			insn: fx.rawInsn, values: vals, sig: junkSig,
			want: rejected(compat.StageAdmission, EPERM, "mainline/fold-not-frozen"),
		}},
		"signed_nonarray_fd_array_rejected": {{
			// An exclusive BPF_MAP_TYPE_HASH, never frozen: the type gate answers first.
			profile: "mainline", facts: junkFold(Object{Kind: KindMap, Exclusive: true, DigestMatch: true, ValueSize: 4}),
			insn: fx.rawInsn, values: map[int][]byte{0: make([]byte, 4)}, sig: junkSig,
			want: rejected(compat.StageAdmission, EINVAL, "mainline/fold-not-array"),
		}},
		"signed_btf_fd_array_rejected": {{
			// A genuine insns ‖ metadata signature, fd_array = {meta, BTF}, fd_array_cnt = 2.
			profile: "mainline",
			facts: Facts{Procedure: ProcMainline, FdArrayCnt: u32(2), SkipRun: true, Signed: true, SignatureSize: uint32(len(fx.rawSig)),
				Keyring: session, InsnSize: len(fx.rawInsn), FdArray: []Object{meta, {Kind: KindBTF}}, IndexRefs: 1},
			insn: fx.rawInsn, values: vals, sig: fx.rawSig,
			want: rejected(compat.StageAdmission, EACCES, "mainline/fold-btf"),
		}},
		"signed_module_kfunc_rejected": {{
			// A kfunc call resolved lazily from fd_array[1] (a BTF); fd_array_cnt = 0.
			profile: "mainline",
			facts: Facts{Procedure: ProcMainline, FdArrayCnt: u32(0), SkipRun: true, Signed: true, SignatureSize: uint32(len(fx.legSig)),
				Keyring: session, InsnSize: len(fx.legInsn), FdArray: []Object{{Kind: KindBadFD}, {Kind: KindBTF}}, Late: LateBound{BTFs: 1}},
			insn: fx.legInsn, sig: fx.legSig,
			want: afterHook(EACCES, "mainline/late-btf", compat.LSMFull),
		}},
		"signature_failure_logs": {{
			profile: "mainline",
			facts: Facts{Procedure: ProcMainline, SkipRun: true, Signed: true, SignatureSize: 64, Keyring: session,
				InsnSize: len(fx.rawInsn)},
			insn: fx.rawInsn, sig: junkSig,
			want:   rejected(compat.StageAdmission, EBADMSG, "mainline/pkcs7"),
			reason: "signature verification failed",
		}},
		"signature_too_large": {{
			profile: "mainline", facts: junkLoad(64<<20, session), insn: fx.rawInsn, sig: junkSig,
			want: rejected(compat.StageAdmission, EINVAL, "mainline/sig-too-large"),
		}},
		"signature_zero_size": {{
			profile: "mainline", facts: junkLoad(0, session), insn: fx.rawInsn, sig: junkSig,
			want: rejected(compat.StageAdmission, EINVAL, "mainline/sig-zero-size"),
		}},
		"signature_bad_keyring": {{
			profile: "mainline", facts: junkLoad(64, Keyring{ID: math.MaxInt32}), insn: fx.rawInsn, sig: junkSig,
			want: rejected(compat.StageAdmission, EINVAL, "mainline/keyring-unresolved"),
		}},
		"bpf_keyring_sealed": {{
			// Booted without bpf.keyring_unsealed=1: the .bpf keyring is sealed empty.
			profile: "mainline-bpf-keyring", facts: junkLoad(64, Keyring{ID: KeySpecBPFKeyring}), insn: fx.rawInsn, sig: junkSig,
			want: rejected(compat.StageAdmission, ENOKEY, "mainline-bpf-keyring/bpf-keyring-not-provisioned"),
		}},
		"signature_authenticates_insns": {
			accepted(signedLoader(fx.rawInsn, fx.rawData, fx.rawSig, true)),
			// Tampered instructions, the map re-bound to the tampered digest: the signature,
			// verified after fd_array is resolved, rejects it.
			func() step {
				s := signedLoader(flip(fx.rawInsn, len(fx.rawInsn)/2), fx.rawData, fx.rawSig, true)
				s.want = rejected(compat.StageAdmission, EKEYREJECTED, "mainline/pkcs7")
				return s
			}(),
		},
		"signature_authenticates_metadata": {
			accepted(signedLoader(fx.rawInsn, fx.rawData, fx.rawSig, true)),
			func() step {
				s := signedLoader(fx.rawInsn, flip(fx.rawData, len(fx.rawData)/2), fx.rawSig, true)
				s.want = rejected(compat.StageAdmission, EKEYREJECTED, "mainline/pkcs7")
				return s
			}(),
		},
		"hash_requires_frozen": {{
			// The hash request (what the 6.18 procedure makes) on an exclusive, unfrozen array.
			profile: "mainline",
			facts: Facts{Procedure: Proc618, InsnSize: len(fx.rawInsn),
				FdArray: []Object{{Kind: KindMap, Array: true, Exclusive: true, ValueSize: 64}}, IndexRefs: 1},
			want: rejected(compat.StageSetup, EPERM, "setup/hash-not-frozen"),
		}},
		"map_hash_unsupported_type": {{
			profile: "mainline",
			facts:   Facts{Procedure: Proc618, InsnSize: len(fx.rawInsn), FdArray: []Object{{Kind: KindMap, ValueSize: 8}}, IndexRefs: 1},
			want:    rejected(compat.StageSetup, EINVAL, "setup/hash-not-array"),
		}},
		"lsm_signature_verdict": {
			{
				// Unsigned load_loader(…, fd_array_cnt = 0).
				profile: "mainline",
				facts:   Facts{Procedure: ProcMainline, SkipRun: true, InsnSize: len(fx.legInsn), FdArray: []Object{meta}, IndexRefs: 1},
				want:    want{outcome: compat.Accepted, lsm: compat.LSMUnsigned, record: unsignedRecord},
			},
			{
				// Signed over the instructions only, fd_array_cnt = 0: the hook sees a valid
				// signature, then the sparse map binding is refused.
				profile: "mainline",
				facts: Facts{Procedure: ProcMainline, FdArrayCnt: u32(0), SkipRun: true, Signed: true, SignatureSize: uint32(len(fx.legSig)),
					Keyring: session, InsnSize: len(fx.legInsn), FdArray: []Object{meta}, IndexRefs: 1},
				insn: fx.legInsn, values: map[int][]byte{0: fx.legData}, sig: fx.legSig,
				want: afterHook(EACCES, "mainline/late-index-map", compat.LSMLoaderOnly),
			},
			{
				// Signed over insns ‖ metadata, fd_array_cnt = 1.
				profile: "mainline",
				facts: Facts{Procedure: ProcMainline, FdArrayCnt: u32(1), SkipRun: true, Signed: true, SignatureSize: uint32(len(fx.rawSig)),
					Keyring: session, InsnSize: len(fx.rawInsn), FdArray: []Object{meta}, IndexRefs: 1},
				insn: fx.rawInsn, values: vals, sig: fx.rawSig,
				want: want{outcome: compat.Accepted, lsm: compat.LSMFull, record: userRecord},
			},
		},
		"signed_no_fd_array": {
			{profile: "mainline", facts: program(fx.legInsn, fx.legSig), insn: fx.legInsn, sig: fx.legSig,
				want: want{outcome: compat.Accepted, lsm: compat.LSMFull, record: userRecord}},
			{profile: "mainline", facts: program(fx.legInsn, fx.legSig), insn: flip(fx.legInsn, 4), sig: fx.legSig,
				want: rejected(compat.StageAdmission, EKEYREJECTED, "mainline/pkcs7")},
		},
		"signed_map_by_fd_rejected": {{
			profile: "mainline",
			facts: func() Facts {
				f := program(fx.legInsn, fx.legSig)
				f.Late.RawFDMaps = 1
				return f
			}(),
			insn: fx.legInsn, sig: fx.legSig,
			want: afterHook(EINVAL, "mainline/late-raw-fd-map", compat.LSMFull),
		}},
		"signed_sparse_fd_array_rejected": {{
			// BPF_PSEUDO_MAP_IDX 0 with fd_array = &map (plain array) and fd_array_cnt = 0.
			profile: "mainline",
			facts: Facts{Procedure: ProcMainline, FdArrayCnt: u32(0), SkipRun: true, Signed: true, SignatureSize: uint32(len(fx.legSig)),
				Keyring: session, InsnSize: len(fx.legInsn), FdArray: []Object{{Kind: KindMap, Array: true, ValueSize: 4}}, IndexRefs: 1},
			insn: fx.legInsn, sig: fx.legSig,
			want: afterHook(EACCES, "mainline/late-index-map", compat.LSMLoaderOnly),
		}},
	}

	runContract(t, cases)
	coverage(t, loadTimeSubtests, cases, loadTimeInexpressible)
	t.Logf("signed_loader.c (%s): %d subtests, %d expressed, %d not expressible", srcTest, len(loadTimeSubtests), len(cases), len(loadTimeInexpressible))
}

// inLoaderSubtests is test_signed_loader()'s list in torvalds/linux @637315cb, the in-loader
// (v2 check) generation, judged by the 6.18 profile.
var inLoaderSubtests = []string{
	"metadata_check_shape", "metadata_match", "metadata_sha_mismatch", "metadata_not_exclusive",
	"metadata_hash_not_computed", "signature_enforced", "signature_too_large", "signature_bad_keyring",
	"metadata_ctx_max_entries_ignored", "metadata_ctx_initial_value_ignored",
	"signature_authenticates_insns", "hash_requires_frozen", "no_update_after_freeze",
	"freeze_writable_mmap", "no_writable_mmap_frozen", "map_hash_matches_libbpf",
	"map_hash_multi_element", "map_hash_bad_size", "map_hash_unsupported_type", "lsm_signature_verdict",
}

var inLoaderInexpressible = map[string]string{
	"metadata_check_shape":               "asserts the check block's instruction shape: loader bytes, not a kernel decision",
	"metadata_ctx_max_entries_ignored":   loadTimeInexpressible["metadata_ctx_max_entries_ignored"],
	"metadata_ctx_initial_value_ignored": loadTimeInexpressible["metadata_ctx_initial_value_ignored"],
	"no_update_after_freeze":             loadTimeInexpressible["no_update_after_freeze"],
	"freeze_writable_mmap":               loadTimeInexpressible["freeze_writable_mmap"],
	"no_writable_mmap_frozen":            loadTimeInexpressible["no_writable_mmap_frozen"],
	"map_hash_matches_libbpf":            loadTimeInexpressible["map_hash_matches_libbpf"],
	"map_hash_multi_element":             loadTimeInexpressible["map_hash_multi_element"],
	"map_hash_bad_size":                  loadTimeInexpressible["map_hash_bad_size"],
}

// TestInLoaderContract expresses the in-loader generation's subtests with the 6.18 profile.
// lsm_signature_verdict is expressed for its load outcomes and what the LSM knows; the
// verdict fields that tree's LSM program reads are not modelled for 6.18 (Record nil).
func TestInLoaderContract(t *testing.T) {
	fx := loadFixture(t)
	if !fx.legHashOK {
		t.Fatal("legacy-v2 fixture: embedded hash != SHA-256(opts_data)")
	}
	session := Keyring{ID: KeySpecSession, Serial: sessionSerial}
	meta := Object{Kind: KindMap, Array: true, Exclusive: true, DigestMatch: true, Frozen: true, ValueSize: len(fx.legData)}
	v2 := LoaderCheck{Gen: CheckV2, HashMatches: true}
	// genLoader is run_gen_loader() of that tree: fd_array_cnt never set.
	genLoader := func(signed bool, getHash bool, m Object, chk LoaderCheck) Facts {
		f := Facts{Procedure: Proc618, SkipHashRequest: !getHash, InsnSize: len(fx.legInsn), FdArray: []Object{m}, IndexRefs: 1, Check: chk}
		if signed {
			f.Signed, f.SignatureSize, f.Keyring = true, uint32(len(fx.legSig)), session
		}
		return f
	}
	junk := func(size uint32, k Keyring) Facts {
		return Facts{Procedure: Proc618, SkipHashRequest: true, SkipRun: true, Signed: true, SignatureSize: size, Keyring: k,
			InsnSize: len(fx.legInsn), FdArray: []Object{{Kind: KindBadFD}}, IndexRefs: 1, Check: v2}
	}
	ran := func(r int32) want { return want{outcome: compat.Accepted, retval: i32(r), lsm: compat.LSMUnsigned} }
	runFail := func(rule string, lsm compat.LSMKnowledge) want {
		return want{outcome: compat.Rejected, stage: compat.StageRun, retval: i32(-22), lsm: lsm, admitted: true, rule: rule}
	}
	rej := func(stage compat.Stage, e Errno, rule string) want {
		return want{outcome: compat.Rejected, stage: stage, errno: e, rule: rule}
	}
	notExcl := meta
	notExcl.Exclusive, notExcl.DigestMatch = false, false

	cases := map[string][]step{
		"metadata_match":             {{profile: "6.18", facts: genLoader(false, true, meta, v2), want: ran(0)}},
		"metadata_sha_mismatch":      {{profile: "6.18", facts: genLoader(false, true, meta, LoaderCheck{Gen: CheckV2}), want: runFail("run/sha-mismatch", compat.LSMUnsigned)}},
		"metadata_not_exclusive":     {{profile: "6.18", facts: genLoader(false, true, notExcl, v2), want: runFail("run/v2-not-exclusive", compat.LSMUnsigned)}},
		"metadata_hash_not_computed": {{profile: "6.18", facts: genLoader(false, false, meta, v2), want: runFail("run/sha-not-computed", compat.LSMUnsigned)}},
		"signature_enforced":         {{profile: "6.18", facts: junk(64, session), insn: fx.legInsn, sig: junkSig, want: rej(compat.StageAdmission, EBADMSG, "6.18/pkcs7")}},
		"signature_too_large":        {{profile: "6.18", facts: junk(64<<20, session), insn: fx.legInsn, sig: junkSig, want: rej(compat.StageAdmission, EINVAL, "6.18/sig-too-large")}},
		"signature_bad_keyring":      {{profile: "6.18", facts: junk(64, Keyring{ID: math.MaxInt32}), insn: fx.legInsn, sig: junkSig, want: rej(compat.StageAdmission, EINVAL, "6.18/keyring-unresolved")}},
		"signature_authenticates_insns": {
			{profile: "6.18", facts: genLoader(true, true, meta, v2), insn: fx.legInsn, sig: fx.legSig,
				want: want{outcome: compat.Accepted, retval: i32(0), lsm: compat.LSMLoaderOnly}},
			// Tampered instructions, map still bound to the original digest: 6.18 checks the
			// signature before the verifier's exclusive-map check.
			{profile: "6.18", facts: func() Facts { f := genLoader(true, true, meta, v2); f.FdArray[0].DigestMatch = false; return f }(),
				insn: flip(fx.legInsn, len(fx.legInsn)/2), sig: fx.legSig, want: rej(compat.StageAdmission, EKEYREJECTED, "6.18/pkcs7")},
		},
		"hash_requires_frozen": {{profile: "6.18",
			facts: Facts{Procedure: Proc618, FdArray: []Object{{Kind: KindMap, Array: true, Exclusive: true, ValueSize: 64}}, IndexRefs: 1},
			want:  rej(compat.StageSetup, EPERM, "setup/hash-not-frozen")}},
		"map_hash_unsupported_type": {{profile: "6.18",
			facts: Facts{Procedure: Proc618, FdArray: []Object{{Kind: KindMap, ValueSize: 8}}, IndexRefs: 1},
			want:  rej(compat.StageSetup, EINVAL, "setup/hash-not-array")}},
		"lsm_signature_verdict": {
			{profile: "6.18", facts: func() Facts { f := genLoader(false, false, meta, v2); f.SkipRun = true; return f }(),
				want: want{outcome: compat.Accepted, lsm: compat.LSMUnsigned}},
			{profile: "6.18", facts: func() Facts { f := genLoader(true, false, meta, v2); f.SkipRun = true; return f }(),
				insn: fx.legInsn, sig: fx.legSig, want: want{outcome: compat.Accepted, lsm: compat.LSMLoaderOnly}},
		},
	}
	runContract(t, cases)
	coverage(t, inLoaderSubtests, cases, inLoaderInexpressible)
	t.Logf("signed_loader.c (%s): %d subtests, %d expressed, %d not expressible", srcTest618, len(inLoaderSubtests), len(cases), len(inLoaderInexpressible))
}

func runContract(t *testing.T, cases map[string][]step) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			for k, s := range cases[name] {
				p, err := Lookup(s.profile)
				if err != nil {
					t.Fatal(err)
				}
				f := withCMS(t, p, s.facts, s.insn, s.values, s.sig)
				got, err := p.Evaluate(f)
				if err != nil {
					t.Fatalf("step %d: %v", k, err)
				}
				t.Logf("step %d: %s %s %s retval %v lsm %q record %+v (%s)", k, got.Outcome, got.Stage, got.Errno, ptr(got.Retval), got.LSM, got.Record, got.Rule)
				check(t, got, s.want)
				if s.reason != "" && !strings.Contains(got.Reason, s.reason) {
					t.Errorf("step %d: reason %q lacks %q", k, got.Reason, s.reason)
				}
			}
		})
	}
}

// coverage checks that every subtest is expressed or listed as inexpressible, never both,
// and that nothing else is.
func coverage(t *testing.T, all []string, cases map[string][]step, inexpressible map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, n := range all {
		if seen[n] {
			t.Errorf("subtest %s listed twice", n)
		}
		seen[n] = true
		_, expressed := cases[n]
		why, listed := inexpressible[n]
		switch {
		case expressed && listed:
			t.Errorf("subtest %s is both expressed and listed as inexpressible", n)
		case !expressed && !listed:
			t.Errorf("subtest %s is neither expressed nor listed as inexpressible", n)
		case listed && why == "":
			t.Errorf("subtest %s listed as inexpressible without a reason", n)
		}
	}
	for n := range cases {
		if !seen[n] {
			t.Errorf("case %s names no subtest", n)
		}
	}
	for n := range inexpressible {
		if !seen[n] {
			t.Errorf("inexpressible %s names no subtest", n)
		}
	}
}
