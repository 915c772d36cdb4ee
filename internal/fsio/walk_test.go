package fsio

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

func isSkel(n string) bool {
	return strings.HasSuffix(n, ".skel.h") || strings.HasSuffix(n, ".lskel.h")
}

// mkTree creates files (name -> contents; a name ending in "/" is a directory) and links
// (name -> target) under root.
func mkTree(t *testing.T, root string, files map[string]string, links map[string]string) {
	t.Helper()
	for n, c := range files {
		p := filepath.Join(root, n)
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, target := range links {
		symlink(t, target, filepath.Join(root, n))
	}
}

func rels(r *WalkResult) []string {
	var out []string
	for _, f := range r.Files {
		out = append(out, f.Path)
	}
	return out
}

func skips(r *WalkResult) map[string]string {
	m := map[string]string{}
	for _, s := range r.Skipped {
		m[s.Path] = s.Reason
	}
	return m
}

func TestWalk(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	mkTree(t, base, map[string]string{
		"src/a.skel.h":             "a",
		"src/b.lskel.h":            "b",
		"src/notes.txt":            "not a skeleton",
		"src/a.skel.h.orig":        "backup",
		"src/old.skel.h":           "old",
		"src/old.skel.h.orig":      "backup of old",
		"src/sub/c.skel.h":         "c",
		"src/sub/deeper/d.lskel.h": "d",
		"src/out/e.skel.h":         "previous output",
		"src/zlinked/z.skel.h":     "z, reached by a link first in name order",
		"other/x.skel.h":           "outside",
		"other/dir/y.skel.h":       "outside",
		"src/empty/":               "",
	}, map[string]string{
		"src/0link.skel.h":      "a.skel.h",          // inside, same file as a.skel.h
		"src/0dir":              "zlinked",           // inside, same directory as zlinked
		"src/sub/up.skel.h":     "../b.lskel.h",      // inside, same file as b.lskel.h
		"src/sub/new.skel.h":    "../notes.txt",      // inside, a new name for a non-skeleton: taken
		"src/escape.skel.h":     "../other/x.skel.h", // outside
		"src/escape-dir":        "../other/dir",      // outside
		"src/escape-abs.skel.h": filepath.Join(base, "other/x.skel.h"),
		"src/dangling.skel.h":   "no-such-file",
		"src/dangling.txt":      "no-such-file",      // not a candidate: not reported
		"src/loop":              ".",                 // the tree itself
		"src/sub/deeper/parent": "..",                // an ancestor
		"src/outside-file.txt":  "../other/x.skel.h", // outside, name not selected: not reported
	})
	if runtime.GOOS != "windows" {
		if err := mkfifo(filepath.Join(base, "src/pipe.skel.h")); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Walk([]string{"src"}, WalkOptions{Match: isSkel, BackupSuffix: ".orig", Exclude: []string{"src/out"}})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"src/a.skel.h", "src/b.lskel.h", "src/old.skel.h", "src/sub/c.skel.h", "src/sub/deeper/d.lskel.h",
		"src/zlinked/z.skel.h", "src/sub/new.skel.h"}
	if got := rels(res); !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("files\n got %q\nwant %q", got, wantFiles)
	}
	for _, f := range res.Files {
		if f.Src != "src" || filepath.Join(f.Src, f.Rel) != f.Path || !f.Info.Mode().IsRegular() {
			t.Errorf("%+v", f)
		}
	}
	outside := func(p string) string {
		real, _ := filepath.EvalSymlinks(filepath.Join(base, p))
		root, _ := filepath.EvalSymlinks(filepath.Join(base, "src"))
		return "symbolic link to " + real + ", outside the source tree " + root
	}
	wantSkips := map[string]string{
		"src/out":               "excluded directory",
		"src/0link.skel.h":      "same file as src/a.skel.h",
		"src/0dir":              "directory already walked as src/zlinked",
		"src/sub/up.skel.h":     "same file as src/b.lskel.h",
		"src/escape.skel.h":     outside("other/x.skel.h"),
		"src/escape-abs.skel.h": outside("other/x.skel.h"),
		"src/escape-dir":        outside("other/dir"),
		"src/dangling.skel.h":   "dangling symbolic link",
		"src/loop":              "directory already walked as src",
		"src/sub/deeper/parent": "directory already walked as src/sub",
	}
	if runtime.GOOS != "windows" {
		wantSkips["src/pipe.skel.h"] = "is a FIFO, not a regular file"
	}
	if got := skips(res); !reflect.DeepEqual(got, wantSkips) {
		t.Errorf("skipped\n got %q\nwant %q", got, wantSkips)
	}
}

