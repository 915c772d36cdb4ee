//go:build unix

package fsio

import (
	"io/fs"
	"syscall"
)

type devIno struct{ dev, ino uint64 }

// fileKey identifies the file fi describes by device and inode; real (its resolved path) is
// only needed where the system has no inode numbers.
func fileKey(fi fs.FileInfo, real func() (string, error)) (any, error) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return devIno{uint64(st.Dev), uint64(st.Ino)}, nil
	}
	return real()
}
