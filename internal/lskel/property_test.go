package lskel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// headerFiles returns every header under the repository's testdata/minimal
// and the package's own testdata, with their contents.
func headerFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{filepath.Join(minimalDir, "*.skel.h"), filepath.Join("testdata", "*.h")} {
		names, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = b
		}
	}
	if len(out) < len(fixtureNames) {
		t.Fatalf("found %d headers, want at least %d", len(out), len(fixtureNames))
	}
	return out
}

// checkRejected fails unless err is a *ParseError naming file and a line
// of src.
func checkRejected(t *testing.T, what, file string, src []byte, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted", what)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: error %T is not a *ParseError: %v", what, err, err)
	}
	if lines := bytes.Count(src, []byte("\n")) + 1; pe.File != file || pe.Line < 1 || pe.Line > lines || pe.Reason == "" {
		t.Fatalf("%s: bad error %s:%d: %q (source has %d lines)", what, pe.File, pe.Line, pe.Reason, lines)
	}
}

// TestEveryPrefixRejected: a header cut at any byte is rejected with a
// *ParseError carrying the file and a line, for every header under testdata
// and for the synthetic flavours.
func TestEveryPrefixRejected(t *testing.T) {
	files := headerFiles(t)
	all := flavours[0].transform
	for _, fl := range flavours[1:] {
		prev, tr := all, fl.transform
		all = func(s string) string { return tr(prev(s)) }
	}
	for _, name := range []string{"unsigned", "legacy-v1", "chain"} {
		files["all flavours/"+name] = []byte(all(string(readFixture(t, name))))
	}
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			mustParse(t, name, src)
			atEOF := 0
			for k := 0; k < len(src); k++ {
				_, err := Parse(name, src[:k])
				checkRejected(t, "prefix of "+itoa(k)+" bytes", name, src[:k], err)
				if strings.Contains(err.Error(), "unexpected end of file") {
					atEOF++
				}
			}
			// Most cuts fall inside a construct and say so; the others are
			// cuts before the blobs ("not a light skeleton").
			if atEOF < len(src)*3/4 {
				t.Errorf("only %d of %d prefixes report an unexpected end of file", atEOF, len(src))
			}
		})
	}
}

// TestPrefixErrorNamesConstruct checks the reason of cuts inside each kind
// of construct.
func TestPrefixErrorNamesConstruct(t *testing.T) {
	src := readFixture(t, "legacy-v1")
	cut := func(after string) []byte {
		i := bytes.Index(src, []byte(after))
		if i < 0 {
			t.Fatalf("%q not in fixture", after)
		}
		return src[:i+len(after)]
	}
	loadLine := itoa(lineOf(t, src, "minimal__load(struct"))
	for _, c := range []struct{ after, want string }{
		{"opts.ctx = (struct ", "inside minimal__load, opened at line " + loadLine},
		{"\topts.signature = (void *)opts_sig;\n", "inside minimal__load, opened at line " + loadLine},
		{"static const char opts_sig[] __attribute__((__aligned__(8))) = \"\\\n\\x30", "inside opts_sig literal, opened at line " + itoa(lineOf(t, src, "opts_sig[]"))},
		{"struct minimal {\n\tstruct bpf_loader_ctx ctx;\n", "inside struct minimal, opened at line " + itoa(lineOf(t, src, "struct minimal {"))},
		{"/* SPDX-License", "inside a comment, opened at line 1"},
		{"\"unexpected size of 't", "inside a string literal, opened at line " + itoa(lineOf(t, src, "unexpected size of 'target_pid'"))},
		{"#endif /* __MINIMAL_SKEL_H__ */", "the last line has no line break"},
		{"minimal__open_and_load(void)\n{\n\tstruct minimal *skel;\n\n\tskel = minimal__open();\n\tif (!skel)\n\t\treturn NULL;\n\tif (minimal__load(skel)) {\n\t\tminimal__destroy(skel);\n\t\treturn NULL;\n\t}\n\treturn skel;\n}\n",
			"inside #ifndef __MINIMAL_SKEL_H__, opened at line 3"},
		{"static inline struct minimal *\nminimal__open_and_load(void)\n", "inside a declaration, opened at line " + itoa(lineOf(t, src, "static inline struct minimal *\nminimal__open_and_load"))},
	} {
		_, err := Parse("x.skel.h", cut(c.after))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("cut after %q: got %v, want ...%s", c.after, err, c.want)
		}
	}
}