// TestWalkSources: what each kind of source argument gives, and files reached twice across
// arguments returned once.
func TestWalkSources(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	mkTree(t, base, map[string]string{
		"src/a.skel.h": "a", "src/sub/c.skel.h": "c", "src/notes.txt": "n", "src/a.skel.h.orig": "backup",
	}, map[string]string{
		"srclink": "src", "alink.skel.h": "src/a.skel.h", "gone.skel.h": "nowhere",
		"src/sub/in-tree.skel.h": "../a.skel.h",
	})
	abs := func(p string) string { return filepath.Join(base, p) }
	if err := os.Link(abs("src/sub/c.skel.h"), abs("src/hard.skel.h")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		srcs  []string
		files []string // Path of each file returned, in order
		rel   []string // Rel of each
		skip  []string // paths reported skipped
	}{
		{"directory", []string{"src"}, []string{"src/a.skel.h", "src/hard.skel.h"}, []string{"a.skel.h", "hard.skel.h"},
			[]string{"src/sub/c.skel.h", "src/sub/in-tree.skel.h"}},
		{"symlinked directory", []string{"srclink"}, []string{"srclink/a.skel.h", "srclink/hard.skel.h"}, []string{"a.skel.h", "hard.skel.h"},
			[]string{"srclink/sub/c.skel.h", "srclink/sub/in-tree.skel.h"}},
		{"file any name", []string{"src/notes.txt"}, []string{"src/notes.txt"}, []string{"notes.txt"}, nil},
		{"backup named explicitly", []string{"src/a.skel.h.orig"}, []string{"src/a.skel.h.orig"}, []string{"a.skel.h.orig"}, nil},
		{"two spellings of a file", []string{"src/a.skel.h", "./src/a.skel.h", "src/sub/../a.skel.h", abs("src/a.skel.h"), "alink.skel.h"},
			[]string{"src/a.skel.h"}, []string{"a.skel.h"},
			[]string{"./src/a.skel.h", "src/sub/../a.skel.h", abs("src/a.skel.h"), "alink.skel.h"}},
		{"file then its directory", []string{"alink.skel.h", "src"}, []string{"alink.skel.h", "src/hard.skel.h"}, []string{"alink.skel.h", "hard.skel.h"},
			[]string{"src/a.skel.h", "src/sub/c.skel.h", "src/sub/in-tree.skel.h"}},
		{"overlapping directories", []string{"src/sub", "src", "srclink", "./src/"},
			[]string{"src/sub/c.skel.h", "src/a.skel.h"}, []string{"c.skel.h", "a.skel.h"},
			[]string{"src/sub/in-tree.skel.h", "src/hard.skel.h", "src/sub", "srclink", "./src/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Walk(tc.srcs, WalkOptions{Match: isSkel, BackupSuffix: ".orig"})
			if err != nil {
				t.Fatal(err)
			}
			var gotRel []string
			for _, f := range res.Files {
				gotRel = append(gotRel, f.Rel)
			}
			if !reflect.DeepEqual(rels(res), tc.files) || !reflect.DeepEqual(gotRel, tc.rel) {
				t.Errorf("files %q rel %q, want %q %q", rels(res), gotRel, tc.files, tc.rel)
			}
			var gotSkip []string
			for p := range skips(res) {
				gotSkip = append(gotSkip, p)
			}
			sort.Strings(gotSkip)
			want := append([]string(nil), tc.skip...)
			sort.Strings(want)
			if len(gotSkip) != len(want) || (len(want) > 0 && !reflect.DeepEqual(gotSkip, want)) {
				t.Errorf("skipped %q, want %q (%v)", gotSkip, want, res.Skipped)
			}
		})
	}
	for _, tc := range []struct{ src, says string }{
		{"missing", "no such file"},
		{"gone.skel.h", "gone.skel.h: dangling symbolic link"},
	} {
		if _, err := Walk([]string{"src", tc.src}, WalkOptions{Match: isSkel}); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("source %s: %v, want %q", tc.src, err, tc.says)
		}
	}
	if runtime.GOOS != "windows" {
		if err := mkfifo(abs("fifo.skel.h")); err != nil {
			t.Fatal(err)
		}
		_, err := Walk([]string{"fifo.skel.h"}, WalkOptions{Match: isSkel})
		if err == nil || err.Error() != "fifo.skel.h: is a FIFO, not a regular file" {
			t.Errorf("FIFO source: %v", err)
		}
	}
	if err := os.Chmod(abs("src/sub"), 0); err == nil && os.Geteuid() != 0 {
		defer os.Chmod(abs("src/sub"), 0o755)
		if _, err := Walk([]string{"src"}, WalkOptions{}); err == nil || !strings.Contains(err.Error(), "src/sub") {
			t.Errorf("unreadable directory: %v", err)
		}
	}
	os.Chmod(abs("src/sub"), 0o755)
}

