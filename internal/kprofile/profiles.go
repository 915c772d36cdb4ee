package kprofile

import "github.com/bpfsig/bpfsig/compat"

// Citations. Trees and commits are those the search index holds; "signed_loader.c" is
// tools/testing/selftests/bpf/prog_tests/signed_loader.c.
const (
	// srcDoc is the merged design document, followed wherever trees disagree.
	srcDoc = "torvalds/linux Documentation/bpf/signing.rst @872a8f6b"
	// srcDocKeyring is the revision that adds the .bpf keyring.
	srcDocKeyring = "analogdevicesinc/linux Documentation/bpf/signing.rst @06dfa707 (.bpf keyring revision)"
	// srcTest is the load-time verification selftest (30 subtests). The analogdevicesinc
	// copy (@1841d6cb) has the same 30 subtests and expectations except bpf_keyring_sealed,
	// which there names the keyring KEY_SPEC_BPF_KEYRING (-9) instead of id 3.
	srcTest = "cilium/linux signed_loader.c @1e8f6163"
	// srcTestKeyring is the selftest of the .bpf keyring revision.
	srcTestKeyring = "analogdevicesinc/linux signed_loader.c @1841d6cb"
	// srcTest618 is the selftest of the in-loader check generation (v2 check, before
	// load-time verification); torvalds/linux holds this one.
	srcTest618 = "torvalds/linux signed_loader.c @637315cb (in-loader v2 check generation)"
	// srcSyscall is bpf_prog_load() after the merge: it initialises prog->aux->sig to
	// UNSIGNED/NONE and calls neither the signature check nor security_bpf_prog_load()
	// itself any more; both moved into bpf_check(). BPF_PROG_LOAD_LAST_FIELD is keyring_id.
	srcSyscall = "analogdevicesinc/linux kernel/bpf/syscall.c @011a2968 bpf_prog_load()"
	// srcSyscall618 is bpf_prog_load() with the pre-merge signature check:
	// bpf_prog_verify_signature() (keyring lookup → -EINVAL, then PKCS#7 over prog->insnsi),
	// then security_bpf_prog_load(), then bpf_check(). The copy in the index is an unreleased
	// revision whose size test (signature_size != SHA256_DIGEST_SIZE) is not 6.18's; the
	// 6.18.y bound (signature_size > KMALLOC_MAX_CACHE_SIZE → -EINVAL) is a stable backport
	// to the same function, and is what docs/spec.md §5.3 records, measured on Linux 6.18.44.
	srcSyscall618 = "kernel-patches/bpf kernel/bpf/syscall.c @00136386 bpf_prog_load(), bpf_prog_verify_signature() (order)"
	// srcFdArray is the fd_array resolution the merge builds on (the copy in the index predates
	// the signature fold).
	srcFdArray = "analogdevicesinc/linux kernel/bpf/verifier.c @024c0ab5 process_fd_array(), add_fd_from_fd_array()"
	// srcKeys is the .bpf keyring.
	srcKeys = "analogdevicesinc/linux kernel/bpf/keys.c @264d8fd2 bpf_lookup_keyring(), bpf_keyring_init()"
	// srcSpec are the project's byte-level facts measured on 6.18.44.
	srcSpec = "docs/spec.md §4, §5 (measured on Linux 6.18.44)"
	// srcChain is the current chain model (the series was posted, never merged; no tree in the
	// index carries it).
	srcChain = "chain/chain.go (model of the posted series, Sept 2025) + docs/spec.md §4.2"

	noSubtest618 = "none (observed on 6.18.44)"
)

// Limits.
const (
	// maxSig618 is 6.18.y's bound: signature_size > KMALLOC_MAX_CACHE_SIZE (8192 on x86-64)
	// → EINVAL, in bpf_prog_verify_signature().
	maxSig618 uint32 = 8192
	// maxFdArrayCnt is process_fd_array()'s overflow bound: fd_array_cnt >= U32_MAX /
	// sizeof(int) → EINVAL ("fd_array_cnt is too big").
	maxFdArrayCnt uint32 = 0xFFFFFFFF / 4
	// maxDynptr is DYNPTR_MAX_SIZE (2^24 - 1): insns ‖ folded metadata are verified as one
	// bpf_dynptr.
	maxDynptr = 1<<24 - 1
	// runEINVAL is a legacy loader's failure: -EINVAL in test.retval.
	runEINVAL int32 = -22
)

// Predicates shared by the tables.

