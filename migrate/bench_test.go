package migrate_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/migrate"
)

const benchFiles = 1000

// benchTree writes 1,000 skeletons, half of each legacy generation.
func benchTree(b *testing.B) string {
	dir := b.TempDir()
	v1, v2 := testfix.Bytes(b, "legacy-v1"), testfix.Bytes(b, "legacy-v2")
	for i := 0; i < benchFiles; i++ {
		src := v1
		if i%2 == 1 {
			src = v2
		}
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("s%04d.skel.h", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, src, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// benchFS names the file systems the write benchmarks run on: b.TempDir (ext4 on the CI
// machines) and /dev/shm (tmpfs), so that the cost of durability on a disk is visible next to
// the same run on memory.
var benchFS = []struct {
	name string
	dir  func(b *testing.B) string
}{
	{"ext4", func(b *testing.B) string { return b.TempDir() }},
	{"tmpfs", tmpfsDir},
}

// BenchmarkMigrate1000 migrates 1,000 skeletons into a fresh directory per iteration, with
// the output on each file system of benchFS; the skeletons/s metric is the figure of merit,
// to be read against BenchmarkRSASignatures1000 with the same jobs.
func BenchmarkMigrate1000(b *testing.B) {
	for _, fsys := range benchFS {
		b.Run("fs="+fsys.name, func(b *testing.B) {
			for _, jobs := range []int{1, runtime.NumCPU()} {
				b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
					src := benchTree(b)
					base := fsys.dir(b)
					o := opts(b)
					o.Jobs = jobs
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						o.Out = filepath.Join(base, fmt.Sprint(i), "out")
						sum, err := migrate.Run(context.Background(), []string{src}, o)
						if err != nil || sum.Migrated != benchFiles {
							b.Fatalf("%v %v", sum, err)
						}
					}
					b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "skeletons/s")
				})
			}
		})
	}
}

// BenchmarkMigrate1000DryRun does everything but the writes (temporary file, fsync, rename),
// to separate the CPU cost from the file system's.
func BenchmarkMigrate1000DryRun(b *testing.B) {
	src := benchTree(b)
	o := opts(b)
	o.Jobs, o.DryRun = 1, true
	o.Out = filepath.Join(b.TempDir(), "out")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := migrate.Run(context.Background(), []string{src}, o)
		if err != nil || sum.Migrated != benchFiles {
			b.Fatalf("%v %v", sum, err)
		}
	}
	b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "skeletons/s")
}

// BenchmarkRSASignatures1000 is the floor: the 1,000 RSA-2048 PKCS#1 v1.5 signatures a
// migration of 1,000 skeletons must make, and nothing else, on one CPU and on all of them.
func BenchmarkRSASignatures1000(b *testing.B) {
	key := testfix.Signer(b).Key.(*rsa.PrivateKey)
	content := append(testfix.Artifact(b, "raw").Insn(), testfix.Artifact(b, "raw").Data()...)
	for _, jobs := range []int{1, runtime.NumCPU()} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for w := 0; w < jobs; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						for j := w; j < benchFiles; j += jobs {
							h := sha256.Sum256(content)
							if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:]); err != nil {
								panic(err)
							}
						}
					}(w)
				}
				wg.Wait()
			}
			b.ReportMetric(float64(benchFiles*b.N)/b.Elapsed().Seconds(), "signatures/s")
		})
	}
}
