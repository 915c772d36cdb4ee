package loader

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode checks that Decode never panics and that a decoded loader is
// internally consistent: Bytes() is the input, the recognised blocks lie inside
// the program without overlapping, Disasm works, and every rewrite either
// fails with a package error or produces a loader that decodes again.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtureNames {
		f.Add(insn(f, name))
	}
	h := metaHash(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := Decode(in)
		if err != nil {
			var se *ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *ShapeError", err)
			}
			return
		}
		if !bytes.Equal(l.Bytes(), in) {
			t.Fatal("Bytes() differs from the input")
		}
		end := l.BodyStart()
		if c := l.Check(); c != nil {
			if c.Start != l.BodyStart() || c.End() > l.Len() || c.Len != checkLen(c.Gen) {
				t.Fatalf("bad check block %+v", c)
			}
			end = c.End()
		}
		for _, b := range l.Overrides() {
			if b.Start < end || b.End() > l.Len() {
				t.Fatalf("override %+v overlaps or leaves the program", b)
			}
			end = b.End()
		}
		if err := l.Disasm(io.Discard); err != nil {
			t.Fatal(err)
		}
		rewrites := []func(*Loader) error{
			func(l *Loader) error { return l.RemoveCheck() },
			func(l *Loader) error { return l.RemoveOverrides() },
			func(l *Loader) error { return l.InsertCheck(GenV1, h) },
			func(l *Loader) error { return l.InsertCheck(GenV2, h) },
		}
		for _, rw := range rewrites {
			c := mustDecode(t, in)
			if err := rw(c); err != nil {
				if !bytes.Equal(c.Bytes(), in) {
					t.Fatalf("failed rewrite (%v) changed the loader", err)
				}
				continue
			}
			if _, err := Decode(c.Bytes()); err != nil {
				t.Fatalf("rewritten loader does not decode: %v", err)
			}
		}
	})
}

// FuzzSlots checks RemoveSlots and InsertSlots on arbitrary input: no panics,
// errors are *ShapeError, and removing an inserted block restores the input.
func FuzzSlots(f *testing.F) {
	for _, name := range fixtureNames {
		f.Add(insn(f, name), 36, 28, []byte{0xb7, 0, 0, 0, 0, 0, 0, 0})
	}
	f.Fuzz(func(t *testing.T, in []byte, at, n int, block []byte) {
		if _, err := RemoveSlots(in, at, n); err != nil {
			var se *ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("RemoveSlots error %v is not a *ShapeError", err)
			}
		}
		out, err := InsertSlots(in, at, block)
		if err != nil {
			var se *ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("InsertSlots error %v is not a *ShapeError", err)
			}
			return
		}
		back, err := RemoveSlots(out, at, len(block)/SlotSize)
		if err != nil {
			t.Fatalf("removing the inserted block: %v", err)
		}
		if !bytes.Equal(back, in) {
			t.Fatal("insert+remove is not the identity")
		}
	})
}
