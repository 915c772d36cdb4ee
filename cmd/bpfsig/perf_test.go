package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
)

// TestVerifyOutputIndependentOfJobs: text and JSON output are byte for byte the same with one
// job and with many, for a mix of good, tampered and missing files (argument order, not
// completion order).
func TestVerifyOutputIndependentOfJobs(t *testing.T) {
	var args []string
	for i := 0; i < 12; i++ {
		args = append(args, fx("raw"), fx("legacy-v2"), fx("chain"), fx("unsigned"), filepath.Join(t.TempDir(), "missing.skel.h"))
	}
	args = append(args, testfix.Path("broken", "raw-rodata-edited.skel.h"))
	for _, format := range [][]string{nil, {"--json"}} {
		var first string
		for _, jobs := range []int{1, 2, 7, 64} {
			a := append([]string{"verify", "--cert", cert, "--jobs", strconv.Itoa(jobs)}, format...)
			code, out, _ := runCLI(t, append(a, args...)...)
			if code != 1 {
				t.Fatalf("%v jobs %d: exit %d, want 1", format, jobs, code)
			}
			if first == "" {
				first = out
				continue
			}
			if out != first {
				t.Fatalf("%v: output with --jobs %d differs from --jobs 1", format, jobs)
			}
		}
	}
}

// TestProfiles: BPFSIG_CPUPROFILE and BPFSIG_MEMPROFILE write pprof files (gzip) without a
// word on stderr; a path that cannot be created is reported on stderr and changes nothing else.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	t.Setenv(cpuProfileEnv, cpu)
	t.Setenv(memProfileEnv, mem)
	var stderr bytes.Buffer
	stop := startProfiles(&stderr)
	code, _, _ := runCLI(t, "verify", "--cert", cert, fx("raw"))
	stop()
	if code != 0 || stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: not a gzipped pprof profile (%d bytes)", p, len(b))
		}
	}
	bad := filepath.Join(dir, "no-such-dir", "x.prof")
	t.Setenv(cpuProfileEnv, bad)
	t.Setenv(memProfileEnv, bad)
	stderr.Reset()
	stop = startProfiles(&stderr)
	code, _, _ = runCLI(t, "verify", "--cert", cert, fx("raw"))
	stop()
	if code != 0 {
		t.Fatalf("exit %d with an unwritable profile", code)
	}
	for _, env := range []string{cpuProfileEnv, memProfileEnv} {
		if !bytes.Contains(stderr.Bytes(), []byte(env+": open "+bad)) {
			t.Errorf("stderr does not report %s: %q", env, stderr.String())
		}
	}
}

// TestTuneGC: GOGC 400 and a 1 GiB soft limit unless the environment sets them.
func TestTuneGC(t *testing.T) {
	oldPct := debug.SetGCPercent(100)
	oldLim := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPct); debug.SetMemoryLimit(oldLim) })
	for _, tc := range []struct {
		gogc, memlimit string
		pct            int
		lim            int64
	}{
		{"", "", 400, 1 << 30},
		{"50", "", 100, 1 << 30},
		{"", "2GiB", 400, oldLim},
		{"off", "1MiB", 100, oldLim},
	} {
		t.Setenv("GOGC", tc.gogc)
		t.Setenv("GOMEMLIMIT", tc.memlimit)
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(oldLim)
		tuneGC()
		if got := debug.SetGCPercent(100); got != tc.pct {
			t.Errorf("GOGC=%q: percent %d, want %d", tc.gogc, got, tc.pct)
		}
		if got := debug.SetMemoryLimit(oldLim); got != tc.lim {
			t.Errorf("GOMEMLIMIT=%q: limit %d, want %d", tc.memlimit, got, tc.lim)
		}
	}
}
