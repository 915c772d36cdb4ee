//go:build unix

package fsio

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without blocking: O_NONBLOCK makes opening a FIFO
// that has no writer return at once (it has no effect on reading a regular file), and
// O_NOCTTY keeps a terminal from becoming the controlling one.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
