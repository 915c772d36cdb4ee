package preflight

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(name string) string { return filepath.Join(testdata, "minimal", name+".skel.h") }

// TestAnalyzeFixtures pins the inventory of the real loaders.
func TestAnalyzeFixtures(t *testing.T) {
	type mapWant struct {
		name               string
		valueOff           int
		initial, maxEntrie bool
	}
	minimalMaps := func(overrides bool) []mapWant {
		return []mapWant{{"counts", -1, false, overrides}, {"minimal.rodata", 2496, overrides, overrides}, {"minimal.bss", 2624, overrides, overrides}}
	}
	tests := []struct {
		path  string
		maps  []mapWant
		progs []string
		steps []string
	}{
		{fixture("unsigned"), minimalMaps(true), []string{"handle_openat"}, nil},
		{fixture("legacy-v1"), minimalMaps(true), []string{"handle_openat"}, nil},
		{fixture("legacy-v2"), minimalMaps(false), []string{"handle_openat"}, nil},
		{fixture("chain"), minimalMaps(true), []string{"handle_openat"}, nil},
		{fixture("raw"), minimalMaps(false), []string{"handle_openat"},
			[]string{"BPF_BTF_LOAD", "BPF_MAP_CREATE", "BPF_MAP_CREATE", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_FREEZE", "BPF_MAP_CREATE", "BPF_MAP_UPDATE_ELEM", "BPF_PROG_LOAD"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			f := parseFile(t, tt.path)
			inv, err := Analyze(f.Insn(), f.Data())
			if err != nil {
				t.Fatal(err)
			}
			if inv.StackSize != 136 {
				t.Errorf("stack %d, want 136", inv.StackSize)
			}
			if len(inv.Maps) != len(tt.maps) {
				t.Fatalf("%d maps, want %d", len(inv.Maps), len(tt.maps))
			}
			for i, w := range tt.maps {
				m := inv.Maps[i]
				if m.Index != i || m.Name != w.name || m.ValueOff != w.valueOff || m.InitialOverride != w.initial || m.MaxEntriesOverride != w.maxEntrie {
					t.Errorf("map %d = %+v, want %+v", i, m, w)
				}
			}
			var progs []string
			for _, p := range inv.Progs {
				progs = append(progs, p.Name)
				if p.InsnOff != 2680 || p.InsnCnt != 33 || p.FDSlot != -128 {
					t.Errorf("prog %+v, want insns at 2680, 33 insns, fd at r10-128", p)
				}
			}
			if fmt.Sprint(progs) != fmt.Sprint(tt.progs) {
				t.Errorf("progs %v, want %v", progs, tt.progs)
			}
			if tt.steps != nil {
				var got []string
				for _, s := range inv.Steps {
					got = append(got, s.What())
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.steps) {
					t.Errorf("steps %v, want %v", got, tt.steps)
				}
			}
			// The fixtures bind only fd_array[0], the metadata map.
			for _, b := range inv.Bindings {
				if b.Kind != "map_idx_value" && b.Kind != "map_idx" || b.Index != 0 {
					t.Errorf("binding %+v, want fd_array[0] only", b)
				}
			}
			_, fs, err := Check(FromFile(f, Mainline))
			if err != nil || len(fs) != 0 {
				t.Errorf("Check(mainline) = %v, %v; want no findings", fs, err)
			}
		})
	}
}

