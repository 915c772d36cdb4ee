package fsio

import (
	"os"
	"strings"
	"testing"
)

// TestReadFileReportedSizeIsWrong: files whose fstat size is not their length (procfs
// reports 0, sysfs 4096) are read to their end, and the limit still holds on what is read;
// odd paths (a NUL byte, a name too long) fail as package os fails them. Both readers agree,
// errors included.
func TestReadFileReportedSizeIsWrong(t *testing.T) {
	want, err := os.ReadFile("/proc/version")
	if err != nil || len(want) < 20 {
		t.Skipf("no /proc/version to read (%v)", err)
	}
	cases := []readCase{
		{name: "procfs size 0", path: "/proc/version", limit: int64(len(want)), want: want},
		{name: "procfs over the limit", path: "/proc/version", limit: int64(len(want)) - 1, wantErr: ErrTooLarge, says: "larger than the limit"},
		{name: "procfs limit 0", path: "/proc/version", limit: 0, wantErr: ErrTooLarge, says: "larger than the limit"},
		{name: "NUL in path", path: "a\x00b", limit: 10, says: "invalid argument"},
		{name: "name too long", path: strings.Repeat("n", 300), limit: 10, says: "file name too long"},
	}
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		cases = append(cases, readCase{name: "sysfs size 4096", path: "/sys/kernel/mm/transparent_hugepage/enabled", limit: 4096, want: b})
	}
	runReadCases(t, cases)
}
