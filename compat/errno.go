package compat

import "strconv"

// Errno is a Linux kernel error number, carried with its Linux value on every build platform,
// so that a verdict reached on macOS or Windows names the errno a Linux kernel would return.
//
// Every bpfsig error that a kernel would report with an errno wraps the Errno, so errors.Is
// works with these constants everywhere and, on Linux, also with the syscall/unix constants of
// the same value.
type Errno int

// The kernel errors bpfsig models. The values are Linux's (include/uapi/asm-generic/errno*.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	E2BIG        Errno = 7
	EBADF        Errno = 9
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EINVAL       Errno = 22
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ERANGE       Errno = 34
	ENODATA      Errno = 61
	ENOPKG       Errno = 65
	EBADMSG      Errno = 74
	EMSGSIZE     Errno = 90
	EOPNOTSUPP   Errno = 95
	ENOKEY       Errno = 126
	EKEYEXPIRED  Errno = 127
	EKEYREVOKED  Errno = 128
	EKEYREJECTED Errno = 129
	// ENOTSUPP is the kernel-internal 524 that leaks to user space from some BPF paths.
	ENOTSUPP Errno = 524
)

var errnoNames = map[Errno][2]string{
	EPERM:        {"EPERM", "operation not permitted"},
	ENOENT:       {"ENOENT", "no such file or directory"},
	E2BIG:        {"E2BIG", "argument list too long"},
	EBADF:        {"EBADF", "bad file descriptor"},
	ENOMEM:       {"ENOMEM", "cannot allocate memory"},
	EACCES:       {"EACCES", "permission denied"},
	EFAULT:       {"EFAULT", "bad address"},
	EBUSY:        {"EBUSY", "device or resource busy"},
	EEXIST:       {"EEXIST", "file exists"},
	EINVAL:       {"EINVAL", "invalid argument"},
	EFBIG:        {"EFBIG", "file too large"},
	ENOSPC:       {"ENOSPC", "no space left on device"},
	ERANGE:       {"ERANGE", "numerical result out of range"},
	ENODATA:      {"ENODATA", "no data available"},
	ENOPKG:       {"ENOPKG", "package not installed"},
	EBADMSG:      {"EBADMSG", "bad message"},
	EMSGSIZE:     {"EMSGSIZE", "message too long"},
	EOPNOTSUPP:   {"EOPNOTSUPP", "operation not supported"},
	ENOKEY:       {"ENOKEY", "required key not available"},
	EKEYEXPIRED:  {"EKEYEXPIRED", "key has expired"},
	EKEYREVOKED:  {"EKEYREVOKED", "key has been revoked"},
	EKEYREJECTED: {"EKEYREJECTED", "key was rejected by service"},
	ENOTSUPP:     {"ENOTSUPP", "operation is not supported"},
}

// Name returns the errno's symbolic name ("EKEYREJECTED"), "" for 0, and "errno N" for a value
// bpfsig does not model.
func (e Errno) Name() string {
	if e == 0 {
		return ""
	}
	if n, ok := errnoNames[e]; ok {
		return n[0]
	}
	return "errno " + strconv.Itoa(int(e))
}

// Error returns the kernel's description of the errno, as strerror does on Linux.
func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return n[1]
	}
	return "errno " + strconv.Itoa(int(e))
}

// ParseErrno returns the errno whose symbolic name is name ("ENOKEY"); ENOTSUP is accepted as
// EOPNOTSUPP, which has the same value on Linux.
func ParseErrno(name string) (Errno, bool) {
	if name == "ENOTSUP" {
		return EOPNOTSUPP, true
	}
	for e, n := range errnoNames {
		if n[0] == name {
			return e, true
		}
	}
	return 0, false
}
