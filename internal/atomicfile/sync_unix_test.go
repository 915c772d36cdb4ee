//go:build unix

package atomicfile

import "syscall"

// flushAll writes out every dirty buffer (sync(2)), so that one benchmark iteration's data
// does not slow the next.
func flushAll() { syscall.Sync() }
