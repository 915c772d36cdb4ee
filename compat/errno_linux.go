package compat

import "syscall"

// Is reports whether target is the host's syscall.Errno of the same value: on Linux,
// errors.Is(err, unix.EKEYREJECTED) holds for an error that wraps EKEYREJECTED.
func (e Errno) Is(target error) bool {
	t, ok := target.(syscall.Errno)
	return ok && int(t) == int(e)
}
