//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateTempLikeOS: createTemp names, creates and fails as os.CreateTemp does, for every
// spelling of the directory (a trailing slash, a "link/.." that the kernel resolves past the
// link, a relative name, a missing directory, a file where the directory should be): the
// name is not cleaned lexically, the file is new, empty, 0600 and writable.
func TestCreateTempLikeOS(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real", "sub")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	const prefix = TempPrefix + "x-"
	for _, dir := range []string{real, real + "/", "link/..", "real/sub", "./real//sub/", "missing", "file"} {
		f, err := createTemp(dir, prefix)
		g, gerr := os.CreateTemp(dir, prefix+"*")
		if (err == nil) != (gerr == nil) {
			t.Fatalf("%q: createTemp error %v, os.CreateTemp error %v", dir, err, gerr)
		}
		if err != nil {
			var pe, ge *fs.PathError
			// The same error but for the random part of the name.
			if !errors.As(err, &pe) || !errors.As(gerr, &ge) || pe.Op != ge.Op || !errors.Is(pe.Err, ge.Err) ||
				strings.TrimRight(pe.Path, "0123456789") != strings.TrimRight(ge.Path, "0123456789") {
				t.Errorf("%q: createTemp error %#v, want os.CreateTemp's %#v", dir, err, gerr)
			}
			continue
		}
		g.Close()
		os.Remove(g.Name())
		if want := strings.TrimSuffix(g.Name(), filepath.Base(g.Name())); !strings.HasPrefix(f.Name(), want+prefix) {
			t.Errorf("%q: createTemp named %q, os.CreateTemp %q", dir, f.Name(), g.Name())
		}
		fi, err := f.Stat()
		li, lerr := os.Lstat(f.Name())
		if err != nil || lerr != nil || !os.SameFile(fi, li) || fi.Size() != 0 || fi.Mode() != 0o600 {
			t.Errorf("%q: %v %v %v %v", dir, fi, err, li, lerr)
		}
		if _, err := f.Write([]byte("x")); err != nil {
			t.Errorf("%q: write: %v", dir, err)
		}
		f.Close()
		os.Remove(f.Name())
	}
}
