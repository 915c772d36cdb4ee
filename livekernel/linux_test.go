//go:build linux

package livekernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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

// Every tamper case the running kernel can decide agrees with the model (the CLI's compare
// --live --tamper), and a case it cannot decide says why.
func TestDecideTamperCases(t *testing.T) {
	k := requireKernel(t)
	signer, err := bpfsig.LoadSigner("../testdata/keys/test-rsa2048.key.pem", "../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := compare.Tamper(open(t, "../testdata/minimal/legacy-v2.skel.h"), signer, compare.Scenarios, compare.Columns())
	if err != nil {
		t.Fatal(err)
	}
	decided, undecided := 0, 0
	for _, r := range rows {
		for _, c := range r.Cells {
			if c.Verdict == nil {
				continue
			}
			d, err := Decide(k, r.Scenario.Name, c.Column.Name, c.Case, c.Verdict)
			if err != nil {
				t.Fatalf("%s/%s: %v", r.Scenario.Name, c.Column.Name, err)
			}
			switch {
			case d.Decided && (d.Live == nil || !d.Agree):
				t.Errorf("%s/%s: model %s, live %v", d.Scenario, d.Column, d.Model, d.Live)
			case d.Decided:
				decided++
			case d.Why == "":
				t.Errorf("%s/%s: undecided without a reason", d.Scenario, d.Column)
			default:
				undecided++
			}
		}
	}
	if decided == 0 {
		t.Errorf("no case decided on a usable kernel (%d undecided)", undecided)
	}
}

func TestKeyring(t *testing.T) {
	requireKernel(t)
	trust, err := bpfsig.LoadTrust("../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := NewKeyring(trust.Certs)
	if err != nil {
		t.Fatal(err)
	}
	if kr.ID <= 0 {
		t.Errorf("keyring serial %d", kr.ID)
	}
	listed := func() bool {
		b, err := os.ReadFile("/proc/keys")
		if err != nil {
			t.Skipf("no /proc/keys: %v", err)
		}
		return strings.Contains(string(b), fmt.Sprintf("%08x ", kr.ID))
	}
	if !listed() {
		t.Fatalf("keyring %08x not in /proc/keys", kr.ID)
	}
	if err := kr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := kr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The key garbage collector removes invalidated keys asynchronously.
	for deadline := time.Now().Add(5 * time.Second); listed(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("keyring %08x still in /proc/keys 5 s after Close", kr.ID)
		}
	}
}
