package oracle

import (
	"context"
	"os"
	"testing"
)

// oracleVM returns the VM for tests that boot it, or skips with the reason.
func oracleVM(t *testing.T) *VM {
	t.Helper()
	if os.Getenv("BPFSIG_ORACLE") != "1" && !oracleTag {
		t.Skip("kernel oracle VM tests are off: set BPFSIG_ORACLE=1 (or build with -tags oracle); they need `make oracle-deps`")
	}
	vm, err := Find()
	if err != nil {
		t.Fatalf("BPFSIG_ORACLE=1 but: %v", err)
	}
	if testing.Verbose() && os.Getenv("BPFSIG_ORACLE_CONSOLE") == "1" {
		vm.Stderr = os.Stderr
	}
	return vm
}

func TestSelftest(t *testing.T) {
	vm := oracleVM(t)
	rows, st, err := SelftestStats(context.Background(), vm)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("selftest: %d cases, VM boot-to-poweroff %v (kvm %v, console %d bytes)", st.Cases, st.Boot, st.KVM, st.ConsoleBytes)
	for _, r := range rows {
		t.Log(r)
		if !r.OK() {
			t.Errorf("row %q: kernel answered %v, want %v", r.Vector, errnoText(r.Got), errnoText(r.Want))
		}
	}
}
