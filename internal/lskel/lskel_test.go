package lskel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	minimalDir = "../../testdata/minimal"
	blobDir    = "../../testdata/blobs"
)

var fixtureNames = []string{"unsigned", "legacy-v1", "legacy-v2", "raw", "chain"}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(minimalDir, name+".skel.h"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readBlob returns testdata/blobs/NAME.EXT, or nil if it does not exist.
func readBlob(t testing.TB, name, ext string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(blobDir, name+"."+ext))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, name string, src []byte) *File {
	t.Helper()
	f, err := Parse(name, src)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return f
}

// lineOf returns the 1-based line of the first occurrence of s in src.
func lineOf(t testing.TB, src []byte, s string) int {
	t.Helper()
	i := bytes.Index(src, []byte(s))
	if i < 0 {
		t.Fatalf("%q not in source", s)
	}
	return bytes.Count(src[:i], []byte("\n")) + 1
}

// diffLine reports the first line where got and want differ.
func diffLine(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return "line " + itoa(i+1) + ":\n got: " + trunc(g[i]) + "\nwant: " + trunc(w[i])
		}
	}
	return "line counts differ: got " + itoa(len(g)) + ", want " + itoa(len(w))
}

func itoa(i int) string { return strconv.Itoa(i) }

func trunc(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func checkBytes(t *testing.T, f *File, want []byte) {
	t.Helper()
	if f.editErr != nil {
		t.Fatalf("edit failed: %v", f.editErr)
	}
	if got := f.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("Bytes() differs from expected header at %s", diffLine(got, want))
	}
}

