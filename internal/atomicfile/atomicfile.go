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
//   - Batches. [Batch] stages many files, then makes them durable together, in the form of
//     git's core.fsyncMethod=batch where the file system makes that safe (ext4 with a
//     journal, XFS on Linux: see Durability below for the property relied on and the
//     file systems that lack it): each temporary's writeback starts when it is staged, Commit
//     waits for all of them and issues one fsync per file system, then renames them all and
//     fsyncs each distinct directory once. Elsewhere every temporary is fsynced
//     (concurrently). Either way no target is renamed before its own data is durable.
//
// # Durability
//
// How a [Batch] makes its temporaries durable before it renames them.
//
// Per file (everywhere): fsync(2) each temporary. That is the whole guarantee on any file
// system, at the price of one device cache flush (and, without a journal, one inode write)
// per file.
//
// Batched (Linux, on the file systems listed below): the form of git's
// core.fsyncMethod=batch. Stage starts the temporary's writeback at once with
// sync_file_range(SYNC_FILE_RANGE_WRITE), so the device writes it while the caller goes on;
// Commit waits for every temporary's writeback to complete
// (SYNC_FILE_RANGE_WAIT_BEFORE|WRITE|WAIT_AFTER, which also reports a writeback error of that
// file), then fsyncs ONE new, empty file in one of the batch's directories of each file
// system, then renames, then fsyncs each directory once. sync_file_range alone writes data
// pages only: it neither writes the inode (size, extents) nor flushes the device's volatile
// cache, so a temporary waited for this way is not yet durable. The one fsync makes all of
// them durable only on a file system with this property:
//
//	fsync(2) of any file commits, in order, every metadata change made on the file system
//	before it (one global, ordered journal), and issues a device cache flush before the
//	commit record — so the data writes that completed before it, and the inode updates
//	that describe them, are durable when it returns.
//
// ext4 with a journal (data=ordered or data=writeback; the flush is the journal commit's
// REQ_PREFLUSH) and XFS (a log force up to the empty file's creation covers every earlier
// transaction, including the size and extent updates made when the temporaries' writeback
// completed; log writes carry REQ_PREFLUSH) have it. These keep per-file fsync, because
// they do not: ext4 without a journal (fsync writes only that inode: the others' sizes and
// extents would not be on disk, and a rename made durable afterwards could name an inode
// never written — this is what /sys/fs/ext4/DEV/journal_task saying "<none>" means, and
// ext4's own data=journal mode, whose data goes through the journal rather than
// sync_file_range's writeback); btrfs (fsync logs only the inode it is called on, in the
// per-subvolume log tree, so an empty file's fsync commits nothing of the others); tmpfs and
// every other file system, which are not recognised. Where the property cannot be
// established (an ext4 whose /sys entry cannot be read, say), per-file fsync is used:
// the fast path is taken only when it is known to be safe.
//
// The environment variable BPFSIG_FSYNC_METHOD overrides the choice, as git's setting does:
// "fsync" forces per-file fsync everywhere; "batch" forces the batched form on every
// Linux file system that has sync_file_range, including those above without the property
// (there a power loss may leave a renamed target empty or short, though a killed process
// still never does); anything else, or unset, chooses by file system.
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
