// Package par runs independent pieces of work on a bounded number of goroutines.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Do calls f(i) for every i in [0, n), on at most workers goroutines (runtime.NumCPU() when
// workers ≤ 0), and returns when all calls have returned. Each worker takes the next index
// as it becomes free, so a slow call holds up no other. With one worker (or one index) the
// calls run in order on the calling goroutine.
func Do(n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
