//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"errors"
	"os"
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
func lockDir(dir string, exclusive bool) (unlock func()) {
	d, err := os.Open(dir)
	if err != nil {
		return func() {}
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := withFD(d, func(fd int) error { return syscall.Flock(fd, how) }); err != nil {
		d.Close()
		return func() {}
	}
	return func() { d.Close() } // closing the only descriptor releases the lock
}
