package live_test

import (
	"os"
	"testing"

	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/live"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
	"golang.org/x/sys/unix"

	_ "github.com/bpfsig/bpfsig/chain"
	_ "github.com/bpfsig/bpfsig/legacy"
	_ "github.com/bpfsig/bpfsig/raw"
)

func kernel(t *testing.T) *live.Kernel {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loading syscall programs requires CAP_BPF and CAP_PERFMON")
	}
	k := live.Detect()
	if !k.Usable {
		t.Skipf("the running kernel lacks what a skeleton load needs: bpf %v, syscall programs %v, exclusive maps %v",
			k.Probe.BPF.Detail, k.Probe.SyscallProg.Detail, k.Probe.ExclusiveMaps.Detail)
	}
	return k
}

// TestDifferentialTamperMatrix: for every scenario × signing of the compare matrix that the
// running kernel can decide, the model's verdict equals the kernel's.
func TestDifferentialTamperMatrix(t *testing.T) {
	k := kernel(t)
	s := testfix.Signer(t)
	for _, from := range []string{"unsigned", "legacy-v1"} {
		rows, err := compare.Tamper(front.Skeleton(t, from), s, compare.Scenarios, compare.Columns())
		if err != nil {
			t.Fatal(err)
		}
		decided := 0
		for _, r := range rows {
			sc := r.Scenario
			for _, cell := range r.Cells {
				col := cell.Column
				d, err := live.Decide(k, sc.Name, col.Name, cell.Case, cell.Verdict)
				if err != nil {
					t.Fatalf("%s/%s: %v", sc.Name, col.Name, err)
				}
				if !d.Decided {
					if d.Why == "" {
						t.Errorf("%s/%s: undecided without a reason", sc.Name, col.Name)
					}
					continue
				}
				decided++
				if !d.Agree {
					t.Errorf("%s / %s (from %s): model %s, live kernel %s", sc.Name, col.Name, from, d.Model, d.Live)
				}
			}
		}
		// On a kernel that cannot verify signatures, 13 cases are decidable: intact (3),
		// flip-data (2), map-not-frozen (2), map-not-exclusive (2), map-hash-not-computed (3),
		// old-signature-on-raw-kernel (1). A verifying kernel decides more.
		if min := 13; decided < min {
			t.Errorf("from %s: the live kernel decided %d cases, want at least %d", from, decided, min)
		}
		t.Logf("from %s: %d cases decided live, all compared", from, decided)
	}
}

// TestLoadFixtures: the live checks, through the same mapping the CLI uses.
func TestLoadFixtures(t *testing.T) {
	k := kernel(t)
	run := func(name string, scheme compat.Scheme, cond compat.Conditions, mode live.Mode) live.Cell {
		t.Helper()
		a := testfix.Artifact(t, name)
		spec, err := live.Spec(a, scheme, cond, mode, 0)
		if err != nil {
			t.Fatal(err)
		}
		r, err := bpfsys.Load(spec)
		if err != nil {
			t.Fatal(err)
		}
		return live.Classify(mode, r)
	}
	retval := func(c live.Cell) int32 {
		if c.Retval == nil {
			t.Fatalf("loader did not run: %s", c)
		}
		return *c.Retval
	}
	for _, n := range []string{"legacy-v1", "legacy-v2"} {
		if c := run(n, compat.Legacy, compat.Conditions{}, live.Unsigned); c.Outcome != compat.Accepted || retval(c) != 0 {
			t.Errorf("%s unsigned load: %s, want accepted with retval 0", n, c)
		}
		if c := run(n, compat.Legacy, compat.Conditions{MapHashNotComputed: true}, live.Unsigned); retval(c) != -22 {
			t.Errorf("%s without the hash request: %s, want run -22", n, c)
		}
	}
	if c := run("legacy-v2", compat.Legacy, compat.Conditions{MapNotExclusive: true}, live.Unsigned); retval(c) != -22 {
		t.Errorf("legacy-v2 with a non-exclusive map: %s, want run -22", c)
	}
	if c := run("legacy-v1", compat.Legacy, compat.Conditions{MapNotExclusive: true}, live.Unsigned); retval(c) != 0 {
		t.Errorf("legacy-v1 with a non-exclusive map: %s, want accepted (CVE-2026-80675)", c)
	}
	if c := run("raw", compat.Raw, compat.Conditions{}, live.Unsigned); c.Outcome != compat.Accepted {
		t.Errorf("raw unsigned load: %s, want accepted", c)
	}
	if c := run("chain", compat.Chain, compat.Conditions{}, live.Unsigned); c.Errno != unix.E2BIG || c.Stage != compat.StageAdmission {
		t.Errorf("chain procedure: %s, want admission E2BIG on a kernel without the chain fields", c)
	}
	c := run("legacy-v2", compat.Legacy, compat.Conditions{}, live.Signed)
	switch {
	case !k.CanVerify && c.Errno != unix.EOPNOTSUPP:
		t.Errorf("signed load on a kernel without signature verification: %s, want EOPNOTSUPP", c)
	case k.CanVerify && c.Errno == unix.EOPNOTSUPP:
		t.Errorf("probe says signatures are verified, but the signed load answered EOPNOTSUPP")
	}
}
