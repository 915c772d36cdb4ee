package live_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/live"
	"github.com/bpfsig/bpfsig/internal/preflight"
	"github.com/bpfsig/bpfsig/internal/skel"
)

func open(t *testing.T, path string) *skel.Doc {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("../../testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	d, err := skel.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// load runs a's own procedure unsigned, with the loader-context log buffer.
func load(t *testing.T, a compat.Artifact, logSize int) *bpfsys.LoadResult {
	t.Helper()
	det, _ := compat.Detect(a)
	scheme := live.HostScheme(det.Scheme)
	spec, err := live.Spec(a, scheme, compat.Conditions{}, live.Unsigned, 0)
	if err != nil {
		t.Fatal(err)
	}
	spec.InnerLogSize = logSize
	res, err := bpfsys.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestManyProgsVerifierAgreesWithPreflight: the real 33- and 40-program
// skeletons (bpftool 7.1) are refused by this kernel's verifier with exactly
// the error line and at exactly the slot the static finding names, and the
// 32-program one loads.
func TestManyProgsVerifierAgreesWithPreflight(t *testing.T) {
	kernel(t)
	for _, n := range []string{"32", "33", "40"} {
		a := open(t, "manyprogs/manyprogs-"+n+".lskel.h")
		_, fs, err := preflight.Check(preflight.FromFile(a.File(), preflight.AnyKernel))
		if err != nil {
			t.Fatal(err)
		}
		res := load(t, a, live.DefaultInnerLogSize)
		pl := res.Stage(bpfsys.StageProgLoad)
		if n == "32" {
			if !res.OK || len(fs) != 0 || len(res.Created) != 33 {
				t.Errorf("32 programs: OK=%v findings=%v created %d objects, want a clean load of 1 map and 32 programs", res.OK, fs, len(res.Created))
			}
			continue
		}
		if len(fs) != 1 || fs[0].Rule != preflight.RuleProgSlots || fs[0].Stage != preflight.StageVerifier {
			t.Fatalf("%s programs: findings %v", n, fs)
		}
		line := bpfsys.VerifierError(pl.Log)
		if pl.Errno == 0 || line != "invalid write to stack R10 off=0 size=4" || !strings.Contains(fs[0].Reason, `"`+line+`"`) {
			t.Errorf("%s programs: prog_load %v, verifier %q; finding %q", n, pl.Errno, line, fs[0].Reason)
		}
		if want := strings.Fields(lineBefore(pl.Log, line)); len(want) == 0 || want[0] != itoa(fs[0].Slot)+":" {
			t.Errorf("%s programs: the verifier stopped at %q, the finding names slot %d", n, lineBefore(pl.Log, line), fs[0].Slot)
		}
	}
}

func lineBefore(log, line string) string {
	lines := strings.Split(log, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] == line {
			return lines[i-1]
		}
	}
	return ""
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

// TestExplainInnerFailure: a loader whose program the verifier refuses
// (testdata/broken/inner-fails.skel.h) is reported by program name, step,
// retval and the verifier's line from the loader-context log buffer.
func TestExplainInnerFailure(t *testing.T) {
	kernel(t)
	a := open(t, "broken/inner-fails.skel.h")
	res := load(t, a, live.DefaultInnerLogSize)
	f, err := live.Explain(a, res)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		t.Fatalf("no failure explained: OK=%v retval=%v", res.OK, res.Retval)
	}
	if f.Step != "BPF_PROG_LOAD" || f.Program != "handle_openat" || f.Retval != -22 || f.Errno != "EINVAL" ||
		f.ErrorLine != "unreachable insn 1" || f.What != "BPF_PROG_LOAD of program handle_openat" {
		t.Errorf("failure %+v", f)
	}
	// Without the buffer the kernel writes no log; the step is still named.
	res = load(t, a, 0)
	if f, err = live.Explain(a, res); err != nil || f == nil || f.Program != "handle_openat" || f.Log != "" {
		t.Errorf("without a log buffer: %+v, %v", f, err)
	}
}

// TestExplainLegacyCheck: a legacy loader whose metadata no longer matches
// its check stops before its first step.
func TestExplainLegacyCheck(t *testing.T) {
	kernel(t)
	a := open(t, "minimal/legacy-v2.skel.h")
	d := append([]byte(nil), a.Data()...)
	d[len(d)-1] ^= 1
	a, err := a.Blobs(a.Insn(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := load(t, a, live.DefaultInnerLogSize)
	f, err := live.Explain(a, res)
	if err != nil || f == nil {
		t.Fatalf("%+v, %v (retval %v)", f, err, res.Retval)
	}
	if f.Step != "" || f.Retval != -22 || !strings.Contains(f.What, "before its first step") {
		t.Errorf("failure %+v", f)
	}
}

// TestInnerLogDoesNotChangeOutcome: every fixture loads with the log buffer
// as without it, and a buffer too small for a successful program's log
// (which the kernel answers with ENOSPC) makes Load repeat without it.
func TestInnerLogDoesNotChangeOutcome(t *testing.T) {
	kernel(t)
	for _, n := range []string{"unsigned", "legacy-v1", "legacy-v2", "raw"} {
		a := open(t, "minimal/"+n+".skel.h")
		res := load(t, a, live.DefaultInnerLogSize)
		if !res.OK || res.InnerLog != "" || res.InnerLogDropped || len(res.Created) != 4 {
			t.Errorf("%s: OK=%v inner log %q dropped=%v created %d", n, res.OK, res.InnerLog, res.InnerLogDropped, len(res.Created))
		}
		if len(res.DataAfter) != len(a.Data()) || bytes.Equal(res.DataAfter, a.Data()) {
			t.Errorf("%s: metadata read back as %d bytes, unchanged=%v; the loader writes fds into it", n, len(res.DataAfter), bytes.Equal(res.DataAfter, a.Data()))
		}
		if f, err := live.Explain(a, res); f != nil || err != nil {
			t.Errorf("%s: successful load explained as %+v, %v", n, f, err)
		}
	}
	a := open(t, "minimal/raw.skel.h")
	res := load(t, a, 16)
	if !res.OK || !res.InnerLogDropped || res.Attempts < 2 {
		t.Errorf("16-byte log: OK=%v dropped=%v attempts=%d log %q", res.OK, res.InnerLogDropped, res.Attempts, res.InnerLog)
	}
}
