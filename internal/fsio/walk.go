package fsio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// WalkOptions selects what [Walk] returns.
type WalkOptions struct {
	// Match selects, by base name, the files a directory walk returns (for bpfsig,
	// *.skel.h and *.lskel.h). Nil selects every file.
	Match func(name string) bool
	// BackupSuffix, when not empty, leaves out of directory walks the files whose names end
	// in it (the backups an in-place run keeps), even when Match selects them.
	BackupSuffix string
	// Exclude lists directories not to descend into, compared by identity (an output
	// directory inside a source tree, say). Each one reached is reported in Skipped.
	Exclude []string
}

// File is one regular file Walk returns.
type File struct {
	Path string      // the path it was reached by: Src (through Physical) joined with Rel
	Src  string      // the source argument it was reached from
	Rel  string      // its path relative to Src; the base name when Src is the file itself
	Info fs.FileInfo // os.Stat of Path (links followed)
}

// Skipped is something Walk left out, with the reason.
type Skipped struct {
	Path   string
	Reason string
	// SameAs is set when Path is a file or directory already reached by the path SameAs:
	// nothing is missing from the result, the file was only not taken twice.
	SameAs string
}

// WalkResult is what Walk found.
type WalkResult struct {
	Files   []File    // in argument order, each directory in name order
	Skipped []Skipped // in the order met
	// Empty lists the directory sources in which nothing was found: no file returned and
	// nothing skipped (an empty tree, or one with no file Match selects). A caller that was
	// asked to process a tree usually reports these rather than succeed on nothing.
	Empty []string
}

// Walk collects the regular files named by srcs, each a file or a directory walked
// recursively. The rules:
//
//   - A source that is a file, or a symbolic link to one, is taken whatever its name (Match
//     and BackupSuffix apply to directory walks only); it must be a regular file, else
//     Walk fails with a *NotRegularError naming it. A missing source or a dangling link
//     given as a source is an error too.
//   - A source that is a directory, or a symbolic link to one, is walked; its tree is the
//     directory the source resolves to.
//   - Inside a tree, a symbolic link (to a file or a directory) is followed when it
//     resolves inside the tree, and is reported in Skipped, with the place it leads, when
//     it resolves outside, dangles or loops (a -> b -> a). Links are only reported when
//     they lead to a directory or their name is one Match selects.
//   - A directory entry Match selects that is not a regular file (FIFO, socket, device) is
//     reported in Skipped with what it is; it is never opened.
//   - The same file reached twice — by two spellings, overlapping sources, or links — is
//     returned once (device and inode), the first time it is reached; later arrivals are
//     reported in Skipped, with SameAs set. Within a source, links are followed after
//     every real entry of the tree, so a file reached both directly and through a link is
//     returned under its real path. A directory reached twice (a link loop, a source inside another source) is
//     walked once, likewise.
//
// Errors (an unreadable directory, a source that is not there) stop the walk and name the
// path; nothing is silently dropped.
func Walk(srcs []string, opts WalkOptions) (*WalkResult, error) {
	w := &walker{opts: opts, res: &WalkResult{}, files: map[any]string{}, dirs: map[any]string{}}
	for _, x := range opts.Exclude {
		fi, err := statOrMissing(x)
		if err != nil {
			return nil, err
		}
		if fi != nil {
			w.exclude = append(w.exclude, fi)
		}
	}
	for _, src := range srcs {
		if err := w.source(src); err != nil {
			return nil, err
		}
	}
	return w.res, nil
}

type walker struct {
	opts    WalkOptions
	res     *WalkResult
	exclude []fs.FileInfo
	files   map[any]string // file identity -> path first reached by
	dirs    map[any]string // directory identity -> path first walked as
	links   []link         // symbolic links met, followed after the real entries
}

// link is a symbolic link met in a tree, to be followed once the tree's real entries are in,
// so that a file or directory reached both directly and through a link is returned under
// its real path.
type link struct {
	path, src, rel, root, name string
}

