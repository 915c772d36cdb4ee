package lskel

import (
	"bytes"
	"testing"
)

// TestBodySpliceAllocatesOnce: the literal body Edit writes is sized once, by the bound the
// writer itself needs (its four-byte stores overrun the text by up to two bytes): one
// allocation, never a second one of the same size.
func TestBodySpliceAllocatesOnce(t *testing.T) {
	src := readFixture(t, "legacy-v1")
	f, err := Parse("legacy-v1.skel.h", src)
	if err != nil {
		t.Fatal(err)
	}
	l := f.blobs[BlobData]
	b := bytes.Repeat([]byte{0, 1, 0xff}, 4000)
	if n := testing.AllocsPerRun(20, func() { f.bodySplice(l, b) }); n != 1 {
		t.Errorf("bodySplice allocates %v times, want 1", n)
	}
}
