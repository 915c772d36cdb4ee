package loader

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const blobDir = "../../testdata/blobs"

var fixtureNames = []string{"unsigned", "legacy-v1", "legacy-v2", "raw", "chain"}

func readBlob(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(blobDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func insn(t testing.TB, name string) []byte { return readBlob(t, name+".insn") }

// metaHash is H(opts_data), computed from the fixture's metadata blob.
func metaHash(t testing.TB) [32]byte {
	return sha256.Sum256(readBlob(t, "unsigned.data"))
}

func mustDecode(t testing.TB, b []byte) *Loader {
	t.Helper()
	l, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return l
}

func TestMetadataIsShared(t *testing.T) {
	// The check hash of every signed fixture is H(opts_data); all fixtures
	// share opts_data.
	want := readBlob(t, "unsigned.data")
	for _, n := range fixtureNames[1:] {
		if got := readBlob(t, n+".data"); !bytes.Equal(got, want) {
			t.Errorf("%s.data differs from unsigned.data", n)
		}
	}
}

func TestDecodeFixtures(t *testing.T) {
	h := metaHash(t)
	// The object (testdata/src/minimal.bpf.c) has maps counts (0), .rodata (1)
	// and .bss (2); pre-hardening generators emit a max_entries override per
	// map and an initial_value override per mmapable map (.rodata, .bss).
	type ov struct {
		kind   BlockKind
		ctxOff int32
		mapIdx int
	}
	overrides := []ov{
		{BlockMaxEntries, 24 + 16*0 + 4, 0},
		{BlockMaxEntries, 24 + 16*1 + 4, 1},
		{BlockInitialValue, 24 + 16*1 + 8, 1},
		{BlockMaxEntries, 24 + 16*2 + 4, 2},
		{BlockInitialValue, 24 + 16*2 + 8, 2},
	}
	tests := []struct {
		name      string
		slots     int
		gen       Generation
		checkLen  int
		overrides []ov
	}{
		{"unsigned", 271, GenNone, 0, overrides},
		{"legacy-v1", 299, GenV1, CheckLenV1, overrides},
		{"legacy-v2", 269, GenV2, CheckLenV2, nil},
		{"raw", 236, GenNone, 0, nil},
		{"chain", 299, GenV1, CheckLenV1, overrides},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := insn(t, tt.name)
			l := mustDecode(t, in)
			if !bytes.Equal(l.Bytes(), in) {
				t.Error("Bytes() differs from the input")
			}
			if l.Len() != tt.slots || l.Len()*SlotSize != len(in) {
				t.Errorf("Len() = %d, want %d", l.Len(), tt.slots)
			}
			if l.Cleanup() != 7 {
				t.Errorf("Cleanup() = %d, want 7", l.Cleanup())
			}
			// S = 7 + N from the ja at slot 6.
			if want := 7 + int(slotOff(in, 6)); l.BodyStart() != want {
				t.Errorf("BodyStart() = %d, want %d", l.BodyStart(), want)
			}
			if got := l.Generation(); got != tt.gen {
				t.Errorf("Generation() = %v, want %v", got, tt.gen)
			}
			c := l.Check()
			switch {
			case tt.gen == GenNone && c != nil:
				t.Errorf("Check() = %+v, want nil", c)
			case tt.gen != GenNone && c == nil:
				t.Errorf("Check() = nil, want %v", tt.gen)
			case c != nil:
				if c.Kind != BlockCheck || c.Gen != tt.gen || c.Start != l.BodyStart() || c.Len != tt.checkLen {
					t.Errorf("Check() = %v %v at %d len %d, want %v at %d len %d", c.Kind, c.Gen, c.Start, c.Len, tt.gen, l.BodyStart(), tt.checkLen)
				}
				if c.Hash != h {
					t.Errorf("check hash = %x, want H(opts_data) = %x", c.Hash, h)
				}
			}
			got := l.Overrides()
			if len(got) != len(tt.overrides) {
				t.Fatalf("%d overrides, want %d: %+v", len(got), len(tt.overrides), got)
			}
			data := readBlob(t, tt.name+".data")
			for i, b := range got {
				w := tt.overrides[i]
				if b.Kind != w.kind || b.CtxOff != w.ctxOff || b.MapIndex() != w.mapIdx {
					t.Errorf("override %d = %v ctx_off %d map %d, want %v ctx_off %d map %d", i, b.Kind, b.CtxOff, b.MapIndex(), w.kind, w.ctxOff, w.mapIdx)
				}
				wantLen := MaxEntriesLen
				if b.Kind == BlockInitialValue {
					wantLen = InitialValueLen
				}
				if b.Len != wantLen || b.Start < l.BodyStart() || (c != nil && b.Start < c.End()) {
					t.Errorf("override %d at %d len %d: bad placement", i, b.Start, b.Len)
				}
				if b.BlobOff < 0 || int(b.BlobOff)+8 > len(data) {
					t.Errorf("override %d: blob offset %d outside the %d-byte metadata blob", i, b.BlobOff, len(data))
				}
				if i > 0 && b.Start < got[i-1].End() {
					t.Errorf("override %d overlaps or precedes override %d", i, i-1)
				}
			}
		})
	}
}