// TestProgSlotsReal: real bpftool 7.1 / libbpf 1.1 skeletons with 32, 33 and
// 40 programs. On this generator's stack layout the 33rd program's fd lands
// at r10+0; a 6.18 kernel's verifier refuses exactly that store (see
// internal/live's tests for the live load).
func TestProgSlotsReal(t *testing.T) {
	for _, tt := range []struct {
		n       int
		finding string
	}{
		{32, ""},
		{33, "error [verifier EACCES] prog-fd-slots: the loader loads 33 programs, but libbpf's loader generator keeps program fds in a fixed area of 32 stack slots (MAX_USED_PROGS) and does not check the count: program #33 (prog_40) has its fd stored at r10+0 (slot 1978), outside the loader's 136-byte stack, so every kernel's verifier rejects the loader (\"invalid write to stack R10 off=0 size=4\")"},
		{40, "error [verifier EACCES] prog-fd-slots: the loader loads 40 programs, but libbpf's loader generator keeps program fds in a fixed area of 32 stack slots (MAX_USED_PROGS) and does not check the count: program #33 (prog_40) has its fd stored at r10+0 (slot 1999), outside the loader's 136-byte stack, so every kernel's verifier rejects the loader (\"invalid write to stack R10 off=0 size=4\")"},
	} {
		f := parseFile(t, filepath.Join(testdata, "manyprogs", fmt.Sprintf("manyprogs-%d.lskel.h", tt.n)))
		inv, fs, err := Check(FromFile(f, AnyKernel))
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Progs) != tt.n || len(inv.Maps) != 1 {
			t.Errorf("%d programs: inventory has %d programs, %d maps", tt.n, len(inv.Progs), len(inv.Maps))
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.String())
		}
		want := []string{}
		if tt.finding != "" {
			want = append(want, tt.finding)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d programs: findings\n%s\nwant\n%s", tt.n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestProgSlotsEveryCount: for both stack layouts and 0..40 programs, the
// finding is an error exactly when a program's fd store leaves the frame.
func TestProgSlotsEveryCount(t *testing.T) {
	for _, layout := range []int{layoutInnerFirst, layoutProgsFirst} {
		for n := 0; n <= 40; n++ {
			g := newGen(layout)
			g.mapCreate("bss", 2, 8, false)
			for i := 0; i < n; i++ {
				g.progLoad(fmt.Sprintf("p%d", i))
			}
			g.finish()
			inv, fs, err := Check(g.input())
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Progs) != n {
				t.Fatalf("layout %d, %d programs: analyzed %d", layout, n, len(inv.Progs))
			}
			// First program whose 4-byte store ends past r10.
			first := -1
			for i := 0; i < n; i++ {
				if -136+layout+4*i+4 > 0 {
					first = i
					break
				}
			}
			var sev []string
			for _, f := range fs {
				sev = append(sev, f.Severity.String())
				if f.Rule != RuleProgSlots {
					t.Errorf("layout %d, %d programs: unexpected %s", layout, n, f)
				}
			}
			switch {
			case first >= 0:
				if len(fs) != 1 || fs[0].Severity != Error || fs[0].Stage != StageVerifier || fs[0].Program != fmt.Sprintf("p%d", first) ||
					fs[0].Slot != inv.Progs[first].FDStoreSlot || !strings.Contains(fs[0].Reason, "MAX_USED_PROGS") {
					t.Errorf("layout %d, %d programs: %v, want one verifier error naming p%d", layout, n, fs, first)
				}
			case n > MaxUsedProgs:
				if len(fs) != 1 || fs[0].Severity != Warning {
					t.Errorf("layout %d, %d programs: %v, want a warning", layout, n, sev)
				}
			default:
				if len(fs) != 0 {
					t.Errorf("layout %d, %d programs: %v, want none", layout, n, fs)
				}
			}
		}
	}
}

// TestInitialValueEveryByte changes each byte of each data[] literal, and
// the length, under a loader with host overrides (legacy v1, chain, unsigned)
// and under loaders without (raw, legacy v2).
func TestInitialValueEveryByte(t *testing.T) {
	for _, tt := range []struct {
		fixture  string
		severity Severity
		stage    Stage
	}{
		{"legacy-v1", Error, StageSetup},
		{"chain", Error, StageSetup},
		{"unsigned", Error, StageSetup},
		{"legacy-v2", Warning, ""},
		{"raw", Warning, ""},
	} {
		f := parseFile(t, fixture(tt.fixture))
		base := FromFile(f, AnyKernel)
		if _, fs, err := Check(base); err != nil || len(fs) != 0 {
			t.Fatalf("%s intact: %v %v", tt.fixture, fs, err)
		}
		for li, iv := range base.InitialValues {
			var variants []struct {
				data []byte
				at   int
			}
			for at := range iv.Data {
				d := bytes.Clone(iv.Data)
				d[at] ^= 0x80
				variants = append(variants, struct {
					data []byte
					at   int
				}{d, at})
			}
			variants = append(variants,
				struct {
					data []byte
					at   int
				}{iv.Data[:len(iv.Data)-1], len(iv.Data) - 1},
				struct {
					data []byte
					at   int
				}{append(bytes.Clone(iv.Data), 0), len(iv.Data)})
			for _, v := range variants {
				in := base
				in.InitialValues = append([]InitialValue(nil), base.InitialValues...)
				in.InitialValues[li].Data = v.data
				_, fs, err := Check(in)
				if err != nil {
					t.Fatal(err)
				}
				if len(fs) != 1 {
					t.Fatalf("%s %s byte %d: %v, want one finding", tt.fixture, iv.Map, v.at, fs)
				}
				g := fs[0]
				if g.Rule != RuleInitialValue || g.Map != iv.Map || g.Offset != v.at || g.Severity != tt.severity || g.Stage != tt.stage {
					t.Errorf("%s %s byte %d: %s (offset %d), want %s at offset %d", tt.fixture, iv.Map, v.at, g, g.Offset, tt.severity, v.at)
				}
			}
		}
	}
}

