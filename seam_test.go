package bpfsig_test

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
	"github.com/bpfsig/bpfsig/policy"
)

// mirror is a strategy registered from this test package, using only the public contract:
// it claims signed skeletons whose object name starts with "mirror" and otherwise behaves as
// the raw scheme, which it reaches through the registry like any outside strategy would.
type mirror struct{}

const mirrorScheme compat.Scheme = "test-mirror"

func init() { compat.Register(mirror{}) }

func rawStrategy() compat.Strategy {
	st, err := compat.Lookup(compat.Raw)
	if err != nil {
		panic(err)
	}
	return st
}

func (mirror) Info() compat.Info {
	return compat.Info{Scheme: mirrorScheme, Summary: "raw, for objects called mirror*", Procedure: "raw", Order: 90, Status: "test only"}
}

func (mirror) Detect(a compat.Artifact) (compat.Claim, bool) {
	if !a.Signed() || !strings.HasPrefix(a.Name(), "mirror") {
		return compat.Claim{}, false
	}
	return compat.Claim{Specificity: 50, Evidence: []string{"object name " + a.Name() + " starts with mirror"}}, true
}

type mirrorPending struct{ compat.Pending }

func (mirrorPending) Target() compat.Target { return compat.Target{Scheme: mirrorScheme} }

func (mirror) Convert(a compat.Artifact, t compat.Target, o compat.SignOptions) (compat.Pending, error) {
	p, err := rawStrategy().Convert(a, compat.Target{Scheme: compat.Raw}, o)
	if err != nil {
		return nil, err
	}
	return mirrorPending{p}, nil
}

func (mirror) Verify(a compat.Artifact, trust []*x509.Certificate, c compat.Conditions) *compat.Verdict {
	v := rawStrategy().Verify(a, trust, c)
	v.Kernel = mirrorScheme
	return v
}

func (mirror) Explain(a compat.Artifact) []string     { return []string{"as raw"} }
func (mirror) SignedContent(a compat.Artifact) []byte { return rawStrategy().SignedContent(a) }

// mirrorFixture is the raw fixture with its object renamed (the C identifiers only; the signed
// blobs are escaped bytes and do not change).
func mirrorFixture(t *testing.T, name string) *bpfsig.Skeleton {
	src := bytes.ReplaceAll(testfix.Bytes(t, name), []byte("minimal"), []byte("mirrorapp"))
	sk, err := bpfsig.Parse("mirrorapp.skel.h", src)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// TestSeam: a strategy registered from outside compat is detected, accepted by a policy file,
// signed for, verified and listed by compare, with no edit to compat.
func TestSeam(t *testing.T) {
	sk := mirrorFixture(t, "raw")
	if sk.Scheme() != mirrorScheme {
		d, err := sk.Detection()
		t.Fatalf("detected %s (%v, %v), want %s", sk.Scheme(), d.Evidence, err, mirrorScheme)
	}
	if v := bpfsig.Verify(sk, front.Trust(t)); !v.OK() || v.Kernel != mirrorScheme {
		t.Fatalf("verify: %s %s: %s", v.Kernel, v.Outcome, v.Reason)
	}

	pol, err := policy.ParsePolicy("p.yaml", []byte("rules:\n  - name: mirror*\n    scheme: test-mirror\n"))
	if err != nil {
		t.Fatalf("a policy naming the registered scheme: %v", err)
	}
	unsigned := mirrorFixture(t, "unsigned")
	tgt, err := policy.Resolve(compat.Target{}, pol, unsigned.Path(), unsigned.Name())
	if err != nil || tgt.Scheme != mirrorScheme {
		t.Fatalf("policy target %v, %v", tgt, err)
	}
	signed, err := bpfsig.Sign(unsigned, testfix.Signer(t), tgt)
	if err != nil {
		t.Fatal(err)
	}
	if signed.Scheme() != mirrorScheme || !bpfsig.Verify(signed, front.Trust(t)).OK() {
		t.Fatalf("signed as %s: not a verifying %s skeleton", signed.Scheme(), mirrorScheme)
	}
	if !bytes.Equal(signed.Bytes(), sk.Bytes()) {
		t.Fatal("signing the renamed unsigned fixture for the mirror scheme did not give the renamed raw fixture")
	}

	found := false
	for _, c := range compare.Columns() {
		found = found || c.Name == string(mirrorScheme)
	}
	if !found {
		t.Fatalf("compare.Columns() = %v: no %s column", compare.Columns(), mirrorScheme)
	}
	vs, err := compare.AsIs(sk, front.Trust(t))
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[compat.Scheme]bool{}
	for _, v := range vs {
		kernels[v.Kernel] = true
	}
	if !kernels[mirrorScheme] || !kernels[compat.Raw] {
		t.Fatalf("compare.AsIs kernels %v: want raw and %s", kernels, mirrorScheme)
	}
	if st := sk.Inspect().Status; st != "test only" {
		t.Fatalf("inspect status %q", st)
	}
}
