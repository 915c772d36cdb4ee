package migrate

// SetBeforeCommit installs f to run just before each batch is committed, with the batch's
// target paths, and returns the function that removes it.
func SetBeforeCommit(f func(paths []string)) func() {
	beforeCommit = f
	return func() { beforeCommit = nil }
}
