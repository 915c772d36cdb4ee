//go:build !unix

package fsio

// readRegular is readFile after the limit check; outside Unix it is the os-based one.
func readRegular(path string, limit int64, lookFirst bool) ([]byte, error) {
	return readPortable(path, limit, lookFirst)
}
