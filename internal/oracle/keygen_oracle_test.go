package oracle

import (
	"context"
	"crypto"
	"crypto/x509"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/keygen"
)

// TestKeygenKernelAccepts boots the VM once and asks the real kernel about keys and
// certificates made by package keygen: self-signed RSA-2048, P-256 and P-384 certificates, and
// a delegated certificate under a keygen root, each signing content the bpftool way (cms.Sign
// with the zero options), and the negative cases that show the answers are not vacuous. The model (cms.Verify) must give the same answer for every case.
func TestKeygenKernelAccepts(t *testing.T) {
	vm := oracleVM(t)
	gen := func(a keygen.Algorithm, opts keygen.CertOptions) (crypto.Signer, *x509.Certificate) {
		t.Helper()
		k, c, err := keygen.Generate(a, opts)
		if err != nil {
			t.Fatal(err)
		}
		return k, c
	}
	rsaKey, rsaCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle rsa"})
	p256Key, p256Cert := gen(keygen.P256, keygen.CertOptions{Subject: "oracle p256"})
	p384Key, p384Cert := gen(keygen.P384, keygen.CertOptions{Subject: "oracle p384"})
	rootKey, rootCert := gen(keygen.P256, keygen.CertOptions{Subject: "oracle root", CA: true})
	leafKey, leafCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle leaf", Issuer: rootKey, IssuerCert: rootCert})
	strayKey, strayCert := gen(keygen.RSA2048, keygen.CertOptions{Subject: "oracle stray"})
	_ = strayKey

	content := []byte("opts_insn || opts_data of a light skeleton, signed with a keygen key")
	flipped := append([]byte(nil), content...)
	flipped[3] ^= 1
	sign := func(k crypto.Signer, c *x509.Certificate, o cms.SignOptions) []byte {
		t.Helper()
		sig, err := cms.Sign(content, k, c, o)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	der := func(cs ...*x509.Certificate) [][]byte {
		var out [][]byte
		for _, c := range cs {
			out = append(out, c.Raw)
		}
		return out
	}
	leafSig := sign(leafKey, leafCert, cms.SignOptions{})
	leafSigEmbedded := sign(leafKey, leafCert, cms.SignOptions{IncludeCertificate: true})
	straySig := sign(strayKey, strayCert, cms.SignOptions{IncludeCertificate: true})
	type kase struct {
		c    Case
		want unix.Errno
	}
	ks := []kase{
		{Case{Name: "keygen rsa2048 self-signed", Content: content, Signature: sign(rsaKey, rsaCert, cms.SignOptions{}), Certs: der(rsaCert)}, 0},
		{Case{Name: "keygen p256 self-signed", Content: content, Signature: sign(p256Key, p256Cert, cms.SignOptions{}), Certs: der(p256Cert)}, 0},
		{Case{Name: "keygen p384 self-signed, SHA-384", Content: content, Signature: sign(p384Key, p384Cert, cms.SignOptions{Digest: crypto.SHA384}), Certs: der(p384Cert)}, 0},
		{Case{Name: "keygen p256, content flipped", Content: flipped, Signature: sign(p256Key, p256Cert, cms.SignOptions{}), Certs: der(p256Cert)}, unix.EKEYREJECTED},
		{Case{Name: "delegated rsa2048 leaf in the keyring", Content: content, Signature: leafSig, Certs: der(leafCert)}, 0},
		// Embedding the delegated certificate does not make the root vouch for it at signature
		// time: the delegated certificate must be in the keyring (where a key_or_keyring
		// restriction admits it because the root signed it). The 6.12 kernel says ENOKEY.
		{Case{Name: "delegated leaf embedded, only the root in the keyring", Content: content, Signature: leafSigEmbedded, Certs: der(rootCert)}, unix.ENOKEY},
		{Case{Name: "delegated leaf embedded, root and leaf in the keyring", Content: content, Signature: leafSigEmbedded, Certs: der(rootCert, leafCert)}, 0},
		{Case{Name: "delegated leaf not embedded, only the root in the keyring", Content: content, Signature: leafSig, Certs: der(rootCert)}, unix.ENOKEY},
		{Case{Name: "stray self-signed key embedded, only the root in the keyring", Content: content, Signature: straySig, Certs: der(rootCert)}, unix.ENOKEY},
	}
	cases := make([]Case, len(ks))
	for i, k := range ks {
		cases[i] = k.c
	}
	res, st, err := vm.RunStats(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cases, VM boot-to-poweroff %v (kvm %v)", st.Cases, st.Boot, st.KVM)
	for i, k := range ks {
		got := res[i].Errno
		var model unix.Errno
		if _, err := cms.Verify(k.c.Content, k.c.Signature, certsOf(t, k.c.Certs)); err != nil {
			e, ok := kerrno.Of(err)
			if !ok {
				t.Errorf("%s: model error without errno: %v", k.c.Name, err)
			}
			model = e
		}
		t.Logf("%-62s kernel %-12s model %-12s %s", k.c.Name, errnoText(got), errnoText(model), res[i].Detail)
		if got != k.want {
			t.Errorf("%s: kernel answered %s, want %s (%s)", k.c.Name, errnoText(got), errnoText(k.want), res[i].Detail)
		}
		if model != got {
			t.Errorf("%s: model answered %s, kernel %s", k.c.Name, errnoText(model), errnoText(got))
		}
	}
}

func certsOf(t *testing.T, ders [][]byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}
