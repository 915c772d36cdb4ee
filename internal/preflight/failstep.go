package preflight

import "fmt"

// Failure says where a loader run stopped.
type Failure struct {
	// Step indexes Inventory.Steps; -1 when the loader stopped before its
	// first step (a legacy loader's metadata check).
	Step int
	// Kind and Cmd repeat the step's (empty and -1 before the first step).
	Kind string
	Cmd  int
	// Map and Program name the object the step creates or acts on (the
	// kernel names from the blob), "" for none.
	Map, Program string
	// ProgIndex and MapIndex index Inventory.Progs / Inventory.Maps, -1 for none.
	ProgIndex, MapIndex int
}

// What describes the failing step: "BPF_PROG_LOAD of program prog_40",
// "before its first step".
func (f Failure) What() string {
	if f.Step < 0 {
		return "before its first step (the loader's own check)"
	}
	s := Step{Kind: f.Kind, Cmd: f.Cmd}.What()
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

// FailedStep tells which step of a failed run stopped the loader, from the
// metadata blob before (orig) and after (after) the run.
//
// The loader runs its steps in slot order and leaves at the first failure, so
// every store it made into the blob happened before the failing call. A store
// whose bytes differ between orig and after ran; the failing step is the first
// step after the last such store. When no store ran: if the first step is
// preceded by a pointer store (which always changes the blob), the loader
// stopped before its first step, else the first step failed. ok is false when
// after does not have orig's length or the loader has no steps.
func (inv *Inventory) FailedStep(orig, after []byte) (Failure, bool) {
	if len(orig) != len(after) || len(inv.Steps) == 0 {
		return Failure{}, false
	}
	last := -1
	for _, w := range inv.Writes {
		if w.Off < 0 || w.Off+w.Size > len(orig) {
			continue
		}
		if string(orig[w.Off:w.Off+w.Size]) != string(after[w.Off:w.Off+w.Size]) && w.Slot > last {
			last = w.Slot
		}
	}
	idx := -1
	if last < 0 {
		first := inv.Steps[0].Slot
		for _, w := range inv.Writes {
			if w.Pointer && w.Slot < first {
				return Failure{Step: -1, Cmd: -1, ProgIndex: -1, MapIndex: -1}, true
			}
		}
		idx = 0
	} else {
		for i, st := range inv.Steps {
			if st.Slot > last {
				idx = i
				break
			}
		}
		if idx < 0 {
			return Failure{}, false // the failure came after the last step
		}
	}
	st := inv.Steps[idx]
	f := Failure{Step: idx, Kind: st.Kind, Cmd: st.Cmd, ProgIndex: st.Prog, MapIndex: st.Map}
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
	return f, true
}
