//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
)

const haveLocks = true

// tryLock takes an exclusive flock on f without waiting; errHeld if another open file
// holds it. The lock lasts until f is closed.
func tryLock(f *os.File) error {
	lerr := withFD(f, func(fd int) error { return syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) })
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return errHeld
	}
	return lerr
}

func openNoFollow(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// lockDir takes a shared or exclusive flock on directory dir, waiting for it, and returns
// its release. When the directory cannot be opened or locked it returns a release that
// does nothing: the lock only narrows a race that createLocked also detects.
//
// The descriptor is a bare one (no *os.File): os.Open would register it with the runtime
// poller and back, four fcntl calls and an epoll_ctl for each staged file. O_DIRECTORY: a
// name that is not a directory is not opened (and a FIFO there cannot block the open).
func lockDir(dir string, exclusive bool) (unlock func()) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return func() {}
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := retryEINTR(func() error { return syscall.Flock(fd, how) }); err != nil {
		syscall.Close(fd)
		return func() {}
	}
	return func() { syscall.Close(fd) } // closing the only descriptor releases the lock
}

// createTemp is os.CreateTemp(dir, prefix+"*"): a new file, mode 0600, O_EXCL, named
// prefix and a random number, with os.CreateTemp's errors. The descriptor is
// opened bare and wrapped by os.NewFile, which does not register it with the runtime
// poller (a regular file cannot be polled: os.OpenFile's attempt costs four fcntl calls
// and a failing epoll_ctl per file).
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := joinTemp(dir, prefix) + strconv.FormatUint(uint64(rand.Uint32()), 10)
		var fd int
		err := retryEINTR(func() (err error) {
			fd, err = syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
			return err
		})
		if err == nil {
			return os.NewFile(uintptr(fd), name), nil
		}
		if !errors.Is(err, syscall.EEXIST) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		if try == 10000 {
			return nil, &fs.PathError{Op: "createtemp", Path: joinTemp(dir, prefix) + "*", Err: fs.ErrExist}
		}
	}
}

// joinTemp joins dir and name as os.CreateTemp does: the empty dir is the temporary
// directory, and the path is not cleaned (joinName).
func joinTemp(dir, name string) string {
	if dir == "" {
		dir = os.TempDir()
	}
	return joinName(dir, name)
}

// retryEINTR runs op again while it fails with EINTR.
func retryEINTR(op func() error) error {
	for {
		if err := op(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
