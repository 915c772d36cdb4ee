package compare_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
)

// Where each scheme stops a skeleton whose metadata was altered after signing: legacy only
// when the loader runs (after an LSM admitted it), chain and raw before the LSM hook, Hornet
// at the hook itself.
func ExampleTamper() {
	sk, _ := bpfsig.Open("../testdata/minimal/unsigned.skel.h")
	signer, err := bpfsig.LoadSigner("../testdata/keys/test-rsa2048.key.pem", "../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		panic(err)
	}
	sc, _ := compare.LookupScenario("flip-data")
	rows, err := compare.Tamper(sk, signer, []compare.Scenario{sc}, compare.Columns())
	if err != nil {
		panic(err)
	}
	for _, c := range rows[0].Cells {
		v := c.Verdict
		fmt.Printf("%-10s %s at %s, LSM admitted then failed: %v\n", c.Column.Name, v.Outcome, v.Stage, v.LSMAdmittedThenFailed)
	}
	// Output:
	// legacy-v1  rejected at run, LSM admitted then failed: true
	// legacy-v2  rejected at run, LSM admitted then failed: true
	// chain      rejected at admission, LSM admitted then failed: false
	// raw        rejected at admission, LSM admitted then failed: false
	// hornet     rejected at lsm, LSM admitted then failed: false
}
