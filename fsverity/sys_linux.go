//go:build linux

package fsverity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// ReadXattr returns the value of the extended attribute name of the file at path
// ([ErrNoXattr] when it has none).
func ReadXattr(path, name string) ([]byte, error) {
	buf := make([]byte, MaxXattrSize)
	n, err := unix.Getxattr(path, name, buf)
	if err != nil {
		if errors.Is(err, unix.ENODATA) {
			return nil, fmt.Errorf("%s: %s: %w", path, name, ErrNoXattr)
		}
		return nil, fmt.Errorf("%s: reading extended attribute %s: %w", path, name, err)
	}
	return buf[:n:n], nil
}

// WriteXattr sets the extended attribute name of the file at path to value.
func WriteXattr(path, name string, value []byte) error {
	if len(value) > MaxXattrSize {
		return fmt.Errorf("%s: %s: value of %d bytes exceeds the %d-byte xattr limit", path, name, len(value), MaxXattrSize)
	}
	if err := unix.Setxattr(path, name, value, 0); err != nil {
		return fmt.Errorf("%s: writing extended attribute %s: %w", path, name, err)
	}
	return nil
}

// Measure returns the fs-verity digest the kernel reports for the file at path
// (FS_IOC_MEASURE_VERITY), or [ErrNotVerity] when the file is not an fs-verity file.
func Measure(path string) (*FileDigest, error) {
	f, _, err := fsio.Open(path) // a FIFO or device is refused, never waited on
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// struct fsverity_digest { __u16 digest_algorithm; __u16 digest_size; __u8 digest[]; }
	const maxDigest = 64
	buf := make([]uint16, (4+maxDigest)/2) // uint16 for the fields' alignment
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 4+maxDigest)
	binary.NativeEndian.PutUint16(b[2:], maxDigest)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.FS_IOC_MEASURE_VERITY, uintptr(unsafe.Pointer(&buf[0])))
	switch errno {
	case 0:
	case unix.ENODATA, unix.ENOTTY, unix.EOPNOTSUPP:
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrNotVerity, errno)
	default:
		return nil, fmt.Errorf("%s: FS_IOC_MEASURE_VERITY: %w", path, errno)
	}
	alg := HashAlgorithm(binary.NativeEndian.Uint16(b[0:]))
	size := int(binary.NativeEndian.Uint16(b[2:]))
	if alg.Size() == 0 || size != alg.Size() {
		return nil, fmt.Errorf("%s: kernel reported digest algorithm %d with %d bytes", path, alg, size)
	}
	return &FileDigest{Algorithm: alg, Digest: append([]byte(nil), b[4:4+size]...)}, nil
}