func signed(l *Load) bool { return l.Signed }

// chainAttrs: the chain procedure writes signature_maps (offset 168) and
// signature_maps_size (176), non-zero bytes past the end of a kernel's union bpf_attr.
func chainAttrs(l *Load) bool { return l.Procedure == ProcChain && len(l.SignatureMaps) > 0 }

// systemKeyring: keyring_id names the builtin, secondary or platform keyring.
func systemKeyring(id int32) bool { return id >= KeyringBuiltin && id <= KeyringPlatform }

// userKeyring: keyring_id is resolved as a user key or keyring (profiles without .bpf).
func userKeyring(l *Load) bool { return !systemKeyring(l.Keyring.ID) }

// userKeyringBPF: as userKeyring, for the profile where -9 names the .bpf keyring.
func userKeyringBPF(l *Load) bool { return userKeyring(l) && l.Keyring.ID != KeySpecBPFKeyring }

// keySpecRequestor is KEY_SPEC_REQUESTOR_KEYRING (-8), the last KEY_SPEC_* id of
// include/uapi/linux/keyctl.h before the .bpf keyring revision: a more negative keyring_id
// names no keyring (lookup_user_key() → -EINVAL), whatever the host holds.
const keySpecRequestor int32 = -8

// unresolved: a user keyring_id that resolves to nothing.
func unresolved(l *Load) bool { return l.Keyring.ID < keySpecRequestor || l.Keyring.Serial == 0 }

func classify(id int32) KeyringType {
	switch id {
	case KeyringBuiltin:
		return KeyringTBuiltin
	case KeyringSecondary:
		return KeyringTSecond
	case KeyringPlatform:
		return KeyringTPlatform
	}
	return KeyringTUser
}

// foldedSize is the size of insns ‖ folded metadata.
func foldedSize(l *Load) int {
	n := l.InsnSize
	for _, i := range l.Folded() {
		n += l.FdArray[i].ValueSize
	}
	return n
}

// lateIndexRefs: the instructions reference an fd_array slot by index that was not resolved
// up front (fd_array_cnt does not cover it): the verifier binds it lazily.
func lateIndexRefs(l *Load) bool { return uint64(l.IndexRefs) > uint64(l.Cnt) }

// lazy reports whether fd_array[i] is bound lazily, while instructions are resolved.
func lazy(l *Load, i int) bool { return !l.Scanned(i) && i < l.IndexRefs }

func cmsErrno(l *Load) Errno { return l.CMS }

func knows618(l *Load) compat.LSMKnowledge {
	if l.Signed {
		return compat.LSMLoaderOnly
	}
	return compat.LSMUnsigned
}

func knowsChain(l *Load) compat.LSMKnowledge {
	switch {
	case !l.Signed:
		return compat.LSMUnsigned
	case len(l.SignatureMaps) > 0:
		return compat.LSMFull
	}
	return compat.LSMLoaderOnly
}

// knowsMainline: a verified signature covers the instructions and every map resolved so far.
// When the loader's maps are bound only later (fd_array_cnt = 0, the 6.18 procedure), the
// hook sees BPF_SIG_VERIFIED over the instructions alone: what it really knows is
// loader-only, and the kernel refuses the load after the hook.
func knowsMainline(l *Load) compat.LSMKnowledge {
	switch {
	case !l.Signed:
		return compat.LSMUnsigned
	case lateIndexRefs(l):
		return compat.LSMLoaderOnly
	}
	return compat.LSMFull
}

func recordMainline(l *Load) *Record {
	if !l.Signed {
		return &Record{Verdict: SigUnsigned, KeyringType: KeyringNone}
	}
	r := &Record{Verdict: SigVerified, KeyringType: classify(l.Keyring.ID)}
	if r.KeyringType == KeyringTUser {
		r.KeyringSerial = l.Keyring.Serial
	}
	return r
}

func recordBPFKeyring(l *Load) *Record {
	r := recordMainline(l)
	if l.Signed && l.Keyring.ID == KeySpecBPFKeyring {
		r.KeyringType, r.KeyringSerial = KeyringTBPF, 0
	}
	return r
}

// Rows shared by several tables.

