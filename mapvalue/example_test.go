package mapvalue_test

import (
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/mapvalue"
)

func Example() {
	key, err := keys.LoadSigner(testfix.KeyPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	certs, err := keys.LoadCertificates(testfix.CertPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	value, err := mapvalue.Sign([]byte("allow uid 1000"), key, certs[0], mapvalue.SignOptions{ValueSize: 512})
	if err != nil {
		fmt.Println(err)
		return
	}
	trust := []*x509.Certificate{certs[0]}
	r, err := mapvalue.Verify(value, trust)
	fmt.Println(len(value), r.VerifiedLen, r.Signer, err)

	value[4] ^= 1 // tamper with the data
	_, err = mapvalue.Verify(value, trust)
	fmt.Println(kerrno.Name(err))
	// Output:
	// 512 14 issuer:CN=bpfsig fixture RSA-2048,serial:5362a7f5908a33591fcc1ff7118ffd61e082a261 <nil>
	// EKEYREJECTED
}
