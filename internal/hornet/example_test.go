package hornet_test

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/bpfsig/bpfsig/internal/hornet"
	"github.com/bpfsig/bpfsig/internal/keys"
)

// Sign a loader and its metadata map as gen_sig does, then judge loads as Hornet would.
func Example() {
	key, err := keys.LoadSigner("../../testdata/keys/test-rsa2048.key.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	certs, err := keys.LoadCertificates("../../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	insn, _ := os.ReadFile("testdata/gen_sig/insn.bin")
	data, _ := os.ReadFile("testdata/gen_sig/map0.bin")

	sig, err := hornet.Sign(insn, []hornet.Map{{Index: 0, Value: data}}, key, certs[0], hornet.SignOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	trust := []*x509.Certificate{certs[0]}
	fmt.Println(hornet.Verify(insn, []hornet.Map{{Index: 0, Value: data}}, sig, trust))

	tampered := append([]byte{}, data...)
	tampered[0] ^= 1
	fmt.Println(hornet.Verify(insn, []hornet.Map{{Index: 0, Value: tampered}}, sig, trust))
	fmt.Println(hornet.Verify(insn, nil, sig, trust))
	fmt.Println(hornet.Verify(insn, nil, nil, trust))
	// Output:
	// OK
	// UNEXPECTED
	// FAULT
	// UNSIGNED
}
