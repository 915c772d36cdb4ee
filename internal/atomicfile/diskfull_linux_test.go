package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// smallTmpfs mounts a 64 KiB tmpfs for the test, or skips saying why it cannot.
func smallTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a 64 KiB tmpfs to fill it (mount -t tmpfs -o size=64k)")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFull fills a small file system: every failure names the target and wraps ENOSPC,
// no target is ever partial, no temporary is left, and older targets are intact.
func TestDiskFull(t *testing.T) {
	dir := smallTmpfs(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	writeFile(t, p("old.skel.h"), "old contents")
	full := func(t *testing.T, err error, path string) {
		t.Helper()
		checkErr(t, err, path, "no space left on device")
		if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, unix.ENOSPC) {
			t.Fatalf("%v does not wrap ENOSPC", err)
		}
		noTemps(t, dir)
		if content(t, p("old.skel.h")) != "old contents" {
			t.Fatal("older target changed")
		}
	}

	t.Run("replace with too much", func(t *testing.T) {
		err := WriteFile(p("old.skel.h"), bytes.Repeat([]byte("x"), 1<<20), 0o644)
		full(t, err, p("old.skel.h"))
		t.Log(err)
	})

	t.Run("write until full", func(t *testing.T) {
		var written []string
		for i := 0; ; i++ {
			if i > 100 {
				t.Fatal("64 KiB file system never filled")
			}
			name := p(fmt.Sprintf("f%03d", i))
			err := WriteFile(name, bytes.Repeat([]byte{byte(i)}, 6000), 0o644)
			if err == nil {
				written = append(written, name)
				continue
			}
			full(t, err, name)
			if _, serr := os.Lstat(name); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("failed target %s exists", name)
			}
			break
		}
		if len(written) == 0 {
			t.Fatal("nothing fitted")
		}
		for i, name := range written {
			if got := content(t, name); got != string(bytes.Repeat([]byte{byte(i)}, 6000)) {
				t.Fatalf("%s: %d bytes", name, len(got))
			}
		}
		// Replacing an existing file on the full file system fails too, and keeps it.
		err := WriteFile(written[0], bytes.Repeat([]byte("y"), 6000), 0o644)
		full(t, err, written[0])
		if got := content(t, written[0]); got != string(bytes.Repeat([]byte{0}, 6000)) {
			t.Fatal("replaced file changed")
		}
		t.Logf("%d files of 6000 bytes fitted before ENOSPC", len(written))
		for _, name := range written {
			os.Remove(name)
		}
	})

	t.Run("batch until full", func(t *testing.T) {
		b := NewBatch()
		var staged []string
		var err error
		for i := 0; i < 100; i++ {
			name := p(fmt.Sprintf("b%03d", i))
			if err = b.Stage(name, bytes.Repeat([]byte{byte(i)}, 6000), 0o644); err != nil {
				checkErr(t, err, name, "no space left on device")
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("%v does not wrap ENOSPC", err)
				}
				break
			}
			staged = append(staged, name)
		}
		if err == nil || len(staged) == 0 {
			t.Fatalf("staged %d, err %v", len(staged), err)
		}
		if got := len(temps(t, dir)); got != len(staged) {
			t.Fatalf("%d temporaries for %d staged files: the failed Stage left its own", got, len(staged))
		}
		// Nothing is in place before Commit; Abort leaves nothing.
		for _, name := range staged {
			if _, err := os.Lstat(name); err == nil {
				t.Fatalf("%s exists before Commit", name)
			}
		}
		b.Abort()
		noTemps(t, dir)

		// What fits commits completely.
		b = NewBatch()
		for i, name := range staged[:len(staged)-1] {
			if err := b.Stage(name, bytes.Repeat([]byte{byte(i)}, 6000), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		for i, name := range staged[:len(staged)-1] {
			if content(t, name) != string(bytes.Repeat([]byte{byte(i)}, 6000)) {
				t.Fatalf("%s incomplete", name)
			}
		}
		noTemps(t, dir)
		if content(t, p("old.skel.h")) != "old contents" {
			t.Fatal("older target changed")
		}
	})
}
