//go:build unix

package fsio

import (
	"io/fs"
	"syscall"
)

// readRegular is readFile after the limit check, in the fewest system calls the rules allow:
// stat (the look before opening, unless lookFirst is off), open, fstat (the decisive check, on
// the descriptor), read until end of file, close. It is readPortable's behaviour and errors
// without an *os.File: no netpoller registration (an epoll_ctl that fails for every regular
// file), no finalizer, no FileInfo allocation.
func readRegular(path string, limit int64, lookFirst bool) ([]byte, error) {
	var st syscall.Stat_t
	if lookFirst {
		// Opening a device can have effects of its own (a tape rewinds, a terminal becomes
		// the controlling one): refuse what the name shows is not a file. A failed stat other
		// than ENOENT is left to open to report.
		switch err := ignoringEINTR(func() error { return syscall.Stat(path, &st) }); {
		case err == nil:
			if m := fileMode(&st); !m.IsRegular() {
				return nil, &NotRegularError{Path: path, Kind: Kind(m)}
			}
		case err == syscall.ENOENT:
			// Nothing there: open would say so too (checking whether a target exists
			// is the common case; it need not cost an open and a second stat).
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
	}
	var fd int
	err := ignoringEINTR(func() (err error) {
		// O_NONBLOCK: opening a FIFO without a writer returns at once (no effect on reading a
		// regular file); O_NOCTTY: a terminal never becomes the controlling one.
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		// A socket cannot be opened (ENXIO); say what it is rather than "no such device".
		if ignoringEINTR(func() error { return syscall.Stat(path, &st) }) == nil {
			if m := fileMode(&st); !m.IsRegular() {
				return nil, &NotRegularError{Path: path, Kind: Kind(m)}
			}
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	// The decisive check, on what was actually opened.
	if err := ignoringEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if m := fileMode(&st); !m.IsRegular() {
		return nil, &NotRegularError{Path: path, Kind: Kind(m)}
	}
	size := st.Size
	if size > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: size}
	}
	// Never read more than limit+1 bytes, whatever the file does meanwhile; one byte of room
	// beyond the reported size lets the read that returns end of file need no new buffer.
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if over := int64(len(buf)) + int64(len(room)) - (limit + 1); over > 0 {
			room = room[:int64(len(room))-over]
		}
		if len(room) == 0 {
			break // limit+1 bytes read: over the limit
		}
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = syscall.Read(fd, room)
			return err
		})
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	if int64(len(buf)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: -1}
	}
	return buf, nil
}

// fileMode is the type part of st's mode as fs.FileMode has it. A type this package does not
// know is irregular, never regular.
func fileMode(st *syscall.Stat_t) fs.FileMode {
	switch uint32(st.Mode) & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}

// ignoringEINTR retries f while it fails with EINTR, as package os does.
func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
