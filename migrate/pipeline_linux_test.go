package migrate_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// smallFS mounts a 64 KiB tmpfs at dir (made first) for the test, or skips saying why.
func smallFS(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a 64 KiB tmpfs to fill it (mount -t tmpfs -o size=64k)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}
