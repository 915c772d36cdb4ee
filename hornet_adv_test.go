package bpfsig_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	ihornet "github.com/bpfsig/bpfsig/internal/hornet"
	"github.com/bpfsig/bpfsig/internal/skel"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// withSigAdv returns sk with its opts_sig replaced by sig (insn and data kept).
func withSigAdv(t *testing.T, sk *bpfsig.Skeleton, sig []byte) *bpfsig.Skeleton {
	t.Helper()
	d, err := skel.Of(sk.Artifact())
	if err != nil {
		t.Fatal(err)
	}
	nd, err := d.Blobs(d.Insn(), d.Data(), sig)
	if err != nil {
		t.Fatal(err)
	}
	out, err := bpfsig.FromArtifact(nd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHornetSignatureTransplantedAdv: a Hornet signature placed in a chain, raw or legacy
// header (its loader not the one the signature covers) is detected without panic, and no
// kernel — the schemes' models and every profile — loads it as signed.
func TestHornetSignatureTransplantedAdv(t *testing.T) {
	signer, trust := testfix.Signer(t), front.Trust(t)
	signed, err := compare.SignAll(front.Skeleton(t, "unsigned"), signer, compare.Columns())
	if err != nil {
		t.Fatal(err)
	}
	hsig := signed["hornet"].Sig()
	if !ihornet.IsHornet(hsig) {
		t.Fatal("the hornet column's signature is not Hornet's")
	}
	for _, col := range []string{"legacy-v1", "legacy-v2", "chain", "raw"} {
		sk := withSigAdv(t, signed[col], hsig)
		det, err := sk.Detection()
		if err != nil {
			t.Logf("%s with a Hornet signature: detection: %v", col, err)
		}
		// Hornet signs opts_insn; where the column's loader is byte for byte the one the Hornet
		// signature covers (legacy-v2: the same v2 check block), the signature holds for it.
		same := bytes.Equal(sk.Insn(), signed["hornet"].Insn())
		v := bpfsig.Verify(sk, trust)
		checkVerdictAdv(t, col+"+hornet sig/verify", v)
		if v.OK() && !same {
			t.Errorf("%s with a Hornet signature over another loader: verify OK as %s", col, det.Scheme)
		}
		if same && det.Scheme != "hornet" {
			t.Errorf("%s with a Hornet signature over its own loader: detected as %s", col, det.Scheme)
		}
		vs, err := compare.AsIs(sk, trust)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range vs {
			checkVerdictAdv(t, col+"+hornet sig/"+string(kv.Kernel), kv)
			if kv.OK() && !same {
				t.Errorf("%s with a Hornet signature: the %s kernel loads it: %s", col, kv.Kernel, kv.Reason)
			}
		}
		for _, p := range bpfsig.KernelProfiles() {
			for _, proc := range bpfsig.Procedures() {
				kv, err := bpfsig.OnKernel(sk, p, proc, trust, bpfsig.Conditions{})
				if err != nil {
					t.Fatal(err)
				}
				checkVerdictAdv(t, col+"+hornet sig/"+p, kv)
				if kv.OK() && !same {
					t.Errorf("%s with a Hornet signature: profile %s (%s) loads it", col, p, proc)
				}
			}
		}
	}
}

// TestHornetGarbageAfterOIDAdv: every byte after the Hornet attribute's OID changed, or the
// signature cut there: detection and verification never panic, never call it OK, and a
// file detected as another scheme says why.
func TestHornetGarbageAfterOIDAdv(t *testing.T) {
	sk, err := bpfsig.Sign(front.Skeleton(t, "unsigned"), testfix.Signer(t), compat.Target{Scheme: "hornet"})
	if err != nil {
		t.Fatal(err)
	}
	trust := front.Trust(t)
	sig := sk.Sig()
	at := bytes.Index(sig, ihornet.OIDContents())
	if at < 0 {
		t.Fatal("no Hornet OID in a Hornet signature")
	}
	start := at + len(ihornet.OIDContents())
	// The one byte after the OID that no check covers: the tag of the signature algorithm's
	// parameters (NULL), which the kernel's pkcs7.asn1 reads as ANY OPTIONAL and ignores.
	rsa := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00}
	params := bytes.Index(sig[start:], rsa)
	if params < 0 {
		t.Fatal("no rsaEncryption AlgorithmIdentifier after the Hornet attribute")
	}
	params += start + len(rsa) - 2
	judge := func(what string, s []byte, mayLoad bool) {
		m := withSigAdv(t, sk, s)
		_, _ = m.Detection()
		v := bpfsig.Verify(m, trust)
		checkVerdictAdv(t, what, v)
		if v.OK() && !mayLoad {
			t.Errorf("%s: verify OK", what)
		}
		for _, p := range []string{"6.18", "mainline"} {
			if kv, err := bpfsig.OnKernel(m, p, bpfsig.Proc618, trust, bpfsig.Conditions{}); err == nil && kv.OK() && !mayLoad {
				t.Errorf("%s: profile %s loads it", what, p)
			}
		}
	}
	for i := start; i < len(sig); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			s := bytes.Clone(sig)
			s[i] ^= x
			judge("byte "+itoaAdv(i)+" ^ "+itoaAdv(int(x)), s, i == params)
		}
	}
	for _, n := range []int{start, start + 1, start + 2, start + 40, len(sig) - 1} {
		judge("cut at "+itoaAdv(n), bytes.Clone(sig[:n]), false)
	}
	// Junk appended after a whole Hornet signature keeps it Hornet's (the kernel's BER
	// decoder stops at the end of the ContentInfo).
	m := withSigAdv(t, sk, append(bytes.Clone(sig), "junk"...))
	if m.Scheme() != "hornet" {
		t.Errorf("a Hornet signature with trailing bytes detected as %s", m.Scheme())
	}
}

