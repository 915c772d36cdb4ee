//go:build !linux

package fsverity

import (
	"errors"
	"fmt"
)

var errLinuxOnly = fmt.Errorf("fsverity: extended attributes and FS_IOC_MEASURE_VERITY are Linux-only: %w", errors.ErrUnsupported)

// ReadXattr is Linux-only; elsewhere it fails with errors.ErrUnsupported.
func ReadXattr(path, name string) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", path, errLinuxOnly)
}

// WriteXattr is Linux-only; elsewhere it fails with errors.ErrUnsupported.
func WriteXattr(path, name string, value []byte) error {
	return fmt.Errorf("%s: %w", path, errLinuxOnly)
}

// Measure is Linux-only; elsewhere the file is treated as not an fs-verity file.
func Measure(path string) (*FileDigest, error) {
	return nil, fmt.Errorf("%s: %w (%w)", path, ErrNotVerity, errLinuxOnly)
}
