package bpfsig

import "github.com/bpfsig/bpfsig/internal/fsio"

// readRegular reads path, which must be a regular file (or a symbolic link to one) of at most
// limit bytes; a FIFO, device, socket or directory is refused at once, without blocking.
func readRegular(path string, limit int64) ([]byte, error) { return fsio.ReadFile(path, limit) }
