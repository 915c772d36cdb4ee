//go:build unix

package fsio_test

import (
	"errors"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// A path that is not a regular file fails at once, saying what it is.
func ExampleReadFile() {
	_, err := fsio.ReadFile("/dev/zero", fsio.SkeletonLimit)
	fmt.Println(err)
	fmt.Println(errors.Is(err, fsio.ErrNotRegular))
	// Output:
	// /dev/zero: is a character device, not a regular file
	// true
}