// TestInitialValueHeaderEdit: one byte of the committed v1 header's rodata
// literal edited in the text (testdata/broken) fails verify at setup.
func TestInitialValueHeaderEdit(t *testing.T) {
	for name, want := range map[string]string{
		"legacy-v1-rodata-edited.skel.h": "error [setup] header-initial-value: the header's data[] literal for map rodata (line 79, 4 bytes) differs from the initial value the signed metadata carries (blob offset 2496, 4 bytes) first at byte 0 (header 0x2a, signed 0x00): this loader copies the host's copy over the signed value (an initial_value override block), so the kernel gets bytes the signature does not cover and cannot notice",
		"raw-rodata-edited.skel.h":       "warning header-initial-value: the header's data[] literal for map rodata (line 79, 4 bytes) differs from the initial value the signed metadata carries (blob offset 2496, 4 bytes) first at byte 0 (header 0x2a, signed 0x00): this loader has no host override for the map, so the copy is ignored and the map gets the signed value",
	} {
		f := parseFile(t, filepath.Join(testdata, "broken", name))
		_, fs, err := Check(FromFile(f, AnyKernel))
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].String() != want {
			t.Errorf("%s: %v\nwant %s", name, fs, want)
		}
	}
}

func TestInitialValueUnresolved(t *testing.T) {
	f := parseFile(t, fixture("legacy-v1"))
	for _, tt := range []struct {
		iv   InitialValue
		want string
	}{
		{InitialValue{Map: "", Data: []byte{0}, Line: 7}, "data[] literal at line 7: no skel->MAP assignment follows it"},
		{InitialValue{Map: "nosuch", Data: []byte{0}, Line: 7}, `map "nosuch" is not a member`},
		{InitialValue{Map: "counts", Data: []byte{0}, Line: 7}, "writes no initial value into map counts"},
	} {
		in := FromFile(f, AnyKernel)
		in.InitialValues = []InitialValue{tt.iv}
		_, fs, err := Check(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].Severity != Warning || !strings.Contains(fs[0].Reason, tt.want) {
			t.Errorf("%+v: %v, want a warning containing %q", tt.iv, fs, tt.want)
		}
	}
	// A map the loader does not create.
	in := FromFile(f, AnyKernel)
	in.Maps = append(in.Maps, "extra")
	in.InitialValues = []InitialValue{{Map: "extra", Data: []byte{0}, Line: 9}}
	if _, fs, _ := Check(in); len(fs) != 1 || !strings.Contains(fs[0].Reason, "creates no map #3") {
		t.Errorf("extra map: %v", fs)
	}
}

