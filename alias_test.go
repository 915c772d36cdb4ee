package bpfsig_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// TestParseDoesNotAliasInput: a Skeleton is immutable, so overwriting the buffer given to Parse
// afterwards must change neither its text, nor what it verifies as, nor what it signs to.
func TestParseDoesNotAliasInput(t *testing.T) {
	s, trust := testfix.Signer(t), bpfsig.NewTrust(testfix.Cert(t))
	for _, name := range testfix.Names {
		t.Run(name, func(t *testing.T) {
			want := testfix.Bytes(t, name)
			src := bytes.Clone(want)
			sk, err := bpfsig.Parse(name, src)
			if err != nil {
				t.Fatal(err)
			}
			verdict := bpfsig.Verify(sk, trust).OK()
			for i := range src {
				src[i] = 'X'
			}
			if !bytes.Equal(sk.Bytes(), want) {
				t.Fatal("Bytes changed when the caller overwrote the buffer given to Parse")
			}
			if got := bpfsig.Verify(sk, trust).OK(); got != verdict {
				t.Fatalf("Verify changed from %v to %v when the caller overwrote the buffer given to Parse", verdict, got)
			}
			if _, err := bpfsig.Sign(sk, s, bpfsig.Target{}); err != nil {
				t.Fatalf("Sign after the caller overwrote the buffer given to Parse: %v", err)
			}
		})
	}
}

// TestDetectionEvidenceIsACopy: the evidence Detection and Inspect return is the caller's;
// writing to it must not change what a later Detection or Inspect reports.
func TestDetectionEvidenceIsACopy(t *testing.T) {
	for _, name := range testfix.Names {
		sk, err := bpfsig.Parse(name, testfix.Bytes(t, name))
		if err != nil {
			t.Fatal(err)
		}
		det, _ := sk.Detection()
		if len(det.Evidence) == 0 {
			continue
		}
		want := det.Evidence[0]
		det.Evidence[0] = "junk"
		if d, _ := sk.Detection(); d.Evidence[0] != want {
			t.Errorf("%s: Detection evidence changed to %q by a write to an earlier result", name, d.Evidence[0])
		}
		r := sk.Inspect()
		r.Evidence[0] = "junk"
		if d, _ := sk.Detection(); d.Evidence[0] != want {
			t.Errorf("%s: Detection evidence changed to %q by a write to a Report", name, d.Evidence[0])
		}
		if r2 := sk.Inspect(); r2.Evidence[0] != want {
			t.Errorf("%s: Inspect evidence changed to %q by a write to an earlier Report", name, r2.Evidence[0])
		}
	}
}

// TestAttachNeedsSignature: Attach(nil) and Attach of an empty slice are errors naming the
// file; an empty signature made a skeleton that reported itself signed.
func TestAttachNeedsSignature(t *testing.T) {
	sk, err := bpfsig.Parse("in.skel.h", testfix.Bytes(t, "legacy-v1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpfsig.Prepare(sk, bpfsig.Target{Scheme: bpfsig.Raw})
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range [][]byte{nil, {}} {
		if out, err := p.Attach(sig); err == nil || !strings.Contains(err.Error(), "in.skel.h") || !strings.Contains(err.Error(), "no signature") {
			t.Errorf("Attach(%#v) = %v, %v", sig, out, err)
		}
	}
}
