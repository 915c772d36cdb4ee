// Package kerrno names the kernel errors bpfsig reports.
//
// Every failure that the kernel would report with an errno is returned by bpfsig as an error
// that wraps the corresponding [unix.Errno] (for example unix.EKEYREJECTED), so callers can
// use errors.Is and the command line can print the kernel's own name for it.
package kerrno

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Of returns the kernel errno wrapped by err, if any.
func Of(err error) (unix.Errno, bool) {
	var e unix.Errno
	if errors.As(err, &e) {
		return e, true
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
	return NameOf(e)
}

// NameOf returns the symbolic name of e ("EBADMSG"), or "" for 0.
func NameOf(e unix.Errno) string {
	switch e {
	case 0:
		return ""
	case unix.EOPNOTSUPP:
		// Same value as ENOTSUP on Linux; the kernel's BPF code and its documentation say
		// EOPNOTSUPP.
		return "EOPNOTSUPP"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno " + itoa(int(e))
}

// Parse returns the errno named n ("ENOKEY"), or false if n names none.
func Parse(n string) (unix.Errno, bool) {
	if n == "" {
		return 0, false
	}
	for e := unix.Errno(1); e < 4096; e++ {
		if NameOf(e) == n || unix.ErrnoName(e) == n {
			return e, true
		}
	}
	return 0, false
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		p--
		b[p] = '-'
	}
	return string(b[p:])
}
