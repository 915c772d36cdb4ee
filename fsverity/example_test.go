package fsverity_test

import (
	"bytes"
	"crypto/x509"
	"fmt"

	"github.com/bpfsig/bpfsig/fsverity"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

func Example() {
	loader := []byte("#!/bin/sh\nexec bpftool prog loadall ...\n")
	d, err := fsverity.Compute(bytes.NewReader(loader), int64(len(loader)), fsverity.Params{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d) // as `fsverity digest` prints it

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
	sig, err := fsverity.Sign(d, key, certs[0], fsverity.SignOptions{}) // what `fsverity sign` writes
	if err != nil {
		fmt.Println(err)
		return
	}
	who, err := fsverity.Verify(d, sig, []*x509.Certificate{certs[0]})
	fmt.Println(who.ID, err)
	// Output:
	// sha256:1e7d4a84990977d4d937b42352c3127a03b184b30851f4a8acc0099f7afe92fd
	// issuer:CN=bpfsig fixture RSA-2048,serial:5362a7f5908a33591fcc1ff7118ffd61e082a261 <nil>
}
