//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

// haveSyncFileRange is false: there is no writeback-only sync here, so every temporary is
// fsynced (on darwin, Go's File.Sync is fcntl F_FULLFSYNC).
const haveSyncFileRange = false

// fsID identifies a file system; unused where every file is fsynced.
type fsID uint64

func inspectFS(dir string) (fsID, bool) { return 0, false }

func fileFS(f *os.File) (fsID, error)      { return 0, errNoWriteback }
func inspectFile(f *os.File, id fsID) bool { return false }

var errNoWriteback = errors.New("no writeback-only sync on this system")

func startWriteback(f *os.File) error { return errNoWriteback }
func waitWriteback(f *os.File) error  { return errNoWriteback }
