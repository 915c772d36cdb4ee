package fsio

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// SameFile reports whether a and b name the same existing file — the same device and inode
// (os.SameFile) after following symbolic links — however each is spelled ("a", "./a",
// "dir/../a", a link to a). A path that does not exist names no file, so the answer is then
// false with a nil error; any other failure to examine a path is returned.
func SameFile(a, b string) (bool, error) {
	fa, err := statOrMissing(a)
	if err != nil || fa == nil {
		return false, err
	}
	fb, err := statOrMissing(b)
	if err != nil || fb == nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// FindSame returns the first of paths that names the same file as target (see [SameFile]),
// for the check "the output IS one of the inputs". A target that does not exist yet matches
// nothing.
func FindSame(target string, paths []string) (match string, ok bool, err error) {
	ft, err := statOrMissing(target)
	if err != nil || ft == nil {
		return "", false, err
	}
	for _, p := range paths {
		fp, err := statOrMissing(p)
		if err != nil {
			return "", false, err
		}
		if fp != nil && os.SameFile(ft, fp) {
			return p, true, nil
		}
	}
	return "", false, nil
}

// A FileSet answers FindSame for many targets against one list of paths, stating the paths
// once for all targets rather than once per target (n targets: n+len(paths) stats, not
// n×len(paths)). Two names of one file have the same size and modification time, so only
// paths sharing both with the target are compared ([os.SameFile]). The paths are stated at
// the first target that exists; a FileSet assumes they do not change while it is used. It is
// not safe for concurrent use.
type FileSet struct {
	paths []string
	index map[sizeTime][]namedInfo // nil until the first existing target
}

type sizeTime struct {
	size int64
	mod  int64
}

type namedInfo struct {
	path string
	fi   fs.FileInfo
}

// NewFileSet returns the set of paths, for Find.
func NewFileSet(paths []string) *FileSet { return &FileSet{paths: paths} }

// Find returns the first of the set's paths that names the same file as target. A target
// that does not exist yet matches nothing; an error stating a path is returned.
func (s *FileSet) Find(target string) (match string, ok bool, err error) {
	ft, err := statOrMissing(target)
	if err != nil || ft == nil {
		return "", false, err
	}
	if s.index == nil {
		index := map[sizeTime][]namedInfo{}
		for _, p := range s.paths {
			fi, err := statOrMissing(p)
			if err != nil {
				return "", false, err
			}
			if fi != nil {
				k := sizeTime{fi.Size(), fi.ModTime().UnixNano()}
				index[k] = append(index[k], namedInfo{p, fi})
			}
		}
		s.index = index
	}
	for _, c := range s.index[sizeTime{ft.Size(), ft.ModTime().UnixNano()}] {
		if os.SameFile(ft, c.fi) {
			return c.path, true, nil
		}
	}
	return "", false, nil
}

func statOrMissing(p string) (fs.FileInfo, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

// DirWithin reports whether dir is the directory root or lies anywhere inside it, judged by
// identity after resolving symbolic links: dir's resolved path, and each of its ancestors, is
// compared with root by device and inode. dir need not exist (an output directory about to
// be created): its missing components cannot be links, so its nearest existing ancestor
// decides, with ".." among the missing components applied to the resolved path. root must
// exist.
func DirWithin(dir, root string) (bool, error) {
	rootFi, err := os.Stat(root)
	if err != nil {
		return false, err
	}
	real, err := Resolve(dir)
	if err != nil {
		return false, err
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil && os.SameFile(fi, rootFi) {
			return true, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		if filepath.Dir(p) == p {
			return false, nil
		}
	}
}

// OutputOverlap returns the first source in srcs that is a directory which out is, or
// resolves to, or lies inside (see [DirWithin]): writing there would mix the outputs into a
// tree being read. Sources that are files, or do not exist, are not considered.
func OutputOverlap(out string, srcs []string) (src string, overlap bool, err error) {
	for _, s := range srcs {
		fi, err := os.Stat(s)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		if !fi.IsDir() {
			continue
		}
		in, err := DirWithin(out, s)
		if err != nil {
			return "", false, fmt.Errorf("output directory %s: %w", out, err)
		}
		if in {
			return s, true, nil
		}
	}
	return "", false, nil
}

// Resolve returns the absolute path p names with every symbolic link resolved, the way the
// system resolves it: ".." after a link leaves the link's target, not the link's directory
// (unlike filepath.Clean). Components after the longest existing prefix are appended
// cleaned; a dangling link in the path is an error.
func Resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		// No filepath.Join: it would clean "link/.." lexically.
		p = wd + string(filepath.Separator) + p
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	vol := filepath.VolumeName(p)
	parts := strings.Split(filepath.ToSlash(p[len(vol):]), "/")
	for k := len(parts) - 1; k > 0; k-- {
		prefix := vol + filepath.FromSlash(strings.Join(parts[:k], "/"))
		if prefix == vol {
			prefix += string(filepath.Separator)
		}
		real, err := filepath.EvalSymlinks(prefix)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
			if fi, lerr := os.Lstat(prefix); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return "", fmt.Errorf("%s: dangling symbolic link", prefix)
			}
			continue
		}
		rest := filepath.FromSlash(strings.Join(parts[k:], "/"))
		return filepath.Join(real, rest), nil
	}
	return filepath.Clean(p), nil
}

// RawName is the base64 of a file name that is not valid UTF-8, "" for one that is. JSON
// strings cannot carry such bytes, so a *_base64 field beside the name keeps them exactly.
func RawName(p string) string {
	if utf8.ValidString(p) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(p))
}