// literalAt returns the blob or data[] literal whose escaped text contains
// offset off, or nil.
func literalAt(f *File, off int, lits []*literal) *literal {
	for _, l := range lits {
		if off >= l.open && off < l.close {
			return l
		}
	}
	return nil
}

// decodeLine decodes one continuation line of a blob literal (its escapes,
// without the trailing backslash or closing quote and semicolon).
func decodeLine(t *testing.T, line string) []byte {
	t.Helper()
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\\"), "\";")
	var out []byte
	for len(line) > 0 {
		switch {
		case strings.HasPrefix(line, `\0`):
			out = append(out, 0)
			line = line[2:]
		case strings.HasPrefix(line, `\x`) && len(line) >= 4:
			out = append(out, unhex[line[2]]<<4|unhex[line[3]])
			line = line[4:]
		default:
			t.Fatalf("cannot decode %q", line)
		}
	}
	return out
}

// TestDeleteOneLine: deleting any one line of a signed header either is
// rejected, or parses to a File in the same signing state with the same
// blobs and initial value bytes — except that deleting a content line of a
// literal removes exactly that line's bytes from that literal and nothing
// else. A deletion never yields another valid state (never "unsigned", never
// a different hash-chain list).
func TestDeleteOneLine(t *testing.T) {
	for _, name := range []string{"legacy-v1", "legacy-v2", "raw", "chain", "unsigned"} {
		t.Run(name, func(t *testing.T) {
			src := readFixture(t, name)
			orig := mustParse(t, name, src)
			var lits []*literal
			for _, l := range orig.blobs {
				lits = append(lits, l)
			}
			lines := bytes.SplitAfter(src, []byte("\n"))
			rejected, kept := 0, 0
			off := 0
			for i, ln := range lines {
				start := off
				off += len(ln)
				mut := slices.Concat(src[:start], src[off:])
				g, err := Parse(name, mut)
				if err != nil {
					checkRejected(t, "without line "+itoa(i+1), name, mut, err)
					rejected++
					continue
				}
				kept++
				what := "without line " + itoa(i+1) + " " + strings.TrimSpace(trunc(string(ln)))
				if g.Signed() != orig.Signed() {
					t.Fatalf("%s: Signed() = %v", what, g.Signed())
				}
				gi, gok := g.SignatureMaps()
				oi, ook := orig.SignatureMaps()
				if gok != ook || !slices.Equal(gi, oi) {
					t.Fatalf("%s: SignatureMaps() = %v, %v", what, gi, gok)
				}
				in := literalAt(orig, start, lits)
				for _, n := range []string{BlobData, BlobInsn, BlobSig, BlobExclHash} {
					want := orig.Blob(n)
					if in != nil && in.name == n {
						lineBytes := decodeLine(t, strings.TrimRight(string(ln), "\r\n"))
						// The line's bytes are gone, nothing else changed.
						pos := bytes.Count(src[in.open:start], []byte(`\0`)) + bytes.Count(src[in.open:start], []byte(`\x`))
						want = slices.Concat(want[:pos], want[pos+len(lineBytes):])
					}
					if got := g.Blob(n); !bytes.Equal(got, want) {
						t.Fatalf("%s: %s differs (%d bytes, want %d)", what, n, len(got), len(want))
					}
				}
				if in == nil {
					// (Map may become "" when the skel_prep_map_data line
					// naming it is deleted: host code, not signed state.)
					givs, oivs := g.InitialValues(), orig.InitialValues()
					if len(givs) != len(oivs) {
						t.Fatalf("%s: %d initial values", what, len(givs))
					}
					for k := range givs {
						if !bytes.Equal(givs[k].Data, oivs[k].Data) {
							t.Fatalf("%s: initial value %d differs", what, k)
						}
					}
				}
			}
			if rejected == 0 || kept == 0 {
				t.Errorf("%d deletions rejected, %d kept", rejected, kept)
			}
			t.Logf("%d lines: %d deletions rejected, %d kept the same state", len(lines), rejected, kept)
		})
	}
}
