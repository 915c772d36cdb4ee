// Package atomicfile writes files so that a reader, or a crash, sees either the old file or the
// complete new one, never a part.
//
// The rule: write to a temporary file in the target's directory, fsync it, rename it over the
// target, fsync the directory. A failure at any step removes the temporary file, and the
// error names the target, never the temporary.
//
// Around that rule:
//
//   - Write-through links. When the target path is a symbolic link, the file it names is
//     replaced (the temporary is made in that file's directory and renamed over it) and
//     the link is kept, as an editor saving through a link does. Any link is followed,
//     wherever it leads: the user named it; deciding which links may be written through
//     (say, none leading out of a source tree) is the caller's policy. A dangling link is
//     refused.
//   - Only files are replaced. A target that exists and is not a regular file (directory,
//     FIFO, socket, device) is refused with an error naming it and what it is; nothing is
//     written.
//   - Locked temporaries. Each temporary holds an exclusive flock(2) from its creation until
//     it has been renamed (or removed). A temporary that exists but can be locked was left
//     by a process that died; [Cleanup] removes those, and never one a live writer holds.
//     Where there is no flock (Windows), temporaries are not locked and Cleanup removes
//     nothing.
//   - Batches. [Batch] stages many files, then makes them durable together: every
//     temporary is fsynced (concurrently, so the file system can commit them in few
//     journal transactions), then all are renamed, then each distinct directory is fsynced
//     once — the cost git's core.fsyncMethod=batch pays, without its weaker guarantee on
//     Linux: no target is renamed before its own data is on disk.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// TempPrefix starts the name of every temporary file this package creates, so that leftovers of
// a killed process can be recognised.
const TempPrefix = ".bpfsig-tmp-"

// WriteFile atomically and durably replaces (or creates) path with data, with permissions
// perm (not subject to the umask). It is a [Batch] of one file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	b := NewBatch()
	if err := b.Stage(path, data, perm); err != nil {
		return err
	}
	return b.Commit()
}

// Target returns the file that writing to path replaces: path itself, or, when path is a
// symbolic link, the file it resolves to. It fails, naming path, when path is a dangling
// link or exists and is not a regular file (the error then matches fsio.ErrNotRegular). A
// path that does not exist is its own target.
func Target(path string) (string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", wrap("writing", path, err)
	}
	target := path
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("writing %s: dangling symbolic link; not writing through it", path)
			}
			return "", wrap("writing", path, err)
		}
		if fi, err = os.Stat(target); err != nil {
			return "", wrap("writing", path, err)
		}
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("writing %s: %w; not replacing it", path, &fsio.NotRegularError{Path: path, Kind: fsio.Kind(fi.Mode())})
	}
	return target, nil
}

// wrap reports a failure to op on the user's path, keeping only the system error under it:
// the *fs.PathError or *os.LinkError the os package returns would name the temporary file.
func wrap(op, path string, err error) error {
	return fmt.Errorf("%s %s: %w", op, path, bare(err))
}

func bare(err error) error {
	for {
		switch e := err.(type) {
		case *fs.PathError:
			err = e.Err
		case *os.LinkError:
			err = e.Err
		case *os.SyscallError:
			err = e.Err
		default:
			return err
		}
	}
}
