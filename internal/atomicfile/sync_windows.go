package atomicfile

// closeBeforeRename is true: Windows cannot rename a file that is open.
const closeBeforeRename = true

// syncDir does nothing: Windows has no directory fsync (a directory handle cannot be
// flushed); NTFS journals the rename itself.
func syncDir(dir string) error { return nil }
