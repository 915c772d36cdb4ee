package fsio

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadFile reads a skeleton-sized file (20 KiB) by each implementation and, for
// comparison, os.ReadFile (which makes none of the checks).
func BenchmarkReadFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f.skel.h")
	if err := os.WriteFile(p, make([]byte, 20<<10), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, impl := range readImpls {
		b.Run("fsio"+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.read(p, SkeletonLimit, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("os.ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := os.ReadFile(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
