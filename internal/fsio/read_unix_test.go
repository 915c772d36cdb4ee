//go:build unix

package fsio

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFileNotFiles: things that are not files fail at once, naming the path and what it
// is — by the name check and, with that off, by the check on the opened descriptor alone.
func TestReadFileNotFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A FIFO with a writer attached and data waiting: still not a file.
	busy := filepath.Join(dir, "busy-fifo")
	if err := syscall.Mkfifo(busy, 0o644); err != nil {
		t.Fatal(err)
	}
	rfd, err := syscall.Open(busy, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(rfd)
	wfd, err := syscall.Open(busy, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(wfd)
	syscall.Write(wfd, []byte("data"))

	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fifoLink := filepath.Join(dir, "fifo-link")
	symlink(t, fifo, fifoLink)
	zeroLink := filepath.Join(dir, "zero-link")
	symlink(t, "/dev/zero", zeroLink)

	cases := []readCase{
		{name: "FIFO", path: fifo, limit: 1 << 20, wantErr: ErrNotRegular, says: "is a FIFO, not a regular file"},
		{name: "FIFO with writer", path: busy, limit: 1 << 20, wantErr: ErrNotRegular, says: "is a FIFO, not a regular file"},
		{name: "symlink to FIFO", path: fifoLink, limit: 1 << 20, wantErr: ErrNotRegular, says: "is a FIFO"},
		{name: "socket", path: sock, limit: 1 << 20, wantErr: ErrNotRegular, says: "is a socket, not a regular file"},
		{name: "dev-zero", path: "/dev/zero", limit: SkeletonLimit, wantErr: ErrNotRegular, says: "is a character device, not a regular file"},
		{name: "symlink to dev-zero", path: zeroLink, limit: SkeletonLimit, wantErr: ErrNotRegular, says: "is a character device"},
		{name: "dev-null", path: "/dev/null", limit: 1, wantErr: ErrNotRegular, says: "is a character device"},
	}
	if _, err := os.Stat("/dev/loop0"); err == nil && os.Geteuid() == 0 {
		cases = append(cases, readCase{name: "block device", path: "/dev/loop0", limit: 1, wantErr: ErrNotRegular, says: "is a block device"})
	}
	runReadCases(t, cases)
}

// TestReadFileReportsZeroSize: files whose size fstat reports as 0 (procfs) are read to
// their end, and still no further than limit+1 bytes.
func TestReadFileReportsZeroSize(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("procfs is Linux-only")
	}
	const p = "/proc/self/maps" // several KiB, reported as 0 bytes
	b := within(t, 5*time.Second, func() error { _, err := ReadFile(p, 1<<20); return err })
	if b != nil {
		t.Fatal(b)
	}
	err := within(t, 5*time.Second, func() error { _, err := ReadFile(p, 10); return err })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "larger than the limit of 10 bytes") {
		t.Fatalf("10-byte limit on %s: %v", p, err)
	}
}