// setupRows: the host's hash request (BPF_OBJ_GET_INFO_BY_FD with a 32-byte buffer) on
// fd_array[0], made by the 6.18 procedure. Only a plain array implements map_get_hash (else
// EINVAL), and only a frozen map is hashed (else EPERM); the type is tested first
// (map_hash_unsupported_type's map is both unfrozen and not an array, and gets EINVAL).
var setupRows = []Rule{
	{
		// kernel/bpf/syscall.c bpf_map_get_info_by_fd(): map->ops->map_get_hash == NULL.
		ID: "setup/hash-not-array", Stage: compat.StageSetup, Errno: EINVAL,
		When:   func(l *Load, _ int) bool { return l.HashRequested && !l.Map(0).Array },
		Reason: "the procedure's hash request (BPF_OBJ_GET_INFO_BY_FD) on a map that is not a plain array: only arrays implement map_get_hash",
		Source: srcSpec + "; " + srcTest + " map_hash_unsupported_type", Subtest: "map_hash_unsupported_type",
	},
	{
		// kernel/bpf/syscall.c bpf_map_get_info_by_fd(): the hash of an unfrozen map is refused.
		ID: "setup/hash-not-frozen", Stage: compat.StageSetup, Errno: EPERM,
		When:   func(l *Load, _ int) bool { return l.HashRequested && !l.Map(0).Frozen },
		Reason: "the procedure's hash request refuses an unfrozen map: libbpf gives up before BPF_PROG_LOAD",
		Source: srcSpec + "; internal/kmodel JudgeLegacy(); " + srcTest + " hash_requires_frozen", Subtest: "hash_requires_frozen",
	},
}

// runRows: BPF_PROG_RUN of a loader with a check block (docs/spec.md §2.3, §2.4; kmodel.RunLoader).
var runRows = []Rule{
	{
		// v2 check block: r2 = *(u32 *)(map + 32) (map->excl); if r2 != 1 goto cleanup.
		ID: "run/v2-not-exclusive", Stage: compat.StageRun, Retval: runEINVAL,
		When:   func(l *Load, _ int) bool { return !l.SkipRun && l.Check.Gen == CheckV2 && !l.Map(0).Exclusive },
		Reason: "the loader's v2 check: map->excl is 0 (metadata map not exclusive) → -EINVAL",
		Source: srcTest618 + " check_sig_match_shape(); docs/spec.md §2.4", Subtest: "metadata_not_exclusive (" + srcTest618 + ")",
	},
	{
		ID: "run/sha-not-computed", Stage: compat.StageRun, Retval: runEINVAL,
		When:   func(l *Load, _ int) bool { return !l.SkipRun && l.Check.Gen != CheckNone && !l.MapSHA() },
		Reason: "the loader's check: map->sha is all zero (nobody asked for the map's hash) → -EINVAL",
		Source: srcTest618 + "; docs/spec.md §5.3 BPF_OBJ_GET_INFO_BY_FD", Subtest: "metadata_hash_not_computed (" + srcTest618 + ")",
	},
	{
		ID: "run/sha-mismatch", Stage: compat.StageRun, Retval: runEINVAL,
		When:   func(l *Load, _ int) bool { return !l.SkipRun && l.Check.Gen != CheckNone && !l.Check.HashMatches },
		Reason: "the loader's check: embedded hash != SHA-256(metadata) → -EINVAL",
		Source: srcTest618 + " emit_signature_match; docs/spec.md §2.3", Subtest: "metadata_sha_mismatch (" + srcTest618 + ")",
	},
}

// rows618Verifier: 6.18's bpf_check() after the hook.
var rows618Verifier = []Rule{
	{
		// process_fd_array() → add_fd_from_fd_array(): neither a map nor a BTF.
		ID: "6.18/fd-array-bad-fd", Stage: compat.StageVerifier, Scope: ScopeEachEntry, Errno: EBADF,
		When:   func(l *Load, i int) bool { return l.Map(i).Kind == KindBadFD && (l.Scanned(i) || lazy(l, i)) },
		Reason: "fd is not pointing to a valid bpf_map or btf",
		Source: srcFdArray, Subtest: "none",
	},
	{
		// __add_used_map(): excl_prog_sha != prog->digest. With fd_array_cnt > 0 the map is
		// added before 6.18 computes prog->digest, so no exclusive map ever matches; the
		// merged series computes the digest up front for signed loads (srcDoc).
		ID: "6.18/fd-array-digest-not-computed", Stage: compat.StageVerifier, Scope: ScopeEachEntry, Errno: EACCES,
		When:    func(l *Load, i int) bool { return l.Scanned(i) && l.Map(i).Kind == KindMap && l.Map(i).Exclusive },
		Reason:  "fd_array_cnt > 0 binds the exclusive map before 6.18 computes prog->digest: program's hash doesn't match map's excl_prog_hash",
		Source:  srcSpec + " (scheme legacy: fd_array_cnt must be 0); internal/bpfsys LoadSpec.FdArrayCnt; " + srcDoc + " (digest computed up front, the merged fix)",
		Subtest: noSubtest618,
	},
	{
		// __add_used_map() when the instruction referencing fd_array[i] is resolved.
		ID: "6.18/bind-digest", Stage: compat.StageVerifier, Scope: ScopeEachEntry, Errno: EACCES,
		When: func(l *Load, i int) bool {
			m := l.Map(i)
			return lazy(l, i) && m.Kind == KindMap && m.Exclusive && !m.DigestMatch
		},
		Reason: "program's hash doesn't match map's excl_prog_hash (excl_prog_hash != SHA-256(insns))",
		Source: srcSpec + " BPF_MAP_CREATE exclusive maps; compat.BindExclusive", Subtest: noSubtest618,
	},
}

