package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
)

// A batch writes many files, then makes them durable at once.
func ExampleBatch() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	// A previous run that was killed may have left temporaries: remove them first.
	if _, err := atomicfile.Cleanup(dir); err != nil {
		fmt.Println(err)
		return
	}
	b := atomicfile.NewBatch()
	for _, name := range []string{"a.skel.h", "b.skel.h"} {
		if err := b.Stage(filepath.Join(dir, name), []byte("/* "+name+" */\n"), 0o644); err != nil {
			b.Abort() // removes the temporaries; no target was touched
			fmt.Println(err)
			return
		}
	}
	if err := b.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	got, _ := os.ReadFile(filepath.Join(dir, "b.skel.h"))
	fmt.Print(string(got))
	// Output: /* b.skel.h */
}
