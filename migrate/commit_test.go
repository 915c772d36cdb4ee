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
	var victim string
	defer migrate.SetBeforeCommit(func(paths []string) {
		if victim == "" && len(paths) > 1 {
			victim = paths[1]
			if err := os.Mkdir(victim, 0o755); err != nil {
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
