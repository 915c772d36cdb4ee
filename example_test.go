package bpfsig_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bpfsig/bpfsig"
)

// The front door: open an old signed skeleton, check its signature, re-sign it for the raw
// scheme (load-time verification) and write it atomically.
func Example() {
	sk, err := bpfsig.Open("testdata/minimal/legacy-v1.skel.h")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := bpfsig.LoadSigner("testdata/keys/test-rsa2048.key.pem", "testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		log.Fatal(err)
	}
	trust, err := bpfsig.LoadTrust("testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		log.Fatal(err)
	}
	v := bpfsig.Verify(sk, trust)
	fmt.Println(sk.Scheme(), sk.Generation(), "verifies:", v.OK(), "LSM sees:", v.LSM)

	out, err := bpfsig.Sign(sk, signer, bpfsig.Target{Scheme: bpfsig.Raw})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "bpfsig-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := out.WriteFile(filepath.Join(dir, "app.skel.h")); err != nil {
		log.Fatal(err)
	}
	again, err := bpfsig.Open(filepath.Join(dir, "app.skel.h"))
	if err != nil {
		log.Fatal(err)
	}
	v = bpfsig.Verify(again, trust)
	fmt.Println(again.Scheme(), "verifies:", v.OK(), "LSM sees:", v.LSM)

	// The migrated file is byte for byte what upstream's generator makes for this object.
	fmt.Println("same as upstream raw.skel.h:", string(out.Bytes()) == string(mustRead("testdata/minimal/raw.skel.h")))
	// Output:
	// legacy v1 verifies: true LSM sees: loader-only
	// raw verifies: true LSM sees: full
	// same as upstream raw.skel.h: true
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	return b
}