// TestWalkThroughLinkDotDot: a source spelled through a link and ".." (l/../in, l -> d/sub)
// is walked where the system resolves it (d/in): every File's Path opens the file the walk
// listed, never the same name under the lexical reading (./in), which here holds a decoy;
// a file argument spelled so is the system's file too.
func TestWalkThroughLinkDotDot(t *testing.T) {
	base := t.TempDir()
	for _, p := range []string{"d/sub", "d/in", "in"} {
		if err := os.MkdirAll(filepath.Join(base, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "d", "in", "a.skel.h"), []byte("real"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "in", "a.skel.h"), []byte("decoy"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "d", "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	for _, src := range []string{"l/../in", "l/../in/", "l/../in/a.skel.h", "./l/../in"} {
		res, err := Walk([]string{src}, WalkOptions{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if len(res.Files) != 1 {
			t.Fatalf("%s: %d files", src, len(res.Files))
		}
		if b, err := os.ReadFile(res.Files[0].Path); err != nil || string(b) != "real" {
			t.Errorf("%s: Path %q reads %q (%v), want the real file", src, res.Files[0].Path, b, err)
		}
		if res.Files[0].Src != src || res.Files[0].Rel != "a.skel.h" {
			t.Errorf("%s: Src %q Rel %q", src, res.Files[0].Src, res.Files[0].Rel)
		}
	}
	// Without a link before the "..", the spelling is kept.
	res, err := Walk([]string{"d/../in"}, WalkOptions{})
	if err != nil || len(res.Files) != 1 || res.Files[0].Path != filepath.Join("in", "a.skel.h") {
		t.Fatalf("d/../in: %+v %v", res, err)
	}
}

// TestWalkEntryVanished: an entry listed in its directory and gone when the walk looks at it
// (a file or a directory removed meanwhile) is reported as left out, with the reason, and
// the walk goes on: one deleted file must not abort a verify of the whole tree.
func TestWalkEntryVanished(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a.skel.h", "b.skel.h", "sub/c.skel.h", "z.skel.h"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	afterReadDir = func(dir string) {
		if dir == root {
			os.Remove(filepath.Join(root, "b.skel.h"))
			os.RemoveAll(filepath.Join(root, "sub"))
		}
	}
	defer func() { afterReadDir = nil }()
	res, err := Walk([]string{root}, WalkOptions{})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	var files, skipped []string
	for _, f := range res.Files {
		files = append(files, f.Rel)
	}
	for _, s := range res.Skipped {
		if !strings.Contains(s.Reason, "vanished") {
			t.Errorf("%s: reason %q", s.Path, s.Reason)
		}
		skipped = append(skipped, filepath.Base(s.Path))
	}
	if !slices.Equal(files, []string{"a.skel.h", "z.skel.h"}) || !slices.Equal(skipped, []string{"b.skel.h", "sub"}) {
		t.Fatalf("files %q, skipped %q", files, skipped)
	}
}
