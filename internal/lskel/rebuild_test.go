package lskel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// fileDiff returns "" if got and want are deeply equal, else the names and
// values of the File fields that differ (every field: offsets, line
// numbers, decoded bytes, the struct and assignment records).
func fileDiff(got, want *File) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	var b strings.Builder
	for i := 0; i < gv.NumField(); i++ {
		name := gv.Type().Field(i).Name
		g, w := open(gv.Field(i)), open(wv.Field(i))
		if reflect.DeepEqual(g.Interface(), w.Interface()) {
			continue
		}
		fmt.Fprintf(&b, "\n  %s:\n    got  %s\n    want %s", name, dump(g), dump(w))
	}
	return b.String()
}

// open returns the addressable value v without its read-only flag, so that
// the unexported fields of File can be compared.
func open(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// dump prints a field, following pointers (the records are small).
func dump(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return "&" + dump(v.Elem())
	case reflect.Map:
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v:%s", k, dump(v.MapIndex(k))))
		}
		slices.Sort(parts)
		return "map[" + strings.Join(parts, " ") + "]"
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint())
			}
			return fmt.Sprintf("%d bytes %s", len(b), trunc(fmt.Sprintf("%x", b)))
		}
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, dump(v.Index(i)))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			parts = append(parts, v.Type().Field(i).Name+":"+dump(v.Field(i)))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%v", v)
}

// checkEditEqualsParse applies e to f and, if it succeeds, compares the
// File with Parse of its bytes field by field. It returns whether the
// result was built rather than parsed, and whether the edit succeeded.
func checkEditEqualsParse(t testing.TB, f *File, e Edit, what string) (rebuilt, ok bool) {
	t.Helper()
	g, rebuilt, err := f.edit(e)
	if err != nil {
		var ee *EditError
		if !errors.As(err, &ee) || ee.Err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return false, false // a refused Edit (a conflict, maps on an unsigned header)
	}
	want, err := Parse(f.filename, g.Bytes())
	if err != nil {
		t.Fatalf("%s: the edited header does not parse: %v", what, err)
	}
	if d := fileDiff(g, want); d != "" {
		t.Fatalf("%s (rebuilt %v): the File Edit returned differs from Parse of its bytes:%s", what, rebuilt, d)
	}
	return rebuilt, true
}

// editCases returns Edit combinations over the fixtures' blobs: each blob
// alone and together, sizes around the 78-column wrap, signing, re-signing,
// unsigning, and every hash-chain change.
func editCases(t testing.TB) map[string]Edit {
	insn := readBlob(t, "chain", "insn")
	data := readBlob(t, "raw", "data")
	sig, excl := readBlob(t, "raw", "sig"), readBlob(t, "raw", "excl")
	blobs := map[string][]byte{
		"empty": {}, "zero": {0}, "one": {1}, "19 hex": bytes.Repeat([]byte{0xab}, 19),
		"20 hex": bytes.Repeat([]byte{0xab}, 20), "39 zeros": make([]byte, 39), "40 zeros": make([]byte, 40),
		"insn": insn, "data": data,
	}
	out := map[string]Edit{}
	for n, b := range blobs {
		out["insn="+n] = Edit{Insn: b}
		out["data="+n] = Edit{Data: b}
		out["sign sig="+n] = Edit{Signature: b, ExclHash: excl}
		out["insn+data="+n] = Edit{Insn: b, Data: b}
	}
	for n, maps := range map[string][]int32{"none": {}, "one": {0}, "three": {2, 0, 1}, "wide": {-1, 1 << 30}} {
		set := Edit{SignatureMaps: maps, SetSignatureMaps: true}
		out["maps="+n] = set
		set.Signature, set.ExclHash = sig, excl
		out["sign+maps="+n] = set
		set.Insn, set.Data = insn, data
		out["all+maps="+n] = set
	}
	out["sign"] = Edit{Signature: sig, ExclHash: excl}
	out["sign empty"] = Edit{Signature: []byte{}, ExclHash: []byte{}}
	out["sign+insn"] = Edit{Insn: insn, Signature: sig, ExclHash: excl}
	out["remove"] = Edit{RemoveSignature: true}
	out["remove+insn+data"] = Edit{RemoveSignature: true, Insn: insn, Data: data}
	out["remove+maps"] = Edit{RemoveSignature: true, SetSignatureMaps: true}
	return out
}

// editSources returns the headers the equivalence tests edit: every
// fixture, each flavour of the signed and unsigned ones, and all flavours at
// once.
func editSources(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range fixtureNames {
		out[n] = readFixture(t, n)
	}
	for _, fl := range flavours {
		for _, n := range []string{"unsigned", "legacy-v1", "chain"} {
			out[n+"/"+fl.name] = []byte(fl.transform(string(readFixture(t, n))))
		}
	}
	for _, n := range []string{"unsigned", "legacy-v1", "chain"} {
		s := string(readFixture(t, n))
		for _, fl := range flavours {
			s = fl.transform(s)
		}
		out[n+"/all flavours"] = []byte(s)
	}
	return out
}

