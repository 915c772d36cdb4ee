package chain_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig"
)

// What the chain scheme signs and checks, for the bundled fixture signed that way.
func Example() {
	sk, err := bpfsig.Open("../testdata/minimal/chain.skel.h")
	if err != nil {
		panic(err)
	}
	lines, _ := sk.Explain()
	fmt.Println(sk.Scheme())
	fmt.Println(lines[0])
	// Output:
	// chain
	// signed content: root = H(H(opts_insn) ‖ h), h the hash chain over the listed maps (here the metadata map: H(opts_data padded to 8))
}
