package preflight

import (
	"fmt"
	"strings"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/lskel"
)

// Severity grades a finding.
type Severity int

const (
	// Info is a fact worth reporting that changes no verdict.
	Info Severity = iota
	// Warning is a defect that does not stop the load.
	Warning
	// Error is a defect that makes the load fail (at Finding.Stage) or that
	// lets bytes the signature does not cover reach the kernel; it fails
	// `verify`.
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Stage is where a load stops because of a finding: the verdicts' stages.
type Stage = compat.Stage

const (
	StageSetup     = compat.StageSetup     // the host's preparation before BPF_PROG_LOAD
	StageAdmission = compat.StageAdmission // before security_bpf_prog_load
	StageVerifier  = compat.StageVerifier  // the verifier, after the LSM hook
	StageRun       = compat.StageRun       // the loader's own run
)

// Rules, the stable names of what Check looks for.
const (
	RuleProgSlots     = "prog-fd-slots" // more programs than gen_loader's stack area holds
	RuleInitialValue  = "header-initial-value"
	RuleMetadataSize  = "metadata-size"   // blob larger than an array map value can be
	RuleMapFD         = "mainline-map-fd" // loader binds a map by raw fd
	RuleBTF           = "mainline-btf"    // loader binds a BTF id (ksym)
	RuleModuleKfunc   = "mainline-module-kfunc"
	RuleFdArray       = "mainline-fd-array" // loader uses an fd_array slot the host does not fill
	RuleFoldedMapType = "mainline-folded-map-type"
	RulePayloadSize   = "mainline-payload-size"
	RuleInnerKsym     = "inner-ksym" // the loader resolves a ksym for an inner program
)

// Limits the rules name.
const (
	// MaxUsedProgs is gen_loader.c's MAX_USED_PROGS: the program-fd slots of
	// struct loader_stack.
	MaxUsedProgs = 32
	// MaxArrayValue is KMALLOC_MAX_SIZE on x86-64 with 4 KiB pages
	// (MAX_PAGE_ORDER 10): array_map_alloc_check() refuses a larger
	// value_size with E2BIG, so the metadata map cannot be created.
	MaxArrayValue = 4 << 20
	// MaxSignedPayload bounds insns ‖ folded maps in a mainline signed load:
	// the kernel verifies them as one bpf_dynptr (DYNPTR_MAX_SIZE, 2^24-1;
	// Documentation/bpf/signing.rst, "Notes and limitations").
	MaxSignedPayload = 1<<24 - 1
	// mapTypeArray is BPF_MAP_TYPE_ARRAY.
	mapTypeArray = 2
)

// A Finding is one result of Check.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	// Stage is where the load stops (Error findings); empty otherwise.
	Stage   Stage  `json:"stage,omitempty"`
	Map     string `json:"map,omitempty"`
	Program string `json:"program,omitempty"`
	// Offset is a byte offset: into the map value for RuleInitialValue, into
	// the metadata blob otherwise; -1 when the finding has none.
	Offset int `json:"offset"`
	// Slot is the loader instruction slot concerned, -1 for none.
	Slot int `json:"slot"`
	// Errno is the kernel's errno name when the rule knows it ("EACCES").
	Errno string `json:"errno,omitempty"`
	// AfterLSM: the kernel refuses the load after security_bpf_prog_load
	// admitted it (an LSM admitted, then the load failed).
	AfterLSM bool   `json:"after_lsm,omitempty"`
	Reason   string `json:"reason"`
}

// String is "error [verifier] prog-fd-slots: reason".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Severity.String())
	if f.Stage != "" {
		fmt.Fprintf(&b, " [%s", f.Stage)
		if f.Errno != "" {
			fmt.Fprintf(&b, " %s", f.Errno)
		}
		b.WriteString("]")
	}
	fmt.Fprintf(&b, " %s: %s", f.Rule, f.Reason)
	return b.String()
}

// Profile selects the kernel whose extra refusals Check applies.
type Profile string

const (
	// AnyKernel applies only what every kernel refuses.
	AnyKernel Profile = ""
	// Mainline adds what the merged load-time verification refuses in a
	// signed loader (Documentation/bpf/signing.rst, torvalds/linux 872a8f6b).
	Mainline Profile = "mainline"
)

// InitialValue is one header data[] literal: the unsigned copy NAME__open()
// seeds a mmapable map from.
type InitialValue struct {
	Map  string // member name in struct NAME's maps
	Data []byte
	Line int
}

