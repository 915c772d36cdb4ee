package legacy_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig"
)

// What the legacy scheme signs and checks, for the bundled fixture signed that way.
func Example() {
	sk, err := bpfsig.Open("../testdata/minimal/legacy-v2.skel.h")
	if err != nil {
		panic(err)
	}
	lines, _ := sk.Explain()
	fmt.Println(sk.Scheme())
	fmt.Println(lines[0])
	// Output:
	// legacy
	// signed content: opts_insn only; SHA-256(opts_data) must be embedded in the loader's check block
}
