package par

import (
	"sync/atomic"
	"testing"
)

// TestDoRunsEachIndexOnce: every index runs exactly once, whatever the number of workers
// against the number of items (none, fewer, as many, more; workers 0 means the CPUs).
func TestDoRunsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		for _, jobs := range []int{-1, 0, 1, 2, 3, 64} {
			counts := make([]atomic.Int32, n)
			Do(n, jobs, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n %d jobs %d: index %d ran %d times", n, jobs, i, c)
				}
			}
		}
	}
}

// One worker runs the calls in order on the caller's goroutine.
func TestDoOneWorkerInOrder(t *testing.T) {
	var got []int
	Do(5, 1, func(i int) { got = append(got, i) })
	for i, v := range got {
		if v != i {
			t.Fatalf("order %v", got)
		}
	}
	if len(got) != 5 {
		t.Fatalf("got %v", got)
	}
}