// rowsSig618 is bpf_prog_verify_signature() of 6.18 (and, by inheritance, the chain series).
var rowsSig618 = []Rule{
	{
		ID: "6.18/sig-too-large", Stage: compat.StageAdmission, Errno: EINVAL,
		When:    func(l *Load, _ int) bool { return l.Signed && l.SignatureSize > maxSig618 },
		Reason:  "signature_size > KMALLOC_MAX_CACHE_SIZE (8192)",
		Source:  srcSyscall618 + " (6.18.y stable adds the KMALLOC_MAX_CACHE_SIZE bound); " + srcSpec,
		Subtest: "signature_too_large (" + srcTest618 + ")",
	},
	{
		ID: "6.18/keyring-unresolved", Stage: compat.StageAdmission, Errno: EINVAL,
		When:    func(l *Load, _ int) bool { return l.Signed && userKeyring(l) && unresolved(l) },
		Reason:  "keyring_id resolves to no key or keyring: bpf_lookup_user_key() fails",
		Source:  srcSyscall618 + " (system_keyring_id_check / bpf_lookup_user_key → -EINVAL)",
		Subtest: "signature_bad_keyring (" + srcTest618 + ")",
	},
}

// pkcs7Row passes the caller's PKCS#7 result through; prefix is the kernel's log line where
// one is known.
func pkcs7Row(id, prefix, what, source, subtest string) Rule {
	return Rule{
		ID: id, Stage: compat.StageAdmission, ErrnoOf: cmsErrno,
		When:   func(l *Load, _ int) bool { return l.Signed && l.CMS != 0 },
		Reason: prefix + "PKCS#7 over " + what + " does not verify (the caller's internal/cms result)",
		Source: source, Subtest: subtest,
	}
}

