package kprofile

import "strconv"

// Errno is a Linux errno value as the bpf(2) syscall returns it (positive). The package keeps
// its own type so that it builds on every platform; the values are Linux's, whatever GOOS is.
// Convert with uint: compat.Errno(e), unix.Errno(e).
type Errno uint16

// The errnos the profiles use, with their Linux (asm-generic) values.
const (
	EPERM        Errno = 1
	E2BIG        Errno = 7
	EBADF        Errno = 9
	EACCES       Errno = 13
	EINVAL       Errno = 22
	ENOPKG       Errno = 65
	EBADMSG      Errno = 74
	EOPNOTSUPP   Errno = 95
	ENOKEY       Errno = 126
	EKEYREJECTED Errno = 129
)

var errnoNames = map[Errno]string{
	EPERM: "EPERM", E2BIG: "E2BIG", EBADF: "EBADF", EACCES: "EACCES", EINVAL: "EINVAL",
	ENOPKG: "ENOPKG", EBADMSG: "EBADMSG", EOPNOTSUPP: "EOPNOTSUPP", ENOKEY: "ENOKEY",
	EKEYREJECTED: "EKEYREJECTED",
}

// Name returns the kernel's symbolic name ("EKEYREJECTED"), "" for 0 and "errno N" for a value
// the package does not name.
func (e Errno) Name() string {
	if e == 0 {
		return ""
	}
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// String returns Name.
func (e Errno) String() string { return e.Name() }

// MarshalText writes the name, so JSON shows "EKEYREJECTED" rather than 129.
func (e Errno) MarshalText() ([]byte, error) { return []byte(e.Name()), nil }
