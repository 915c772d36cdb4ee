package migrate_test

import (
	"os"
	"syscall"
	"testing"
)

// tmpfsMagic is TMPFS_MAGIC from include/uapi/linux/magic.h.
const tmpfsMagic = 0x01021994

// tmpfsDir returns a fresh directory on the tmpfs at /dev/shm, removed after b, or skips b.
func tmpfsDir(b *testing.B) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		b.Skipf("no /dev/shm (%v): the tmpfs figure needs a tmpfs there", err)
	}
	if st.Type != tmpfsMagic {
		b.Skipf("/dev/shm is not a tmpfs (f_type %#x): the tmpfs figure needs one", st.Type)
	}
	d, err := os.MkdirTemp("/dev/shm", "bpfsig-bench-")
	if err != nil {
		b.Skipf("/dev/shm is not writable: %v", err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}
