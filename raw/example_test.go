package raw_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig"
)

// What the raw scheme signs and checks, for the bundled fixture signed that way.
func Example() {
	sk, err := bpfsig.Open("../testdata/minimal/raw.skel.h")
	if err != nil {
		panic(err)
	}
	lines, _ := sk.Explain()
	fmt.Println(sk.Scheme())
	fmt.Println(lines[0])
	// Output:
	// raw
	// signed content: opts_insn ‖ opts_data (raw bytes, fd_array order, no hashing)
}