func concatRules(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Profile618 is Linux 6.18.y: the loader's instructions are signed and checked in
// bpf_prog_load() before security_bpf_prog_load(); the metadata is vouched for only by the
// loader's own check when it runs. It answers as the legacy model does.
var Profile618 = register(&Profile{
	Name:             "6.18",
	Summary:          "Linux 6.18.y: signature over the loader instructions, checked before the LSM hook; metadata checked by the loader at run time (the legacy scheme)",
	MaxSignatureSize: maxSig618,
	folds:            foldNone,
	content:          insnOnly,
	Rules: concatRules(
		setupRows,
		[]Rule{{
			// kernel/bpf/syscall.c __sys_bpf(): bpf_check_uarg_tail_zero() past sizeof(union bpf_attr) = 168.
			ID: "6.18/attr-tail", Stage: compat.StageAdmission, Errno: E2BIG,
			When:   func(l *Load, _ int) bool { return chainAttrs(l) },
			Reason: "non-zero attr bytes past sizeof(union bpf_attr) = 168 (the chain series' signature_maps)",
			Source: srcSpec + " BPF_PROG_LOAD attr tail", Subtest: noSubtest618,
		}},
		rowsSig618,
		[]Rule{
			pkcs7Row("6.18/pkcs7", "", "the instructions", srcSyscall618+" bpf_verify_pkcs7_signature(prog->insnsi)",
				"signature_enforced, signature_authenticates_insns ("+srcTest618+")"),
			{
				// security_bpf_prog_load() between bpf_prog_verify_signature() and bpf_check().
				ID: "6.18/lsm", Stage: compat.StageLSM, Kind: Hook, Knows: knows618,
				Reason: "security_bpf_prog_load: the loader's instructions are verified, its metadata not yet",
				Source: srcSyscall618 + "; " + srcSpec + " (what an LSM knows)", Subtest: noSubtest618,
				Inferred: "no verdict fields are modelled for 6.18.y; " + srcTest618 + " lsm_signature_verdict reads prog->aux->sig in the later in-loader generation",
			},
		},
		rows618Verifier,
		runRows,
	),
})

// ProfileChain is the posted hash-chain series (never merged): with signature maps listed the
// kernel hashes them, checks the signature over the chain root before the LSM hook and caches
// map->sha; with none listed it is 6.18. It answers as the chain model does.
var ProfileChain = register(&Profile{
	Name:             "chain",
	Summary:          "the posted hash-chain series (Sept 2025, never merged): signature over H(H(insn) ‖ h(listed maps)), checked before the LSM hook",
	MaxSignatureSize: maxSig618,
	folds:            foldListed,
	content:          chainRoot,
	hashesListed:     true,
	Rules: concatRules(
		setupRows,
		[]Rule{
			{
				ID: "chain/sig-too-large", Stage: compat.StageAdmission, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && l.SignatureSize > maxSig618 },
				Reason: "signature_size > KMALLOC_MAX_CACHE_SIZE (8192), as 6.18",
				Source: srcChain + "; " + srcSyscall618, Subtest: "none (series never merged)",
				Inferred: "the series is built on 6.18's bpf_prog_verify_signature(); the bound is inherited",
			},
			{
				ID: "chain/keyring-unresolved", Stage: compat.StageAdmission, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && userKeyring(l) && unresolved(l) },
				Reason: "keyring_id resolves to no key or keyring, as 6.18",
				Source: srcChain + "; " + srcSyscall618, Subtest: "none (series never merged)",
				Inferred: "inherited from 6.18's bpf_prog_verify_signature()",
			},
			{
				ID: "chain/maps-index", Stage: compat.StageAdmission, Errno: EINVAL,
				When: func(l *Load, _ int) bool {
					if !l.Signed {
						return false
					}
					for _, i := range l.SignatureMaps {
						if i < 0 || int(i) >= len(l.FdArray) {
							return true
						}
					}
					return false
				},
				Reason: "signature_maps names an index outside fd_array",
				Source: srcChain + " Verify()", Subtest: "none (series never merged)",
			},
			{
				ID: "chain/maps-not-array", Stage: compat.StageAdmission, Errno: EINVAL,
				When: func(l *Load, _ int) bool {
					for _, i := range l.Folded() {
						if !l.FdArray[i].Array {
							return true
						}
					}
					return false
				},
				Reason: "a listed signature map is not an array: map_get_hash is not implemented for it",
				Source: srcChain + "; " + srcSpec + " BPF_OBJ_GET_INFO_BY_FD", Subtest: "none (series never merged)",
				Inferred: "the series hashes with map_get_hash, which only arrays implement",
			},
			{
				ID: "chain/maps-not-frozen", Stage: compat.StageAdmission, Errno: EPERM,
				When: func(l *Load, _ int) bool {
					for _, i := range l.Folded() {
						if !l.FdArray[i].Frozen {
							return true
						}
					}
					return false
				},
				Reason: "the kernel cannot hash an unfrozen signature map",
				Source: srcChain + " Verify()", Subtest: "none (series never merged)",
			},
			pkcs7Row("chain/pkcs7", "", "the chain root (the instructions when no map is listed)", srcChain, "none (series never merged)"),
			{
				ID: "chain/lsm", Stage: compat.StageLSM, Kind: Hook, Knows: knowsChain,
				Reason: "security_bpf_prog_load: instructions and listed maps verified (loader-only when none is listed)",
				Source: srcChain + "; " + srcSpec + " (what an LSM knows)", Subtest: "none (series never merged)",
				Inferred: "the series predates the verdict fields; none are modelled",
			},
		},
		rows618Verifier,
		runRows,
	),
})

