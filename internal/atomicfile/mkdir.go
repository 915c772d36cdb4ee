package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// MkdirAll creates dir and any missing parents, like os.MkdirAll, and makes each creation
// durable: the parent of every directory it creates is fsynced once the whole chain exists.
// Without that, files written durably into a new directory can vanish in a crash together
// with the directory entry that was never synced. An existing dir is not an error; a
// component that exists and is not a directory is, naming it.
func MkdirAll(dir string, perm fs.FileMode) error {
	var created []string
	var first error // the first failure other than "missing", should no ancestor explain it
	// The names are walked as the kernel resolves them, never cleaned lexically: with l a
	// link, "l/../new" is new in l's target's parent, not ./new.
	start := trimSeparators(dir)
	if start == "" {
		start = "." // as filepath.Clean("") is: nothing to create
	}
	for p := start; ; p = dirOf(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("create directory %s: %s is a %s, not a directory", dir, p, fsio.Kind(fi.Mode()))
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err // ENOTDIR: some ancestor is a file; keep looking for it
		}
		created = append(created, p)
		if dirOf(p) == p {
			break
		}
	}
	if first != nil {
		return fmt.Errorf("create directory %s: %w", dir, bare(first))
	}
	if len(created) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, bare(err))
	}
	// created runs from dir up to the topmost new one; each parent once.
	seen := map[string]bool{}
	for _, c := range created {
		parent := dirOf(c)
		if seen[parent] {
			continue
		}
		seen[parent] = true
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	return nil
}

// trimSeparators returns p without trailing separators, keeping a root ("/", `C:\`).
func trimSeparators(p string) string {
	vol := len(filepath.VolumeName(p))
	for len(p) > vol+1 && os.IsPathSeparator(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	return p
}
