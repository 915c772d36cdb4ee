package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// TestMain lets the test binary act as bpfsig when re-executed by a test.
func TestMain(m *testing.M) {
	if os.Getenv("BPFSIG_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestMigrateKilledMidRun kills a large migration with SIGKILL at several points and checks
// that every target is absent or complete, never partial; then a re-run completes the job.
// It runs with the durability method the file system chooses and with the batched form
// forced (BPFSIG_FSYNC_METHOD=batch: writeback started per file, one flush per batch), so
// that both are killed mid-batch whatever file system the test directory is on.
func TestMigrateKilledMidRun(t *testing.T) {
	for _, method := range []string{"auto", "batch"} {
		t.Run("fsync="+method, func(t *testing.T) {
			t.Setenv("BPFSIG_FSYNC_METHOD", method)
			t.Logf("durability method on %s: %s", os.TempDir(), atomicfile.SyncMethod(os.TempDir()))
			killedMidRun(t)
		})
	}
}

func killedMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 files; skipped with -short")
	}
	const n = 3000
	src := t.TempDir()
	v1, v2, raw := testfix.Bytes(t, "legacy-v1"), testfix.Bytes(t, "legacy-v2"), testfix.Bytes(t, "raw")
	for i := 0; i < n; i++ {
		b := v1
		if i%2 == 1 {
			b = v2
		}
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%30), fmt.Sprintf("s%04d.skel.h", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, delay := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		out := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(os.Args[0], "migrate", src, "--out", out, "--key", key, "--cert", cert, "--jobs", "2")
		cmd.Env = append(os.Environ(), "BPFSIG_TEST_AS_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		complete, absent, temps := 0, 0, 0
		for i := 0; i < n; i++ {
			p := filepath.Join(out, fmt.Sprintf("d%02d", i%30), fmt.Sprintf("s%04d.skel.h", i))
			b, err := os.ReadFile(p)
			switch {
			case os.IsNotExist(err):
				absent++
			case err != nil:
				t.Fatal(err)
			case bytes.Equal(b, raw):
				complete++
			default:
				t.Fatalf("killed after %v: %s is partial or wrong (%d bytes)", delay, p, len(b))
			}
		}
		filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasPrefix(fi.Name(), atomicfile.TempPrefix) {
				temps++
			}
			return nil
		})
		t.Logf("killed after %v: %d complete, %d absent, %d temporary files left (never a target)", delay, complete, absent, temps)
		if complete == n {
			t.Logf("the run finished before the kill at %v", delay)
		}
		// Re-running finishes the job and recognises what is done.
		code, stdout, errs := runCLI(t, "migrate", src, "--out", out, "--key", key, "--cert", cert)
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d migrated, %d up to date", absent, complete)) {
			t.Fatalf("re-run after the kill: exit %d, %s %s", code, lastLine(stdout), errs)
		}
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}
