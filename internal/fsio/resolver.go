package fsio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// Join joins dir and rel (a clean relative name, as a walk gives) into the path of the file
// the system reaches by opening dir/rel: filepath.Join(Physical(dir), rel).
func Join(dir, rel string) string { return filepath.Join(Physical(dir), rel) }

// Physical returns dir itself when filepath.Join and filepath.Dir may work on its spelling,
// and dir resolved (Resolve) when they may not: when a ".." in it follows a symbolic link,
// the system goes to the parent of the link's target ("l/.." with l -> d/sub is d), where
// lexical cleaning drops both ("."). A dir without "..", or whose ".." elements mean the
// same both ways, keeps the caller's spelling (for messages); one Resolve cannot resolve
// is returned as it is.
func Physical(dir string) string {
	if !hasDotDot(dir) {
		return dir
	}
	real, err := Resolve(dir)
	if err != nil {
		return dir
	}
	if lexical, err := Resolve(filepath.Clean(dir)); err == nil && lexical == real {
		return dir
	}
	return real
}

// hasDotDot reports whether p has a ".." element.
func hasDotDot(p string) bool {
	for _, e := range strings.FieldsFunc(p, func(r rune) bool { return r < 0x80 && os.IsPathSeparator(uint8(r)) }) {
		if e == ".." {
			return true
		}
	}
	return false
}
