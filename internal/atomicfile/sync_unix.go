//go:build !windows

package atomicfile

import (
	"fmt"
	"os"
)

// closeBeforeRename is false: a temporary keeps its descriptor, and its lock, until it is
// renamed.
const closeBeforeRename = false

// syncDir makes the renames into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, bare(err))
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, bare(err))
	}
	return nil
}