// Input is what Check reads.
type Input struct {
	// Name names the file in reasons.
	Name string
	// Insn is the loader (opts_insn), Data the metadata blob (opts_data).
	Insn, Data []byte
	// Maps and Progs are the member names of struct NAME's maps and progs, in
	// ctx order (the loader's map index and load order); they name objects
	// in findings (kernel names, truncated to 15 bytes, are used otherwise).
	Maps, Progs []string
	// InitialValues are the header's data[] literals.
	InitialValues []InitialValue
	// Profile selects the kernel's extra refusals.
	Profile Profile
	// FoldedMapTypes are the bpf_map_type of each map the host puts in the
	// loader's fd_array (folded into the signature under Mainline). nil means
	// the light skeleton's own procedure: one BPF_MAP_TYPE_ARRAY, the
	// metadata map.
	FoldedMapTypes []uint32
}

// FromFile fills an Input from a parsed header.
func FromFile(f *lskel.File, profile Profile) Input {
	// The blobs are shared with f (Check never modifies its input).
	in := Input{Name: f.Filename(), Insn: f.View(lskel.BlobInsn), Data: f.View(lskel.BlobData), Maps: f.Maps(), Progs: f.Progs(), Profile: profile}
	for _, iv := range f.InitialValues() {
		in.InitialValues = append(in.InitialValues, InitialValue{Map: iv.Map, Data: iv.Data, Line: iv.Line})
	}
	return in
}

