package fsio

import (
	"os"
	"path/filepath"
	"testing"
)

// The Resolver gives Resolve's answer for every kind of path: existing files, missing files
// in existing and missing directories, links to files and directories, dangling links,
// ".." after a link, and relative spellings.
func TestResolverAgreesWithResolve(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(root, "a", "f"), nil, 0o644))
	must(os.Symlink(filepath.Join(root, "a", "b"), filepath.Join(root, "lb")))
	must(os.Symlink(filepath.Join(root, "a", "f"), filepath.Join(root, "a", "lf")))
	must(os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(root, "a", "dangling")))
	must(os.Chdir(root))
	t.Cleanup(func() { _ = os.Chdir("/") })
	paths := []string{
		filepath.Join(root, "a", "f"),
		filepath.Join(root, "a", "missing"),
		filepath.Join(root, "a", "x", "missing"),
		filepath.Join(root, "lb", "new"),
		filepath.Join(root, "lb", "..", "f"),
		filepath.Join(root, "a", "lf"),
		filepath.Join(root, "a", "dangling"),
		filepath.Join(root, "a", "dangling", "x"),
		filepath.Join(root, "a", "f", "x"),
		root + "/a/./f",
		root + "/a/b/..",
		root + "/lb/.",
		"a/f", "lb/new", "a/lf", "missing", "./a/f", "lb/../f",
		"/", "/nonexistent-dir-for-test/x",
	}
	var r Resolver
	for round := 0; round < 2; round++ { // the second round answers from the cache
		for _, p := range paths {
			want, werr := Resolve(p)
			got, gerr := r.Resolve(p)
			if got != want || (werr == nil) != (gerr == nil) {
				t.Errorf("round %d, %q: Resolver %q, %v; Resolve %q, %v", round, p, got, gerr, want, werr)
			}
		}
	}
}

// TestJoin: Join(dir, rel) names the file the system reaches through dir/rel, for every
// spelling of dir: through a link followed by "..", ".." after another link, a trailing
// separator, plain and relative names (joined as filepath.Join does), and a dir that does
// not exist yet after a link's "..".
func TestJoin(t *testing.T) {
	base := t.TempDir()
	d := filepath.Join(base, "d")
	for _, p := range []string{filepath.Join(d, "sub", "deeper"), filepath.Join(base, "e")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(d, "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(d, "sub", "deeper"), filepath.Join(d, "sub", "m")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	real, err := filepath.EvalSymlinks(base)
	if err != nil {
		t.Fatal(err)
	}
	rd := filepath.Join(real, "d")
	for _, tc := range []struct{ dir, want string }{
		{"l/..", filepath.Join(rd, "x")},
		{"l/../", filepath.Join(rd, "x")},
		{"l/m/..", filepath.Join("l", "x")}, // l/m/.. and l are one directory: the spelling is kept
		{"l/m/../..", filepath.Join(rd, "x")},
		{"l/../new", filepath.Join(rd, "new", "x")},
		{filepath.Join(base, "l") + "/..", filepath.Join(rd, "x")},
		{"e", filepath.Join("e", "x")},
		{"e/", filepath.Join("e", "x")},
		{"./e", filepath.Join("e", "x")},
		{"l", filepath.Join("l", "x")},
		{"e/..", "x"}, // no link before the "..": the spelling is kept
		{"../" + filepath.Base(base) + "/e", filepath.Join("..", filepath.Base(base), "e", "x")},
	} {
		got := Join(tc.dir, "x")
		if got != tc.want {
			t.Errorf("Join(%q, x) = %q, want %q", tc.dir, got, tc.want)
		}
		// The rule itself: the name reaches the same place as the unjoined spelling.
		if err := os.WriteFile(tc.dir+"/x", []byte(tc.dir), 0o644); err != nil {
			continue // a directory that does not exist yet
		}
		if b, err := os.ReadFile(got); err != nil || string(b) != tc.dir {
			t.Errorf("Join(%q, x) = %q reaches %q (%v), not %s/x", tc.dir, got, b, err, tc.dir)
		}
	}
}