// mainlineRows builds the mainline table; keyringRows are inserted before the keyring lookup
// and record computes the verdict fields.
func mainlineRows(prefix string, keyringRows []Rule, user func(*Load) bool, record func(*Load) *Record, docSrc, testSrc string) []Rule {
	return concatRules(
		setupRows,
		[]Rule{{
			// bpf_check_uarg_tail_zero() / CHECK_ATTR(BPF_PROG_LOAD), BPF_PROG_LOAD_LAST_FIELD keyring_id.
			ID: prefix + "/attr-tail", Stage: compat.StageAdmission, Errno: E2BIG,
			When:   func(l *Load, _ int) bool { return chainAttrs(l) },
			Reason: "non-zero attr bytes past the kernel's union bpf_attr (the chain series' signature_maps)",
			Source: srcSyscall + " (BPF_PROG_LOAD_LAST_FIELD keyring_id)", Subtest: "none",
			Inferred: "E2BIG holds while sizeof(union bpf_attr) ends before offset 180; were it larger, CHECK_ATTR would answer EINVAL",
		}},
		[]Rule{{
			ID: prefix + "/fd-array-cnt-too-big", Stage: compat.StageAdmission, Errno: EINVAL,
			When:   func(l *Load, _ int) bool { return l.Cnt >= maxFdArrayCnt },
			Reason: "fd_array_cnt is too big (>= U32_MAX / sizeof(int))",
			Source: srcFdArray + "; " + docSrc + " (bpf_check() resolves fd_array before the signature)", Subtest: "none",
		}},
		// fd_array resolution, entry by entry (process_fd_array()), before the signature is
		// examined and before the hook: "attempts failing the signature or the metadata
		// binding abort before this hook fires" (docSrc, Admission).
		[]Rule{
			{
				ID: prefix + "/fd-array-bad-fd", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EBADF,
				When:   func(l *Load, i int) bool { return l.Scanned(i) && l.Map(i).Kind == KindBadFD },
				Reason: "fd is not pointing to a valid bpf_map or btf",
				Source: srcFdArray + " add_fd_from_fd_array()", Subtest: "none",
			},
			{
				// __add_used_btf(): a signed program binds no BTF.
				ID: prefix + "/fold-btf", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EACCES,
				When:    func(l *Load, i int) bool { return l.Signed && l.Scanned(i) && l.Map(i).Kind == KindBTF },
				Reason:  "a signed program binds no BTF: the fd_array entry is refused before the signature is verified",
				Source:  docSrc + " (UAPI reference: a BTF entry is rejected outright); " + testSrc + " (__add_used_btf())",
				Subtest: "signed_btf_fd_array_rejected",
			},
			{
				ID: prefix + "/fold-not-array", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EINVAL,
				When: func(l *Load, i int) bool {
					return l.Signed && l.Scanned(i) && l.Map(i).Kind == KindMap && !l.Map(i).Array
				},
				Reason: "a folded map must be a plain BPF_MAP_TYPE_ARRAY (map_direct_value_addr spanning value_size)",
				Source: docSrc + " (Load-time verification, step 3)", Subtest: "signed_nonarray_fd_array_rejected",
			},
			{
				ID: prefix + "/fold-not-frozen", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EPERM,
				When: func(l *Load, i int) bool {
					return l.Signed && l.Scanned(i) && l.Map(i).Kind == KindMap && !l.Map(i).Frozen
				},
				Reason: "a folded map must be frozen, so the signed bytes cannot change before the loader runs",
				Source: docSrc + " (Frozen maps; Load-time verification, step 3)", Subtest: "signed_unfrozen_fd_array_rejected",
			},
			{
				ID: prefix + "/fold-not-exclusive", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EPERM,
				When: func(l *Load, i int) bool {
					return l.Signed && l.Scanned(i) && l.Map(i).Kind == KindMap && !l.Map(i).Exclusive
				},
				Reason: "a signed program's fd_array map must be exclusive (there is no third shape)",
				Source: docSrc + " (Load-time verification)", Subtest: "signed_nonexcl_fd_array_rejected",
			},
			{
				// __add_used_map(): excl_prog_sha == prog->digest.
				ID: prefix + "/fd-array-digest", Stage: compat.StageAdmission, Scope: ScopeEachEntry, Errno: EACCES,
				When: func(l *Load, i int) bool {
					m := l.Map(i)
					return l.Scanned(i) && m.Kind == KindMap && m.Exclusive && (!m.DigestMatch || !l.Signed)
				},
				Reason:   "program's hash doesn't match map's excl_prog_hash (prog->digest is computed up front only for a signed load)",
				Source:   docSrc + " (digest binding, computed up front for any signed load); " + testSrc + " signature_authenticates_insns (the excl check trips before the signature)",
				Subtest:  "signature_authenticates_insns",
				Inferred: "the check's place after the three fold checks, and the unsigned case (digest not computed up front), are not pinned by a subtest",
			},
		},
		// bpf_prog_verify_signature(), inside bpf_check() once fd_array is resolved.
		[]Rule{
			{
				ID: prefix + "/sig-zero-size", Stage: compat.StageAdmission, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && l.SignatureSize == 0 },
				Reason: "a present signature with signature_size == 0, refused before the keyring is resolved",
				Source: testSrc + " signature_zero_size", Subtest: "signature_zero_size",
			},
			{
				ID: prefix + "/sig-too-large", Stage: compat.StageAdmission, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && l.SignatureSize > maxSig618 },
				Reason: "signature_size beyond BPF_PROG_MAX_SIGNATURE_SIZE, refused before the buffer is read",
				Source: testSrc + " signature_too_large", Subtest: "signature_too_large",
				Inferred: "BPF_PROG_MAX_SIGNATURE_SIZE's value is not in the index; 8192 (6.18's bound) is assumed — the subtest pins only that 64 MiB is refused",
			},
		},
		keyringRows,
		[]Rule{
			{
				ID: prefix + "/keyring-unresolved", Stage: compat.StageAdmission, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && user(l) && unresolved(l) },
				Reason: "keyring_id resolves to no key or keyring; the keyring is looked up before the signature bytes are examined",
				Source: docSrc + " (Keyrings)", Subtest: "signature_bad_keyring",
			},
			{
				ID: prefix + "/sig-buffer-too-large", Stage: compat.StageAdmission, Errno: E2BIG,
				When:   func(l *Load, _ int) bool { return l.Signed && foldedSize(l) > maxDynptr },
				Reason: "insns ‖ folded metadata exceed one bpf_dynptr (DYNPTR_MAX_SIZE, ~16 MiB)",
				Source: docSrc + " (Notes and limitations)", Subtest: "none",
				Inferred: "the errno (E2BIG, bpf_dynptr_check_size) and the exact bound are not in the index's copy of the verifier",
			},
			pkcs7Row(prefix+"/pkcs7", "verifier log \"signature verification failed\": ", "insns ‖ folded metadata, in used_maps order", docSrc+" (Load-time verification); "+testSrc,
				"signature_enforced, signature_failure_logs, signature_authenticates_insns, signature_authenticates_metadata, signed_no_fd_array"),
			{
				// The single call site inside bpf_check(), after the signature check.
				ID: prefix + "/lsm", Stage: compat.StageLSM, Kind: Hook, Knows: knowsMainline, Records: record,
				Reason:  "security_bpf_prog_load inside bpf_check(): the verdict and keyring fields are final",
				Source:  docSrc + " (Admission: security_bpf_prog_load()); " + srcSyscall + " (no hook call left in bpf_prog_load())",
				Subtest: "lsm_signature_verdict",
			},
		},
		// Binding while instructions are resolved: after the hook, "regardless of what this
		// hook returned" (docSrc). The order among the three depends on instruction order and
		// is not pinned.
		[]Rule{
			{
				ID: prefix + "/late-index-map", Stage: compat.StageVerifier, Errno: EACCES,
				When:   func(l *Load, _ int) bool { return l.Signed && lateIndexRefs(l) },
				Reason: "a signed program binds a map by fd_array index that fd_array_cnt did not cover (sparse fd_array): not folded, refused",
				Source: docSrc + " (coverage enforced as objects are bound)", Subtest: "signed_sparse_fd_array_rejected, lsm_signature_verdict",
			},
			{
				ID: prefix + "/late-raw-fd-map", Stage: compat.StageVerifier, Errno: EINVAL,
				When:   func(l *Load, _ int) bool { return l.Signed && l.Late.RawFDMaps > 0 },
				Reason: "a signed program references a map by a raw fd (BPF_PSEUDO_MAP_FD): not folded, refused",
				Source: docSrc + " (a map reached by a directly-referenced fd is rejected)", Subtest: "signed_map_by_fd_rejected",
			},
			{
				ID: prefix + "/late-btf", Stage: compat.StageVerifier, Errno: EACCES,
				When:   func(l *Load, _ int) bool { return l.Signed && l.Late.BTFs > 0 },
				Reason: "a signed program binds a BTF lazily (ksym, module kfunc): refused",
				Source: docSrc + " (a BTF is refused outright for a signed program)", Subtest: "signed_module_kfunc_rejected",
			},
		},
		[]Rule{
			{
				ID: prefix + "/bind-bad-fd", Stage: compat.StageVerifier, Scope: ScopeEachEntry, Errno: EBADF,
				When:   func(l *Load, i int) bool { return lazy(l, i) && l.Map(i).Kind == KindBadFD },
				Reason: "fd is not pointing to a valid bpf_map",
				Source: srcFdArray, Subtest: "none",
			},
			{
				ID: prefix + "/bind-digest", Stage: compat.StageVerifier, Scope: ScopeEachEntry, Errno: EACCES,
				When: func(l *Load, i int) bool {
					m := l.Map(i)
					return lazy(l, i) && m.Kind == KindMap && m.Exclusive && !m.DigestMatch
				},
				Reason: "program's hash doesn't match map's excl_prog_hash (unsigned load, map bound lazily)",
				Source: srcSpec + " BPF_MAP_CREATE exclusive maps", Subtest: "none",
			},
		},
		runRows,
	)
}

