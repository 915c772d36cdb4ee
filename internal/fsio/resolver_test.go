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
