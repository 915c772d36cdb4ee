package lskel

import (
	"bytes"
	"testing"
)

// TestBodySpliceWrittenInPlace: a literal body Edit writes goes straight into the result,
// which is sized once by the bound the writer itself needs (its four-byte stores overrun the
// text by up to two bytes): one allocation for the whole result, never a second buffer for
// the body or a regrowth, whatever the body's bytes.
func TestBodySpliceWrittenInPlace(t *testing.T) {
	src := readFixture(t, "legacy-v1")
	f, err := Parse("legacy-v1.skel.h", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{
		bytes.Repeat([]byte{0, 1, 0xff}, 4000),
		bytes.Repeat([]byte{0}, 5000),    // the narrowest tokens
		bytes.Repeat([]byte{0xab}, 5000), // the widest
		{},
	} {
		var out []byte
		n := testing.AllocsPerRun(20, func() {
			sp := []splice{f.bodySplice(f.blobs[BlobData], b), f.bodySplice(f.blobs[BlobInsn], b)}
			if out, err = applySplices(f.src, sp); err != nil {
				t.Fatal(err)
			}
		})
		if n != 1 {
			t.Errorf("%d-byte bodies: applySplices allocates %v times, want 1", len(b), n)
		}
		g, err := Parse(f.filename, out)
		if err != nil {
			t.Fatalf("%d-byte bodies: %v", len(b), err)
		}
		if !bytes.Equal(g.View(BlobData), b) || !bytes.Equal(g.View(BlobInsn), b) {
			t.Errorf("%d-byte bodies: the result does not carry them", len(b))
		}
	}
}
