package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/internal/live"
)

func requireLiveKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loading syscall programs requires CAP_BPF and CAP_PERFMON")
	}
	if k := live.Detect(); !k.Usable {
		t.Skipf("the running kernel cannot load skeletons: %s", k.Probe.SyscallProg.Detail)
	}
}

// TestLoadNamesFailingInnerProgram: load --unsigned of a skeleton whose
// program the verifier refuses prints the step, the program's name, the
// loader's retval and the verifier's own line.
func TestLoadNamesFailingInnerProgram(t *testing.T) {
	requireLiveKernel(t)
	code, out, _ := bpfsig(t, "load", "--unsigned", "../../testdata/broken/inner-fails.skel.h")
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
	code, out, _ = bpfsig(t, "load", "--unsigned", "--json", "../../testdata/broken/inner-fails.skel.h")
	var j struct {
		Failure *live.InnerFailure `json:"failure"`
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
	code, out, _ := bpfsig(t, "load", "--unsigned", path)
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
	_, verbose, _ := bpfsig(t, "load", "--unsigned", "--verbose", path)
	if n := strings.Count(verbose, "\n      | "); n < 1000 || strings.Contains(verbose, "earlier lines") {
		t.Errorf("--verbose printed %d log lines", n)
	}
}

// TestPreflightCommand runs the (not yet wired) preflight command directly.
func TestPreflightCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"../../testdata/manyprogs/manyprogs-40.lskel.h"}, 1, []string{"FAILS at verifier (loader creates 1 map(s), loads 40 program(s))", "error [verifier EACCES] prog-fd-slots"}},
		{[]string{"../../testdata/manyprogs/manyprogs-32.lskel.h"}, 0, []string{"manyprogs-32.lskel.h: ok (loader creates 1 map(s), loads 32 program(s))"}},
		{[]string{"../../testdata/broken/legacy-v1-rodata-edited.skel.h"}, 1, []string{"FAILS at setup", "header-initial-value: the header's data[] literal for map rodata"}},
		{[]string{"../../testdata/broken/raw-rodata-edited.skel.h"}, 0, []string{": ok (", "warning header-initial-value"}},
		{[]string{"--profile", "mainline", "../../testdata/minimal/raw.skel.h"}, 0, []string{"raw.skel.h: ok (loader creates 3 map(s), loads 1 program(s))\n"}},
		{[]string{"--profile", "6.99", "../../testdata/minimal/raw.skel.h"}, 2, nil},
		{[]string{"../../testdata/nosuch.skel.h"}, 1, []string{"nosuch.skel.h"}},
	} {
		var out, errb strings.Builder
		app := newApp(&out, &errb)
		app.Commands = append(app.Commands, preflightCommand())
		code := exitCode(app.Run(append([]string{"bpfsig", "preflight"}, tt.args...)))
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s%s)", tt.args, code, tt.code, out.String(), errb.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out.String())
			}
		}
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
