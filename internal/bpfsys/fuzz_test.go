package bpfsys

import (
	"testing"
)

// FuzzLegacyV2Metadata flips bits of the metadata blob of the real legacy-v2 loader and loads
// it unsigned: the in-loader check must accept exactly the intact blob (retval 0, 4 objects
// created) and refuse every other (retval -22, nothing created), and no descriptor may leak.
func FuzzLegacyV2Metadata(f *testing.F) {
	requireBPF(f)
	base := fixtureSpec(f, "legacy-v2", Legacy)
	f.Add(uint16(0), byte(0))
	f.Add(uint16(100), byte(1))
	f.Add(uint16(3335), byte(0x80))
	f.Add(uint16(2000), byte(0xff))
	f.Fuzz(func(t *testing.T, off uint16, x byte) {
		s := base
		s.Data = append([]byte(nil), base.Data...)
		s.Data[int(off)%len(s.Data)] ^= x
		fds := len(openFDs())
		res, err := Load(s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Retval == nil {
			t.Fatalf("loader did not run: %+v", res.Stages)
		}
		if x == 0 {
			if !res.OK || len(res.Created) != 4 {
				t.Fatalf("intact blob: retval %d, created %d", *res.Retval, len(res.Created))
			}
		} else if *res.Retval != -22 || res.OK || len(res.Created) != 0 {
			t.Fatalf("blob flipped at %d by %#x: retval %d, created %d", int(off)%len(s.Data), x, *res.Retval, len(res.Created))
		}
		if n := len(openFDs()); n > fds {
			t.Fatalf("%d descriptors before, %d after", fds, n)
		}
	})
}

func BenchmarkLoadLegacyV2(b *testing.B) {
	requireBPF(b)
	benchLoad(b, fixtureSpec(b, "legacy-v2", Legacy))
}

func BenchmarkLoadRaw(b *testing.B) {
	requireBPF(b)
	benchLoad(b, fixtureSpec(b, "raw", Raw))
}

func BenchmarkProbe(b *testing.B) {
	requireBPF(b)
	for b.Loop() {
		Probe()
	}
}

func retvalOf(r *LoadResult) any {
	if r == nil || r.Retval == nil {
		return nil
	}
	return *r.Retval
}

// benchLoad measures full loads and reports how often Load had to repeat a procedure whose
// loader was interrupted by a signal (retval -EAGAIN).
func benchLoad(b *testing.B, s LoadSpec) {
	retries := 0
	for b.Loop() {
		res, err := Load(s)
		if err != nil || !res.OK {
			b.Fatalf("%v %+v retval=%v", err, res, retvalOf(res))
		}
		retries += res.Attempts - 1
	}
	b.ReportMetric(float64(retries)/float64(b.N), "retries/op")
}
