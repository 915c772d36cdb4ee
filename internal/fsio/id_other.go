//go:build !unix

package fsio

import "io/fs"

// fileKey identifies the file fi describes. Without inode numbers in fs.FileInfo (Windows
// fills them in lazily, for os.SameFile only), the fully resolved path stands in.
func fileKey(fi fs.FileInfo, real func() (string, error)) (any, error) {
	return real()
}
