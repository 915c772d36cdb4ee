package lskel

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestEditEveryTestdataHeader: every light skeleton header under testdata (the minimal
// fixtures, the broken ones, the manyprogs light skeletons) is
// reproduced byte for byte by an Edit that writes back its own blobs, and every Edit
// combination over it returns the File Parse returns for its bytes.
func TestEditEveryTestdataHeader(t *testing.T) {
	var paths []string
	// manyprogs/*.skel.h are the same skeletons in bpftool 7.1's older layout (blobs inline),
	// which Parse refuses; manyprogs/*.lskel.h are them in the current layout.
	for _, glob := range []string{"minimal/*.skel.h", "broken/*.skel.h", "manyprogs/*.lskel.h"} {
		m, err := filepath.Glob(filepath.Join("../../testdata", glob))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 11 {
		t.Fatalf("only %d headers under testdata", len(paths))
	}
	cases := editCases(t)
	names := slices.Sorted(maps.Keys(cases))
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(filepath.Base(p), src)
			if err != nil {
				t.Fatal(err)
			}
			same := Edit{Insn: f.Insn(), Data: f.Data()}
			if f.Signed() {
				same.Signature, same.ExclHash = f.Sig(), f.ExclHash()
			}
			g, err := f.Edit(same)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g.Bytes(), src) {
				t.Fatalf("writing back its own blobs changed the header")
			}
			checkEditEqualsParse(t, f, same, "own blobs")
			for _, n := range names {
				checkEditEqualsParse(t, f, cases[n], n)
			}
		})
	}
}
