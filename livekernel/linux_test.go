//go:build linux

package livekernel

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
)

// TestProbeReportSameAsInternal: the public report renders and marshals exactly as the
// internal one it was converted from (bpfsig probe's output must not change).
func TestProbeReportSameAsInternal(t *testing.T) {
	in := bpfsys.Probe()
	out := probeFrom(in)
	if got, want := out.String(), in.String(); got != want {
		t.Errorf("String differs:\n got %q\nwant %q", got, want)
	}
	gj, _ := json.Marshal(out)
	wj, _ := json.Marshal(in)
	if string(gj) != string(wj) {
		t.Errorf("JSON differs:\n got %s\nwant %s", gj, wj)
	}
	if out.Usable() != (in.BPF.OK && in.SyscallProg.OK && in.ExclusiveMaps.OK) {
		t.Errorf("Usable %v disagrees with the items", out.Usable())
	}
}

func TestLogHelpersSameAsInternal(t *testing.T) {
	for _, log := range []string{"", "\n", "a", "a\nb\n", "0: (b7) r0 = 0\nunreachable insn 1\nprocessed 2 insns (limit 1000000)\nverification time 5 usec\n\n", "x\r\n \t\nstack depth 8\n", strings.Repeat("l\n", 30)} {
		if got, want := VerifierError(log), bpfsys.VerifierError(log); got != want {
			t.Errorf("VerifierError(%q) = %q, internal %q", log, got, want)
		}
		for _, n := range []int{-1, 0, 1, 3, 12, 100} {
			gl, go_ := LogTail(log, n)
			wl, wo := bpfsys.LogTail(log, n)
			if strings.Join(gl, "|") != strings.Join(wl, "|") || len(gl) != len(wl) || go_ != wo {
				t.Errorf("LogTail(%q, %d) = %q %d, internal %q %d", log, n, gl, go_, wl, wo)
			}
		}
	}
}

func requireKernel(t *testing.T) *Kernel {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loading syscall programs requires CAP_BPF and CAP_PERFMON")
	}
	k, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if !k.Usable {
		t.Skipf("the running kernel cannot load skeletons: %s", k.Probe.SyscallProg.Detail)
	}
	return k
}

func open(t *testing.T, path string) *bpfsig.Skeleton {
	t.Helper()
	sk, err := bpfsig.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func TestLoadUnsignedSucceeds(t *testing.T) {
	requireKernel(t)
	res, err := Load(open(t, "../testdata/minimal/unsigned.skel.h"), LoadOptions{LogSize: DefaultLogSize})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Mode != Unsigned || res.Scheme != compat.Legacy || res.Cell.Outcome != compat.Accepted || res.Errno != 0 {
		t.Fatalf("result %+v", res)
	}
	var kinds []string
	for _, o := range res.Created {
		kinds = append(kinds, o.Kind+" "+o.Name)
	}
	if got := strings.Join(kinds, ", "); got != "map counts, map minimal.rodata, map minimal.bss, prog handle_openat" {
		t.Errorf("created %s", got)
	}
	if res.Stage(StageProgRun) == nil || res.Stage(StageProgRun).Retval == nil || *res.Stage(StageProgRun).Retval != 0 {
		t.Errorf("prog_run stage %+v", res.Stage(StageProgRun))
	}
	if res.Failure != nil || res.FailureUnknown != nil {
		t.Errorf("failure %+v / %v on a successful load", res.Failure, res.FailureUnknown)
	}
}

func TestLoadNamesInnerFailure(t *testing.T) {
	requireKernel(t)
	res, err := Load(open(t, "../testdata/broken/inner-fails.skel.h"), LoadOptions{Unsigned: true, LogSize: DefaultLogSize})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Failure
	if res.OK || f == nil || f.Program != "handle_openat" || f.ErrorLine != "unreachable insn 1" || f.Retval != -22 || f.Errno != "EINVAL" {
		t.Fatalf("failure %+v (result %+v)", f, res)
	}
	if res.Cell.Stage != compat.StageRun || res.Cell.String() != "run -22" {
		t.Errorf("cell %v", res.Cell)
	}
}

func TestLoadRefusesBadOptions(t *testing.T) {
	sk := open(t, "../testdata/minimal/unsigned.skel.h")
	for _, n := range []int{-1, MaxLogSize + 1} {
		if _, err := Load(sk, LoadOptions{LogSize: n}); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("LogSize %d: %v", n, err)
		}
	}
	if _, err := Load(sk, LoadOptions{Scheme: "nonesuch"}); err == nil {
		t.Error("unknown scheme accepted")
	}
}

func TestDecideNilKernel(t *testing.T) {
	if _, err := Decide(nil, "s", "c", compare.Case{}, nil); err == nil {
		t.Error("nil kernel accepted")
	}
}

func TestErrNotLinuxIsDistinct(t *testing.T) {
	if _, err := Probe(); errors.Is(err, ErrNotLinux) {
		t.Errorf("Probe on Linux: %v", err)
	}
}
