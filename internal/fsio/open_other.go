//go:build !unix

package fsio

import "os"

// openNonBlocking opens path for reading. Outside Unix there are no FIFOs to block on in
// the file namespace; the fstat check in ReadFile refuses anything but a regular file.
func openNonBlocking(path string) (*os.File, error) {
	return os.Open(path)
}