// TestMainline injects, one at a time, each binding the merged kernel
// refuses in a signed loader into an otherwise clean generated loader.
func TestMainline(t *testing.T) {
	clean := func() *tgen {
		g := newGen(layoutInnerFirst)
		g.mapCreate("bss", 2, 8, false)
		g.mapUpdate(0, make([]byte, 8), false)
		return g
	}
	tests := []struct {
		name   string
		inject func(g *tgen)
		folded []uint32
		rule   string
		sev    Severity
		stage  Stage
	}{
		{"clean", func(*tgen) {}, nil, "", 0, ""},
		{"map by raw fd", func(g *tgen) { g.ld64(1, 1, 5, 0) }, nil, RuleMapFD, Error, StageVerifier},
		{"map value by raw fd", func(g *tgen) { g.ld64(1, 2, 5, 16) }, nil, RuleMapFD, Error, StageVerifier},
		{"ksym", func(g *tgen) { g.ld64(1, 3, 1234, 0) }, nil, RuleBTF, Error, StageVerifier},
		{"module kfunc", func(g *tgen) { g.emit(0x85, 0, 2, 1, 4321) }, nil, RuleModuleKfunc, Error, StageVerifier},
		{"vmlinux kfunc", func(g *tgen) { g.emit(0x85, 0, 2, 0, 4321) }, nil, "", 0, ""},
		{"fd_array[1]", func(g *tgen) { g.ld64(1, 6, 1, 0) }, nil, RuleFdArray, Error, StageVerifier},
		{"fd_array[1] folded", func(g *tgen) { g.ld64(1, 6, 1, 0) }, []uint32{2, 2}, "", 0, ""},
		{"map_by_idx(2)", func(g *tgen) { g.ld64(1, 5, 2, 0) }, nil, RuleFdArray, Error, StageVerifier},
		{"folded hash map", func(*tgen) {}, []uint32{1}, RuleFoldedMapType, Error, StageAdmission},
		{"inner ksym", func(g *tgen) { g.ksym("bpf_task_from_pid") }, nil, RuleInnerKsym, Info, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := clean()
			tt.inject(g)
			g.progLoad("p")
			g.finish()
			in := g.input()
			in.FoldedMapTypes = tt.folded
			_, any, err := Check(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(any) != 0 {
				t.Errorf("without the mainline profile: %v", any)
			}
			in.Profile = Mainline
			_, fs, err := Check(in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rule == "" {
				if len(fs) != 0 {
					t.Errorf("%v, want none", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Rule != tt.rule || fs[0].Severity != tt.sev || fs[0].Stage != tt.stage {
				t.Fatalf("%v, want one %s %s at %q", fs, tt.sev, tt.rule, tt.stage)
			}
			if tt.stage == StageVerifier && !fs[0].AfterLSM {
				t.Errorf("%s: refused in the verifier but not marked after the LSM hook", fs[0])
			}
			if tt.rule == RuleInnerKsym && (fs[0].Program != "p" || !strings.Contains(fs[0].Reason, `"bpf_task_from_pid"`)) {
				t.Errorf("inner ksym finding %s, want the symbol and program p", fs[0])
			}
		})
	}
}

func TestSizes(t *testing.T) {
	g := newGen(layoutInnerFirst)
	g.mapCreate("bss", 2, 8, false)
	g.progLoad("p")
	g.finish()
	for _, tt := range []struct {
		pad     int
		profile Profile
		rules   []string
	}{
		{0, Mainline, nil},
		{MaxArrayValue - len(g.data), Mainline, nil},
		{MaxArrayValue - len(g.data) + 8, AnyKernel, []string{RuleMetadataSize}},
		{MaxSignedPayload - len(g.data) - len(g.insn), Mainline, []string{RuleMetadataSize}},
		{MaxSignedPayload - len(g.data) - len(g.insn) + 1, Mainline, []string{RuleMetadataSize, RulePayloadSize}},
	} {
		in := g.input()
		in.Data = append(bytes.Clone(g.data), make([]byte, tt.pad)...)
		in.Profile = tt.profile
		_, fs, err := Check(in)
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, f := range fs {
			rules = append(rules, f.Rule)
			if f.Severity != Error {
				t.Errorf("%s is not an error", f)
			}
		}
		if fmt.Sprint(rules) != fmt.Sprint(tt.rules) {
			t.Errorf("blob of %d bytes (%s): %v, want %v", len(in.Data), tt.profile, rules, tt.rules)
		}
	}
}

// TestAnalyzeRejects: malformed loaders are refused with ErrNotLoader, and
// no prefix or single-byte change of a real loader panics.
func TestAnalyzeRejects(t *testing.T) {
	f := parseFile(t, fixture("legacy-v1"))
	insn, data := f.Insn(), f.Data()
	bad := map[string][]byte{
		"empty":          nil,
		"odd size":       insn[:len(insn)-3],
		"too short":      insn[:6*SlotSize],
		"split ld_imm64": append(bytes.Clone(insn[:7*SlotSize]), 0x18, 0, 0, 0, 0, 0, 0, 0),
	}
	for i := 0; i < 6; i++ {
		b := bytes.Clone(insn)
		b[i*SlotSize+4] ^= 1
		if i == 0 {
			b[i*SlotSize+1] ^= 0x20
		}
		bad[fmt.Sprintf("prologue slot %d", i)] = b
	}
	for name, b := range bad {
		if _, err := Analyze(b, data); !errors.Is(err, ErrNotLoader) {
			t.Errorf("%s: err = %v, want ErrNotLoader", name, err)
		}
	}
	// Attr outside the blob.
	if _, err := Analyze(insn, data[:2400]); !errors.Is(err, ErrNotLoader) || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("short blob: %v", err)
	}
	for n := 0; n <= len(insn); n += SlotSize {
		Analyze(insn[:n], data)
	}
	for i := 0; i < len(insn); i++ {
		b := bytes.Clone(insn)
		b[i] ^= 0xff
		if inv, err := Analyze(b, data); err == nil {
			inv.FailedStep(data, data)
		}
	}
}
