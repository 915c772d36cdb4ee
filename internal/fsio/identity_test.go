package fsio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// identityTree: d/a is the file; d/x/y are directories; L -> d/x, so "L/../a" is d/a to the
// system although it is "a" to filepath.Clean.
func identityTree(t *testing.T) string {
	base := t.TempDir()
	t.Chdir(base)
	mkTree(t, base, map[string]string{"d/a": "same", "d/copy": "same", "d/x/y/": "", "a": "decoy at the lexical spelling"}, map[string]string{
		"L": "d/x", "la": "d/a", "lla": "la", "dl": "d", "M": "d/x/y",
	})
	if err := os.Link(filepath.Join(base, "d/a"), filepath.Join(base, "hard")); err != nil {
		t.Fatal(err)
	}
	return base
}

func TestSameFile(t *testing.T) {
	base := identityTree(t)
	for _, tc := range []struct {
		p    string
		same bool
	}{
		{"d/a", true}, {"./d/a", true}, {"d//a", true}, {"d/./a", true}, {"d/x/../a", true}, {"d/x/y/../../a", true},
		{filepath.Join(base, "d/a"), true}, {"la", true}, {"lla", true}, {"dl/a", true}, {"L/../a", true},
		{"M/../../a", true}, {"hard", true},
		{"a", false}, {"d/copy", false}, {"d", false}, {"missing", false}, {"d/missing/../a", false},
	} {
		got, err := SameFile("d/a", tc.p)
		if err != nil {
			t.Errorf("%s: %v", tc.p, err)
		}
		if got != tc.same {
			t.Errorf("SameFile(d/a, %s) = %v, want %v", tc.p, got, tc.same)
		}
		// Symmetric.
		if back, _ := SameFile(tc.p, "d/a"); back != got {
			t.Errorf("SameFile(%s, d/a) = %v, not symmetric", tc.p, back)
		}
	}
	if _, err := SameFile("d/a/under-a-file", "d/a"); err == nil {
		t.Error("a path through a regular file: no error")
	}
}

func TestFindSame(t *testing.T) {
	identityTree(t)
	inputs := []string{"d/copy", "./L/../a", "la"}
	shared := NewFileSet(inputs)
	for _, tc := range []struct {
		target, match string
	}{
		{"d/a", "./L/../a"}, {"lla", "./L/../a"}, {"d/x/../copy", "d/copy"}, {"hard", "./L/../a"},
		{"a", ""}, {"new-output", ""}, {"d/x", ""},
	} {
		m, ok, err := FindSame(tc.target, inputs)
		if err != nil || ok != (tc.match != "") || m != tc.match {
			t.Errorf("FindSame(%s) = %q, %v, %v; want %q", tc.target, m, ok, err, tc.match)
		}
		// A FileSet gives the same answers, asked once or after other targets.
		for _, set := range []*FileSet{NewFileSet(inputs), shared} {
			m, ok, err := set.Find(tc.target)
			if err != nil || ok != (tc.match != "") || m != tc.match {
				t.Errorf("FileSet.Find(%s) = %q, %v, %v; want %q", tc.target, m, ok, err, tc.match)
			}
		}
	}
}

func TestDirWithin(t *testing.T) {
	base := identityTree(t)
	for _, tc := range []struct {
		dir  string
		root string
		in   bool
	}{
		{"d", "d", true}, {"./d/", "d", true}, {"d/x", "d", true}, {"d/x/y", "d", true}, {"dl", "d", true},
		{"dl/x", "d", true}, {"L", "d", true}, {"L/..", "d", true}, {"M/../..", "d", true},
		{"d/new/deeper", "d", true}, {"dl/new", "d", true}, {"L/../new", "d", true}, {"L/new/../../new2", "d", true},
		{filepath.Join(base, "d/x"), "dl", true}, {"d/x", "L", true}, {"d/x/y", "L", true},
		{".", "d", false}, {"..", "d", false}, {"new", "d", false}, {"d/..", "d", false}, {"d/new/../../elsewhere", "d", false},
		{"d/x/../../new", "d", false}, {"d", "d/x", false}, {"L/..", "d/x", false}, {"M/../..", "L", false},
	} {
		in, err := DirWithin(tc.dir, tc.root)
		if err != nil || in != tc.in {
			t.Errorf("DirWithin(%s, %s) = %v, %v; want %v", tc.dir, tc.root, in, err, tc.in)
		}
	}
	if _, err := DirWithin("x", "missing-root"); err == nil {
		t.Error("missing root: no error")
	}
	symlink(t, "nowhere", filepath.Join(base, "dangle"))
	if _, err := DirWithin("dangle/sub", "d"); err == nil || !strings.Contains(err.Error(), "dangling symbolic link") {
		t.Errorf("through a dangling link: %v", err)
	}
}

func TestOutputOverlap(t *testing.T) {
	identityTree(t)
	for _, tc := range []struct {
		out  string
		srcs []string
		src  string
	}{
		{"out", []string{"d", "a"}, ""},
		{"d/out", []string{"a", "d"}, "d"},
		{"L/../out", []string{"a", "d"}, "d"},
		{"dl", []string{"d"}, "d"},
		{"d/x", []string{"la", "L", "d"}, "L"},
		{"d", []string{"d/x"}, ""},
		{"d/a/out", []string{"d/a"}, ""}, // a file source holds no directory
		{"out", []string{"missing"}, ""},
	} {
		src, ok, err := OutputOverlap(tc.out, tc.srcs)
		if err != nil || ok != (tc.src != "") || src != tc.src {
			t.Errorf("OutputOverlap(%s, %q) = %q, %v, %v; want %q", tc.out, tc.srcs, src, ok, err, tc.src)
		}
	}
}

func TestResolve(t *testing.T) {
	base := identityTree(t)
	real, _ := filepath.EvalSymlinks(base)
	for in, want := range map[string]string{
		"d/a": "d/a", "L/../a": "d/a", "L/new": "d/x/new", "L/new/../../z": "d/z", "dl/x/y": "d/x/y", "new/../d": "d",
	} {
		got, err := Resolve(in)
		if err != nil || got != filepath.Join(real, want) {
			t.Errorf("Resolve(%s) = %q, %v; want %s", in, got, err, filepath.Join(real, want))
		}
	}
}
