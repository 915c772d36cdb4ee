package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// berCorpus: DER signatures, their indefinite-length forms, and hand-made elements that hit
// each of normalLen's refusals (non-minimal lengths, leading zero length octets, ANY-style
// contents, nesting past the limit, truncation).
func berCorpus(tb testing.TB) [][]byte {
	var out [][]byte
	for _, fx := range fixtures(tb) {
		out = append(out, fx.sig, toIndefinite(tb, fx.sig))
		out = append(out, append([]byte{0x30, 0x84, 0, 0}, fx.sig[2:]...))
	}
	out = append(out,
		[]byte{0x04, 0x01, 0x00},
		[]byte{0x04, 0x81, 0x01, 0x00},                   // long form for a short length
		[]byte{0x04, 0x82, 0x00, 0x01, 0x00},             // leading zero length octet
		[]byte{0x30, 0x03, 0x04, 0x81, 0x00},             // child with a long-form zero length: rewritten
		[]byte{0x30, 0x04, 0x04, 0x81, 0x01, 0x00},       // child needs rewriting
		[]byte{0x30, 0x05, 0x04, 0x01, 0x00, 0xff, 0xff}, // second child garbage: ANY copy
		[]byte{0x30, 0x06, 0x04, 0x81, 0x01, 0x00, 0x1f, 0x00},
		[]byte{0x30, 0x02, 0x1f, 0x00}, // long-form tag inside: ANY copy
		[]byte{0x30, 0x80, 0x00, 0x00},
		[]byte{0x04, 0x80, 0x00, 0x00},
		bytes.Repeat([]byte{0x30, 0x02}, 40),
	)
	deep := []byte{0x04, 0x00}
	for i := 0; i < 40; i++ {
		deep = append([]byte{0x30, byte(len(deep))}, deep...)
		if len(deep) > 120 {
			break
		}
		out = append(out, deep)
	}
	return out
}

// checkNormalLen is the rule normalLen must keep: when it says "already normal", the exact
// normaliser returns the same bytes and length.
func checkNormalLen(t *testing.T, in []byte) bool {
	n, ok := normalLen(in, 0)
	if !ok {
		return false
	}
	norm, used, err := normElement(in, 0, nil)
	if err != nil || used != n || !bytes.Equal(norm, in[:n]) {
		t.Fatalf("normalLen(%x) = %d, true; normElement = %x, %d, %v", in, n, norm, used, err)
	}
	return true
}

func TestNormalLen(t *testing.T) {
	fast := 0
	corpus := berCorpus(t)
	for _, in := range corpus {
		for i := 0; i <= len(in); i++ { // every prefix too
			if checkNormalLen(t, in[:i]) {
				fast++
			}
		}
	}
	// The DER fixtures themselves must take the fast path (else it is dead code).
	for _, fx := range fixtures(t) {
		if _, ok := normalLen(fx.sig, 0); !ok {
			t.Fatalf("a DER fixture signature is not recognised as normal")
		}
	}
	if fast == 0 {
		t.Fatal("no input took the fast path")
	}
}

func FuzzNormalLen(f *testing.F) {
	for _, in := range berCorpus(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkNormalLen(t, in) })
}

// Every interned OID reads back as itself, exactly as the general path parses it.
func TestKnownOIDs(t *testing.T) {
	for raw, want := range knownOIDs() {
		elem := cryptobyte.String(appendTLV(nil, 0x06, []byte(raw)))
		var got asn1.ObjectIdentifier
		if !elem.ReadASN1ObjectIdentifier(&got) || !got.Equal(want) {
			t.Fatalf("%x: parses as %v, interned as %v", raw, got, want)
		}
		s := cryptobyte.String(appendTLV(nil, 0x06, []byte(raw)))
		if r, ok := readOID(&s); !ok || !r.Equal(want) {
			t.Fatalf("readOID(%v) = %v, %v", want, r, ok)
		}
	}
	if len(knownOIDs()) < 30 {
		t.Fatalf("only %d OIDs interned", len(knownOIDs()))
	}
}

// The DigestInfo prefixes: one for each digest the kernel knows and Go computes, and each,
// completed with a digest, is the DER DigestInfo of that digest's OID.
func TestDigestInfoPrefixes(t *testing.T) {
	want := []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_384, crypto.SHA3_512}
	if len(digestInfoPrefixes()) != len(want) {
		t.Fatalf("%d prefixes, want %d", len(digestInfoPrefixes()), len(want))
	}
	for _, h := range want {
		p, err := digestInfoPrefix(h)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		var di struct {
			Alg struct {
				Algorithm asn1.ObjectIdentifier
				Params    asn1.RawValue
			}
			Digest []byte
		}
		full := append(append([]byte{}, p...), make([]byte, h.Size())...)
		if rest, err := asn1.Unmarshal(full, &di); err != nil || len(rest) != 0 || len(di.Digest) != h.Size() {
			t.Fatalf("%v: %x does not parse as a DigestInfo: %v", h, full, err)
		}
		if d, ok := lookupDigest(di.Alg.Algorithm); !ok || d.hash != h {
			t.Fatalf("%v: prefix names %v", h, di.Alg.Algorithm)
		}
	}
	if _, err := digestInfoPrefix(crypto.MD5); err == nil {
		t.Fatal("a prefix for MD5")
	}
}
