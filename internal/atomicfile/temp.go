package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// errHeld is returned by tryLock when another open file holds the lock.
var errHeld = errors.New("temporary file is locked by another writer")

// createLocked creates a new temporary for base in dir (mode 0600, O_EXCL) and locks it.
//
// Between the creation and the lock the temporary is unlocked, and a Cleanup could take it
// for a leftover. To close that window, writers hold a shared lock on the directory itself
// from before the creation until the temporary is locked, and Cleanup holds an exclusive
// one while it scans: they never overlap. Should the directory lock be unavailable (a file
// system without flock on directories), the check after locking still catches a
// temporary taken away, and the writer starts again with a new name.
func createLocked(dir, base string) (*os.File, error) {
	unlock := lockDir(dir, false)
	defer unlock()
	for range 16 {
		f, err := createTemp(dir, TempPrefix+base+"-")
		if err != nil {
			return nil, err
		}
		switch err := tryLock(f); {
		case errors.Is(err, errHeld):
			// A concurrent Cleanup took the lock between our create and lock: it will
			// remove this name. Start again with another.
			f.Close()
			continue
		case err != nil:
			// No locks on this system or file system: write unlocked. Cleanup, unable to
			// lock either, will leave such temporaries alone.
			return f, nil
		}
		// A Cleanup may also have locked, removed and released it before we locked it.
		fi, err1 := f.Stat()
		li, err2 := os.Lstat(f.Name())
		if err1 == nil && err2 == nil && os.SameFile(fi, li) {
			return f, nil
		}
		f.Close()
	}
	return nil, errors.New("cannot create a temporary file: a concurrent cleanup removed every one created")
}

// Cleanup removes the temporaries that writers which died (killed, crashed, out of power)
// left in dir: regular files whose names start with [TempPrefix] and that no open file holds
// locked. A temporary a live writer holds is never touched, and nothing else in dir is
// either (not files of other names, nor directories, links or FIFOs with the prefix). Call
// it before writing into a directory. It returns how many it removed. Where temporaries
// are not locked (Windows, or a file system without flock) it cannot tell a leftover from a
// live one, so it removes nothing and returns 0, nil. Errors name dir, not the temporary.
func Cleanup(dir string) (removed int, err error) {
	if !haveLocks {
		return 0, nil
	}
	unlock := lockDir(dir, true)
	defer unlock()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("cleanup %s: %w", dir, bare(err))
	}
	var errs []error
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), TempPrefix) || !e.Type().IsRegular() {
			continue
		}
		ok, err := removeIfLeftover(joinName(dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: removing a leftover temporary: %w", dir, bare(err)))
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeIfLeftover removes the temporary at p if it can lock it.
func removeIfLeftover(p string) (bool, error) {
	f, err := openNoFollow(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // renamed or removed by its writer meanwhile
		}
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false, err
	}
	if tryLock(f) != nil {
		return false, nil // held: a live writer; or unlockable: cannot tell
	}
	// Still the file we locked at that name (not renamed away and replaced).
	li, err := os.Lstat(p)
	if err != nil || !os.SameFile(fi, li) {
		return false, nil
	}
	if err := os.Remove(p); err != nil {
		return false, err
	}
	return true, nil
}

// joinName is dir/name as the kernel resolves it: dir is not cleaned lexically (filepath.Join
// would take "l/.." for ".", whatever the link l points to).
func joinName(dir, name string) string {
	if dir == "" || os.IsPathSeparator(dir[len(dir)-1]) {
		return dir + name
	}
	return dir + string(os.PathSeparator) + name
}