// TestInitialValueSizes cross-checks the value sizes of the initial_value
// overrides against the ELF object the fixtures were generated from.
func TestInitialValueSizes(t *testing.T) {
	spec, err := ebpf.LoadCollectionSpec("../../testdata/src/minimal.bpf.o")
	if err != nil {
		t.Skipf("cannot read ELF object: %v", err)
	}
	var want []int32
	for _, name := range []string{".rodata", ".bss"} { // libbpf's internal map order
		m, ok := spec.Maps[name]
		if !ok {
			t.Fatalf("ELF object has no %s map", name)
		}
		want = append(want, int32(m.ValueSize))
	}
	var got []int32
	for _, b := range mustDecode(t, insn(t, "unsigned")).Overrides() {
		if b.Kind == BlockInitialValue {
			got = append(got, b.ValueSize)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("initial_value sizes = %v, want %v (from the ELF object)", got, want)
	}
}

// TestTransformations pins the byte-exact rewrites the fixtures establish.
func TestTransformations(t *testing.T) {
	h := metaHash(t)
	removeCheck := func(l *Loader) error { return l.RemoveCheck() }
	removeOverrides := func(l *Loader) error { return l.RemoveOverrides() }
	insertCheck := func(g Generation) func(*Loader) error {
		return func(l *Loader) error { return l.InsertCheck(g, h) }
	}
	tests := []struct {
		name     string
		from, to string
		ops      []func(*Loader) error
	}{
		{"v1 to raw", "legacy-v1", "raw", []func(*Loader) error{removeCheck, removeOverrides}},
		{"v1 to raw, overrides first", "legacy-v1", "raw", []func(*Loader) error{removeOverrides, removeCheck}},
		{"chain to raw", "chain", "raw", []func(*Loader) error{removeCheck, removeOverrides}},
		{"v2 to raw", "legacy-v2", "raw", []func(*Loader) error{removeCheck}},
		{"v2 to raw, overrides no-op", "legacy-v2", "raw", []func(*Loader) error{removeOverrides, removeCheck}},
		{"unsigned to raw", "unsigned", "raw", []func(*Loader) error{removeOverrides}},
		{"unsigned to v2", "unsigned", "legacy-v2", []func(*Loader) error{removeOverrides, insertCheck(GenV2)}},
		{"unsigned to v2, check first", "unsigned", "legacy-v2", []func(*Loader) error{insertCheck(GenV2), removeOverrides}},
		{"unsigned to v1", "unsigned", "legacy-v1", []func(*Loader) error{insertCheck(GenV1)}},
		{"raw to v2", "raw", "legacy-v2", []func(*Loader) error{insertCheck(GenV2)}},
		{"v1 to v2", "legacy-v1", "legacy-v2", []func(*Loader) error{removeCheck, removeOverrides, insertCheck(GenV2)}},
		{"v2 to unsigned-less-overrides", "legacy-v2", "raw", []func(*Loader) error{removeCheck, removeOverrides}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustDecode(t, insn(t, tt.from))
			for i, op := range tt.ops {
				if err := op(l); err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
			}
			want := insn(t, tt.to)
			if got := l.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("result differs from %s.insn (%d vs %d slots), first difference at slot %d",
					tt.to, len(got)/SlotSize, len(want)/SlotSize, firstDiff(got, want))
			}
			// The rewritten loader is fully re-decoded: its view must agree
			// with decoding the target fixture directly.
			ref := mustDecode(t, want)
			if l.Generation() != ref.Generation() || len(l.Overrides()) != len(ref.Overrides()) || l.BodyStart() != ref.BodyStart() {
				t.Errorf("model after rewrite differs from the decoded %s fixture", tt.to)
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i / SlotSize
		}
	}
	return min(len(a), len(b)) / SlotSize
}

func TestCheckBlockMatchesFixtures(t *testing.T) {
	h := metaHash(t)
	for _, tt := range []struct {
		name string
		gen  Generation
	}{{"legacy-v1", GenV1}, {"legacy-v2", GenV2}} {
		in := insn(t, tt.name)
		l := mustDecode(t, in)
		s := l.BodyStart()
		blk := CheckBlock(tt.gen, h, s, l.Cleanup())
		if want := in[s*SlotSize : (s+checkLen(tt.gen))*SlotSize]; !bytes.Equal(blk, want) {
			t.Errorf("%s: CheckBlock differs from the fixture's check at slot %d", tt.name, firstDiff(blk, want))
		}
	}
	if CheckBlock(GenNone, h, 36, 7) != nil || CheckBlock(Generation(9), h, 36, 7) != nil {
		t.Error("CheckBlock accepted an unknown generation")
	}
	if CheckBlock(GenV1, h, 40000, 7) != nil {
		t.Error("CheckBlock accepted jump offsets outside s16")
	}
}

// mutate returns a copy of the named fixture with f applied.
func mutate(t testing.TB, name string, f func([]byte) []byte) []byte {
	b := slices.Clone(insn(t, name))
	return f(b)
}

func setSlot(slot int, code, dst, src byte, off int16, imm int32) func([]byte) []byte {
	return func(b []byte) []byte {
		putSlot(b, slot, code, dst, src, off, imm)
		return b
	}
}

func TestDecodeMalformed(t *testing.T) {
	// legacy-v1: check at 36..63, groups at 36, 43, 50, 57 (jne at +6).
	// legacy-v2: excl prefix at 36..40, groups at 41, 48, 55, 62.
	tests := []struct {
		name string
		in   []byte
		err  error
		slot int
	}{
		{"v1 wrong dst register of the sha load", mutate(t, "legacy-v1", setSlot(38, 0x79, 4, 1, 0, 0)), ErrMalformedCheck, 38},
		{"v1 wrong src register of the sha load", mutate(t, "legacy-v1", setSlot(45, 0x79, 2, 3, 8, 0)), ErrMalformedCheck, 45},
		{"v1 hash loaded into r4", mutate(t, "legacy-v1", func(b []byte) []byte { b[53*8+1] = 0x04; return b }), ErrMalformedCheck, 53},
		{"v1 wrong sha offset", mutate(t, "legacy-v1", setSlot(45, 0x79, 2, 1, 16, 0)), ErrMalformedCheck, 45},
		{"v1 u32 sha load", mutate(t, "legacy-v1", setSlot(52, 0x61, 2, 1, 16, 0)), ErrMalformedCheck, 52},
		{"v1 wrong errno", mutate(t, "legacy-v1", setSlot(48, 0xb7, 7, 0, 0, -1)), ErrMalformedCheck, 48},
		{"v1 jump to L (v2 target)", mutate(t, "legacy-v1", setSlot(42, 0x5d, 2, 3, -36, 0)), ErrMalformedCheck, 42},
		{"v1 jump to L+2", mutate(t, "legacy-v1", setSlot(63, 0x5d, 2, 3, -55, 0)), ErrMalformedCheck, 63},
		{"v1 jeq instead of jne", mutate(t, "legacy-v1", setSlot(56, 0x1d, 2, 3, -49, 0)), ErrMalformedCheck, 56},
		{"v1 map index 1", mutate(t, "legacy-v1", setSlot(43, 0x18, 1, 5, 0, 1)), ErrMalformedCheck, 43},
		{"v1 group 0 missing r7 = -22", mustRemove(t, insn(t, "legacy-v1"), 41, 1), ErrMalformedCheck, 41},
		{"v1 last group missing", mustRemove(t, insn(t, "legacy-v1"), 57, 7), ErrMalformedCheck, 57},
		{"v1 program ends inside the check", insn(t, "legacy-v1")[:48*SlotSize], ErrMalformedCheck, 48},
		{"v2 excl wrong imm", mutate(t, "legacy-v2", setSlot(40, 0x55, 2, 0, -34, 2)), ErrMalformedCheck, 40},
		{"v2 excl jump to L+1", mutate(t, "legacy-v2", setSlot(40, 0x55, 2, 0, -33, 1)), ErrMalformedCheck, 40},
		{"v2 group jump to L+1 (v1 target)", mutate(t, "legacy-v2", setSlot(47, 0x5d, 2, 3, -40, 0)), ErrMalformedCheck, 47},
		{"v2 u64 excl load", mutate(t, "legacy-v2", setSlot(38, 0x79, 2, 1, 32, 0)), ErrMalformedCheck, 38},
		{"v2 excl in r3", mutate(t, "legacy-v2", setSlot(38, 0x61, 3, 1, 32, 0)), ErrMalformedCheck, 38},
		{"map_by_idx at S without a load", mutate(t, "legacy-v1", setSlot(38, 0xb7, 2, 0, 0, 0)), ErrMalformedCheck, 38},

		{"empty", nil, ErrShape, 0},
		{"length not a multiple of 8", append(insn(t, "raw"), 0, 0, 0), ErrShape, 236},
		{"truncated ld_imm64", insn(t, "legacy-v1")[:37*SlotSize], ErrShape, 36},
		{"ld_imm64 second slot with a code", mutate(t, "raw", func(b []byte) []byte { b[17*8] = 0x05; return b }), ErrShape, 17},
		{"too short", insn(t, "raw")[:8*SlotSize], ErrShape, 8},
		{"prologue r6 = r2", mutate(t, "raw", setSlot(0, 0xbf, 6, 2, 0, 0)), ErrShape, 0},
		{"prologue stack size mismatch", mutate(t, "raw", setSlot(3, 0xb7, 2, 0, 0, 128)), ErrShape, 3},
		{"prologue zero stack", mutate(t, "raw", func(b []byte) []byte {
			putSlot(b, 2, 0x07, 1, 0, 0, 0)
			putSlot(b, 3, 0xb7, 2, 0, 0, 0)
			return b
		}), ErrShape, 2},
		{"prologue wrong helper", mutate(t, "raw", setSlot(5, 0x85, 0, 0, 0, 114)), ErrShape, 5},
		{"prologue ja32", mutate(t, "raw", setSlot(6, 0x06, 0, 0, 0, 29)), ErrShape, 6},
		{"ja past the end", mutate(t, "raw", setSlot(6, 0x05, 0, 0, 5000, 0)), ErrShape, 6},
		{"ja backwards", mutate(t, "raw", setSlot(6, 0x05, 0, 0, -3, 0)), ErrShape, 6},
		{"ja not after the cleanup exit", mutate(t, "raw", setSlot(6, 0x05, 0, 0, 28, 0)), ErrShape, 33},
		{"jump outside the program", mutate(t, "raw", setSlot(59, 0xc5, 7, 0, -100, 0)), ErrShape, 59},
		{"jump into an ld_imm64", mutate(t, "raw", setSlot(59, 0xc5, 7, 0, 17-60, 0)), ErrShape, 59},
		{"undecodable call", mutate(t, "raw", setSlot(9, 0x85, 0, 0, 0, 0x7fffffff)), ErrShape, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Decode(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Decode error = %v, want %v (loader %v)", err, tt.err, l != nil)
			}
			var se *ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *ShapeError", err)
			}
			if se.Slot != tt.slot {
				t.Errorf("error slot = %d, want %d (%v)", se.Slot, tt.slot, err)
			}
			if se.Reason == "" || !strings.Contains(err.Error(), se.Reason) {
				t.Errorf("error %q lacks a reason", err)
			}
		})
	}
}