func (w *walker) skip(path, format string, args ...any) {
	w.res.Skipped = append(w.res.Skipped, Skipped{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (w *walker) source(src string) error {
	lfi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		if lfi.Mode()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: dangling symbolic link", src)
		}
		return err
	}
	if !fi.IsDir() {
		if err := CheckRegular(src, fi); err != nil {
			return err
		}
		path := src
		if d, base := filepath.Split(src); Physical(d) != d {
			path = filepath.Join(Physical(d), base) // "l/../x": the x the system opened
		}
		return w.file(path, src, filepath.Base(src), fi)
	}
	root, err := Resolve(src)
	if err != nil {
		return err
	}
	before := len(w.res.Files) + len(w.res.Skipped)
	// The files' paths are joined to the directory lexically: through Physical, so that they
	// name what the system reads ("l/../in/x" is not "in/x" when l is a link).
	if err := w.dir(Physical(src), src, ".", root, fi); err != nil {
		return err
	}
	for len(w.links) > 0 {
		l := w.links[0]
		w.links = w.links[1:]
		if err := w.follow(l); err != nil {
			return err
		}
	}
	if len(w.res.Files)+len(w.res.Skipped) == before {
		w.res.Empty = append(w.res.Empty, src)
	}
	return nil
}

// follow handles a symbolic link met inside a tree.
func (w *walker) follow(l link) error {
	// A loop (a -> b -> a, or a link to itself) is reported like a dangling link: it names
	// nothing to process, and one such entry must not stop the walk of the whole tree.
	if _, err := os.Stat(l.path); errors.Is(err, syscall.ELOOP) {
		if w.match(l.name) {
			w.skip(l.path, "symbolic link loop")
		}
		return nil
	}
	real, err := filepath.EvalSymlinks(l.path)
	if err == nil {
		real, err = filepath.Abs(real) // has no links left: cleaning it is exact
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if w.match(l.name) {
				w.skip(l.path, "dangling symbolic link")
			}
			return nil
		}
		return fmt.Errorf("%s: %w", l.path, err) // EvalSymlinks's own errors do not name it
	}
	fi, err := os.Stat(l.path)
	if err != nil {
		return err
	}
	if !inside(real, l.root) {
		if fi.IsDir() || w.match(l.name) {
			w.skip(l.path, "symbolic link to %s, outside the source tree %s", real, l.root)
		}
		return nil
	}
	if fi.IsDir() {
		return w.dir(l.path, l.src, l.rel, l.root, fi)
	}
	return w.entry(l.path, l.src, l.rel, l.root, l.name, fi.Mode().Type(), fi, nil)
}

// vanished is the reason a walk gives for an entry listed in its directory that was gone
// when it looked at it (removed or renamed meanwhile): reported with the others it left out,
// so that the walk goes on and a command that must not succeed on files it did not see can
// say so for that one.
const vanished = "vanished while the tree was walked (removed or renamed meanwhile)"

// afterReadDir, when set (tests), runs after a directory is listed and before its entries
// are looked at.
var afterReadDir func(dir string)

// file records a regular file unless it was reached before.
func (w *walker) file(path, src, rel string, fi fs.FileInfo) error {
	key, err := fileKey(fi, func() (string, error) { return filepath.EvalSymlinks(path) })
	if err != nil {
		return err
	}
	if first, seen := w.files[key]; seen {
		w.res.Skipped = append(w.res.Skipped, Skipped{Path: path, Reason: "same file as " + first, SameAs: first})
		return nil
	}
	w.files[key] = path
	w.res.Files = append(w.res.Files, File{Path: path, Src: src, Rel: rel, Info: fi})
	return nil
}

// dir walks the directory at path (fi is its Stat), reached as rel below src, in the tree
// whose resolved root is root.
func (w *walker) dir(path, src, rel, root string, fi fs.FileInfo) error {
	for _, x := range w.exclude {
		if os.SameFile(fi, x) {
			w.skip(path, "excluded directory")
			return nil
		}
	}
	key, err := fileKey(fi, func() (string, error) { return filepath.EvalSymlinks(path) })
	if err != nil {
		return err
	}
	if first, seen := w.dirs[key]; seen {
		w.res.Skipped = append(w.res.Skipped, Skipped{Path: path, Reason: "directory already walked as " + first, SameAs: first})
		return nil
	}
	w.dirs[key] = path
	ents, err := os.ReadDir(path) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		w.skip(path, "%s", vanished)
		return nil
	}
	if err != nil {
		return err
	}
	if afterReadDir != nil {
		afterReadDir(path)
	}
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(path, name)
		r := filepath.Join(rel, name)
		t := e.Type()
		if t&fs.ModeSymlink != 0 {
			w.links = append(w.links, link{path: p, src: src, rel: r, root: root, name: name})
			continue
		}
		if err := w.entry(p, src, r, root, name, t, nil, e); err != nil {
			return err
		}
	}
	return nil
}

// entry handles a directory entry that is not a link (or a followed link, with fi set).
func (w *walker) entry(p, src, r, root, name string, t fs.FileMode, fi fs.FileInfo, e fs.DirEntry) error {
	var err error
	if t.IsDir() {
		if fi == nil {
			if fi, err = os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				w.skip(p, "%s", vanished)
				return nil
			} else if err != nil {
				return err
			}
		}
		return w.dir(p, src, r, root, fi)
	}
	if !w.match(name) || (w.opts.BackupSuffix != "" && strings.HasSuffix(name, w.opts.BackupSuffix)) {
		return nil
	}
	if !t.IsRegular() {
		w.skip(p, "is a %s, not a regular file", Kind(t))
		return nil
	}
	if fi == nil {
		if fi, err = e.Info(); errors.Is(err, fs.ErrNotExist) {
			w.skip(p, "%s", vanished)
			return nil
		} else if err != nil {
			return err
		}
	}
	return w.file(p, src, r, fi)
}

func (w *walker) match(name string) bool { return w.opts.Match == nil || w.opts.Match(name) }

// inside reports whether the resolved path p is root or below it (both fully resolved, so
// comparing names is exact).
func inside(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
