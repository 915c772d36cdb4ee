package kprofile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/tables.golden")

// TestTablesGolden keeps the rendered tables in testdata/tables.golden, so that a change to
// any row shows in review. Regenerate with go test ./internal/kprofile -run Golden -update.
func TestTablesGolden(t *testing.T) {
	var b strings.Builder
	for _, n := range Names() {
		p, _ := Lookup(n)
		b.WriteString(p.Table())
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "tables.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("tables differ from %s; rerun with -update and review the diff", path)
	}
}
