package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/par"
)

// Batch writes many files atomically and makes them durable together.
//
// Stage writes each file's temporary; Commit fsyncs every temporary, renames each over its
// target, then fsyncs each distinct directory once. Until Commit renames it, no target is
// touched; a crash at any point leaves every target either as it was or complete with its
// new contents, and leaves at most locked-then-orphaned temporaries that [Cleanup] removes.
//
// Stage may be called from many goroutines at once. Each staged file holds an open
// descriptor (and its lock) until Commit or Abort, so callers staging many thousands of
// files should commit in chunks.
type Batch struct {
	mu      sync.Mutex
	staged  []*stagedFile
	targets map[string]string   // stageKey of a target -> path staged for it
	methods map[fsID]syncMethod // per file system, decided once per batch
	dirs    []fs.FileInfo       // the distinct target directories staged into (see stageKey)
	closed  bool
}

type stagedFile struct {
	path   string // as the caller gave it: errors name this
	target string // the file replaced (path, or where the link at path leads)
	tmp    string
	f      *os.File
	// batched: writeback was started at Stage, and the file system's one flush at Commit
	// makes it durable (see the package documentation); otherwise Commit fsyncs it.
	batched bool
	fs      fsID
	// guarded (StageUnchanged): the target is replaced only if it is still was (nil: still
	// absent), or already holds the staged bytes.
	guarded bool
	was     fs.FileInfo
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{targets: map[string]string{}, methods: map[fsID]syncMethod{}} }

// method returns how the temporary f is made durable, and the file system whose flush
// covers it, both decided from the file itself (fstat, fstatfs), never from the name of its
// directory, which a link swapped in mid-batch may have sent to another file system. Each
// file system is inspected once per batch.
func (b *Batch) method(f *os.File) (syncMethod, fsID) {
	id, err := fileFS(f)
	if err != nil {
		return syncPerFile, 0
	}
	b.mu.Lock()
	m, ok := b.methods[id]
	b.mu.Unlock()
	if ok {
		return m, id
	}
	m = choose(inspectFile(f, id))
	b.mu.Lock()
	b.methods[id] = m
	b.mu.Unlock()
	return m, id
}

// Len returns the number of files staged.
func (b *Batch) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.staged)
}

// Stage writes data, with permissions perm (not subject to the umask), to a new locked
// temporary next to the file that path names (see [Target]), to replace it at Commit. It
// fails, naming path and leaving nothing behind, when path is refused by Target, is already
// staged in this batch (under any spelling that resolves to the same target), or the
// temporary cannot be written (a full disk: the error wraps ENOSPC). A failed Stage does
// not affect the files staged before it.
func (b *Batch) Stage(path string, data []byte, perm fs.FileMode) error {
	return b.stage(path, data, perm, false, nil)
}

// StageUnchanged is Stage for a target the caller has read and decided on: was is the
// target as it was before that read (os.Stat; nil when it did not exist). At Commit the
// target is replaced only if it still is that file with the same size and modification
// time (or is still absent), or if it already holds exactly the staged bytes (another
// writer of the same result); otherwise it is left as it now is, and Commit reports a
// [NotPlacedError] naming path and saying it changed since it was read.
func (b *Batch) StageUnchanged(path string, data []byte, perm fs.FileMode, was fs.FileInfo) error {
	return b.stage(path, data, perm, true, was)
}

