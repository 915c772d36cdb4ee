package preflight

import (
	"path/filepath"
	"testing"
)

// FuzzAnalyze: any loader and blob are analyzed or refused, never a panic,
// and whatever is analyzed can be checked and asked where a run failed.
func FuzzAnalyze(f *testing.F) {
	for _, n := range []string{"unsigned", "legacy-v1", "raw"} {
		x := parseFile(f, fixture(n))
		f.Add(x.Insn(), x.Data(), x.Data())
	}
	x := parseFile(f, filepath.Join(testdata, "manyprogs", "manyprogs-33.lskel.h"))
	f.Add(x.Insn(), x.Data(), x.Data())
	g := newGen(layoutProgsFirst)
	g.mapCreate("a", 2, 8, true)
	g.mapUpdate(0, make([]byte, 8), true)
	g.ksym("k")
	g.progLoad("p")
	g.finish()
	f.Add(g.insn, g.data, g.data)
	f.Fuzz(func(t *testing.T, insn, data, after []byte) {
		inv, err := Analyze(insn, data)
		if err != nil {
			return
		}
		inv.FailedStep(data, after)
		Check(Input{Insn: insn, Data: data, Profile: Mainline,
			InitialValues: []InitialValue{{Map: "a", Data: after}}, Maps: []string{"a", "b"}})
	})
}
