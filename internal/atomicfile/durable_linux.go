package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// haveSyncFileRange is true: Linux has sync_file_range(2) (since 2.6.17).
const haveSyncFileRange = true

// fsID identifies a file system: the device number of its files.
type fsID uint64

// inspectFS returns dir's file system and whether it has the property the batched form
// relies on. Any failure to tell answers false. Nothing is cached across batches: a device
// number is reused by the next file system mounted from it (a loop device, say), and one
// file system can be remounted in another mode.
func inspectFS(dir string) (fsID, bool) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, false
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return fsID(st.Dev), false
	}
	return fsID(st.Dev), batchSafe(int64(sfs.Type), func() ([]byte, []byte, bool) { return ext4State(uint64(st.Dev)) })
}

// fileFS returns the file system f is on (fstat: the file itself, not a name that may
// since lead elsewhere).
func fileFS(f *os.File) (fsID, error) {
	var st unix.Stat_t
	if err := fstat(f, &st); err != nil {
		return 0, err
	}
	return fsID(st.Dev), nil
}

// inspectFile is inspectFS of the file system f is on, asked through f (fstatfs).
func inspectFile(f *os.File, id fsID) bool {
	var sfs unix.Statfs_t
	if withFD(f, func(fd int) error { return unix.Fstatfs(fd, &sfs) }) != nil {
		return false
	}
	return batchSafe(int64(sfs.Type), func() ([]byte, []byte, bool) { return ext4State(uint64(id)) })
}

func fstat(f *os.File, st *unix.Stat_t) error {
	return withFD(f, func(fd int) error { return unix.Fstat(fd, st) })
}

// batchSafe is the rule: the batched form is safe on XFS, and on ext4 when ext4Safe says
// so of its state (read only then); on nothing else.
func batchSafe(magic int64, ext4 func() (journalTask, options []byte, ok bool)) bool {
	switch magic {
	case unix.XFS_SUPER_MAGIC:
		return true
	case unix.EXT4_SUPER_MAGIC: // also ext2 and ext3 mounted by the ext4 driver
		task, opts, ok := ext4()
		return ok && ext4Safe(task, opts)
	}
	return false
}

// ext4Safe reports, from /sys/fs/ext4/NAME/journal_task and /proc/fs/ext4/NAME/options,
// whether an ext4 file system has a journal (journal_task is "<none>" without one) and
// does not journal data (options lists data=journal in that mode).
func ext4Safe(journalTask, options []byte) bool {
	task := bytes.TrimSpace(journalTask)
	if len(task) == 0 || bytes.Equal(task, []byte("<none>")) {
		return false
	}
	for _, o := range bytes.Split(options, []byte("\n")) {
		if string(bytes.TrimSpace(o)) == "data=journal" {
			return false
		}
	}
	return true
}

// ext4State reads the journal_task and options of the ext4 file system on device dev.
// NAME there is the block device's name (the superblock's s_id), found through
// /sys/dev/block/MAJOR:MINOR; ok is false when any of it cannot be read.
func ext4State(dev uint64) (journalTask, options []byte, ok bool) {
	link, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(dev), unix.Minor(dev)))
	if err != nil {
		return nil, nil, false
	}
	name := filepath.Base(link)
	task, err := os.ReadFile(filepath.Join("/sys/fs/ext4", name, "journal_task"))
	if err != nil {
		return nil, nil, false
	}
	opts, err := os.ReadFile(filepath.Join("/proc/fs/ext4", name, "options"))
	if err != nil {
		return nil, nil, false
	}
	return task, opts, true
}

// startWriteback asks the kernel to start writing f's dirty pages, without waiting.
func startWriteback(f *os.File) error {
	return syncRange(f, unix.SYNC_FILE_RANGE_WRITE)
}

// waitWriteback writes any of f's pages still dirty and waits until all of them have been
// written to the device (which may still hold them in its cache); it reports a writeback
// error on f.
func waitWriteback(f *os.File) error {
	return syncRange(f, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
}

func syncRange(f *os.File, flags int) error {
	var serr error
	if err := withFD(f, func(fd int) error {
		serr = unix.SyncFileRange(fd, 0, 0, flags)
		return serr
	}); err != nil && serr == nil {
		return err // the descriptor could not be reached
	}
	if serr != nil {
		return os.NewSyscallError("sync_file_range", serr)
	}
	return nil
}
