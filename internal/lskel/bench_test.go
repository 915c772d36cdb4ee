package lskel

import (
	"bytes"
	"testing"
)

// benchFixtures are the headers BenchmarkParse reads.
var benchFixtures = []string{"legacy-v1", "raw", "chain", "legacy-v2", "unsigned"}

func BenchmarkParse(b *testing.B) {
	for _, name := range benchFixtures {
		b.Run(name, func(b *testing.B) {
			src := readFixture(b, name)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(name+".skel.h", src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode measures the blob decoder alone on each literal of
// legacy-v1; the bytes are the escaped text.
func BenchmarkDecode(b *testing.B) {
	src := readFixture(b, "legacy-v1")
	f := mustParse(b, "legacy-v1.skel.h", src)
	for _, name := range []string{BlobData, BlobInsn, BlobSig} {
		l := f.blobs[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(l.close - l.open))
			b.ReportAllocs()
			p := &parser{f: &File{filename: "x"}, src: src}
			for b.Loop() {
				p.arena = p.arena[:0]
				data, _, _, err := p.decode(name, l.open-1, 1)
				if err != nil || !bytes.Equal(data, l.data) {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBytes(b *testing.B) {
	src := readFixture(b, "legacy-v1")
	f := mustParse(b, "legacy-v1.skel.h", src)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Bytes()
	}
}

// BenchmarkSetSignature measures a full edit: re-escaping and re-wrapping two
// literals, splicing and re-indexing the header.
func BenchmarkSetSignature(b *testing.B) {
	src := readFixture(b, "legacy-v1")
	f := mustParse(b, "legacy-v1.skel.h", src)
	sig, excl := readBlob(b, "chain", "sig"), readBlob(b, "chain", "excl")
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f.SetSignature(sig, excl)
	}
}

// BenchmarkEncode measures the literal writer alone on opts_data.
func BenchmarkEncode(b *testing.B) {
	data := readBlob(b, "legacy-v1", "data")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]byte, 0, literalBodySize(data, "\n"))
	for b.Loop() {
		buf = appendLiteralBody(buf[:0], data, "\n")
	}
}

// BenchmarkSignPathSetters measures the sign path through the setters:
// SetInsn then SetSignature on a fresh parse of unsigned.skel.h, giving
// legacy-v1.skel.h.
func BenchmarkSignPathSetters(b *testing.B) {
	src := readFixture(b, "unsigned")
	insn, sig, excl := readBlob(b, "legacy-v1", "insn"), readBlob(b, "legacy-v1", "sig"), readBlob(b, "legacy-v1", "excl")
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f := mustParse(b, "unsigned.skel.h", src)
		f.SetInsn(insn)
		f.SetSignature(sig, excl)
	}
}

// BenchmarkSignPathEdit is BenchmarkSignPathSetters through one Edit.
func BenchmarkSignPathEdit(b *testing.B) {
	src := readFixture(b, "unsigned")
	e := Edit{Insn: readBlob(b, "legacy-v1", "insn"), Signature: readBlob(b, "legacy-v1", "sig"), ExclHash: readBlob(b, "legacy-v1", "excl")}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mustParse(b, "unsigned.skel.h", src).Edit(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEdit measures Edit alone (no parse) on legacy-v1: the new opts_insn
// and signature of chain.
func BenchmarkEdit(b *testing.B) {
	src := readFixture(b, "legacy-v1")
	f := mustParse(b, "legacy-v1.skel.h", src)
	e := Edit{Insn: readBlob(b, "chain", "insn"), Signature: readBlob(b, "chain", "sig"), ExclHash: readBlob(b, "chain", "excl")}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Edit(e); err != nil {
			b.Fatal(err)
		}
	}
}
