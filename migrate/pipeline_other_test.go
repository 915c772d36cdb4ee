//go:build !linux

package migrate_test

import "testing"

func smallFS(t *testing.T, dir string) {
	t.Skip("fills a 64 KiB tmpfs, which needs Linux")
}