// TestEditEqualsParse: for every Edit combination over every fixture and
// flavour, the File Edit returns is the File Parse returns for its bytes,
// field by field, and it was built without parsing the result.
func TestEditEqualsParse(t *testing.T) {
	cases := editCases(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range cases {
			if !yield(n) {
				return
			}
		}
	})
	for src, b := range editSources(t) {
		t.Run(src, func(t *testing.T) {
			f := mustParse(t, src, b)
			built, failed := 0, 0
			for _, n := range names {
				rebuilt, ok := checkEditEqualsParse(t, f, cases[n], n)
				switch {
				case !ok:
					failed++
				case !rebuilt && !noChange(f, cases[n]):
					t.Errorf("%s: result parsed, not built", n)
				default:
					built++
				}
				// A second edit of the built File is checked too.
				if g, err := f.Edit(cases[n]); err == nil {
					checkEditEqualsParse(t, g, Edit{Insn: []byte{1, 0, 2}, SetSignatureMaps: true}, n+", then insn and no maps")
				}
			}
			// The only edits that fail are the hash-chain ones on a header
			// that stays unsigned.
			if built == 0 || failed > 4 {
				t.Errorf("%d edits built, %d failed", built, failed)
			}
		})
	}
}

// TestEditSetterChainsEqualParse: the setters, which chain Edits, leave a
// File equal to Parse of its bytes after every step.
func TestEditSetterChainsEqualParse(t *testing.T) {
	for src, b := range editSources(t) {
		f := mustParse(t, src, b)
		steps := []func(){
			func() { f.SetSignatureMaps([]int32{0, 1}) },
			func() { f.SetSignature(readBlob(t, "chain", "sig"), readBlob(t, "chain", "excl")) },
			func() { f.SetInsn(readBlob(t, "raw", "insn")) },
			func() { f.SetSignatureMaps([]int32{0}) },
			func() { f.SetData(nil) },
			func() { f.SetSignatureMaps(nil) },
			func() { f.RemoveSignature() },
			func() { f.SetSignature(nil, nil) },
		}
		for i, step := range steps {
			step()
			if f.editErr != nil {
				t.Fatalf("%s: step %d: %v", src, i, f.editErr)
			}
			checkSameAsParse(t, f, fmt.Sprintf("%s: after step %d", src, i))
		}
	}
}

// noChange reports whether e leaves f's bytes as they are (Edit then
// returns a copy of f).
func noChange(f *File, e Edit) bool {
	sp, err := f.splices(&e)
	return err == nil && len(sp) == 0
}

// checkSameAsParse compares f (pending setter state aside) with Parse of
// its bytes.
func checkSameAsParse(t testing.TB, f *File, what string) {
	t.Helper()
	want, err := Parse(f.filename, f.Bytes())
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	g := *f
	g.pendingMaps, g.editErr = nil, nil
	if d := fileDiff(&g, want); d != "" {
		t.Fatalf("%s: File differs from Parse of its bytes:%s", what, d)
	}
}

// TestEditEqualsParseMutants edits every header the one-line deletion
// property keeps (TestDeleteOneLine) and the fuzz corpus, where the
// constructs sit in unusual places.
func TestEditEqualsParseMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("slow in -short mode")
	}
	cases := editCases(t)
	pick := []string{"insn=insn", "sign", "remove", "maps=three", "sign+maps=one", "all+maps=none", "remove+insn+data"}
	var srcs [][]byte
	for _, n := range fixtureNames {
		src := readFixture(t, n)
		lines := bytes.SplitAfter(src, []byte("\n"))
		off := 0
		for _, ln := range lines {
			start := off
			off += len(ln)
			srcs = append(srcs, slices.Concat(src[:start], src[off:]))
		}
	}
	corpus, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	for _, c := range corpus {
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := corpusBytes(b); ok {
			srcs = append(srcs, v)
		}
	}
	n := 0
	for i, src := range srcs {
		f, err := Parse("m.skel.h", src)
		if err != nil {
			continue
		}
		n++
		for _, c := range pick {
			checkEditEqualsParse(t, f, cases[c], fmt.Sprintf("mutant %d: %s", i, c))
		}
	}
	if n < 100 {
		t.Fatalf("only %d mutants parse", n)
	}
}

// corpusBytes decodes a `go test fuzz v1` file holding one []byte value.
func corpusBytes(b []byte) ([]byte, bool) {
	s := string(b)
	i := strings.Index(s, "[]byte(")
	if i < 0 || !strings.HasSuffix(strings.TrimSpace(s), ")") {
		return nil, false
	}
	var v string
	if _, err := fmt.Sscanf(strings.TrimSpace(s[i+len("[]byte("):]), "%q", &v); err != nil {
		return nil, false
	}
	return []byte(v), true
}

// FuzzEdit applies an Edit chosen by the fuzzer to a header and checks the
// File Edit returns against Parse of its bytes.
func FuzzEdit(f *testing.F) {
	for _, name := range fixtureNames {
		f.Add(readFixture(f, name), uint8(0), []byte{1, 0, 2})
		f.Add(readFixture(f, name), uint8(0xff), []byte{})
	}
	f.Add([]byte(flavours[4].transform(string(readFixture(f, "unsigned")))), uint8(0x1e), bytes.Repeat([]byte{7}, 40))
	f.Fuzz(func(t *testing.T, src []byte, sel uint8, blob []byte) {
		file, err := Parse("fuzz.skel.h", src)
		if err != nil {
			return
		}
		var e Edit
		if sel&1 != 0 {
			e.Insn = blob
		}
		if sel&2 != 0 {
			e.Data = blob
		}
		switch sel >> 2 & 3 {
		case 1:
			e.Signature, e.ExclHash = blob, bytes.Repeat([]byte{0xee}, 32)
		case 2:
			e.RemoveSignature = true
		}
		if sel&16 != 0 {
			e.SetSignatureMaps = true
			for i := range int(sel>>5) % 4 {
				e.SignatureMaps = append(e.SignatureMaps, int32(i))
			}
		}
		checkEditEqualsParse(t, file, e, fmt.Sprintf("edit %08b", sel))
	})
}
