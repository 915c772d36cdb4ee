package lskel_test

import (
	"fmt"
	"os"

	"github.com/bpfsig/bpfsig/internal/lskel"
)

// Signing an unsigned light skeleton in one edit: the result is the header
// `bpftool gen skeleton -L -S` prints, byte for byte.
func ExampleFile_Edit() {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			panic(err)
		}
		return b
	}
	f, err := lskel.Parse("unsigned.skel.h", read("minimal/unsigned.skel.h"))
	if err != nil {
		fmt.Println(err)
		return
	}
	signed, err := f.Edit(lskel.Edit{
		Insn:      read("blobs/legacy-v1.insn"),
		Signature: read("blobs/legacy-v1.sig"),
		ExclHash:  read("blobs/legacy-v1.excl"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Signed(), signed.Signed(), string(signed.Bytes()) == string(read("minimal/legacy-v1.skel.h")))

	// A cut header is not a light skeleton.
	_, err = lskel.Parse("cut.skel.h", signed.Bytes()[:len(signed.Bytes())/2])
	fmt.Println(err)
	// Output:
	// false true true
	// cut.skel.h:208: unexpected end of file inside opts_data literal, opened at line 109
}
