package bpfsig_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// FuzzEndToEnd drives the library the way the commands do — parse, detect, inspect, verify
// (as detected and on every kernel profile), compare, sign for every target, serialise and
// parse again — on mutated headers. Whatever the input, nothing panics or hangs, a rejected
// header is an error naming the file, and anything signed re-parses to the same bytes and
// verifies under the signer.
func FuzzEndToEnd(f *testing.F) {
	for _, n := range testfix.Names {
		f.Add(testfix.Bytes(f, n))
	}
	if m, _ := filepath.Glob("testdata/manyprogs/*.lskel.h"); len(m) > 0 {
		if b, err := os.ReadFile(m[0]); err == nil {
			f.Add(b)
		}
	}
	// A P-256 signer: the fuzzer's budget goes to the code under test, not to RSA.
	signer := testfix.P256Signer(f)
	trust := bpfsig.NewTrust(signer.Cert)
	other := bpfsig.NewTrust(&x509.Certificate{})
	targets := []bpfsig.Target{{Scheme: bpfsig.Raw}, {Scheme: bpfsig.Legacy, Generation: bpfsig.V1}, {Scheme: bpfsig.Legacy, Generation: bpfsig.V2}, {Scheme: bpfsig.Chain}, {Scheme: "hornet"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		sk, err := bpfsig.Parse("fuzz.skel.h", src)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("fuzz.skel.h")) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if !bytes.Equal(sk.Bytes(), src) {
			t.Fatal("a parsed header does not serialise to its own bytes")
		}
		_ = sk.Inspect()
		v := bpfsig.Verify(sk, trust)
		if v == nil {
			t.Fatal("nil verdict")
		}
		if v.OK() && !sk.Signed() {
			t.Fatal("an unsigned skeleton verified")
		}
		_ = bpfsig.Verify(sk, other)
		if sk.LoaderError() != nil {
			if _, err := bpfsig.Sign(sk, signer, bpfsig.Target{Scheme: bpfsig.Raw}); err == nil {
				t.Fatal("a loader of unknown shape was signed")
			}
			return
		}
		for _, k := range [][2]string{{"mainline", "mainline"}, {"6.18", "6.18"}, {"chain", "chain"}} {
			if _, err := bpfsig.OnKernel(sk, k[0], bpfsig.Procedure(k[1]), trust, compat.Conditions{}); err != nil {
				t.Fatalf("OnKernel %s/%s: %v", k[0], k[1], err)
			}
		}
		if _, err := compare.AsIs(sk, trust); err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets {
			out, err := bpfsig.Sign(sk, signer, tg)
			if err != nil {
				continue // a conversion the input does not allow, reported as an error
			}
			again, err := bpfsig.Parse("fuzz.skel.h", out.Bytes())
			if err != nil {
				t.Fatalf("signed as %v, the header does not parse: %v", tg, err)
			}
			if !bytes.Equal(again.Bytes(), out.Bytes()) {
				t.Fatalf("signed as %v: not stable under re-parsing", tg)
			}
			if again.Scheme() != tg.Scheme {
				t.Fatalf("signed as %v, detected as %s", tg, again.Scheme())
			}
			if v := bpfsig.Verify(again, trust); !v.OK() && len(v.Findings) == 0 {
				t.Fatalf("signed as %v, does not verify: %s", tg, v.Reason)
			}
		}
	})
}
