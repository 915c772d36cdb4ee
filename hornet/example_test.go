package hornet_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig"
)

// A skeleton signed by Hornet's own gen_sig and write-sig.sh, judged as a Hornet kernel would.
func Example() {
	sk, err := bpfsig.Open("../internal/hornet/testdata/gen_sig/legacy-v2.write-sig.skel.h")
	if err != nil {
		panic(err)
	}
	trust, _ := bpfsig.LoadTrust("../testdata/keys/test-rsa2048.crt.pem")
	v := bpfsig.Verify(sk, trust)
	fmt.Println(sk.Scheme(), v.OK(), v.SchemeVerdict, v.LSM)
	// Output:
	// hornet true LSM_INT_VERDICT_OK full
}
