//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// withFD runs op on f's descriptor, again while it fails with EINTR, and returns op's error,
// or the error of reaching the descriptor.
func withFD(f *os.File, op func(fd int) error) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := sc.Control(func(fd uintptr) {
		for {
			if opErr = op(int(fd)); !errors.Is(opErr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return opErr
}
