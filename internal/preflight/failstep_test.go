package preflight

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// runUntil returns the blob as a loader leaves it when its step k fails:
// every store before the call of step k has run (with a value that differs
// from the original bytes, as fds and pointers do), nothing after it.
func runUntil(inv *Inventory, orig []byte, k int) []byte {
	after := bytes.Clone(orig)
	limit := inv.Slots
	if k < len(inv.Steps) {
		limit = inv.Steps[k].Slot
	}
	for _, w := range inv.Writes {
		if w.Slot >= limit {
			continue
		}
		for i := w.Off; i < w.Off+w.Size; i++ {
			after[i] ^= 0x5a
		}
	}
	return after
}

// TestFailedStepEveryStep fails each step of each loader in turn.
func TestFailedStepEveryStep(t *testing.T) {
	type loader struct {
		name       string
		insn, data []byte
	}
	var ls []loader
	for _, n := range []string{"unsigned", "legacy-v1", "legacy-v2", "raw"} {
		f := parseFile(t, fixture(n))
		ls = append(ls, loader{n, f.Insn(), f.Data()})
	}
	f := parseFile(t, filepath.Join(testdata, "manyprogs", "manyprogs-40.lskel.h"))
	ls = append(ls, loader{"manyprogs-40", f.Insn(), f.Data()})
	g := newGen(layoutInnerFirst)
	g.mapCreate("a", 2, 8, true)
	g.mapUpdate(0, []byte{1, 2, 3, 4, 5, 6, 7, 8}, true)
	g.mapCreate("b", 1, 8, false)
	g.ksym("bpf_task_from_pid")
	g.progLoad("p0")
	g.progLoad("p1")
	g.finish()
	ls = append(ls, loader{"generated", g.insn, g.data})

	for _, l := range ls {
		inv, err := Analyze(l.insn, l.data)
		if err != nil {
			t.Fatal(err)
		}
		for k := range inv.Steps {
			got, ok := inv.FailedStep(l.data, runUntil(inv, l.data, k))
			if !ok || !blames(got, k) {
				t.Errorf("%s: step %d (%s) failed, FailedStep = %+v, %v", l.name, k, inv.Steps[k].What(), got, ok)
				continue
			}
			if l.name != "generated" && len(got.Others) > 0 {
				t.Errorf("%s: step %d: uncertain %s; every step of a real loader leaves a trace", l.name, k, got.What())
			}
			if got.Step != k {
				continue
			}
			st := inv.Steps[k]
			if st.Prog >= 0 && got.Program != inv.Progs[st.Prog].Name || st.Map >= 0 && got.Map != inv.Maps[st.Map].Name {
				t.Errorf("%s: step %d: %+v names the wrong object (step %+v)", l.name, k, got, st)
			}
		}
		// Nothing ran: a real loader's first step has a pointer store before
		// its call, so it stopped before its first step.
		if got, ok := inv.FailedStep(l.data, l.data); l.name != "generated" && (!ok || got.Step != -1) {
			t.Errorf("%s: untouched blob: %+v, %v, want before the first step", l.name, got, ok)
		}
		if _, ok := inv.FailedStep(l.data, l.data[1:]); ok {
			t.Errorf("%s: blob of another length accepted", l.name)
		}
	}
}

// blames reports whether f names step k, as certain or as an alternative.
func blames(f Failure, k int) bool {
	if f.Step == k {
		return true
	}
	for _, o := range f.Others {
		if o.Step == k {
			return true
		}
	}
	return false
}

// TestFailedStepUncertain: a BPF_MAP_CREATE without BTF or overrides leaves
// no trace before its call, so after a BPF_MAP_UPDATE_ELEM that went through
// either may have failed, and the answer says so.
func TestFailedStepUncertain(t *testing.T) {
	g := newGen(layoutInnerFirst)
	g.mapCreate("a", 2, 8, false)
	g.mapUpdate(0, []byte{1, 2, 3, 4, 5, 6, 7, 8}, false)
	g.mapCreate("b", 1, 8, false)
	g.progLoad("p0")
	g.finish()
	inv, err := Analyze(g.insn, g.data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"BPF_MAP_CREATE of map a",
		"BPF_MAP_UPDATE_ELEM of map a or BPF_MAP_CREATE of map b",
		"BPF_MAP_UPDATE_ELEM of map a or BPF_MAP_CREATE of map b",
		"BPF_PROG_LOAD of program p0",
	}
	for k := range inv.Steps {
		f, _ := inv.FailedStep(g.data, runUntil(inv, g.data, k))
		if f.What() != want[k] {
			t.Errorf("step %d failed: %q, want %q", k, f.What(), want[k])
		}
	}
}

func TestFailureWhat(t *testing.T) {
	g := newGen(layoutInnerFirst)
	g.mapCreate("a", 2, 8, false)
	g.ksym("bpf_task_from_pid")
	g.progLoad("p0")
	g.finish()
	inv, err := Analyze(g.insn, g.data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range inv.Steps {
		f, _ := inv.FailedStep(g.data, runUntil(inv, g.data, k))
		got = append(got, f.What())
	}
	f, _ := inv.FailedStep(g.data, g.data)
	got = append(got, f.What())
	want := "[BPF_MAP_CREATE of map a btf_find_by_name_kind(bpf_task_from_pid) for program p0 BPF_PROG_LOAD of program p0 BPF_MAP_CREATE of map a]"
	if fmt.Sprint(got) != want {
		t.Errorf("%s\nwant %s", fmt.Sprint(got), want)
	}
}
