package fsio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// A Resolver answers Resolve for many paths in few directories, resolving each directory
// once: Resolve(dir/base) is Resolve(dir) joined with base whenever base is not itself a
// symbolic link, which one Lstat tells. Anything else (a link, a base of "." or "..", an
// Lstat error other than not-exist, a directory Resolve refuses) takes Resolve itself, so
// the answers are Resolve's. A Resolver assumes the directories do not change while it is
// used; it is not safe for concurrent use.
type Resolver struct {
	dirs map[string]resolvedDir
}

type resolvedDir struct {
	real string
	err  error
}

// Resolve is Resolve(p), with p's directory resolved at most once per Resolver.
func (r *Resolver) Resolve(p string) (string, error) {
	dir, base := filepath.Split(p)
	if dir == "" || base == "" || base == "." || base == ".." {
		return Resolve(p)
	}
	if fi, err := os.Lstat(p); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return Resolve(p)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Resolve(p)
	}
	if r.dirs == nil {
		r.dirs = map[string]resolvedDir{}
	}
	d, ok := r.dirs[dir]
	if !ok {
		d.real, d.err = Resolve(dir)
		r.dirs[dir] = d
	}
	if d.err != nil {
		return Resolve(p)
	}
	return filepath.Join(d.real, base), nil
}