func mustRemove(t testing.TB, b []byte, start, n int) []byte {
	t.Helper()
	out, err := RemoveSlots(b, start, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMalformedCheckReason(t *testing.T) {
	_, err := Decode(mutate(t, "legacy-v1", setSlot(42, 0x5d, 2, 3, -36, 0)))
	for _, want := range []string{"slot 42", "check v1", "group 0", "L+1", "off -36, want -35"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHashIsData(t *testing.T) {
	h := metaHash(t)
	for _, name := range []string{"legacy-v1", "legacy-v2"} {
		// Flip one byte of each hash word (first and second imm of every group).
		l0 := mustDecode(t, insn(t, name))
		c := l0.Check()
		g := c.Start
		if c.Gen == GenV2 {
			g += checkPrefixLen
		}
		for i := 0; i < 4; i++ {
			for half := 0; half < 2; half++ {
				slot := g + 7*i + 3 + half
				byteIdx := 8*i + 4*half + 1
				in := insn(t, name)
				in[slot*SlotSize+5] ^= 0xff
				l, err := Decode(in)
				if err != nil {
					t.Fatalf("%s: hash byte %d flipped: %v", name, byteIdx, err)
				}
				want := h
				want[byteIdx] ^= 0xff
				if got := l.Check().Hash; got != want {
					t.Errorf("%s: hash byte %d flipped: Hash = %x, want %x", name, byteIdx, got, want)
				}
			}
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	h := metaHash(t)
	t.Run("RemoveCheck without check", func(t *testing.T) {
		l := mustDecode(t, insn(t, "raw"))
		if err := l.RemoveCheck(); !errors.Is(err, ErrNoCheck) {
			t.Errorf("err = %v, want ErrNoCheck", err)
		}
	})
	t.Run("InsertCheck twice", func(t *testing.T) {
		l := mustDecode(t, insn(t, "legacy-v2"))
		if err := l.InsertCheck(GenV1, h); !errors.Is(err, ErrCheckExists) {
			t.Errorf("err = %v, want ErrCheckExists", err)
		}
	})
	t.Run("InsertCheck unknown generation", func(t *testing.T) {
		l := mustDecode(t, insn(t, "raw"))
		for _, g := range []Generation{GenNone, 3, -1} {
			if err := l.InsertCheck(g, h); !errors.Is(err, ErrGeneration) {
				t.Errorf("gen %d: err = %v, want ErrGeneration", g, err)
			}
		}
	})
	t.Run("RemoveOverrides without overrides", func(t *testing.T) {
		in := insn(t, "raw")
		l := mustDecode(t, in)
		if err := l.RemoveOverrides(); err != nil || !bytes.Equal(l.Bytes(), in) {
			t.Errorf("RemoveOverrides on raw: err %v, changed %v", err, !bytes.Equal(l.Bytes(), in))
		}
	})
	t.Run("RemoveCheck with a jump into the check", func(t *testing.T) {
		// A body error path (slot 87, jslt r7 → L) redirected to slot 41
		// (r7 = -22 inside group 0).
		in := mutate(t, "legacy-v1", setSlot(87, 0xc5, 7, 0, 41-88, 0))
		l := mustDecode(t, in)
		err := l.RemoveCheck()
		if !errors.Is(err, ErrJumpIntoBlock) {
			t.Fatalf("err = %v, want ErrJumpIntoBlock", err)
		}
		var se *ShapeError
		if !errors.As(err, &se) || se.Slot != 87 {
			t.Errorf("error %v does not name slot 87", err)
		}
		if !bytes.Equal(l.Bytes(), in) || l.Check() == nil {
			t.Error("failed RemoveCheck changed the loader")
		}
	})
	t.Run("RemoveOverrides with a jump into an override", func(t *testing.T) {
		in := mutate(t, "unsigned", setSlot(59, 0xc5, 7, 0, 67-60, 0)) // into max_entries at 65
		l := mustDecode(t, in)
		if err := l.RemoveOverrides(); !errors.Is(err, ErrJumpIntoBlock) {
			t.Fatalf("err = %v, want ErrJumpIntoBlock", err)
		}
		if !bytes.Equal(l.Bytes(), in) || len(l.Overrides()) != 5 {
			t.Error("failed RemoveOverrides changed the loader")
		}
	})
}

func TestRemoveSlots(t *testing.T) {
	v1 := insn(t, "legacy-v1")
	unsigned := insn(t, "unsigned")
	tests := []struct {
		name     string
		in       []byte
		start, n int
		err      error
		slot     int
	}{
		// The v1 check jumps to L+1 = 8: removing [7, 9) cuts into their target.
		{"jump into the middle (v1 L+1)", v1, 7, 2, ErrJumpIntoBlock, 42},
		// jset at 105 (if r0 & 1 goto +2) targets 108, the middle of [107, 109).
		{"jump into the middle (override)", unsigned, 107, 2, ErrJumpIntoBlock, 105},
		{"block splits ld_imm64 at start", v1, 37, 1, ErrShape, 37},
		{"block splits ld_imm64 at end", v1, 35, 2, ErrShape, 37},
		{"block outside", v1, 290, 20, ErrShape, 290},
		{"negative start", v1, -1, 2, ErrShape, -1},
		{"negative length", v1, 10, -2, ErrShape, 10},
		{"jump target removed from the end", nil, 297, 2, ErrShape, 280}, // in: see below
		{"length not a multiple of 8", v1[:len(v1)-1], 40, 1, ErrShape, 298},
	}
	// Find a jump that targets a slot at the tail to make the "removed from
	// the end" case: there is none in a real loader, so build one.
	tail := slices.Clone(v1)
	putSlot(tail, 280, 0xd5, 1, 0, 297-281, 0) // jsle r1, 0 → 297 (r0 = 0)
	tests[7].in = tail
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := RemoveSlots(tt.in, tt.start, tt.n)
			if !errors.Is(err, tt.err) || out != nil {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			var se *ShapeError
			if !errors.As(err, &se) || se.Slot != tt.slot {
				t.Errorf("error %v: want slot %d", err, tt.slot)
			}
		})
	}
}

// TestInsertRemoveRoundTrip inserts a neutral block at every instruction
// boundary of every fixture and removes it again: the result must be the
// input, and every jump that targeted the insertion point must target the
// inserted block while it is there.
func TestInsertRemoveRoundTrip(t *testing.T) {
	blk := make([]byte, 4*SlotSize)
	putSlot(blk, 0, 0xb7, 0, 0, 0, 0)               // r0 = 0
	putSlot(blk, 1, opLdImm64, 2, 0, 0, 0x12345678) // ld_imm64 r2
	putSlot(blk, 3, 0x05, 0, 0, -4, 0)              // ja -4 (to the block start)
	for _, name := range fixtureNames {
		in := insn(t, name)
		second, err := layout(in)
		if err != nil {
			t.Fatal(err)
		}
		for at := 0; at <= len(second); at++ {
			if at < len(second) && second[at] {
				if _, err := InsertSlots(in, at, blk); !errors.Is(err, ErrShape) {
					t.Fatalf("%s: insertion at %d splits an ld_imm64 but err = %v", name, at, err)
				}
				continue
			}
			mid, err := InsertSlots(in, at, blk)
			if err != nil {
				t.Fatalf("%s: InsertSlots at %d: %v", name, at, err)
			}
			for i := 0; i < len(second); i++ {
				if second[i] {
					continue
				}
				k := relRef(in, i)
				if k == refNone || target(in, i, k) != at {
					continue
				}
				ni := i
				if i >= at {
					ni += 4
				}
				if got := target(mid, ni, k); got != at {
					t.Fatalf("%s: insertion at %d: jump at %d targets %d, want the block at %d", name, at, i, got, at)
				}
			}
			back, err := RemoveSlots(mid, at, 4)
			if err != nil {
				t.Fatalf("%s: RemoveSlots at %d: %v", name, at, err)
			}
			if !bytes.Equal(back, in) {
				t.Fatalf("%s: insert+remove at %d is not the identity (slot %d)", name, at, firstDiff(back, in))
			}
		}
	}
}

func TestInsertSlotsErrors(t *testing.T) {
	raw := insn(t, "raw")
	l := mustDecode(t, raw)
	s := l.BodyStart()
	// The longest backward jump of raw goes from near the end to L; pushing
	// its source 32768 slots further away must overflow off (s16).
	huge := make([]byte, 32768*SlotSize)
	for i := 0; i < 32768; i++ {
		putSlot(huge, i, 0xb7, 0, 0, 0, 0)
	}
	tests := []struct {
		name  string
		at    int
		block []byte
		err   error
	}{
		{"offset out of s16", s, huge, ErrOffsetRange},
		{"block not whole slots", s, make([]byte, 12), ErrShape},
		{"block with truncated ld_imm64", s, []byte{0x18, 0, 0, 0, 0, 0, 0, 0}, ErrShape},
		{"block jumps outside", s, []byte{0x05, 0, 0xff, 0x7f, 0, 0, 0, 0}, ErrShape},
		{"at past the end", len(raw)/SlotSize + 1, make([]byte, 8), ErrShape},
		{"at negative", -1, make([]byte, 8), ErrShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := InsertSlots(raw, tt.at, tt.block)
			if !errors.Is(err, tt.err) || out != nil {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
	if out, err := InsertSlots(raw, s, nil); err != nil || !bytes.Equal(out, raw) {
		t.Errorf("empty insertion: err %v, identical %v", err, bytes.Equal(out, raw))
	}
}

// TestImmRelativeReferences covers the references libbpf loaders do not
// contain but rewriting must not break: JMP32 ja (imm), bpf-to-bpf calls
// (call src 1) and ld_imm64 of a subprogram (src 4).
func TestImmRelativeReferences(t *testing.T) {
	prog := make([]byte, 10*SlotSize)
	putSlot(prog, 0, 0x06, 0, 0, 0, 8)               // gotol → 9
	putSlot(prog, 1, 0x85, 0, pseudoCall, 0, 6)      // call → 8
	putSlot(prog, 2, opLdImm64, 1, pseudoFunc, 0, 5) // r1 = &subprog at 8
	putSlot(prog, 4, 0x85, 0, 0, 0, 1)               // helper call: not relative
	putSlot(prog, 5, 0xb7, 0, 0, 0, 0)               // r0 = 0
	putSlot(prog, 6, 0xb7, 0, 0, 0, 0)               // r0 = 0
	putSlot(prog, 7, 0x95, 0, 0, 0, 0)               // exit
	putSlot(prog, 8, 0x95, 0, 0, 0, 0)               // exit (subprog)
	putSlot(prog, 9, 0x95, 0, 0, 0, 0)               // exit
	out, err := RemoveSlots(prog, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		slot, want int
		kind       refKind
	}{{0, 7, refImm}, {1, 6, refImm}, {2, 6, refImm}} {
		if k := relRef(out, c.slot); k != c.kind || target(out, c.slot, k) != c.want {
			t.Errorf("slot %d: kind %d target %d, want %d", c.slot, k, target(out, c.slot, k), c.want)
		}
	}
	if relRef(out, 4) != refNone {
		t.Error("helper call treated as relative")
	}
	back, err := InsertSlots(out, 5, prog[5*SlotSize:7*SlotSize])
	if err != nil || !bytes.Equal(back, prog) {
		t.Errorf("re-insertion: err %v, identical %v", err, bytes.Equal(back, prog))
	}
}

func TestDisasmGolden(t *testing.T) {
	for _, name := range []string{"legacy-v1", "legacy-v2", "unsigned"} {
		t.Run(name, func(t *testing.T) {
			l := mustDecode(t, insn(t, name))
			var buf bytes.Buffer
			if err := l.Disasm(&buf); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".disasm")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("disassembly differs from %s", golden)
			}
			// Structural facts, independent of the golden file.
			out := buf.String()
			if lines := strings.Count(out, "\n") - strings.Count(out, "\n;"); lines != len(l.Instructions()) {
				t.Errorf("%d instruction lines, want %d", lines, len(l.Instructions()))
			}
			if c := l.Check(); c != nil {
				begin := "; --- check " + c.Gen.String() + " begin"
				if !strings.Contains(out, begin) || !strings.Contains(out, "; --- check "+c.Gen.String()+" end ---") {
					t.Errorf("check markers missing")
				}
			}
			if n := strings.Count(out, "; --- max_entries begin") + strings.Count(out, "; --- initial_value begin"); n != len(l.Overrides()) {
				t.Errorf("%d override markers, want %d", n, len(l.Overrides()))
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{GenNone.String(), ""}, {GenV1.String(), "v1"}, {GenV2.String(), "v2"}, {Generation(7).String(), "Generation(7)"},
		{BlockCheck.String(), "check"}, {BlockMaxEntries.String(), "max_entries"},
		{BlockInitialValue.String(), "initial_value"}, {BlockKind(9).String(), "BlockKind(9)"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
	for _, g := range []Generation{GenNone, GenV1, GenV2} {
		if p, err := ParseGeneration(g.String()); err != nil || p != g {
			t.Errorf("ParseGeneration(%q) = %v, %v", g.String(), p, err)
		}
	}
	if _, err := ParseGeneration("v3"); !errors.Is(err, ErrGeneration) {
		t.Errorf("ParseGeneration(v3) err = %v", err)
	}
}

// TestRemoveSpansIsSequentialRemoval: removing several blocks in one pass gives the bytes (or
// the failure) that removing them one by one, the last first, gives — on every fixture loader,
// for every combination of its check and override blocks and for adjacent blocks.
func TestRemoveSpansIsSequentialRemoval(t *testing.T) {
	for _, name := range []string{"unsigned", "legacy-v1", "legacy-v2", "chain"} {
		b := insn(t, name)
		l, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		var blocks []Span
		if c := l.Check(); c != nil {
			blocks = append(blocks, Span{c.Start, c.Len})
		}
		for _, o := range l.Overrides() {
			blocks = append(blocks, Span{o.Start, o.Len})
		}
		// Every subset of the blocks, plus a block split in two adjacent halves.
		for mask := 1; mask < 1<<len(blocks); mask++ {
			var spans []Span
			for i, sp := range blocks {
				if mask&(1<<i) != 0 {
					spans = append(spans, sp)
				}
			}
			if mask == 1<<len(blocks)-1 && spans[0].Len > 2 {
				h := spans[0].Len / 2
				spans = append([]Span{{spans[0].Start, h}, {spans[0].Start + h, spans[0].Len - h}}, spans[1:]...)
			}
			want, werr := b, error(nil)
			for i := len(spans) - 1; i >= 0 && werr == nil; i-- {
				want, werr = RemoveSlots(want, spans[i].Start, spans[i].Len)
			}
			got, gerr := RemoveSpans(b, spans)
			if (werr == nil) != (gerr == nil) || werr == nil && !bytes.Equal(got, want) {
				t.Fatalf("%s %v: one pass %v, one by one %v (equal %t)", name, spans, gerr, werr, bytes.Equal(got, want))
			}
		}
	}
}
