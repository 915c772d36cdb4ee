package bpfsig_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// BenchmarkSign: parse the header, convert, sign and re-serialise one skeleton (from
// legacy-v1, the migration's input), per scheme and key type.
func BenchmarkSign(b *testing.B) {
	src := testfix.Bytes(b, "legacy-v1")
	signers := map[string]*bpfsig.Signer{"rsa2048": testfix.Signer(b), "p256": testfix.P256Signer(b)}
	for _, sc := range []bpfsig.Scheme{bpfsig.Legacy, bpfsig.Chain, bpfsig.Raw} {
		for _, kn := range []string{"rsa2048", "p256"} {
			s := signers[kn]
			b.Run(string(sc)+"/"+kn, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					a, err := bpfsig.Parse("bench.skel.h", src)
					if err != nil {
						b.Fatal(err)
					}
					out, err := bpfsig.Sign(a, s, bpfsig.Target{Scheme: sc})
					if err != nil {
						b.Fatal(err)
					}
					_ = out.Bytes()
				}
			})
		}
	}
}

// BenchmarkVerify: parse the header and verify one skeleton under its own scheme.
func BenchmarkVerify(b *testing.B) {
	trust := front.Trust(b)
	for _, name := range []string{"legacy-v1", "legacy-v2", "chain", "raw"} {
		src := testfix.Bytes(b, name)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				a, err := bpfsig.Parse("bench.skel.h", src)
				if err != nil {
					b.Fatal(err)
				}
				if v := bpfsig.Verify(a, trust); !v.OK() {
					b.Fatal(v.Reason)
				}
			}
		})
	}
}

// BenchmarkBare is the floor the two above sit on: SHA-256 of the signed content plus the
// signature operation alone.
func BenchmarkBare(b *testing.B) {
	raw := testfix.Artifact(b, "raw")
	content := append(raw.Insn(), raw.Data()...)
	rk := testfix.Signer(b).Key.(*rsa.PrivateKey)
	ek := testfix.P256Signer(b).Key.(*ecdsa.PrivateKey)
	b.Run("sign/rsa2048", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			h := sha256.Sum256(content)
			if _, err := rsa.SignPKCS1v15(nil, rk, crypto.SHA256, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign/p256", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			h := sha256.Sum256(content)
			if _, err := ecdsa.SignASN1(rand.Reader, ek, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	h := sha256.Sum256(content)
	sig, _ := rsa.SignPKCS1v15(nil, rk, crypto.SHA256, h[:])
	b.Run("verify/rsa2048", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			h := sha256.Sum256(content)
			if err := rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, h[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}
