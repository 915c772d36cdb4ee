//go:build !linux

package atomicfile

import "os"

// startWriteback does nothing outside Linux; Commit's fsync writes the data.
func startWriteback(f *os.File) {}