func (b *Batch) stage(path string, data []byte, perm fs.FileMode, guarded bool, was fs.FileInfo) (err error) {
	target, err := Target(path)
	if err != nil {
		return err
	}
	key, err := b.stageKey(target)
	if err != nil {
		return wrap("writing", path, err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return fmt.Errorf("writing %s: batch already committed or aborted", path)
	}
	if prev, dup := b.targets[key]; dup {
		b.mu.Unlock()
		return fmt.Errorf("writing %s: the same file is already staged as %s", path, prev)
	}
	b.targets[key] = path
	b.mu.Unlock()
	defer func() {
		if err != nil {
			b.mu.Lock()
			delete(b.targets, key)
			b.mu.Unlock()
		}
	}()

	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := createLocked(dir, base)
	if err != nil {
		return wrap("writing", path, err)
	}
	s := &stagedFile{path: path, target: target, tmp: f.Name(), f: f, guarded: guarded, was: was}
	defer func() {
		if err != nil {
			s.discard()
		}
	}()
	if _, err = f.Write(data); err != nil {
		return wrap("writing", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return wrap("writing", path, err)
	}
	// Where one flush will cover the batch, the device starts writing this file now, while
	// the caller prepares the next one; Commit then only waits for it.
	if m, id := b.method(f); m == syncBatched && startWriteback(f) == nil {
		s.batched, s.fs = true, id
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed { // Abort ran meanwhile
		return fmt.Errorf("writing %s: batch already committed or aborted", path)
	}
	b.staged = append(b.staged, s)
	return nil
}

// stageKey names target by its directory's identity (the file the kernel finds when it
// resolves the directory as spelled, links and ".." included) and its name, so that "d/a",
// "d/../d/a", "dirlink/a" and "link/../d/a" (link leading to a subdirectory of the parent
// of d) are one target, and two spellings that look alike but name different directories
// are two. The directory is looked up anew at each Stage (one stat): a directory replaced
// by a link while the batch is open is resolved as it now is, never as it was for an
// earlier file. The distinct directories of a batch are few, so they are compared one by
// one with os.SameFile (portable, where device and inode numbers are not).
func (b *Batch) stageKey(target string) (string, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	fi, err := os.Stat(dir)
	if err != nil {
		// The directory is missing (or unreadable): creating the temporary will say so.
		abs, err := filepath.Abs(target)
		if err != nil {
			return "", err
		}
		return "path:" + abs, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, d := range b.dirs {
		if os.SameFile(d, fi) {
			return strconv.Itoa(i) + "/" + base, nil
		}
	}
	b.dirs = append(b.dirs, fi)
	return strconv.Itoa(len(b.dirs)-1) + "/" + base, nil
}

// Abort removes every staged temporary; no target is touched. The batch cannot be used
// afterwards. Abort after Commit does nothing.
func (b *Batch) Abort() {
	b.mu.Lock()
	staged := b.take()
	b.mu.Unlock()
	for _, s := range staged {
		s.discard()
	}
}

// take closes the batch and returns its staged files; b.mu must be held.
func (b *Batch) take() []*stagedFile {
	b.closed = true
	s := b.staged
	b.staged = nil
	return s
}

func (s *stagedFile) discard() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	os.Remove(s.tmp)
}

// syncWorkers bounds the fsyncs Commit runs at once: enough for the file system to gather
// them into shared journal commits, few enough not to flood the device queue.
const syncWorkers = 32

// Commit makes every staged file durable and puts it in place: (1) make each temporary's
// data and inode durable — on a file system where the batched form is safe (ext4 with a
// journal, XFS; see the package documentation), by waiting for the writeback Stage
// started and then fsyncing one new empty file per file system; elsewhere by fsyncing
// each temporary, concurrently; if any of it fails, every temporary is removed, no target is touched, and
// the error names the targets (or directory) that failed; (2) rename each over its target,
// in staging order; a target whose rename fails is left as it was and its temporary
// removed, the others are still renamed (their data is already on disk); (3) fsync each
// distinct directory once, so that the renames survive a crash. Commit returns nil only
// when all three steps succeeded for every file; each error it joins names the user's path
// or directory, never a temporary: step (2)'s are [*NotPlacedError], step (3)'s
// [*DirSyncError], and [Placed] tells from the error what happened to each file. The batch
// cannot be used afterwards.
//
// No target is renamed before its own data is durable, in either form. Step (1) is never
// a syncfs(2) of the file system: syncfs would also write out every other process's dirty
// data on that file system (a cost without bound), and before Linux 5.8 it did not report
// writeback errors at all.
func (b *Batch) Commit() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("atomicfile: batch already committed or aborted")
	}
	staged := b.take()
	b.mu.Unlock()

	// (1) Data and inode of every temporary on disk.
	errs := make([]error, len(staged))
	par.Do(len(staged), syncWorkers, func(i int) {
		s := staged[i]
		var err error
		if s.batched {
			err = waitWriteback(s.f)
		} else {
			err = s.f.Sync()
		}
		if err != nil {
			errs[i] = wrap("writing", s.path, err)
		}
	})
	if err := errors.Join(errs...); err == nil {
		errs = append(errs[:0], flushFileSystems(staged)...)
	}
	if err := errors.Join(errs...); err != nil {
		for _, s := range staged {
			s.discard()
		}
		return err
	}

	// (2) Renames. On Unix the descriptor, and so the lock, is kept until the temporary
	// has its final name; Windows cannot rename an open file.
	var failed []error
	dirs := map[string][]string{} // directory -> the paths renamed into it
	var dirList []string
	for _, s := range staged {
		if err := s.rename(); err != nil {
			failed = append(failed, &NotPlacedError{Path: s.path, Err: err})
			s.discard()
			continue
		}
		d := dirOf(s.target)
		if _, ok := dirs[d]; !ok {
			dirList = append(dirList, d)
		}
		dirs[d] = append(dirs[d], s.path)
	}

	// (3) One fsync per directory.
	derrs := make([]error, len(dirList))
	par.Do(len(dirList), syncWorkers, func(i int) {
		if err := syncDir(dirList[i]); err != nil {
			derrs[i] = &DirSyncError{Dir: dirList[i], Paths: dirs[dirList[i]], Err: err}
		}
	})
	return errors.Join(append(failed, derrs...)...)
}

// NotPlacedError is how Commit reports a staged file that it could not put in place once
// the batch's data was durable (its rename, step 2): that file's target is as it was, while
// the other files of the batch were renamed. Path is the path given to Stage.
type NotPlacedError struct {
	Path string
	Err  error // names Path and the reason
}

func (e *NotPlacedError) Error() string { return e.Err.Error() }
func (e *NotPlacedError) Unwrap() error { return e.Err }

// DirSyncError is how Commit reports a directory it could not fsync after renaming files
// into it (step 3): those files are in place, but their renames may not survive a crash.
type DirSyncError struct {
	Dir   string   // the directory of the targets
	Paths []string // the paths, as given to Stage, renamed into Dir
	Err   error    // names Dir and the reason
}

func (e *DirSyncError) Error() string { return e.Err.Error() }
func (e *DirSyncError) Unwrap() error { return e.Err }

// Placed reports, for a file staged as path into a batch whose Commit returned err,
// whether it was put in place (renamed over its target) and, when it was not or its
// directory sync failed, the error that concerns it. A nil err places every file; an err
// with neither a [NotPlacedError] nor a [DirSyncError] in it (step 1 failed) placed none,
// and concerns every file.
func Placed(err error, path string) (placed bool, ferr error) {
	if err == nil {
		return true, nil
	}
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	reached := false // step 2 ran: err is of steps 2 and 3 only
	for _, e := range all {
		var np *NotPlacedError
		var ds *DirSyncError
		switch {
		case errors.As(e, &np):
			reached = true
			if np.Path == path {
				return false, np
			}
		case errors.As(e, &ds):
			reached = true
		}
	}
	if !reached {
		return false, err
	}
	for _, e := range all {
		var ds *DirSyncError
		if errors.As(e, &ds) && slices.Contains(ds.Paths, path) {
			return true, ds
		}
	}
	return true, nil
}

// rename puts the temporary in place, after checking that the target did not become
// something other than a regular file since it was staged.
func (s *stagedFile) rename() error {
	if fi, err := os.Lstat(s.target); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("writing %s: %w; not replacing it", s.path, &fsio.NotRegularError{Path: s.path, Kind: fsio.Kind(fi.Mode())})
	}
	if s.guarded && !s.unchanged() {
		return fmt.Errorf("writing %s: it changed since it was read; not replacing it", s.path)
	}
	if closeBeforeRename {
		if err := s.f.Close(); err != nil {
			s.f = nil
			return wrap("writing", s.path, err)
		}
		s.f = nil
	}
	if err := os.Rename(s.tmp, s.target); err != nil {
		return wrap("writing", s.path, err)
	}
	if s.f != nil {
		s.f.Close() // data already synced; closing releases the lock
		s.f = nil
	}
	return nil
}

