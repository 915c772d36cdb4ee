package hornet

import "testing"

// The decoders never panic and agree where they must: what ParseValue accepts, Hornet's
// decoder reads (from the value's contents) with the same indices and hashes.
func FuzzDecoders(f *testing.F) {
	for _, seed := range [][]byte{
		value(), value(mapDER([]byte{0}, h32(1)), mapDER([]byte{3}, nil)),
		{0x31, 0x80, 0x30, 0x80, 0x02, 0x01, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00},
		{0x30, 0x81, 0x04, 0x31, 0x02, 0x30, 0x00}, {0x31}, nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = kernelEntries(b) // any input: no panic, no hang
		strict, serr := ParseValue(b)
		if serr != nil {
			return
		}
		ke, kerr := kernelEntries(contentsOf(b))
		if len(strict) == 0 {
			if kerr == nil {
				t.Fatalf("Hornet's decoder accepted an empty map set %x", b)
			}
			return
		}
		if kerr != nil {
			t.Fatalf("ParseValue accepted %x, Hornet's decoder refuses its contents: %v", b, kerr)
		}
		if len(ke) != len(strict) {
			t.Fatalf("%d entries vs %d", len(ke), len(strict))
		}
		for i := range ke {
			if int64(ke[i].index) != strict[i].Index || string(ke[i].hash) != string(strict[i].Hash) {
				t.Fatalf("entry %d differs", i)
			}
		}
		if out, err := EncodeValue(strict); err != nil || string(out) != string(b) {
			t.Fatalf("re-encoding %x gives %x, %v", b, out, err)
		}
	})
}
