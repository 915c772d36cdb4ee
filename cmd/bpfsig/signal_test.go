package main

import (
	"bytes"
	"encoding/json"
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

// bigTree writes n legacy skeletons under a new directory and returns it.
func bigTree(t *testing.T, n int) string {
	t.Helper()
	src := t.TempDir()
	v1, v2 := testfix.Bytes(t, "legacy-v1"), testfix.Bytes(t, "legacy-v2")
	for i := 0; i < n; i++ {
		b := v1
		if i%2 == 1 {
			b = v2
		}
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%30), fmt.Sprintf("s%04d.skel.h", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// TestMigrateInterrupted sends SIGINT and SIGTERM to a large migration: the process exits
// 130/143 after printing the partial summary and writing the report; every target is absent
// or complete; no temporary file is left; a re-run finishes the job.
func TestMigrateInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000 files; skipped with -short")
	}
	const n = 2000
	src := bigTree(t, n)
	raw := testfix.Bytes(t, "raw")
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		out := filepath.Join(t.TempDir(), "out")
		report := filepath.Join(t.TempDir(), "r.json")
		cmd := exec.Command(os.Args[0], "migrate", src, "--out", out, "--key", key, "--cert", cert, "--jobs", "2", "--report", report)
		cmd.Env = append(os.Environ(), "BPFSIG_TEST_AS_MAIN=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once some targets exist (the run has started writing).
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if m, _ := filepath.Glob(filepath.Join(out, "d0*", "*.skel.h")); len(m) > 20 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(tc.sig)
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if code != tc.code {
			if code == 0 {
				t.Skipf("%v: the run finished before the signal (%v)", tc.sig, err)
			}
			t.Fatalf("%v: exit %d, want %d; stderr: %s", tc.sig, code, tc.code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "(interrupted)") || !strings.Contains(stdout.String(), "skipped") {
			t.Fatalf("%v: no partial summary: %q", tc.sig, lastLine(stdout.String()))
		}
		var rep struct {
			Summary map[string]any `json:"summary"`
		}
		b, err := os.ReadFile(report)
		if err != nil || json.Unmarshal(b, &rep) != nil || rep.Summary["interrupted"] != true {
			t.Fatalf("%v: report not written or not marked interrupted: %v %s", tc.sig, err, b)
		}
		complete, absent := 0, 0
		for i := 0; i < n; i++ {
			p := filepath.Join(out, fmt.Sprintf("d%02d", i%30), fmt.Sprintf("s%04d.skel.h", i))
			got, err := os.ReadFile(p)
			switch {
			case os.IsNotExist(err):
				absent++
			case err != nil:
				t.Fatal(err)
			case bytes.Equal(got, raw):
				complete++
			default:
				t.Fatalf("%v: %s is partial (%d bytes)", tc.sig, p, len(got))
			}
		}
		filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasPrefix(fi.Name(), atomicfile.TempPrefix) {
				t.Errorf("%v: temporary file left: %s", tc.sig, p)
			}
			return nil
		})
		t.Logf("%v: exit %d, %d complete, %d absent; %s", tc.sig, code, complete, absent, lastLine(stdout.String()))
		c2, so, se := runCLI(t, "migrate", src, "--out", out, "--key", key, "--cert", cert)
		if c2 != 0 || !strings.Contains(so, fmt.Sprintf("%d migrated, %d up to date", absent, complete)) {
			t.Fatalf("re-run: exit %d, %s %s", c2, lastLine(so), se)
		}
	}
}
