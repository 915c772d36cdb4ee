package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"
	"time"
)

// The RSA fixture signatures (made by bpftool and openssl) are reproduced byte for byte.
func TestSignFixturesByteIdentical(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			got, err := Sign(f.content, key, cert, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, f.sig) {
				t.Fatalf("signature differs from fixture\n got %x\nwant %x", got, f.sig)
			}
		})
	}
}

// Sign is byte-identical to `openssl cms -sign` for RSA 2048/3072/4096, both signer id forms
// and SHA-256/384/512.
func TestSignMatchesOpenSSL(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	content := readFile(t, testdata+"blobs/legacy-v2.insn")
	pairs := []keyPair{testKeyPair(t)}
	for _, bits := range []string{"2048", "3072", "4096"} {
		pairs = append(pairs, genKeyPair(t, dir, "rsa"+bits, "rsa:"+bits))
	}
	for _, kp := range pairs {
		for _, form := range []SignerIDForm{SubjectKeyID, IssuerSerial} {
			for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
				name := kp.cert.Subject.CommonName + "/" + form.String() + "/" + h.String()
				t.Run(name, func(t *testing.T) {
					flags := []string{"-noattr", "-nosmimecap", "-nocerts", "-md", map[crypto.Hash]string{
						crypto.SHA256: "sha256", crypto.SHA384: "sha384", crypto.SHA512: "sha512"}[h]}
					if form == SubjectKeyID {
						flags = append(flags, "-keyid")
					}
					want := opensslSign(t, dir, kp, content, flags...)
					got, err := Sign(content, kp.key, kp.cert, SignOptions{SignerID: form, Digest: h})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("differs from openssl\n got %x\nwant %x", got, want)
					}
				})
			}
		}
	}
}

// ECDSA signatures are randomised: ours must verify with openssl, and openssl's with Verify.
func TestSignECDSAInterop(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	content := readFile(t, testdata+"blobs/legacy-v2.insn")
	for _, tc := range []struct {
		curve string
		hash  crypto.Hash
		md    string
		alg   string
	}{
		{"P-256", crypto.SHA256, "sha256", "ecdsa-with-SHA256"},
		{"P-384", crypto.SHA384, "sha384", "ecdsa-with-SHA384"},
	} {
		t.Run(tc.curve, func(t *testing.T) {
			kp := genEC(t, dir, tc.curve, tc.curve)
			for _, form := range []SignerIDForm{SubjectKeyID, IssuerSerial} {
				ours, err := Sign(content, kp.key, kp.cert, SignOptions{SignerID: form, Digest: tc.hash})
				if err != nil {
					t.Fatal(err)
				}
				if err := opensslVerify(t, dir, kp.certPath, content, ours); err != nil {
					t.Fatalf("%v: openssl rejects our signature: %v", form, err)
				}
				s, err := Verify(content, ours, []*x509.Certificate{kp.cert})
				if err != nil {
					t.Fatalf("%v: own Verify: %v", form, err)
				}
				if s.AlgorithmName() != tc.alg || s.DigestName() != tc.md {
					t.Fatalf("algorithm %s/%s, want %s/%s", s.AlgorithmName(), s.DigestName(), tc.alg, tc.md)
				}
				flags := []string{"-noattr", "-nosmimecap", "-nocerts", "-md", tc.md}
				if form == SubjectKeyID {
					flags = append(flags, "-keyid")
				}
				theirs := opensslSign(t, dir, kp, content, flags...)
				if _, err := Verify(content, theirs, []*x509.Certificate{kp.cert}); err != nil {
					t.Fatalf("%v: Verify rejects openssl's signature: %v", form, err)
				}
				// Same structure: everything but the signature value matches.
				po, _ := Parse(ours)
				pt, _ := Parse(theirs)
				if po.Version != pt.Version || po.SignerString() != pt.SignerString() ||
					!po.SignatureAlgorithm.Equal(pt.SignatureAlgorithm) || !po.DigestAlgorithm.Equal(pt.DigestAlgorithm) ||
					(po.SignatureAlgorithmParams == nil) != (pt.SignatureAlgorithmParams == nil) {
					t.Fatalf("structure differs from openssl: ours %+v theirs %+v", po, pt)
				}
			}
		})
	}
}

// Signed attributes and an embedded certificate: openssl and Verify accept them, and the
// attributes are exactly contentType, messageDigest (and signingTime), never smimeCapabilities.
func TestSignOptionalElements(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	kp := testKeyPair(t)
	content := readFile(t, testdata+"blobs/raw.insn")
	when := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, opts := range []SignOptions{
		{SignedAttributes: true},
		{SignedAttributes: true, SigningTime: when},
		{IncludeCertificate: true},
		{IncludeCertificate: true, SignedAttributes: true, SigningTime: when, SignerID: IssuerSerial},
	} {
		der, err := Sign(content, kp.key, kp.cert, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := opensslVerify(t, dir, kp.certPath, content, der); err != nil {
			t.Fatalf("%+v: openssl: %v", opts, err)
		}
		s, err := Verify(content, der, []*x509.Certificate{kp.cert})
		if err != nil {
			t.Fatalf("%+v: Verify: %v", opts, err)
		}
		if got := len(s.Certificates); got != map[bool]int{false: 0, true: 1}[opts.IncludeCertificate] {
			t.Fatalf("%+v: %d certificates", opts, got)
		}
		var types []string
		for _, a := range s.SignedAttributes {
			types = append(types, a.Type.String())
		}
		want := 0
		if opts.SignedAttributes {
			want = 2
			if !opts.SigningTime.IsZero() {
				want = 3
			}
		}
		if len(types) != want {
			t.Fatalf("%+v: attributes %v", opts, types)
		}
		for _, a := range s.SignedAttributes {
			if a.Type.Equal(OIDSMIMECapabilities) {
				t.Fatalf("smimeCapabilities written")
			}
		}
	}
}

func TestSignErrors(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	key, cert := testKey(t), testCert(t)
	other := genEC(t, dir, "other", "P-256")
	noSKID := *cert
	noSKID.SubjectKeyId = nil
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		opts SignOptions
	}{
		{"nil key", nil, cert, SignOptions{}},
		{"nil cert", key, nil, SignOptions{}},
		{"key mismatch", other.key, cert, SignOptions{}},
		{"md5", key, cert, SignOptions{Digest: crypto.MD5}},
		{"sha1", key, cert, SignOptions{Digest: crypto.SHA1}},
		{"no skid", key, &noSKID, SignOptions{}},
		{"bad form", key, cert, SignOptions{SignerID: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Sign([]byte("x"), tc.key, tc.cert, tc.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
	// ECDSA signature is DER inside the OCTET STRING.
	der, err := Sign([]byte("x"), other.key, other.cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	if !ecdsa.VerifyASN1(other.cert.PublicKey.(*ecdsa.PublicKey), digest[:], s.Signature) {
		t.Fatalf("ECDSA signature not X9.62 DER over SHA-256: %s", hex.EncodeToString(s.Signature))
	}
}
