package lskel

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// editTo returns the one Edit that turns any fixture into fixture to.
func editTo(t testing.TB, to string) Edit {
	e := Edit{Insn: readBlob(t, to, "insn"), Data: readBlob(t, to, "data"), SetSignatureMaps: true}
	if sig := readBlob(t, to, "sig"); sig != nil {
		e.Signature, e.ExclHash = sig, readBlob(t, to, "excl")
	} else {
		e.RemoveSignature = true
	}
	if to == "chain" {
		e.SignatureMaps = []int32{0}
	}
	return e
}

// TestEditAllPairs: one Edit turns every fixture into every other, byte for
// byte, leaves its input alone, and returns a File indexed like a fresh
// parse.
func TestEditAllPairs(t *testing.T) {
	for _, from := range fixtureNames {
		for _, to := range fixtureNames {
			t.Run(from+" to "+to, func(t *testing.T) {
				src := readFixture(t, from)
				f := mustParse(t, from, src)
				g, err := f.Edit(editTo(t, to))
				if err != nil {
					t.Fatal(err)
				}
				want := readFixture(t, to)
				if got := g.Bytes(); !bytes.Equal(got, want) {
					t.Fatalf("result differs from %s at %s", to, diffLine(got, want))
				}
				if !bytes.Equal(f.Bytes(), src) || f.Signed() != (readBlob(t, from, "sig") != nil) {
					t.Fatal("Edit modified its input")
				}
				h := mustParse(t, to, want)
				gi, gok := g.SignatureMaps()
				hi, hok := h.SignatureMaps()
				if g.Signed() != h.Signed() || !bytes.Equal(g.Sig(), h.Sig()) || !bytes.Equal(g.ExclHash(), h.ExclHash()) ||
					!bytes.Equal(g.Insn(), h.Insn()) || !bytes.Equal(g.Data(), h.Data()) || gok != hok || len(gi) != len(hi) {
					t.Error("result's index disagrees with a fresh parse")
				}
			})
		}
	}
}

// TestEditMatchesSetters: the setters are Edit applied in steps.
func TestEditMatchesSetters(t *testing.T) {
	f := mustParse(t, "unsigned", readFixture(t, "unsigned"))
	f.SetInsn(readBlob(t, "chain", "insn"))
	f.SetSignatureMaps([]int32{0})
	f.SetSignature(readBlob(t, "chain", "sig"), readBlob(t, "chain", "excl"))
	checkBytes(t, f, readFixture(t, "chain"))
	g, err := mustParse(t, "unsigned", readFixture(t, "unsigned")).Edit(editTo(t, "chain"))
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, g, f.Bytes())
}

func TestEditErrors(t *testing.T) {
	signed := mustParse(t, "legacy-v1.skel.h", readFixture(t, "legacy-v1"))
	unsigned := mustParse(t, "unsigned.skel.h", readFixture(t, "unsigned"))
	sig, excl := []byte{0x30, 0}, bytes.Repeat([]byte{1}, 32)
	for _, c := range []struct {
		name   string
		f      *File
		e      Edit
		reason string
	}{
		{"signature alone", unsigned, Edit{Signature: sig}, "Signature and ExclHash must be given together"},
		{"exclusive hash alone", signed, Edit{ExclHash: excl}, "Signature and ExclHash must be given together"},
		{"remove and sign", signed, Edit{RemoveSignature: true, Signature: sig, ExclHash: excl}, "RemoveSignature conflicts with Signature"},
		{"maps without SetSignatureMaps", signed, Edit{SignatureMaps: []int32{0}}, "SignatureMaps given without SetSignatureMaps"},
		{"maps on an unsigned header", unsigned, Edit{SignatureMaps: []int32{0}, SetSignatureMaps: true}, "hash-chain map indices need a signed header"},
		{"maps while removing the signature", signed, Edit{RemoveSignature: true, SignatureMaps: []int32{0}, SetSignatureMaps: true},
			"hash-chain map indices need a signed header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.f.Bytes()
			g, err := c.f.Edit(c.e)
			var ee *EditError
			if g != nil || !errors.As(err, &ee) {
				t.Fatalf("Edit = %v, %v; want an *EditError", g, err)
			}
			if ee.File != c.f.Filename() || ee.Reason != c.reason || ee.Err != nil {
				t.Errorf("got %+v, want reason %q", ee, c.reason)
			}
			if want := c.f.Filename() + ": cannot edit: " + c.reason; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			if !bytes.Equal(c.f.Bytes(), before) {
				t.Error("failed Edit modified its input")
			}
		})
	}
}

// No valid Edit yields a header that does not parse, so the two guards
// behind that error are tested directly: EditError unwraps to the
// *ParseError, and applySplices refuses overlapping changes.
func TestEditGuards(t *testing.T) {
	f := mustParse(t, "legacy-v1.skel.h", readFixture(t, "legacy-v1"))
	_, perr := Parse(f.filename, []byte("int x;\n"))
	err := error(&EditError{File: f.filename, Reason: "r", Err: perr})
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.HasSuffix(err.Error(), perr.Error()) {
		t.Fatalf("%v does not wrap the *ParseError", err)
	}
	if _, err := applySplices(f.src, []splice{{start: 10, end: 20}, {start: 15, end: 25}}); err == nil {
		t.Fatal("overlapping splices accepted")
	}
	out, err := applySplices([]byte("abcdef"), []splice{{start: 4, end: 4, text: []byte("2")}, {start: 1, end: 3, text: []byte("X")}, {start: 4, end: 4, text: []byte("3")}})
	if err != nil || string(out) != "aXd23ef" {
		t.Fatalf("applySplices = %q, %v", out, err)
	}
}

// TestEditNoChange returns a new File with the same bytes.
func TestEditNoChange(t *testing.T) {
	f := mustParse(t, "raw", readFixture(t, "raw"))
	g, err := f.Edit(Edit{})
	if err != nil || g == f || !bytes.Equal(g.Bytes(), f.Bytes()) || !g.Signed() {
		t.Fatalf("Edit{} = %p (input %p), %v", g, f, err)
	}
	h, err := f.Edit(Edit{SetSignatureMaps: true}) // no hash-chain lines to remove
	if err != nil || !bytes.Equal(h.Bytes(), f.Bytes()) {
		t.Fatalf("removing absent maps: %v", err)
	}
}