// Check analyzes in and returns the inventory and the findings, errors
// first, in rule order. The error is non-nil only when the loader cannot be
// analyzed (see Analyze).
//
// Rules, for every kernel:
//
//   - RuleProgSlots: gen_loader keeps each program's fd in struct
//     loader_stack, a fixed area of MaxUsedProgs slots, and never checks the
//     count. The first program whose fd store lands at r10+off with off+4 > 0
//     (outside the loader's stack frame) makes every kernel's verifier reject
//     the loader: Error, stage verifier, EACCES. More than MaxUsedProgs
//     programs whose stores stay inside the frame overwrite other stack
//     fields: Warning.
//   - RuleInitialValue: each data[] literal is compared with the initial value
//     the loader's BPF_MAP_UPDATE_ELEM step takes from the signed blob for
//     that map. A difference under a loader that copies the host's value over
//     it (an initial_value override block) means bytes the signature does
//     not cover reach the kernel: Error, stage setup, naming the map and the
//     first differing offset. Without an override the copy is ignored:
//     Warning.
//   - RuleMetadataSize: a blob larger than MaxArrayValue cannot be an array
//     map value: Error, stage setup, E2BIG.
//
// Under Mainline, for a signed load of the loader:
//
//   - RuleFoldedMapType: a folded map that is not a plain array fails the
//     metadata binding before the LSM hook: Error, stage admission, EINVAL.
//   - RulePayloadSize: insns ‖ folded maps over MaxSignedPayload: Error,
//     stage admission.
//   - RuleMapFD, RuleBTF, RuleModuleKfunc, RuleFdArray: the loader's own
//     instructions bind a map by raw fd, a BTF id (ksym), a module kfunc's
//     BTF, or an fd_array slot past the folded maps: refused when the
//     verifier binds it, after the LSM hook: Error, stage verifier, AfterLSM.
//   - RuleInnerKsym: ksyms the loader resolves at run time for the programs
//     it loads (those loads are not signed loads): Info.
func Check(in Input) (*Inventory, []Finding, error) {
	inv, err := Analyze(in.Insn, in.Data)
	if err != nil {
		if in.Name != "" {
			return nil, nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		return nil, nil, err
	}
	var fs []Finding
	fs = append(fs, checkProgSlots(inv, in)...)
	fs = append(fs, checkInitialValues(inv, in)...)
	if len(in.Data) > MaxArrayValue {
		fs = append(fs, Finding{Severity: Error, Rule: RuleMetadataSize, Stage: StageSetup, Errno: "E2BIG", Offset: -1, Slot: -1,
			Reason: fmt.Sprintf("the metadata blob is %d bytes; an array map value can be at most %d (KMALLOC_MAX_SIZE), so BPF_MAP_CREATE of the metadata map fails", len(in.Data), MaxArrayValue)})
	}
	if in.Profile == Mainline {
		fs = append(fs, checkMainline(inv, in)...)
	}
	sortFindings(fs)
	return inv, fs, nil
}

// sortFindings orders by severity (errors first), keeping rule order.
func sortFindings(fs []Finding) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Severity > fs[j-1].Severity; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// progName is the header's member name for program i, else its kernel name.
func progName(inv *Inventory, in Input, i int) string {
	if i >= 0 && i < len(in.Progs) {
		return in.Progs[i]
	}
	if i >= 0 && i < len(inv.Progs) {
		return inv.Progs[i].Name
	}
	return ""
}

// MapName is the header's member name for map index idx, else the kernel name.
func mapName(inv *Inventory, in Input, m *MapInfo) string {
	if m.Index >= 0 && m.Index < len(in.Maps) {
		return in.Maps[m.Index]
	}
	return m.Name
}

func checkProgSlots(inv *Inventory, in Input) []Finding {
	n := len(inv.Progs)
	for _, p := range inv.Progs {
		if p.FDStoreSlot < 0 || p.FDSlot+4 <= 0 {
			continue
		}
		return []Finding{{
			Severity: Error, Rule: RuleProgSlots, Stage: StageVerifier, Errno: "EACCES",
			Program: progName(inv, in, p.Index), Offset: -1, Slot: p.FDStoreSlot,
			Reason: fmt.Sprintf("the loader loads %d programs, but libbpf's loader generator keeps program fds in a fixed area of %d stack slots (MAX_USED_PROGS) and does not check the count: "+
				"program #%d (%s) has its fd stored at r10%+d (slot %d), outside the loader's %d-byte stack, so every kernel's verifier rejects the loader (\"invalid write to stack R10 off=%d size=4\")",
				n, MaxUsedProgs, p.Index+1, progName(inv, in, p.Index), p.FDSlot, p.FDStoreSlot, inv.StackSize, p.FDSlot),
		}}
	}
	if n > MaxUsedProgs {
		return []Finding{{
			Severity: Warning, Rule: RuleProgSlots, Offset: -1, Slot: -1,
			Reason: fmt.Sprintf("the loader loads %d programs, more than the %d program-fd slots of libbpf's loader stack (MAX_USED_PROGS): the extra fds overwrite other fields of the loader's stack", n, MaxUsedProgs),
		}}
	}
	return nil
}

func checkInitialValues(inv *Inventory, in Input) []Finding {
	var fs []Finding
	warn := func(iv InitialValue, m string, format string, args ...any) {
		fs = append(fs, Finding{Severity: Warning, Rule: RuleInitialValue, Map: m, Offset: -1, Slot: -1,
			Reason: fmt.Sprintf("data[] literal at line %d: ", iv.Line) + fmt.Sprintf(format, args...)})
	}
	for _, iv := range in.InitialValues {
		if iv.Map == "" {
			warn(iv, "", "no skel->MAP assignment follows it, so no map to compare it with")
			continue
		}
		idx := -1
		for i, name := range in.Maps {
			if name == iv.Map {
				idx = i
				break
			}
		}
		if idx < 0 {
			warn(iv, iv.Map, "map %q is not a member of the skeleton's maps", iv.Map)
			continue
		}
		m := inv.MapByIndex(idx)
		if m == nil {
			warn(iv, iv.Map, "the loader creates no map #%d (%s)", idx, iv.Map)
			continue
		}
		if m.ValueOff < 0 {
			warn(iv, iv.Map, "the loader writes no initial value into map %s, so the signed metadata has none to compare with", iv.Map)
			continue
		}
		end := m.ValueOff + int(m.ValueSize)
		if end > len(in.Data) {
			fs = append(fs, Finding{Severity: Error, Rule: RuleInitialValue, Stage: StageRun, Map: iv.Map, Offset: -1, Slot: -1,
				Reason: fmt.Sprintf("the loader's initial value for map %s (blob offset %d, %d bytes) runs past the %d-byte metadata blob", iv.Map, m.ValueOff, m.ValueSize, len(in.Data))})
			continue
		}
		signed := in.Data[m.ValueOff:end]
		at, differ := firstDiff(iv.Data, signed)
		if !differ {
			continue
		}
		what := fmt.Sprintf("the header's data[] literal for map %s (line %d, %d bytes) differs from the initial value the signed metadata carries (blob offset %d, %d bytes) first at byte %d",
			iv.Map, iv.Line, len(iv.Data), m.ValueOff, len(signed), at)
		if at < len(iv.Data) && at < len(signed) {
			what += fmt.Sprintf(" (header %#02x, signed %#02x)", iv.Data[at], signed[at])
		}
		f := Finding{Rule: RuleInitialValue, Map: iv.Map, Offset: at, Slot: -1}
		if m.InitialOverride {
			f.Severity, f.Stage = Error, StageSetup
			f.Reason = what + ": this loader copies the host's copy over the signed value (an initial_value override block), so the kernel gets bytes the signature does not cover and cannot notice"
		} else {
			f.Severity = Warning
			f.Reason = what + ": this loader has no host override for the map, so the copy is ignored and the map gets the signed value"
		}
		fs = append(fs, f)
	}
	return fs
}

// firstDiff returns the first offset at which a and b differ (the shorter
// length if one is a prefix of the other).
func firstDiff(a, b []byte) (int, bool) {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i, true
		}
	}
	return n, len(a) != len(b)
}

