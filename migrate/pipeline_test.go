package migrate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/migrate"
)

// pipelineTree writes n legacy skeletons, alternating between the directories a and b.
func pipelineTree(t *testing.T, n int) string {
	files := map[string]string{}
	for i := range n {
		fx := "legacy-v1"
		if i%3 == 0 {
			fx = "legacy-v2"
		}
		files[fmt.Sprintf("%c/s%03d.skel.h", 'a'+i%2, i)] = fx
	}
	return tree(t, files)
}

// TestRunResultsMatchTheDisk runs the pipeline with several worker counts over more files
// than a batch holds, and with out/b on a file system too small for its files (a 64 KiB
// tmpfs: the writes fail at staging, in the pipeline's writer): every Migrated result's
// target is the raw fixture, byte for byte, every Failed one names its target and ENOSPC
// and wrote nothing, the counts add up, and no temporary is left.
func TestRunResultsMatchTheDisk(t *testing.T) {
	const n = 150 // more than two batches
	src := pipelineTree(t, n)
	raw := testfix.Bytes(t, "raw")
	for _, jobs := range []int{1, 2, 5} {
		for _, blocked := range []bool{false, true} {
			t.Run(fmt.Sprintf("jobs=%d/blocked=%v", jobs, blocked), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				if blocked {
					smallFS(t, filepath.Join(out, "b"))
				}
				o := opts(t)
				o.Out, o.Jobs = out, jobs
				var mu sync.Mutex
				calls, last := 0, 0
				o.Progress = func(done, total int) {
					mu.Lock()
					defer mu.Unlock()
					calls++
					if done != last+1 || total != n {
						t.Errorf("progress %d/%d after %d", done, total, last)
					}
					last = done
				}
				sum, err := migrate.Run(context.Background(), []string{src}, o)
				if err != nil {
					t.Fatal(err)
				}
				if calls != n {
					t.Errorf("progress called %d times, want %d", calls, n)
				}
				if sum.Migrated+sum.Failed != n || len(sum.Files) != n || (sum.Failed == 0) == blocked || (blocked && sum.Migrated < n/2) {
					t.Fatalf("summary %s over %d results (out/b full: %v)", sum, len(sum.Files), blocked)
				}
				for _, r := range sum.Files {
					got, err := os.ReadFile(r.Target)
					switch r.Outcome {
					case migrate.Migrated:
						if err != nil || !bytes.Equal(got, raw) {
							t.Errorf("%s Migrated but its target %s holds %d bytes (%v)", r.Source, r.Target, len(got), err)
						}
					case migrate.Failed:
						if !strings.Contains(r.Reason, r.Target) || !strings.Contains(r.Reason, "no space left") || strings.Contains(r.Reason, atomicfile.TempPrefix) {
							t.Errorf("%s failed for %q, want its target and ENOSPC named and no temporary", r.Source, r.Reason)
						}
						if err == nil {
							t.Errorf("%s Failed but %s exists", r.Source, r.Target)
						}
						if len(r.Warnings) != 0 {
							t.Errorf("%s Failed with warnings %v", r.Source, r.Warnings)
						}
					default:
						t.Errorf("%s: %s (%s)", r.Source, r.Outcome, r.Reason)
					}
				}
				filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
					if err == nil && strings.HasPrefix(fi.Name(), atomicfile.TempPrefix) {
						t.Errorf("temporary left: %s", p)
					}
					return nil
				})
			})
		}
	}
}

// TestRunFailFastOnWriteFailure: a file whose write fails stops a FailFast run like a refused
// one; files not reached are Skipped and absent, and every Migrated one is complete.
func TestRunFailFastOnWriteFailure(t *testing.T) {
	const n = 200
	src := pipelineTree(t, n)
	raw := testfix.Bytes(t, "raw")
	out := filepath.Join(t.TempDir(), "out")
	smallFS(t, filepath.Join(out, "b")) // most b/ targets fail
	o := opts(t)
	o.Out, o.Jobs, o.FailFast = out, 2, true
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed == 0 || sum.Skipped == 0 || sum.OK() {
		t.Fatalf("fail-fast on a write failure: %s, want failures and skipped files", sum)
	}
	for _, r := range sum.Files {
		got, err := os.ReadFile(r.Target)
		switch r.Outcome {
		case migrate.Migrated:
			if !bytes.Equal(got, raw) {
				t.Errorf("%s Migrated, target %d bytes (%v)", r.Source, len(got), err)
			}
		case migrate.Skipped, migrate.Failed:
			if err == nil {
				t.Errorf("%s %s but %s exists", r.Source, r.Outcome, r.Target)
			}
		default:
			t.Errorf("%s: %s", r.Source, r.Outcome)
		}
	}
	t.Logf("%s", sum)
}
