package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/livekernel"
)

func requireLiveKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loading syscall programs requires CAP_BPF and CAP_PERFMON")
	}
	k, err := livekernel.Detect()
	if err != nil {
		t.Skipf("no live kernel: %v", err)
	}
	if !k.Usable {
		t.Skipf("the running kernel cannot load skeletons: %s", k.Probe.SyscallProg.Detail)
	}
}

// TestLoadNamesFailingInnerProgram: load --unsigned of a skeleton whose
// program the verifier refuses prints the step, the program's name, the
// loader's retval and the verifier's own line.
func TestLoadNamesFailingInnerProgram(t *testing.T) {
	requireLiveKernel(t)
	code, out, _ := runCLI(t, "load", "--unsigned", "../../testdata/broken/inner-fails.skel.h")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"  prog_run    retval -22  [unsigned load]\n",
		"      failed step: BPF_PROG_LOAD of program handle_openat: retval -22 (EINVAL)\n",
		"      verifier (handle_openat): unreachable insn 1\n",
		"      | unreachable insn 1\n",
		"  result: FAILED [unsigned load]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "load", "--unsigned", "--json", "../../testdata/broken/inner-fails.skel.h")
	var j struct {
		Failure *livekernel.InnerFailure `json:"failure"`
		Loader  struct{ Maps, Programs int }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 1 {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if j.Failure == nil || j.Failure.Program != "handle_openat" || j.Failure.ErrorLine != "unreachable insn 1" || j.Loader.Maps != 3 || j.Loader.Programs != 1 {
		t.Errorf("json failure %+v loader %+v", j.Failure, j.Loader)
	}
}

// TestLoadManyProgs: the 40-program skeleton is flagged before the load and
// the verifier's reason is printed, with the last lines of its log; with
// --verbose the whole log.
func TestLoadManyProgs(t *testing.T) {
	requireLiveKernel(t)
	path := "../../testdata/manyprogs/manyprogs-40.lskel.h"
	code, out, _ := runCLI(t, "load", "--unsigned", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"  loader creates 1 map(s) and loads 40 program(s) (static analysis)\n",
		"  finding: error [verifier EACCES] prog-fd-slots: the loader loads 40 programs",
		"  prog_load   EACCES  [unsigned load]\n      verifier: invalid write to stack R10 off=0 size=4\n",
		"--verbose prints the whole log)\n",
		"      | invalid write to stack R10 off=0 size=4\n      | processed ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n      | "); n != logLines+1 {
		t.Errorf("%d log lines printed, want %d and the omission line", n, logLines)
	}
	_, verbose, _ := runCLI(t, "load", "--unsigned", "--verbose", path)
	if n := strings.Count(verbose, "\n      | "); n < 1000 || strings.Contains(verbose, "earlier lines") {
		t.Errorf("--verbose printed %d log lines", n)
	}
}

// TestStaticFindings: inspect shows what no kernel will load and what the header changes
// outside the signature; verify fails on it, for a signed skeleton of any scheme.
func TestStaticFindings(t *testing.T) {
	const many40, many32 = "../../testdata/manyprogs/manyprogs-40.lskel.h", "../../testdata/manyprogs/manyprogs-32.lskel.h"
	code, out, errs := runCLI(t, "inspect", many40)
	if code != 0 || !strings.Contains(out, "loader creates:  1 map(s), 40 program(s)") || !strings.Contains(out, "error [verifier EACCES] prog-fd-slots") {
		t.Fatalf("inspect %s: exit %d\n%s%s", many40, code, out, errs)
	}
	dir := t.TempDir()
	for _, scheme := range []string{"raw", "legacy", "chain"} {
		for _, in := range []string{many40, many32} {
			signed := filepath.Join(dir, scheme+"-"+filepath.Base(in))
			if code, _, errs := runCLI(t, "sign", "--scheme", scheme, "--key", key, "--cert", cert, "-o", signed, in); code != 0 {
				t.Fatalf("sign %s %s: exit %d: %s", scheme, in, code, errs)
			}
			code, out, _ := runCLI(t, "verify", "--cert", cert, signed)
			if in == many32 {
				if code != 0 {
					t.Errorf("verify %s (32 programs): exit %d\n%s", signed, code, out)
				}
				continue
			}
			if code != 1 || !strings.Contains(out, "REJECTED at verifier: EACCES: static finding prog-fd-slots") || !strings.Contains(out, "32") {
				t.Errorf("verify %s (40 programs): exit %d\n%s", signed, code, out)
			}
		}
	}
	code, out, _ = runCLI(t, "verify", "--cert", cert, "../../testdata/broken/legacy-v1-rodata-edited.skel.h")
	if code != 1 || !strings.Contains(out, "REJECTED at setup") || !strings.Contains(out, "rodata") {
		t.Errorf("verify of a v1 header whose data[] literal was edited: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "verify", "--cert", cert, "../../testdata/broken/raw-rodata-edited.skel.h")
	if code != 0 || !strings.Contains(out, "warning header-initial-value") {
		t.Errorf("verify of a raw header whose ignored data[] literal was edited: exit %d\n%s", code, out)
	}
}

func exitCode(err error) int {
	var ec cli.ExitCoder
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return 2
}
