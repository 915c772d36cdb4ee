package preflight

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/lskel"
)

var update = flag.Bool("update", false, "rewrite the generated files under testdata/broken")

const testdata = "../../testdata"

func parseFile(t testing.TB, path string) *lskel.File {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := lskel.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// exitInsn is `exit` (code 0x95): as the first instruction of a program it
// makes the verifier refuse it with "R0 !read_ok".
var exitInsn = []byte{0x95, 0, 0, 0, 0, 0, 0, 0}

// innerFails returns unsigned.skel.h with the first instruction of its one
// program (handle_openat), in the metadata blob, replaced by exitInsn: the
// loader itself is intact, the program it loads is refused by the verifier.
func innerFails(t testing.TB) []byte {
	t.Helper()
	f := parseFile(t, filepath.Join(testdata, "minimal/unsigned.skel.h"))
	inv, err := Analyze(f.Insn(), f.Data())
	if err != nil {
		t.Fatal(err)
	}
	p := inv.Progs[0]
	if p.Name != "handle_openat" || p.InsnOff < 0 {
		t.Fatalf("program 0 = %+v, want handle_openat with traced instructions", p)
	}
	d := f.Data()
	copy(d[p.InsnOff:], exitInsn)
	f.SetData(d)
	return f.Bytes()
}

// editLiteral rewrites byte at of the header's data[] literal for map m to v,
// in the header text (the literal is the unsigned copy; the blob is untouched).
func editLiteral(t testing.TB, path, m string, at int, v byte) []byte {
	t.Helper()
	f := parseFile(t, path)
	src := f.Bytes()
	for _, iv := range f.InitialValues() {
		if iv.Map != m {
			continue
		}
		lines := bytes.SplitAfter(src, []byte("\n"))
		// The body starts on the line after the declaration: tokens \0 or \xHH.
		body := lines[iv.Line]
		var out []byte
		tok := 0
		for i := 0; i < len(body); {
			if body[i] != '\\' || i+1 >= len(body) || body[i+1] == '\n' {
				out = append(out, body[i])
				i++
				continue
			}
			n := 2
			if body[i+1] == 'x' {
				n = 4
			}
			if tok == at {
				out = append(out, fmt.Sprintf(`\x%02x`, v)...)
			} else {
				out = append(out, body[i:i+n]...)
			}
			tok++
			i += n
		}
		if tok <= at {
			t.Fatalf("%s: literal of %s has %d bytes on its first line, cannot edit byte %d", path, m, tok, at)
		}
		lines[iv.Line] = out
		return bytes.Join(lines, nil)
	}
	t.Fatalf("%s: no data[] literal for map %s", path, m)
	return nil
}

// brokenFixtures are generated from the fixtures by the functions above and
// committed, so that `bpfsig load` and `inspect` can be shown them.
func brokenFixtures(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"inner-fails.skel.h":             innerFails(t),
		"legacy-v1-rodata-edited.skel.h": editLiteral(t, filepath.Join(testdata, "minimal/legacy-v1.skel.h"), "rodata", 0, 0x2a),
		"raw-rodata-edited.skel.h":       editLiteral(t, filepath.Join(testdata, "minimal/raw.skel.h"), "rodata", 0, 0x2a),
	}
}

// TestBrokenFixtures keeps testdata/broken equal to what the generators make
// (go test ./internal/preflight -run TestBrokenFixtures -update rewrites it).
func TestBrokenFixtures(t *testing.T) {
	for name, want := range brokenFixtures(t) {
		path := filepath.Join(testdata, "broken", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator (run with -update)", path)
		}
		if _, err := lskel.Parse(path, got); err != nil {
			t.Errorf("%s does not parse: %v", path, err)
		}
	}
}

func TestEditLiteralChangesOnlyTheLiteral(t *testing.T) {
	path := filepath.Join(testdata, "minimal/legacy-v1.skel.h")
	orig := parseFile(t, path)
	ed, err := lskel.Parse(path, editLiteral(t, path, "rodata", 0, 0x2a))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ed.Insn(), orig.Insn()) || !bytes.Equal(ed.Data(), orig.Data()) || !bytes.Equal(ed.Sig(), orig.Sig()) {
		t.Fatal("editing a data[] literal changed a signed blob")
	}
	var got string
	for _, iv := range ed.InitialValues() {
		got += fmt.Sprintf("%s=%x ", iv.Map, iv.Data)
	}
	if want := "rodata=2a000000 bss=0000000000000000 "; got != want {
		t.Fatalf("initial values %q, want %q", got, want)
	}
	if !strings.Contains(string(ed.Bytes()), `\x2a\0\0\0`) {
		t.Fatal("edited literal not in the header text")
	}
}
