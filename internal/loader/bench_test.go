package loader

import "testing"

func BenchmarkDecode(b *testing.B) {
	in := insn(b, "legacy-v1")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMigrateRewrite measures the legacy-v1 → raw loader rewrite:
// decode, remove the check, remove the overrides, take the bytes.
func BenchmarkMigrateRewrite(b *testing.B) {
	in := insn(b, "legacy-v1")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := Decode(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.RemoveCheck(); err != nil {
			b.Fatal(err)
		}
		if err := l.RemoveOverrides(); err != nil {
			b.Fatal(err)
		}
		if len(l.Bytes()) == 0 {
			b.Fatal("empty result")
		}
	}
}

// BenchmarkConvert is the migration's loader rewrite in one pass: a legacy-v1 loader to v2
// (check replaced, overrides dropped) and to no check (raw).
func BenchmarkConvert(b *testing.B) {
	l, err := Decode(insn(b, "legacy-v1"))
	if err != nil {
		b.Fatal(err)
	}
	for name, g := range map[string]Generation{"v2": GenV2, "none": GenNone} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Convert(true, g, [32]byte{1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
