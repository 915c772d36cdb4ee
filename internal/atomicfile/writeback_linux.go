package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's dirty pages now
// (sync_file_range(SYNC_FILE_RANGE_WRITE), as git's batch mode does), so that the fsync in
// Commit finds them on their way; it waits for nothing and guarantees nothing, and its
// failure is ignored: Commit's fsync is what makes the data durable.
func startWriteback(f *os.File) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	sc.Control(func(fd uintptr) { unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE) })
}
