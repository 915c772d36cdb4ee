package preflight_test

import (
	"fmt"
	"os"

	"github.com/bpfsig/bpfsig/internal/lskel"
	"github.com/bpfsig/bpfsig/internal/preflight"
)

// A light skeleton with 40 programs: libbpf's loader generator emitted it
// without a warning, and no kernel will load its loader.
func ExampleCheck() {
	const path = "../../testdata/manyprogs/manyprogs-40.lskel.h"
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := lskel.Parse(path, src)
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, findings, err := preflight.Check(preflight.FromFile(f, preflight.AnyKernel))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d map(s), %d programs\n", len(inv.Maps), len(inv.Progs))
	for _, x := range findings {
		fmt.Println(x.Severity, x.Stage, x.Errno, x.Rule, x.Program)
	}
	// Output:
	// 1 map(s), 40 programs
	// error verifier EACCES prog-fd-slots prog_40
}