func checkMainline(inv *Inventory, in Input) []Finding {
	var fs []Finding
	folded := in.FoldedMapTypes
	if folded == nil {
		folded = []uint32{mapTypeArray}
	}
	for i, t := range folded {
		if t != mapTypeArray {
			fs = append(fs, Finding{Severity: Error, Rule: RuleFoldedMapType, Stage: StageAdmission, Errno: "EINVAL", Offset: -1, Slot: -1,
				Reason: fmt.Sprintf("fd_array[%d] is folded into the signature but is a map of type %d, not a plain array (BPF_MAP_TYPE_ARRAY): the merged kernel refuses the metadata binding before the LSM hook", i, t)})
		}
	}
	if n := len(in.Insn) + len(in.Data); n > MaxSignedPayload {
		fs = append(fs, Finding{Severity: Error, Rule: RulePayloadSize, Stage: StageAdmission, Offset: -1, Slot: -1,
			Reason: fmt.Sprintf("insns ‖ metadata is %d bytes; the merged kernel verifies it as one bpf_dynptr of at most %d bytes", n, MaxSignedPayload)})
	}
	late := func(rule string, slot int, format string, args ...any) {
		fs = append(fs, Finding{Severity: Error, Rule: rule, Stage: StageVerifier, AfterLSM: true, Offset: -1, Slot: slot,
			Reason: fmt.Sprintf(format, args...) + "; the merged kernel refuses it when the verifier binds it, after security_bpf_prog_load admitted the signed loader"})
	}
	for _, b := range inv.Bindings {
		switch b.Kind {
		case "map_fd", "map_value":
			late(RuleMapFD, b.Slot, "slot %d: the loader references a map by raw fd %d (ld_imm64 src %d), a map its signature does not cover", b.Slot, b.Imm, map[string]int{"map_fd": 1, "map_value": 2}[b.Kind])
		case "btf_id":
			late(RuleBTF, b.Slot, "slot %d: the loader binds BTF id %d (a ksym, ld_imm64 src 3); BTF is refused outright for a signed program", b.Slot, b.Imm)
		case "kfunc":
			if b.Index != 0 {
				late(RuleModuleKfunc, b.Slot, "slot %d: the loader calls module kfunc BTF id %d whose BTF is fd_array[%d]; a BTF in a signed program is refused", b.Slot, b.Imm, b.Index)
			}
		case "map_idx", "map_idx_value":
			if int(b.Index) >= len(folded) {
				late(RuleFdArray, b.Slot, "slot %d: the loader uses fd_array[%d], but the host folds only %d map(s) (fd_array_cnt = %d): a map there would not be covered", b.Slot, b.Index, len(folded), len(folded))
			}
		}
	}
	for _, st := range inv.Steps {
		if st.Kind != StepFindBTF && st.Kind != StepKallsym {
			continue
		}
		prog := ""
		for _, p := range inv.Progs {
			if inv.Steps[p.LoadStep].Slot > st.Slot {
				prog = progName(inv, in, p.Index)
				break
			}
		}
		fs = append(fs, Finding{Severity: Info, Rule: RuleInnerKsym, Program: prog, Offset: -1, Slot: st.Slot,
			Reason: fmt.Sprintf("slot %d: the loader resolves %q with %s at run time for program %s; that program is loaded by the loader, not as a signed load, so the merged kernel's BTF refusal does not apply to it", st.Slot, st.Symbol, st.Kind, prog)})
	}
	return fs
}
