package lskel

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, name := range fixtureNames {
		src := readFixture(f, name)
		f.Add(src)
		f.Add(bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")))
	}
	f.Add([]byte("static inline int\nx__load(struct x *skel)\n{\n\tstatic const char opts_data[] = \"\\\n\\0\";\n" +
		"\tstatic const char opts_insn[] = \"\\x01\\\n\";\n\topts.insns = (void *)opts_insn;\n}\n"))
	f.Add([]byte("struct x {\n};\nint\nx__load(void)\n{\n\tstatic const char opts_data[] = \"\";\n\tstatic const char opts_insn[] = \"\";\n}"))
	sig := []byte{0x30, 0x03, 0x02, 0x01, 0x00}
	excl := bytes.Repeat([]byte{0xee}, 32)

	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz.skel.h", src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Reason == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		out := file.Bytes()
		if !bytes.Equal(out, src) {
			t.Fatal("Bytes() differs from the source")
		}
		again, err := Parse("fuzz.skel.h", out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(again.Bytes(), out) || !bytes.Equal(again.Insn(), file.Insn()) || !bytes.Equal(again.Data(), file.Data()) {
			t.Fatal("re-parse not stable")
		}

		// Every edit must leave a header that parses and says what was set.
		check := func(g *File, what string) {
			t.Helper()
			if g.editErr != nil {
				t.Fatalf("%s: edit produced an unparseable header: %v", what, g.editErr)
			}
			h, err := Parse("fuzz.skel.h", g.Bytes())
			if err != nil {
				t.Fatalf("%s: re-parse: %v", what, err)
			}
			if !bytes.Equal(h.Bytes(), g.Bytes()) {
				t.Fatalf("%s: not stable", what)
			}
		}
		g := file.Clone()
		g.SetInsn(excl)
		check(g, "SetInsn")
		if !bytes.Equal(g.Insn(), excl) {
			t.Fatal("SetInsn not visible")
		}
		g.SetSignature(sig, excl)
		check(g, "SetSignature")
		if !g.Signed() || !bytes.Equal(g.Sig(), sig) || !bytes.Equal(g.ExclHash(), excl) {
			t.Fatal("SetSignature not visible")
		}
		g.SetSignatureMaps([]int32{0, 1})
		check(g, "SetSignatureMaps")
		if idx, ok := g.SignatureMaps(); !ok || !slices.Equal(idx, []int32{0, 1}) {
			t.Fatalf("SignatureMaps() = %v, %v", idx, ok)
		}
		g.SetSignatureMaps([]int32{0})
		check(g, "SetSignatureMaps again")
		g.RemoveSignature()
		check(g, "RemoveSignature")
		if g.Signed() || g.Sig() != nil {
			t.Fatal("RemoveSignature left a signature")
		}
		if !bytes.Equal(file.Bytes(), src) {
			t.Fatal("editing a clone changed the original")
		}

		// One Edit with every change equals the setters applied in turn.
		s := file.Clone()
		s.SetInsn(excl)
		s.SetSignature(sig, excl)
		s.SetSignatureMaps([]int32{0, 1})
		check(s, "setters")
		e, err := file.Edit(Edit{Insn: excl, Signature: sig, ExclHash: excl, SignatureMaps: []int32{0, 1}, SetSignatureMaps: true})
		if err != nil {
			t.Fatalf("Edit: %v", err)
		}
		if !bytes.Equal(e.Bytes(), s.Bytes()) {
			t.Fatal("Edit differs from the setters")
		}
		// Unsigning undoes signing, up to the canonical wrapping of the
		// rewritten opts_insn.
		canon, err := file.Edit(Edit{Insn: file.Insn()})
		if err != nil {
			t.Fatalf("Edit insn: %v", err)
		}
		if u, err := e.Edit(Edit{RemoveSignature: true, Insn: file.Insn()}); err != nil {
			t.Fatalf("Edit remove: %v", err)
		} else if u.Signed() || !file.Signed() && !bytes.Equal(u.Bytes(), canon.Bytes()) {
			t.Fatal("signing and unsigning an unsigned header does not give it back")
		}
	})
}
