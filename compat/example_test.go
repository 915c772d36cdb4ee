package compat_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
)

// Targets are checked against the registry: here no strategy is imported, so none is known.
// With the built-in strategies (import the root package bpfsig), raw has no generations and
// legacy defaults to v2.
func ExampleTarget_Validate() {
	_, err := compat.Target{Scheme: compat.Raw, Generation: compat.V1}.Validate()
	fmt.Println(err)
	// Output:
	// unknown scheme "raw" (known: )
}

// Errno carries Linux's values on every platform and names itself as the kernel does.
func ExampleErrno() {
	e, _ := compat.ParseErrno("EKEYREJECTED")
	fmt.Println(int(e), e.Name(), e)
	// Output:
	// 129 EKEYREJECTED key was rejected by service
}
