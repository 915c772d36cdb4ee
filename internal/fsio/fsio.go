// Package fsio reads bpfsig's inputs safely: only regular files, only up to a stated size, and
// never blocking on something that is not a file.
//
// The rule for every input (skeleton header, key, certificate, keyring entry, policy,
// signature): the path, after following symbolic links, must name a regular file no larger than
// the limit for its kind. A directory, FIFO, socket or device is refused at once with an error
// naming the path and what it is ("is a FIFO, not a regular file"); so is a file over the
// limit. The check is made on the opened descriptor (fstat), not only on the name, so a file
// swapped in between the check and the read cannot slip through; and the open itself never
// blocks (O_NONBLOCK on Unix, so a FIFO without a writer returns at once).
//
// The package also walks source trees ([Walk]) and answers identity questions ([SameFile],
// [FindSame] and [FileSet], [DirWithin], [OutputOverlap]) by device and inode rather than by
// spelling, and resolves paths as the system does ([Resolve], [Resolver]).
package fsio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size limits for bpfsig's inputs. They are generous for real inputs and small enough that a
// wrong path (a disk image, /dev/zero) fails fast instead of exhausting memory.
const (
	// SkeletonLimit bounds a light skeleton header. A raw-scheme payload (loader, maps and
	// signature) may reach about 16 MiB and is embedded as an escaped C string, up to four
	// bytes of source per byte ("\x12"), plus the surrounding code: 128 MiB leaves twice that.
	SkeletonLimit int64 = 128 << 20
	// KeyLimit bounds a private key file (PEM or DER). The largest RSA key the kernel
	// accepts (16384 bits) is under 13 KiB in PEM.
	KeyLimit int64 = 1 << 20
	// CertificateLimit bounds a certificate file, which may hold a PEM bundle.
	CertificateLimit int64 = 1 << 20
	// KeyringEntryLimit bounds each certificate file read from a keyring directory.
	KeyringEntryLimit int64 = 1 << 20
	// PolicyLimit bounds a migration policy (YAML).
	PolicyLimit int64 = 1 << 20
	// SignatureLimit bounds a detached signature (a PKCS#7/CMS message, possibly carrying
	// its certificate chain).
	SignatureLimit int64 = 1 << 20
)

// ErrNotRegular is matched (errors.Is) by every error for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched (errors.Is) by every error for a file larger than its limit.
var ErrTooLarge = errors.New("file too large")

// NotRegularError reports a path that names something other than a regular file.
type NotRegularError struct {
	Path string // the path as the caller gave it
	Kind string // what it is: "directory", "FIFO", "socket", "character device", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: is a %s, not a regular file", e.Path, e.Kind)
}

// Is makes errors.Is(err, ErrNotRegular) true.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// TooLargeError reports a file larger than the limit for its kind.
type TooLargeError struct {
	Path  string
	Limit int64
	Size  int64 // the size fstat reported, or -1 when the file grew past the limit while read
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s: file is larger than the limit of %s", e.Path, FormatSize(e.Limit))
	}
	return fmt.Sprintf("%s: file is %d bytes, larger than the limit of %s", e.Path, e.Size, FormatSize(e.Limit))
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// FormatSize writes n as a whole number of MiB or KiB when it is one, else in bytes.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Kind names the type of file m describes, as used in error messages: "regular file",
// "directory", "symbolic link", "FIFO", "socket", "character device", "block device", or
// "irregular file" for anything else.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeDir != 0:
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "irregular file"
}

// CheckRegular returns a *NotRegularError for path unless fi describes a regular file.
func CheckRegular(path string, fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return &NotRegularError{Path: path, Kind: Kind(fi.Mode())}
}

// ReadFile returns the contents of the regular file at path (symbolic links are followed),
// which must be at most limit bytes long.
//
// It fails at once, with an error naming path, when path is a directory, FIFO, socket,
// device or other non-regular file (a *NotRegularError, matching [ErrNotRegular]) or larger
// than limit (a *TooLargeError, matching [ErrTooLarge]); a file that grows past limit while
// it is read fails the same way, since at most limit+1 bytes are ever read. Other failures
// wrap the underlying *fs.PathError (errors.Is(err, fs.ErrNotExist) and so on work).
func ReadFile(path string, limit int64) ([]byte, error) {
	return readFile(path, limit, true)
}

// readFile is ReadFile; tests turn lookFirst off to show that the check on the opened
// descriptor alone refuses what a swapped-in file would be.
func readFile(path string, limit int64, lookFirst bool) ([]byte, error) {
	if limit < 0 {
		return nil, fmt.Errorf("%s: negative size limit %d", path, limit)
	}
	return readRegular(path, limit, lookFirst)
}

// readPortable is readFile through package os. It is the implementation outside Unix; on
// Unix, where readRegular makes the same checks with fewer system calls, the tests hold the
// two to the same results.
func readPortable(path string, limit int64, lookFirst bool) ([]byte, error) {
	f, fi, err := open(path, lookFirst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: fi.Size()}
	}
	// Never read more than limit+1 bytes, whatever the file does meanwhile; one byte of room
	// beyond the reported size shows EOF without a second allocation.
	r := io.LimitReader(f, limit+1)
	buf := make([]byte, 0, fi.Size()+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // *fs.PathError naming path
		}
	}
	if int64(len(buf)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: -1}
	}
	return buf, nil
}

// Open opens the regular file at path (symbolic links are followed) for reading, under the
// rules of [ReadFile] but without a size limit: it never blocks (a FIFO without a writer is
// refused at once, not waited on), and anything but a regular file is refused with a
// *NotRegularError naming path, judged on the opened descriptor. It returns the file and
// its fstat information; the caller closes the file.
func Open(path string) (*os.File, fs.FileInfo, error) { return open(path, true) }

func open(path string, lookFirst bool) (*os.File, fs.FileInfo, error) {
	// Look before opening: opening a device can have effects of its own (a tape rewinds,
	// a terminal becomes the controlling one), so refuse what the name shows is not a file.
	if lookFirst {
		if fi, err := os.Stat(path); err == nil {
			if err := CheckRegular(path, fi); err != nil {
				return nil, nil, err
			}
		}
	}
	f, err := openNonBlocking(path)
	if err != nil {
		// A socket cannot be opened (ENXIO); say what it is rather than "no such device".
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, nil, CheckRegular(path, fi)
		}
		return nil, nil, err
	}
	// The decisive check, on what was actually opened.
	fi, err := f.Stat()
	if err == nil {
		err = CheckRegular(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
