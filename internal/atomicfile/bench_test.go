package atomicfile

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// benchFiles is the workload: 400 files of 20 KB, spread over 20 directories as a
// mirrored migration output would be.
const benchFiles, benchSize, benchDirs = 400, 20_000, 20

// benchRun times write(paths, data) over fresh directories each iteration (an --out run),
// with the setup and a sync(2) of the previous iteration's data outside the timing.
func benchRun(b *testing.B, write func(b *testing.B, paths []string, data []byte)) {
	data := make([]byte, benchSize)
	rand.Read(data)
	base := b.TempDir()
	b.SetBytes(benchFiles * benchSize)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		paths := make([]string, benchFiles)
		for j := range paths {
			paths[j] = filepath.Join(base, fmt.Sprint(i), fmt.Sprintf("d%02d", j%benchDirs), fmt.Sprintf("s%04d.skel.h", j))
			if err := os.MkdirAll(filepath.Dir(paths[j]), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		flushAll()
		b.StartTimer()
		write(b, paths, data)
	}
}

// BenchmarkWrite400 writes 400 new files of 20 KB per iteration:
//
//	nosync:  os.WriteFile each (no fsync, no rename): the cost of the data alone
//	perfile: WriteFile each (fsync file, rename, fsync directory, one file at a time)
//	batch:   one Batch: Stage all from 8 goroutines, then Commit
func BenchmarkWrite400(b *testing.B) {
	b.Run("nosync", func(b *testing.B) {
		benchRun(b, func(b *testing.B, paths []string, data []byte) {
			for _, p := range paths {
				if err := os.WriteFile(p, data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("perfile", func(b *testing.B) {
		benchRun(b, func(b *testing.B, paths []string, data []byte) {
			for _, p := range paths {
				if err := WriteFile(p, data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("batch", func(b *testing.B) {
		benchRun(b, func(b *testing.B, paths []string, data []byte) {
			bt := NewBatch()
			var wg sync.WaitGroup
			next := make(chan string)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range next {
						if err := bt.Stage(p, data, 0o644); err != nil {
							b.Error(err)
						}
					}
				}()
			}
			for _, p := range paths {
				next <- p
			}
			close(next)
			wg.Wait()
			if err := bt.Commit(); err != nil {
				b.Fatal(err)
			}
		})
	})
}
