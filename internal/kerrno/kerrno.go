// Package kerrno finds the kernel errno in bpfsig's errors.
//
// Every failure that the kernel would report with an errno is returned by bpfsig as an error
// that wraps the corresponding [compat.Errno] (for example compat.EKEYREJECTED), so callers can
// use errors.Is and the command line can print the kernel's own name for it. On Linux a raw
// syscall.Errno found in the chain (from bpf(2) itself) counts too.
package kerrno

import (
	"errors"
	"syscall"

	"github.com/bpfsig/bpfsig/compat"
)

// Of returns the kernel errno wrapped by err, if any.
func Of(err error) (compat.Errno, bool) {
	var e compat.Errno
	if errors.As(err, &e) {
		return e, true
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return compat.Errno(se), true
	}
	return 0, false
}

// Name returns the symbolic name ("EKEYREJECTED") of the errno wrapped by err, or "" when err
// is nil or wraps no errno.
func Name(err error) string {
	e, ok := Of(err)
	if !ok {
		return ""
	}
	return e.Name()
}

// NameOf returns the symbolic name of e ("EBADMSG"), or "" for 0.
func NameOf(e compat.Errno) string { return e.Name() }

// Parse returns the errno named n ("ENOKEY"), or false if n names none.
func Parse(n string) (compat.Errno, bool) { return compat.ParseErrno(n) }
