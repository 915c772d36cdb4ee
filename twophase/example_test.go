package twophase_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/twophase"
)

// A skeleton is converted for the raw scheme; the bytes to be signed go to a signer that
// bpfsig never sees (here an RSA key used directly, as `openssl pkeyutl -sign` would); the
// bare signature comes back and is attached once the kernel's check holds. For RSA the result
// is the file `bpfsig sign` writes.
func ExampleAttachVerified() {
	sk, err := bpfsig.Open("../testdata/minimal/legacy-v2.skel.h")
	if err != nil {
		panic(err)
	}
	p, err := bpfsig.Prepare(sk, bpfsig.Target{Scheme: bpfsig.Raw})
	if err != nil {
		panic(err)
	}
	tbs := p.Content() // phase one: these bytes leave for the signer

	// Elsewhere: the signer signs SHA-256(tbs).
	signer, err := bpfsig.LoadSigner("../testdata/keys/test-rsa2048.key.pem", "../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256(tbs)
	raw, err := signer.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		panic(err)
	}

	// Phase two: only the certificate is needed.
	sig, err := twophase.ParseSignature(raw, twophase.Raw)
	if err != nil {
		panic(err)
	}
	res, err := twophase.AttachVerified(p, sig, signer.Cert, twophase.Options{})
	if err != nil {
		panic(err)
	}
	direct, err := bpfsig.Sign(sk, signer, bpfsig.Target{Scheme: bpfsig.Raw})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(tbs), "bytes signed; same as bpfsig sign:", bytes.Equal(res.Skeleton.Bytes(), direct.Bytes()))
	fmt.Println("signer", res.Signer)
	// Output:
	// 5224 bytes signed; same as bpfsig sign: true
	// signer skid:e7d6e662db68fa0c93c5cfa53cb25871a920177a
}
