package atomicfile

import "os"

// methodEnv names the environment variable that overrides the durability method (see the
// package documentation).
const methodEnv = "BPFSIG_FSYNC_METHOD"

// syncMethod is how the temporaries of one directory are made durable.
type syncMethod uint8

const (
	syncPerFile syncMethod = iota // fsync each temporary
	syncBatched                   // sync_file_range each, one fsync per file system
)

func (m syncMethod) String() string {
	if m == syncBatched {
		return "batch"
	}
	return "fsync"
}

// forcedMethod reads BPFSIG_FSYNC_METHOD: ok is false when the file system decides.
func forcedMethod() (m syncMethod, ok bool) {
	switch os.Getenv(methodEnv) {
	case "fsync":
		return syncPerFile, true
	case "batch":
		return syncBatched, haveSyncFileRange
	}
	return syncPerFile, false
}

// methodFor returns how temporaries made in dir are made durable, and the file system's
// identity (temporaries on one file system share its one flush).
func methodFor(dir string) (syncMethod, fsID) {
	id, batchSafe := inspectFS(dir)
	return choose(batchSafe), id
}

// choose applies BPFSIG_FSYNC_METHOD, then the file system's rule.
func choose(batchSafe bool) syncMethod {
	if m, forced := forcedMethod(); forced {
		return m
	}
	if batchSafe && haveSyncFileRange {
		return syncBatched
	}
	return syncPerFile
}

// SyncMethod names how a [Batch] makes files written into dir durable: "batch" (writeback
// per file, one flush per file system; see the rules above) or "fsync" (one fsync per
// file). Tests and benchmarks report it.
func SyncMethod(dir string) string {
	m, _ := methodFor(dir)
	return m.String()
}
