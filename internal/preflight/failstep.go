package preflight

import (
	"fmt"
	"strings"
)

// Failure says where a loader run stopped.
type Failure struct {
	// Step indexes Inventory.Steps; -1 when the loader stopped before its
	// first step (a legacy loader's metadata check).
	Step int
	// Kind, Cmd and Symbol repeat the step's (empty, -1 and "" before the
	// first step).
	Kind   string
	Cmd    int
	Symbol string
	// Map and Program name the object the step creates or acts on (the
	// kernel names from the blob), "" for none.
	Map, Program string
	// ProgIndex and MapIndex index Inventory.Progs / Inventory.Maps, -1 for none.
	ProgIndex, MapIndex int
	// Others are the steps after Step that may have failed instead: steps
	// that leave no trace in the blob when they succeed and whose successors
	// leave none before their own call (empty when Step is certain).
	Others []Failure
}

// What describes the failing step: "BPF_PROG_LOAD of program prog_40",
// "before its first step"; uncertain alternatives are joined with "or".
func (f Failure) What() string {
	w := []string{f.what()}
	for _, o := range f.Others {
		w = append(w, o.what())
	}
	return strings.Join(w, " or ")
}

func (f Failure) what() string {
	if f.Step < 0 {
		return "before its first step (the loader's own check)"
	}
	s := Step{Kind: f.Kind, Cmd: f.Cmd, Symbol: f.Symbol}.What()
	switch {
	case f.Program != "" && f.Cmd == CmdProgLoad:
		return fmt.Sprintf("%s of program %s", s, f.Program)
	case f.Program != "":
		return fmt.Sprintf("%s for program %s", s, f.Program)
	case f.Map != "":
		return fmt.Sprintf("%s of map %s", s, f.Map)
	}
	return s
}

// FailedStep tells which step stopped a loader that returned an error, from
// the metadata blob before (orig) and after (after) the run.
//
// The loader runs its steps in slot order and leaves at the first failure, so
// every store it made into the blob came before the failing call. A store
// whose bytes differ between orig and after ran; the failing step is the
// first step after the last such store. A step that succeeds may leave no
// trace (a BPF_MAP_CREATE without BTF or overrides writes nothing before its
// call); unless a store that always changes the blob — a pointer, or an fd
// over zero bytes — lies between it and the next step, the next step may have
// failed instead, and Failure.Others lists it. When no store ran and a sure
// store precedes the first step, the loader stopped before it (Step -1).
//
// It assumes a failed run: a run that completed looks like a failure of its
// last step. ok is false when after does not have orig's length or the
// loader has no steps.
func (inv *Inventory) FailedStep(orig, after []byte) (Failure, bool) {
	if len(orig) != len(after) || len(inv.Steps) == 0 {
		return Failure{}, false
	}
	in := func(w Write) bool { return w.Off >= 0 && w.Off+w.Size <= len(orig) }
	sure := func(w Write) bool {
		if !in(w) || !(w.Pointer || w.FD || w.From >= 0) {
			return false
		}
		for _, c := range orig[w.Off : w.Off+w.Size] {
			if c != 0 {
				return false
			}
		}
		return true
	}
	last := -1
	for _, w := range inv.Writes {
		if in(w) && string(orig[w.Off:w.Off+w.Size]) != string(after[w.Off:w.Off+w.Size]) && w.Slot > last {
			last = w.Slot
		}
	}
	first := -1
	for i, st := range inv.Steps {
		if st.Slot > last {
			first = i
			break
		}
	}
	if first < 0 {
		first = len(inv.Steps) - 1 // a completed run; see above
	}
	if last < 0 {
		for _, w := range inv.Writes {
			if w.Slot < inv.Steps[0].Slot && sure(w) {
				return Failure{Step: -1, Cmd: -1, ProgIndex: -1, MapIndex: -1}, true
			}
		}
	}
	f := inv.failure(first)
	for j := first; j+1 < len(inv.Steps); j++ {
		traced := false
		for _, w := range inv.Writes {
			if w.Slot > inv.Steps[j].Slot && w.Slot < inv.Steps[j+1].Slot && sure(w) {
				traced = true
				break
			}
		}
		if traced {
			break
		}
		f.Others = append(f.Others, inv.failure(j+1))
	}
	return f, true
}

func (inv *Inventory) failure(idx int) Failure {
	st := inv.Steps[idx]
	f := Failure{Step: idx, Kind: st.Kind, Cmd: st.Cmd, Symbol: st.Symbol, ProgIndex: st.Prog, MapIndex: st.Map}
	if st.Prog >= 0 {
		f.Program = inv.Progs[st.Prog].Name
	}
	if st.Map >= 0 {
		f.Map = inv.Maps[st.Map].Name
	}
	if st.Kind != StepSysBPF && f.Program == "" {
		// A ksym lookup belongs to the next program the loader loads.
		for _, p := range inv.Progs {
			if inv.Steps[p.LoadStep].Slot > st.Slot {
				f.Program, f.ProgIndex = p.Name, p.Index
				break
			}
		}
	}
	return f
}
