package preflight

import (
	"path/filepath"
	"testing"
)

// BenchmarkCheck: the static analysis Verify runs on every skeleton, per fixture.
func BenchmarkCheck(b *testing.B) {
	for _, name := range []string{"raw", "legacy-v1", "chain"} {
		f := parseFile(b, filepath.Join(testdata, "minimal", name+".skel.h"))
		in := FromFile(f, Mainline)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := Check(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