// ProfileMainline is load-time verification as merged (torvalds/linux signing.rst
// @872a8f6b): inside bpf_check(), fd_array is resolved, every folded map must be an
// exclusive frozen array, the signature is verified over insns ‖ metadata, then the LSM hook
// runs; objects bound later are refused. Where trees disagree it follows torvalds/linux: the
// cilium/linux signing.rst (@19aabcd6) still describes the earlier revision (hook at
// BPF_PROG_LOAD entry, fold in fd_array order, non-exclusive map → EINVAL, coverage checked
// after verification with EACCES), and cilium/linux syscall.c (@01a1dd61) carries yet another
// design (attr.excl_map_fd, BPF_SIG_VERIFIED_METADATA).
var ProfileMainline = register(&Profile{
	Name:             "mainline",
	Summary:          "mainline load-time verification as merged: signature over insns ‖ folded metadata inside bpf_check(), before the LSM hook",
	MaxSignatureSize: maxSig618,
	folds:            foldScanned,
	content:          concat,
	Rules:            mainlineRows("mainline", nil, userKeyring, recordMainline, srcDoc, srcTest),
})

// ProfileMainlineBPFKeyring is mainline plus the .bpf keyring (analogdevicesinc/linux
// signing.rst @06dfa707, keys.c, signed_loader.c @1841d6cb): KEY_SPEC_BPF_KEYRING (-9) names
// a keyring sealed empty at boot unless bpf.keyring_unsealed=1, consulted only once non-empty
// and restricted; with bpf.keyring_unsealed=1 caller-supplied keyrings are refused.
// torvalds/linux has no such keyring; cilium/linux's selftest names it with id 3.
var ProfileMainlineBPFKeyring = register(&Profile{
	Name:             "mainline-bpf-keyring",
	Summary:          "mainline plus the .bpf keyring revision (KEY_SPEC_BPF_KEYRING = -9, sealed unless bpf.keyring_unsealed=1)",
	MaxSignatureSize: maxSig618,
	folds:            foldScanned,
	content:          concat,
	Rules: mainlineRows("mainline-bpf-keyring", []Rule{
		{
			ID: "mainline-bpf-keyring/caller-keyring-refused", Stage: compat.StageAdmission, Errno: EPERM,
			When:   func(l *Load, _ int) bool { return l.Signed && l.Boot.BPFKeyringUnsealed && userKeyringBPF(l) },
			Reason: "bpf.keyring_unsealed=1 makes the .bpf keyring the only non-system keyring: a caller-supplied keyring is refused",
			Source: srcDocKeyring + " (Enforcement)", Subtest: "none (" + srcTestKeyring + " skips on an unsealed boot)",
			Inferred: "its place before the keyring lookup is not pinned",
		},
		{
			ID: "mainline-bpf-keyring/bpf-keyring-not-provisioned", Stage: compat.StageAdmission, Errno: ENOKEY,
			When: func(l *Load, _ int) bool {
				return l.Signed && l.Keyring.ID == KeySpecBPFKeyring && !l.Boot.BPFKeyringProvisioned
			},
			Reason: "the .bpf keyring is consulted only once non-empty and restricted (sealed empty at boot without bpf.keyring_unsealed=1): ENOKEY before the signature bytes are examined",
			Source: srcKeys + "; " + srcDocKeyring + " (Provisioning)", Subtest: "bpf_keyring_sealed",
		},
	}, userKeyringBPF, recordBPFKeyring, srcDocKeyring, srcTestKeyring),
})
