package livekernel_test

import (
	"fmt"
	"log"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/livekernel"
)

// Load a skeleton on the running kernel (as root) and print each stage's answer.
func Example() {
	sk, err := bpfsig.Open("app.skel.h")
	if err != nil {
		log.Fatal(err)
	}
	res, err := livekernel.Load(sk, livekernel.LoadOptions{Unsigned: !sk.Signed(), LogSize: livekernel.DefaultLogSize})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Stages {
		fmt.Println(s.Stage, s.Errno.Name())
	}
	if f := res.Failure; f != nil {
		fmt.Printf("failed at %s: %s\n", f.What, f.ErrorLine)
	}
	fmt.Println(res.Cell)
}