// TestGolden: every fixture parses, re-serialises byte for byte, yields
// exactly the extracted raw blobs, and the writer reproduces every literal
// text (blobs and data[] initial values) of every fixture.
func TestGolden(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			src := readFixture(t, name)
			f := mustParse(t, name+".skel.h", src)
			if got := f.Bytes(); !bytes.Equal(got, src) {
				t.Fatalf("Bytes() != source at %s", diffLine(got, src))
			}
			for _, c := range []struct {
				blob, ext string
				get       func() []byte
			}{
				{BlobData, "data", f.Data},
				{BlobInsn, "insn", f.Insn},
				{BlobSig, "sig", f.Sig},
				{BlobExclHash, "excl", f.ExclHash},
			} {
				want := readBlob(t, name, c.ext)
				if got := c.get(); !bytes.Equal(got, want) {
					t.Errorf("%s: got %d bytes, want %d (from %s.%s)", c.blob, len(got), len(want), name, c.ext)
				}
				if got := f.Blob(c.blob); !bytes.Equal(got, want) {
					t.Errorf("Blob(%s) differs", c.blob)
				}
			}
			wantSigned := readBlob(t, name, "sig") != nil
			if f.Signed() != wantSigned {
				t.Errorf("Signed() = %v, want %v", f.Signed(), wantSigned)
			}
			// The writer reproduces each literal's text.
			n := 0
			for _, l := range f.blobs {
				checkLiteralText(t, src, l.name, l.open, l.close, l.data)
				n++
			}
			if wantN := 2 + 2*btoi(wantSigned); n != wantN {
				t.Errorf("%d blob literals, want %d", n, wantN)
			}
			ivs := f.InitialValues()
			if len(ivs) == 0 {
				t.Fatal("no initial values")
			}
			for _, iv := range ivs {
				// The declaration line's quote opens the literal.
				lines := bytes.SplitAfter(src, []byte("\n"))
				off := 0
				for _, l := range lines[:iv.Line-1] {
					off += len(l)
				}
				open := off + bytes.IndexByte(lines[iv.Line-1], '"') + 1
				close := open + bytes.IndexByte(src[open:], '"')
				checkLiteralText(t, src, "data("+iv.Map+")", open, close, iv.Data)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkLiteralText(t *testing.T, src []byte, name string, open, close int, data []byte) {
	t.Helper()
	want := src[open:close]
	got := appendLiteralBody(nil, data, "\n")
	if !bytes.Equal(got, want) {
		t.Errorf("%s: writer output differs from the fixture literal at %s", name, diffLine(got, want))
	}
	if n := literalBodySize(data, "\n"); n != len(got) {
		t.Errorf("%s: literalBodySize = %d, want %d", name, n, len(got))
	}
}

func TestAccessors(t *testing.T) {
	src := readFixture(t, "legacy-v1")
	f := mustParse(t, "legacy-v1.skel.h", src)
	if f.Name() != "minimal" || f.Filename() != "legacy-v1.skel.h" {
		t.Errorf("Name/Filename = %q/%q", f.Name(), f.Filename())
	}
	if got, want := f.Maps(), []string{"counts", "rodata", "bss"}; !slices.Equal(got, want) {
		t.Errorf("Maps() = %v, want %v", got, want)
	}
	if got, want := f.Progs(), []string{"handle_openat"}; !slices.Equal(got, want) {
		t.Errorf("Progs() = %v, want %v", got, want)
	}
	// struct bpf_loader_ctx (24) + 3 * struct bpf_map_desc (16) + 1 * struct bpf_prog_desc (4).
	if got := f.LoaderCtxSize(); got != 24+3*16+4 {
		t.Errorf("LoaderCtxSize() = %d", got)
	}
	ivs := f.InitialValues()
	if len(ivs) != 2 || ivs[0].Map != "rodata" || ivs[1].Map != "bss" {
		t.Fatalf("InitialValues() = %+v", ivs)
	}
	if len(ivs[0].Data) != 4 || len(ivs[1].Data) != 8 {
		t.Errorf("initial value sizes %d, %d; want 4 (target_pid), 8 (hits)", len(ivs[0].Data), len(ivs[1].Data))
	}
	if ivs[0].Line != lineOf(t, src, "static const char data[]") {
		t.Errorf("InitialValues()[0].Line = %d", ivs[0].Line)
	}
	if f.Blob("nope") != nil || f.Blob("data") != nil {
		t.Error("Blob of an unknown name is not nil")
	}
	// Accessors return copies.
	f.Insn()[0] ^= 0xff
	f.InitialValues()[0].Data[0] ^= 0xff
	if !bytes.Equal(f.Insn(), readBlob(t, "legacy-v1", "insn")) || f.InitialValues()[0].Data[0] != 0 {
		t.Error("accessor result aliases File state")
	}
	if _, ok := f.SignatureMaps(); ok {
		t.Error("legacy-v1 has no hash-chain lines")
	}
	u := mustParse(t, "unsigned", readFixture(t, "unsigned"))
	if u.Signed() || u.Sig() != nil || u.ExclHash() != nil {
		t.Error("unsigned header reports a signature")
	}
}

// TestEditIdentity: the edits turn one fixture into another byte for byte.
func TestEditIdentity(t *testing.T) {
	type step func(t *testing.T, f *File)
	setInsn := func(from string) step {
		return func(t *testing.T, f *File) { f.SetInsn(readBlob(t, from, "insn")) }
	}
	sign := func(from string) step {
		return func(t *testing.T, f *File) { f.SetSignature(readBlob(t, from, "sig"), readBlob(t, from, "excl")) }
	}
	maps := func(idx []int32) step {
		return func(t *testing.T, f *File) { f.SetSignatureMaps(idx) }
	}
	unsign := func(t *testing.T, f *File) { f.RemoveSignature() }
	setData := func(from string) step {
		return func(t *testing.T, f *File) { f.SetData(readBlob(t, from, "data")) }
	}

	tests := []struct {
		name, from, want string
		steps            []step
	}{
		{"unsigned to raw", "unsigned", "raw", []step{setInsn("raw"), sign("raw")}},
		{"unsigned to legacy-v1", "unsigned", "legacy-v1", []step{setInsn("legacy-v1"), sign("legacy-v1")}},
		{"unsigned to legacy-v2", "unsigned", "legacy-v2", []step{setInsn("legacy-v2"), sign("legacy-v2")}},
		{"sign before insn", "unsigned", "legacy-v2", []step{sign("legacy-v2"), setInsn("legacy-v2")}},
		{"legacy-v1 to chain", "legacy-v1", "chain", []step{sign("chain"), maps([]int32{0})}},
		{"legacy-v1 to chain, maps first", "legacy-v1", "chain", []step{maps([]int32{0}), sign("chain")}},
		{"chain to legacy-v1", "chain", "legacy-v1", []step{maps(nil), sign("legacy-v1")}},
		{"chain to legacy-v1, empty maps", "chain", "legacy-v1", []step{maps([]int32{}), sign("legacy-v1")}},
		{"legacy-v1 to unsigned", "legacy-v1", "unsigned", []step{unsign, setInsn("unsigned")}},
		{"chain to unsigned", "chain", "unsigned", []step{unsign, setInsn("unsigned")}},
		{"raw to legacy-v2", "raw", "legacy-v2", []step{setInsn("legacy-v2"), sign("legacy-v2")}},
		{"legacy-v2 to raw", "legacy-v2", "raw", []step{setInsn("raw"), sign("raw"), setData("raw")}},
		{"unsigned to chain, pending maps", "unsigned", "chain",
			[]step{setInsn("chain"), maps([]int32{0}), sign("chain")}},
		{"unsigned to legacy-v1, maps dropped", "unsigned", "legacy-v1",
			[]step{setInsn("legacy-v1"), maps([]int32{0}), maps(nil), sign("legacy-v1")}},
		{"remove twice", "legacy-v1", "unsigned", []step{unsign, unsign, setInsn("unsigned")}},
		{"no-op maps removal", "legacy-v2", "legacy-v2", []step{maps(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.from, readFixture(t, tc.from))
			for _, s := range tc.steps {
				s(t, f)
				if f.editErr != nil {
					t.Fatalf("edit failed: %v", f.editErr)
				}
			}
			checkBytes(t, f, readFixture(t, tc.want))
			// The edited File is fully re-indexed.
			g := mustParse(t, tc.want, readFixture(t, tc.want))
			if f.Signed() != g.Signed() || !bytes.Equal(f.Sig(), g.Sig()) || !bytes.Equal(f.Insn(), g.Insn()) {
				t.Error("edited File's index disagrees with a fresh parse")
			}
		})
	}
}

func TestSignatureMapsMultiIndex(t *testing.T) {
	chain := readFixture(t, "chain")
	f := mustParse(t, "chain", chain)
	if idx, ok := f.SignatureMaps(); !ok || !slices.Equal(idx, []int32{0}) {
		t.Fatalf("SignatureMaps() = %v, %v", idx, ok)
	}
	f.SetSignatureMaps([]int32{0, 1})
	out := f.Bytes()
	for _, line := range []string{
		"\tstatic const int opts_signature_maps[2] __attribute__((__aligned__(8))) = {0, 1};\n",
		"\topts.signature_maps = (void *)opts_signature_maps;\n",
		"\topts.signature_maps_sz = 2;\n",
	} {
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("missing %q", line)
		}
	}
	g := mustParse(t, "chain2", out)
	if idx, ok := g.SignatureMaps(); !ok || !slices.Equal(idx, []int32{0, 1}) {
		t.Fatalf("after re-parse SignatureMaps() = %v, %v", idx, ok)
	}
	if !bytes.Equal(g.Bytes(), out) {
		t.Fatal("Bytes() not stable")
	}
	g.SetSignatureMaps([]int32{0})
	checkBytes(t, g, chain)

	// Adding several indices to a header without chain lines.
	h := mustParse(t, "legacy-v1", readFixture(t, "legacy-v1"))
	h.SetSignatureMaps([]int32{0, 1})
	h.SetSignature(readBlob(t, "chain", "sig"), readBlob(t, "chain", "excl"))
	checkBytes(t, h, out)
}

func TestClone(t *testing.T) {
	src := readFixture(t, "unsigned")
	f := mustParse(t, "unsigned", src)
	f.SetSignatureMaps([]int32{0})
	g := f.Clone()
	g.SetInsn(readBlob(t, "chain", "insn"))
	g.SetSignature(readBlob(t, "chain", "sig"), readBlob(t, "chain", "excl"))
	checkBytes(t, g, readFixture(t, "chain"))
	checkBytes(t, f, src)
	if f.Signed() {
		t.Error("editing the clone changed the original")
	}
}
