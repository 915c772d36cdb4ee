package hornet_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/hornet"
	ihornet "github.com/bpfsig/bpfsig/internal/hornet"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
	"github.com/bpfsig/bpfsig/migrate"
)

const golden = "../internal/hornet/testdata/gen_sig/"

// TestRealGenSigSkeleton: the header Hornet's own tools made (gen_sig, then write-sig.sh, on
// the legacy-v2 fixture) is detected as Hornet, verifies, and is what converting the fixture
// and attaching gen_sig's signature gives, byte for byte.
func TestRealGenSigSkeleton(t *testing.T) {
	want, err := os.ReadFile(golden + "legacy-v2.write-sig.skel.h")
	if err != nil {
		t.Fatal(err)
	}
	sk, err := bpfsig.Parse("legacy-v2.write-sig.skel.h", want)
	if err != nil {
		t.Fatal(err)
	}
	if sk.Scheme() != hornet.Scheme {
		t.Fatalf("detected %s, want hornet", sk.Scheme())
	}
	v := bpfsig.Verify(sk, front.Trust(t))
	if !v.OK() || v.SchemeVerdict != "LSM_INT_VERDICT_OK" || v.LSM != compat.LSMFull {
		t.Fatalf("verify: %s %s %s: %s", v.Outcome, v.SchemeVerdict, v.LSM, v.Reason)
	}
	if st := sk.Inspect().Status; st == "" {
		t.Error("inspect shows no status for a Hornet skeleton")
	}
	sig, err := os.ReadFile(golden + "one-map.p7b")
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpfsig.Prepare(front.Skeleton(t, "legacy-v2"), bpfsig.Target{Scheme: hornet.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Attach(sig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("legacy-v2 converted to hornet with gen_sig's signature attached differs from write-sig.sh's output (%d vs %d bytes)", len(got.Bytes()), len(want))
	}
}

// TestSignVerifiesWithOpenSSL: bpfsig's Hornet signature over opts_insn is accepted by
// `openssl cms -verify -binary -content INSN`.
func TestSignVerifiesWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	out, err := bpfsig.Sign(front.Skeleton(t, "unsigned"), testfix.Signer(t), bpfsig.Target{Scheme: hornet.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if out.Scheme() != hornet.Scheme || !bpfsig.Verify(out, front.Trust(t)).OK() {
		t.Fatalf("signed as %s; does not verify as hornet", out.Scheme())
	}
	dir := t.TempDir()
	insn, sig := filepath.Join(dir, "insn"), filepath.Join(dir, "sig")
	os.WriteFile(insn, out.Insn(), 0o644)
	os.WriteFile(sig, out.Sig(), 0o644)
	cmd := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", insn,
		"-certfile", testfix.CertPath, "-CAfile", testfix.CertPath, "-purpose", "any", "-out", os.DevNull)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, b)
	}
	// A flipped instruction byte must be refused by openssl too.
	bad := out.Insn()
	bad[len(bad)-1] ^= 1
	os.WriteFile(insn, bad, 0o644)
	if err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", insn,
		"-certfile", testfix.CertPath, "-CAfile", testfix.CertPath, "-purpose", "any", "-out", os.DevNull).Run(); err == nil {
		t.Fatal("openssl accepted the signature over a flipped instruction")
	}
}

// TestMigrateRoundTrip: legacy → hornet → raw ends at the upstream raw fixture.
func TestMigrateRoundTrip(t *testing.T) {
	src, mid, end := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "m.skel.h"), testfix.Bytes(t, "legacy-v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testfix.Signer(t)
	for _, step := range []struct {
		from, to string
		target   compat.Scheme
	}{{src, mid, hornet.Scheme}, {mid, end, compat.Raw}} {
		sum, err := migrate.Run(context.Background(), []string{step.from}, migrate.Options{Out: step.to, Signer: s, Target: compat.Target{Scheme: step.target}})
		if err != nil || !sum.OK() || sum.Migrated != 1 {
			t.Fatalf("migrate to %s: %v %v %+v", step.target, err, sum, sum.Files[0])
		}
	}
	mid1, err := bpfsig.Open(filepath.Join(mid, "m.skel.h"))
	if err != nil || mid1.Scheme() != hornet.Scheme || !bpfsig.Verify(mid1, front.Trust(t)).OK() {
		t.Fatalf("the hornet step did not give a verifying hornet skeleton: %v", err)
	}
	got, _ := os.ReadFile(filepath.Join(end, "m.skel.h"))
	if !bytes.Equal(got, testfix.Bytes(t, "raw")) {
		t.Fatal("legacy → hornet → raw is not the upstream raw fixture")
	}
}

// TestSignLikeGenSig: with gen_sig's signing time, bpfsig sign --scheme hornet writes the very
// header gen_sig and write-sig.sh wrote; without one it differs only by that attribute.
func TestSignLikeGenSig(t *testing.T) {
	want, _ := os.ReadFile(golden + "legacy-v2.write-sig.skel.h")
	sig, _ := os.ReadFile(golden + "one-map.p7b")
	info, err := ihornet.Inspect(sig)
	if err != nil || info.SigningTime.IsZero() {
		t.Fatalf("gen_sig's signature has no signing time: %v", err)
	}
	got, err := bpfsig.Sign(front.Skeleton(t, "legacy-v2"), testfix.Signer(t), bpfsig.Target{Scheme: hornet.Scheme}, bpfsig.SigningTime(info.SigningTime))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("signing with gen_sig's signing time does not reproduce gen_sig + write-sig.sh")
	}
	if _, err := bpfsig.Sign(front.Skeleton(t, "legacy-v2"), testfix.Signer(t), bpfsig.Target{Scheme: bpfsig.Raw}, bpfsig.SigningTime(info.SigningTime)); err == nil {
		t.Fatal("a signing time was accepted for the raw scheme, whose signatures carry no attributes")
	}
}
