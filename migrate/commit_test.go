package migrate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/migrate"
)

// TestRunOneRenameFailsInABatch: when one file of a batch cannot be put in place at commit
// (its target became a directory after it was staged), that file alone is Failed, naming
// it; the other files of the batch, which were renamed into place, are Migrated and hold
// the result, and keep their warnings.
func TestRunOneRenameFailsInABatch(t *testing.T) {
	const n = 10 // one batch
	src := pipelineTree(t, n)
	raw := testfix.Bytes(t, "raw")
	out := filepath.Join(t.TempDir(), "out")
	o := opts(t)
	o.Out, o.Jobs = out, 2
	sum, victim := runChangingOne(t, src, o, func(p string) error { return os.Mkdir(p, 0o755) })
	if sum.Failed != 1 || sum.Migrated != n-1 {
		t.Errorf("summary %s, want 1 failed, %d migrated", sum, n-1)
	}
	for _, r := range sum.Files {
		if r.Target == victim {
			if r.Outcome != migrate.Failed || !strings.Contains(r.Reason, victim) || !strings.Contains(r.Reason, "directory") {
				t.Errorf("%s: %s (%s), want Failed naming it and what it is", r.Target, r.Outcome, r.Reason)
			}
			continue
		}
		got, err := os.ReadFile(r.Target)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: target holds %d bytes (%v)", r.Target, len(got), err)
		}
		if r.Outcome != migrate.Migrated {
			t.Errorf("%s written, but reported %s (%s)", r.Target, r.Outcome, r.Reason)
		}
	}
}

// TestPlanTwoSpellingsThroughALinkInOut: a link inside --out (out/a -> b, or out/a ->
// sub/.., spelled with "..") makes two sources' targets one file; Plan refuses the run,
// naming both, whatever the spelling of the link.
func TestPlanTwoSpellingsThroughALinkInOut(t *testing.T) {
	// l leads to c/d: "l/../../b" is out/b as the kernel resolves it (lexically it would be
	// outside out).
	for _, link := range []string{"b", "./b", "c/../b", "c/../c/../b", "l/../../b"} {
		t.Run(link, func(t *testing.T) {
			src := tree(t, map[string]string{"a/x.skel.h": "legacy-v1", "b/x.skel.h": "legacy-v1"})
			out := filepath.Join(t.TempDir(), "out")
			for _, d := range []string{"b", "c/d"} {
				if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("c/d", filepath.Join(out, "l")); err != nil {
				t.Skip(err)
			}
			if err := os.Symlink(link, filepath.Join(out, "a")); err != nil {
				t.Skip(err)
			}
			o := opts(t)
			o.Out = out
			_, _, err := migrate.Plan([]string{src}, &o)
			if err == nil || !strings.Contains(err.Error(), "would both be written to") {
				t.Fatalf("Plan: %v, want the two sources refused as one target", err)
			}
		})
	}
}

// TestRunTargetChangedBeforeCommit: a target that changes after migrate looked at it and
// before its batch is committed — in place, a source the user edits (rewritten in place,
// same inode) while the run signs; with --out, a file someone else puts at the target — is
// not replaced by a result built from what was read before: that file is Failed, naming it
// and saying it changed, and holds what was put there; the other files are Migrated.
func TestRunTargetChangedBeforeCommit(t *testing.T) {
	for _, inPlace := range []bool{true, false} {
		t.Run(map[bool]string{true: "in-place", false: "out"}[inPlace], func(t *testing.T) {
			const n = 6 // one batch
			src := pipelineTree(t, n)
			o := opts(t)
			o.Jobs = 2
			if inPlace {
				o.InPlace = true
			} else {
				o.Out = filepath.Join(t.TempDir(), "out")
			}
			edit := []byte("/* the user's own edit, made while migrate ran */\n")
			sum, victim := runChangingOne(t, src, o, func(p string) error { return os.WriteFile(p, edit, 0o644) })
			if got, _ := os.ReadFile(victim); !bytes.Equal(got, edit) {
				t.Errorf("%s: the file put there while the run signed was replaced (%d bytes)", victim, len(got))
			}
			if sum.Failed != 1 || sum.Migrated != n-1 {
				t.Errorf("summary %s, want 1 failed, %d migrated", sum, n-1)
			}
			for _, r := range sum.Files {
				if r.Target == victim && (r.Outcome != migrate.Failed || !strings.Contains(r.Reason, victim) || !strings.Contains(r.Reason, "changed")) {
					t.Errorf("%s: %s (%s), want Failed naming it and saying it changed", r.Target, r.Outcome, r.Reason)
				}
			}
		})
	}
}

// runChangingOne runs migrate over src with o, and just before the first batch of two or more
// files is committed applies change to that batch's second target; it returns the summary and
// that target.
func runChangingOne(t *testing.T, src string, o migrate.Options, change func(path string) error) (*migrate.Summary, string) {
	t.Helper()
	var victim string
	defer migrate.SetBeforeCommit(func(paths []string) {
		if victim == "" && len(paths) > 1 {
			victim = paths[1]
			if err := change(victim); err != nil {
				t.Error(err)
			}
		}
	})()
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if victim == "" {
		t.Fatal("no batch of two or more files committed")
	}
	return sum, victim
}
