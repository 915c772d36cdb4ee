package bpfsig_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// TestSignByteIdentity: converting between schemes and signing with the fixture key must give
// exactly the upstream generators' files (testdata/README: upstream generator output; docs/spec.md §2.6).
func TestSignByteIdentity(t *testing.T) {
	s := testfix.Signer(t)
	tests := []struct {
		from   string
		scheme compat.Scheme
		gen    compat.Generation
		want   string
	}{
		{"unsigned", compat.Legacy, compat.V1, "legacy-v1"},
		{"unsigned", compat.Legacy, compat.V2, "legacy-v2"},
		{"unsigned", compat.Legacy, compat.NoGeneration, "legacy-v2"}, // v2 is the default
		{"unsigned", compat.Raw, compat.NoGeneration, "raw"},
		{"legacy-v1", compat.Raw, compat.NoGeneration, "raw"},
		{"legacy-v2", compat.Raw, compat.NoGeneration, "raw"},
		{"chain", compat.Raw, compat.NoGeneration, "raw"},
		{"raw", compat.Raw, compat.NoGeneration, "raw"},
		{"legacy-v1", compat.Chain, compat.NoGeneration, "chain"},
		{"chain", compat.Chain, compat.NoGeneration, "chain"},
		{"legacy-v1", compat.Legacy, compat.V1, "legacy-v1"},
		{"chain", compat.Legacy, compat.V1, "legacy-v1"},
		{"legacy-v2", compat.Legacy, compat.V2, "legacy-v2"},
		{"raw", compat.Legacy, compat.V2, "legacy-v2"},
		{"legacy-v1", compat.Legacy, compat.V2, "legacy-v2"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s->%s%s", tt.from, tt.scheme, string(tt.gen)), func(t *testing.T) {
			out, err := bpfsig.Sign(front.Skeleton(t, tt.from), s, bpfsig.Target{Scheme: tt.scheme, Generation: tt.gen})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := out.Bytes(), testfix.Bytes(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("signed %s as %s differs from %s.skel.h (%d vs %d bytes)", tt.from, tt.scheme, tt.want, len(got), len(want))
			}
		})
	}
}

// TestSignDoesNotModifyInput: Sign returns a new artifact.
func TestSignDoesNotModifyInput(t *testing.T) {
	a := front.Skeleton(t, "legacy-v1")
	before := a.Bytes()
	if _, err := bpfsig.Sign(a, testfix.Signer(t), bpfsig.Target{Scheme: bpfsig.Raw}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, a.Bytes()) || !bytes.Equal(before, testfix.Bytes(t, "legacy-v1")) {
		t.Fatal("Sign modified its input")
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		scheme compat.Scheme
		gen    compat.Generation
	}{
		{"unsigned", compat.Unsigned, compat.NoGeneration},
		{"legacy-v1", compat.Legacy, compat.V1},
		{"legacy-v2", compat.Legacy, compat.V2},
		{"raw", compat.Raw, compat.NoGeneration},
		{"chain", compat.Chain, compat.V1},
	}
	for _, tt := range tests {
		d, err := front.Skeleton(t, tt.name).Detection()
		if err != nil {
			t.Fatal(err)
		}
		if d.Scheme != tt.scheme || d.Generation != tt.gen || len(d.Evidence) == 0 {
			t.Errorf("%s: Detect = %s %s %v, want %s %s with evidence", tt.name, d.Scheme, d.Generation, d.Evidence, tt.scheme, tt.gen)
		}
	}
}
