package bpfsig_test

import (
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// TestApplicationKernelMatrix pins the cells of "which build of the application loads which
// skeleton on which kernel" that users meet, with the profile row that decides each.
func TestApplicationKernelMatrix(t *testing.T) {
	tests := []struct {
		skel    string
		proc    bpfsig.Procedure
		profile string
		outcome compat.Outcome
		stage   compat.Stage
		errno   string
		rule    string
	}{
		// An old binary (6.18 procedure) with its legacy skeleton: loads on 6.18 …
		{"legacy-v2", bpfsig.Proc618, "6.18", compat.Accepted, "", "", ""},
		// … and is refused on mainline: the 6.18 procedure binds the map by index with
		// fd_array_cnt = 0 (a sparse fd_array), after the LSM hook.
		{"legacy-v2", bpfsig.Proc618, "mainline", compat.Rejected, compat.StageVerifier, "EACCES", "mainline/late-index-map"},
		// The same skeleton in a rebuilt binary on mainline: the signature covers the
		// instructions only, mainline verifies insn ‖ metadata.
		{"legacy-v2", bpfsig.ProcMainline, "mainline", compat.Rejected, compat.StageAdmission, "EKEYREJECTED", "mainline/pkcs7"},
		// The migrated raw skeleton in a rebuilt binary loads on mainline …
		{"raw", bpfsig.ProcMainline, "mainline", compat.Accepted, "", "", ""},
		{"raw", bpfsig.ProcMainline, "mainline-bpf-keyring", compat.Accepted, "", "", ""},
		// … and is refused on 6.18, by the signature check over the instructions alone.
		{"raw", bpfsig.ProcMainline, "6.18", compat.Rejected, compat.StageAdmission, "EKEYREJECTED", "6.18/pkcs7"},
		// A raw skeleton in an old binary is refused everywhere.
		{"raw", bpfsig.Proc618, "mainline", compat.Rejected, compat.StageAdmission, "EKEYREJECTED", "mainline/pkcs7"},
		// The chain procedure's attr fields are unknown to every merged kernel.
		{"chain", bpfsig.ProcChain, "mainline", compat.Rejected, compat.StageAdmission, "E2BIG", "mainline/attr-tail"},
		{"chain", bpfsig.ProcChain, "chain", compat.Accepted, "", "", ""},
		// Unsigned loads are admitted with nothing verified.
		{"unsigned", bpfsig.ProcMainline, "mainline", compat.Accepted, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.skel+"/"+string(tt.proc)+"/"+tt.profile, func(t *testing.T) {
			v, err := bpfsig.OnKernel(front.Skeleton(t, tt.skel), tt.profile, tt.proc, front.Trust(t), bpfsig.Conditions{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Outcome != tt.outcome || v.Stage != tt.stage || v.ErrnoName() != tt.errno || v.Rule != tt.rule {
				t.Fatalf("%s at %s %s (rule %s): %s; want %s at %s %s (rule %s)", v.Outcome, v.Stage, v.ErrnoName(), v.Rule, v.Reason, tt.outcome, tt.stage, tt.errno, tt.rule)
			}
			if v.Profile != tt.profile || v.Procedure != string(tt.proc) {
				t.Errorf("verdict names profile %q procedure %q", v.Profile, v.Procedure)
			}
			if v.Outcome == compat.Rejected && v.Source == "" {
				t.Error("a rejection without the source it follows")
			}
		})
	}
	if _, err := bpfsig.OnKernel(front.Skeleton(t, "raw"), "5.4", bpfsig.ProcMainline, front.Trust(t), bpfsig.Conditions{}); err == nil {
		t.Error("an unknown kernel profile was accepted")
	}
	// A mainline verdict records what the LSM sees.
	v, _ := bpfsig.OnKernel(front.Skeleton(t, "raw"), "mainline", bpfsig.ProcMainline, front.Trust(t), bpfsig.Conditions{})
	if v.Record == nil || v.Record.Verdict == "" {
		t.Errorf("mainline accepted a signed load without recording the verdict: %+v", v.Record)
	}
}
