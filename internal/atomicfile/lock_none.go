//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atomicfile

import (
	"errors"
	"os"
)

// haveLocks is false: temporaries are written unlocked and Cleanup removes nothing.
const haveLocks = false

func tryLock(f *os.File) error { return errors.New("no flock on this system") }

func openNoFollow(p string) (*os.File, error) { return os.Open(p) }

func lockDir(dir string, exclusive bool) (unlock func()) { return func() {} }

// createTemp is os.CreateTemp(dir, prefix+"*").
func createTemp(dir, prefix string) (*os.File, error) { return os.CreateTemp(dir, prefix+"*") }
