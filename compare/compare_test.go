package compare_test

import (
	"fmt"
	"testing"

	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

type cell struct {
	outcome compat.Outcome
	stage   compat.Stage
	errno   compat.Errno
	retval  int32 // checked when stage is run
	lsm     compat.LSMKnowledge
	late    bool // lsm_admitted_then_failed
}

func (c cell) String() string {
	return fmt.Sprintf("%s@%s errno=%d retval=%d lsm=%q late=%t", c.outcome, c.stage, c.errno, c.retval, c.lsm, c.late)
}

func cellOf(v *compat.Verdict) cell {
	c := cell{outcome: v.Outcome, stage: v.Stage, errno: v.Errno, lsm: v.LSM, late: v.LSMAdmittedThenFailed}
	if v.Stage == compat.StageRun && v.Retval != nil {
		c.retval = *v.Retval
	}
	return c
}

var (
	// lsmDenied: Hornet's verdict is not OK and the LSM refuses the program at its hook.
	lsmDenied    = cell{outcome: compat.Rejected, stage: compat.StageLSM, errno: compat.EPERM, lsm: compat.LSMLoaderOnly}
	okLoaderOnly = cell{outcome: compat.Accepted, lsm: compat.LSMLoaderOnly}
	okFull       = cell{outcome: compat.Accepted, lsm: compat.LSMFull}
	okUnsigned   = cell{outcome: compat.Accepted, lsm: compat.LSMUnsigned}
)

func admission(e compat.Errno) cell {
	return cell{outcome: compat.Rejected, stage: compat.StageAdmission, errno: e}
}

func setup(e compat.Errno) cell {
	return cell{outcome: compat.Rejected, stage: compat.StageSetup, errno: e}
}

func runFail(lsm compat.LSMKnowledge) cell {
	return cell{outcome: compat.Rejected, stage: compat.StageRun, retval: -22, lsm: lsm, late: true}
}

// TestCompareAsIs pins how each kernel treats each fixture as it is (docs/spec.md §4).
func TestCompareAsIs(t *testing.T) {
	trust := front.Trust(t)
	want := map[string][4]cell{ // legacy, chain, raw, hornet kernels
		// legacy signatures cover opts_insn; a raw kernel verifies opts_insn ‖ opts_data.
		// Hornet verifies the same opts_insn signature, but finds no Hornet attribute:
		// PARTIALSIG, which an LSM admitting only OK refuses at its hook.
		"legacy-v1": {okLoaderOnly, okLoaderOnly, admission(compat.EKEYREJECTED), lsmDenied},
		"legacy-v2": {okLoaderOnly, okLoaderOnly, admission(compat.EKEYREJECTED), lsmDenied},
		// a raw signature is over insn ‖ data, which neither a legacy kernel nor a chain kernel
		// without signature maps (= legacy) checks.
		"raw": {admission(compat.EKEYREJECTED), admission(compat.EKEYREJECTED), okFull, admission(compat.EKEYREJECTED)},
		// the chain signature covers the 32-byte root only.
		"chain": {admission(compat.EKEYREJECTED), okFull, admission(compat.EKEYREJECTED), admission(compat.EKEYREJECTED)},
		// unsigned loads are admitted with nothing verified.
		"unsigned": {okUnsigned, okUnsigned, okUnsigned, okUnsigned},
	}
	for name, w := range want {
		vs, err := compare.AsIs(front.Skeleton(t, name), trust)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 4 {
			t.Fatalf("%d kernels, want 4 (legacy, chain, raw, hornet)", len(vs))
		}
		for i, v := range vs {
			if got := cellOf(v); got != w[i] {
				t.Errorf("%s on %s kernel: %s, want %s (%s)", name, v.Kernel, got, w[i], v.Reason)
			}
		}
	}
}

// TestTamperMatrix pins every cell of `bpfsig compare --tamper all` for the fixture program.
// Columns: legacy-v1, legacy-v2, chain, raw, hornet.
func TestTamperMatrix(t *testing.T) {
	EKR, EPERM := compat.EKEYREJECTED, compat.EPERM
	want := map[string][5]cell{
		// Correctly signed and loaded: legacy LSMs see the loader only (docs/spec.md §4.4, "What an LSM
		// knows"), chain and raw see everything.
		"intact": {okLoaderOnly, okLoaderOnly, okFull, okFull, okFull},
		// Every scheme signs the instructions: stopped before the LSM hook (raw, as merged:
		// by the digest binding of the exclusive map, EACCES, before the signature).
		"flip-insn": {admission(EKR), admission(EKR), admission(EKR), admission(compat.EACCES), admission(EKR)},
		// legacy: only the loader's own check catches it, after an LSM admitted the program
		// (retval -22, docs/spec.md §4.1); chain and raw: the kernel hashes the metadata at load.
		"flip-data": {runFail(compat.LSMLoaderOnly), runFail(compat.LSMLoaderOnly), admission(EKR), admission(EKR), lsmDenied},
		// A flipped byte of the RSA signature value: the key is found, the signature is wrong.
		"flip-sig": {admission(EKR), admission(EKR), admission(EKR), admission(EKR), admission(EKR)},
		// Truncated DER does not parse (docs/spec.md §6: EBADMSG).
		"truncate-sig": {admission(compat.EBADMSG), admission(compat.EBADMSG), admission(compat.EBADMSG), admission(compat.EBADMSG), admission(compat.EBADMSG)},
		// No key in the keyring matches the signer id (docs/spec.md §6: ENOKEY).
		"unknown-signer": {admission(compat.ENOKEY), admission(compat.ENOKEY), admission(compat.ENOKEY), admission(compat.ENOKEY), admission(compat.ENOKEY)},
		// legacy: libbpf's procedure requests the map hash before the load, and 6.18 refuses to
		// hash an unfrozen map (docs/spec.md §5.3: EPERM) → the procedure stops at setup; chain: the
		// kernel cannot hash it → EPERM before the LSM; raw: the map requirement (frozen) fails
		// EPERM, before the LSM hook as merged (signed_unfrozen_fd_array_rejected).
		"map-not-frozen": {setup(EPERM), setup(EPERM), admission(EPERM), admission(EPERM), setup(EPERM)},
		// v1 does not test map->excl (CVE-2026-80675), v2 does (-22); the chain column's loader
		// carries a v1 check; raw requires exclusivity (EPERM, before the hook:
		// signed_nonexcl_fd_array_rejected).
		"map-not-exclusive": {okLoaderOnly, runFail(compat.LSMLoaderOnly), okFull, admission(EPERM), runFail(compat.LSMFull)},
		// legacy loaders compare against an all-zero map->sha; the chain kernel hashes the map
		// itself; raw loaders check nothing.
		"map-hash-not-computed": {runFail(compat.LSMLoaderOnly), runFail(compat.LSMLoaderOnly), okFull, okFull, okFull},
		// Accepted everywhere; v1 and chain (v1 loader) let the host values through unattested.
		"host-overrides-data": {okLoaderOnly, okLoaderOnly, okFull, okFull, okFull},
		// Only a raw signature verifies on a raw-bytes kernel.
		// Hornet (last column): tampered metadata no longer matches the signed map hash
		// (UNEXPECTED), refused at the LSM hook; without the hash request Hornet's own
		// map_get_hash filled map->sha, so the loader's check passes; a non-exclusive map
		// fails the loader's v2 check after Hornet said OK.
		"old-signature-on-raw-kernel": {admission(EKR), admission(EKR), admission(EKR), okFull, admission(EKR)},
	}
	rows, err := compare.Tamper(front.Skeleton(t, "unsigned"), testfix.Signer(t), compare.Scenarios, compare.Columns())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d scenarios, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[r.Scenario.Name]
		if !ok {
			t.Errorf("scenario %s has no pinned expectation", r.Scenario.Name)
			continue
		}
		for i, c := range r.Cells {
			if got := cellOf(c.Verdict); got != w[i] {
				t.Errorf("%s / %s: %s, want %s (%s)", r.Scenario.Name, c.Column.Name, got, w[i], c.Verdict.Reason)
			}
		}
		if r.Scenario.Name == "host-overrides-data" {
			var un []int
			for _, c := range r.Cells {
				un = append(un, len(c.Verdict.Unattested))
			}
			if fmt.Sprint(un) != "[5 0 5 0 0]" {
				t.Errorf("host-overrides-data unattested counts = %v, want [5 0 5 0 0] (the 5 override blocks of v1 loaders)", un)
			}
		}
	}
}