func itoaAdv(i int) string {
	var b strings.Builder
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	b.Write(d)
	return b.String()
}

// TestHornetVerifyAsOtherSchemeAdv: verifying a Hornet file as another scheme is an error that
// says the scheme does not fit, with a rejected verdict.
func TestHornetVerifyAsOtherSchemeAdv(t *testing.T) {
	sk, err := bpfsig.Sign(front.Skeleton(t, "unsigned"), testfix.Signer(t), compat.Target{Scheme: "hornet"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []compat.Scheme{compat.Raw, compat.Legacy, compat.Chain} {
		v, err := bpfsig.VerifyAs(sk, s, front.Trust(t), bpfsig.Conditions{})
		if err == nil || !strings.Contains(err.Error(), "does not fit") {
			t.Errorf("hornet verified as %s: error %v", s, err)
		}
		if v == nil || v.OK() || v.Outcome != compat.Rejected {
			t.Errorf("hornet verified as %s: verdict %+v", s, v)
		}
	}
}

// TestHornetResignAdv: a Hornet skeleton re-signed for every other target is that target's
// skeleton, verifies, and keeps no Hornet attribute; the raw result loads on mainline.
func TestHornetResignAdv(t *testing.T) {
	signer, trust := testfix.Signer(t), front.Trust(t)
	h, err := bpfsig.Sign(front.Skeleton(t, "unsigned"), signer, compat.Target{Scheme: "hornet"})
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range compare.Columns() {
		if s := col.Target.Scheme; s != compat.Legacy && s != compat.Chain && s != compat.Raw {
			continue // hornet itself, and schemes other tests of this package register
		}
		out, err := bpfsig.Sign(h, signer, col.Target)
		if err != nil {
			t.Fatalf("hornet → %s: %v", col.Name, err)
		}
		if out.Scheme() != col.Target.Scheme || ihornet.IsHornet(out.Sig()) {
			t.Errorf("hornet → %s: detected %s, Hornet attribute kept %v", col.Name, out.Scheme(), ihornet.IsHornet(out.Sig()))
		}
		if v := bpfsig.Verify(out, trust); !v.OK() {
			t.Errorf("hornet → %s: %s", col.Name, v.Reason)
		}
		if col.Target.Scheme == compat.Raw {
			if v, err := bpfsig.VerifyOnKernel(out, "mainline", bpfsig.ProcMainline, trust); err != nil || !v.OK() {
				t.Errorf("hornet → raw on mainline: %v %+v", err, v)
			}
		}
	}
}