// unchanged reports whether a guarded target may be replaced: it is still the file it was
// when the caller read it (or still absent), or it already holds the staged bytes.
func (s *stagedFile) unchanged() bool {
	cur, err := os.Stat(s.target)
	switch {
	case s.was == nil && errors.Is(err, fs.ErrNotExist):
		return true
	case err != nil || !cur.Mode().IsRegular():
		return false
	case s.was != nil && os.SameFile(s.was, cur) && cur.Size() == s.was.Size() && cur.ModTime().Equal(s.was.ModTime()):
		return true
	}
	staged, err := os.ReadFile(s.tmp)
	if err != nil || int64(len(staged)) != cur.Size() {
		return false
	}
	now, err := os.ReadFile(s.target)
	return err == nil && bytes.Equal(now, staged)
}

// flushFileSystems makes the batched temporaries durable: one fsync of a new empty file per
// file system, in the directory of the first temporary staged there. Should that directory
// now be on another file system (a link switched since), the flush would cover nothing of
// this one: each of its temporaries is fsynced instead. Its errors name that directory and
// how many files it covered, or the file whose fsync failed.
func flushFileSystems(staged []*stagedFile) []error {
	type flush struct {
		dir   string
		files []*stagedFile
	}
	var order []fsID
	by := map[fsID]*flush{}
	for _, s := range staged {
		if !s.batched {
			continue
		}
		if f, ok := by[s.fs]; ok {
			f.files = append(f.files, s)
			continue
		}
		by[s.fs] = &flush{dir: dirOf(s.tmp), files: []*stagedFile{s}}
		order = append(order, s.fs)
	}
	errs := make([]error, len(order))
	par.Do(len(order), syncWorkers, func(i int) {
		id := order[i]
		f := by[id]
		err := flushFS(f.dir, id)
		if errors.Is(err, errFlushElsewhere) {
			var each []error
			for _, s := range f.files {
				if err := s.f.Sync(); err != nil {
					each = append(each, wrap("writing", s.path, err))
				}
			}
			errs[i] = errors.Join(each...)
			return
		}
		if err != nil {
			errs[i] = fmt.Errorf("writing %d file(s) into %s: %w", len(f.files), f.dir, err)
		}
	})
	return errs
}

// dirOf is the directory that holds p as the kernel resolves p, the one a rename to p
// changes: filepath.Dir cleans lexically, and the "x" of "l/../x", with l a link to d/sub,
// is in d, not in ".". Split keeps the spelling; trailing separators are dropped unless they
// are the root (trimSeparators).
func dirOf(p string) string {
	dir, _ := filepath.Split(p)
	if dir == "" {
		return "."
	}
	return trimSeparators(dir)
}

// errFlushElsewhere: the flush file landed on another file system than the one to flush.
var errFlushElsewhere = errors.New("flush file on another file system")

// flushFS fsyncs a new empty temporary in dir, which must be on file system id, and removes
// it: on a file system with the property the package documentation states, that commits
// every earlier metadata change and flushes the device cache.
func flushFS(dir string, id fsID) error {
	f, err := createLocked(dir, "flush")
	if err != nil {
		return bare(err)
	}
	name := f.Name()
	defer os.Remove(name)
	defer f.Close()
	if got, err := fileFS(f); err != nil || got != id {
		return errFlushElsewhere
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flush: %w", bare(err))
	}
	return nil
}
