package migrate_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/migrate"
)

// Migrate a directory of 6.18-signed skeletons for the raw scheme, into another directory.
func ExampleRun() {
	signer, err := bpfsig.LoadSigner("../testdata/keys/test-rsa2048.key.pem", "../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		panic(err)
	}
	out, _ := os.MkdirTemp("", "migrated")
	defer os.RemoveAll(out)
	sum, err := migrate.Run(context.Background(), []string{"../testdata/minimal/legacy-v1.skel.h", "../testdata/minimal/legacy-v2.skel.h"},
		migrate.Options{Out: out, Signer: signer})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum)
	for _, r := range sum.Files {
		fmt.Println(r.OldScheme, r.OldGeneration, "→", r.NewScheme, r.Outcome)
	}
	// Output:
	// 2 migrated, 0 up to date, 0 refused, 0 failed
	// legacy v1 → raw migrated
	// legacy v2 → raw migrated
}
