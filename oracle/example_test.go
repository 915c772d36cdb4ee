package oracle_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bpfsig/bpfsig/oracle"
)

// Run the built-in answer table on the VM kernel.
func Example() {
	vm, err := oracle.Find()
	if err != nil {
		log.Fatal(err) // names what to install
	}
	rows, st, err := vm.Selftest(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r.Vector, r.Want.Name(), r.Got.Name(), r.OK())
	}
	fmt.Printf("%d cases in %s\n", st.Cases, st.Boot)
}
