package hornet

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// genSigCases are the golden files written by the real gen_sig (testdata/gen_sig/README.md).
var genSigCases = []struct {
	file string
	maps []struct {
		index int32
		name  string
	}
}{
	{"one-map.p7b", []struct {
		index int32
		name  string
	}{{0, "map0"}}},
	{"no-maps.p7b", nil},
	{"three-maps.p7b", []struct {
		index int32
		name  string
	}{{5, "map5"}, {0, "map0"}, {2, "map2"}}},
}

// Sign with gen_sig's signing time reproduces gen_sig's output byte for byte.
func TestSignMatchesGenSig(t *testing.T) {
	key, cert, insn := testKey(t), testCert(t), goldenInsn(t)
	for _, c := range genSigCases {
		t.Run(c.file, func(t *testing.T) {
			want := readFile(t, "testdata/gen_sig/"+c.file)
			info, err := Inspect(want)
			if err != nil {
				t.Fatal(err)
			}
			if info.SigningTime.IsZero() {
				t.Fatal("gen_sig output has no signingTime")
			}
			var maps []Map
			for _, m := range c.maps {
				maps = append(maps, Map{Index: m.index, Value: goldenMap(t, m.name)})
			}
			got, err := Sign(insn, maps, key, cert, SignOptions{SigningTime: info.SigningTime, AllowNoMaps: len(maps) == 0})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Sign differs from gen_sig (%d vs %d bytes)", len(got), len(want))
			}
			// Without a signing time the only difference is that attribute.
			plain, err := Sign(insn, maps, key, cert, SignOptions{AllowNoMaps: len(maps) == 0})
			if err != nil {
				t.Fatal(err)
			}
			ps, err := cms.Parse(plain)
			if err != nil {
				t.Fatal(err)
			}
			var kept []cms.Attribute
			for _, a := range info.Signature.SignedAttributes {
				if !a.Type.Equal(cms.OIDSigningTime) {
					kept = append(kept, a)
				}
			}
			if len(kept) != len(ps.SignedAttributes) {
				t.Fatalf("without signing time: %d attributes, want %d", len(ps.SignedAttributes), len(kept))
			}
			for i := range kept {
				if !bytes.Equal(kept[i].RawType, ps.SignedAttributes[i].RawType) || !bytes.Equal(bytes.Join(kept[i].Values, nil), bytes.Join(ps.SignedAttributes[i].Values, nil)) {
					t.Fatalf("attribute %d differs", i)
				}
			}
		})
	}
}

// openssl accepts Sign's output over the instructions, and refuses it over anything else.
func TestOpenSSLVerifiesSign(t *testing.T) {
	key, cert, insn := testKey(t), testCert(t), goldenInsn(t)
	certPEM := keyDir + "test-rsa2048.crt.pem"
	sig, err := Sign(insn, []Map{{Index: 0, Value: goldenMap(t, "map0")}}, key, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := opensslVerify(t, sig, insn, certPEM); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	bad := bytes.Clone(insn)
	bad[len(bad)/2] ^= 1
	if out, err := opensslVerify(t, sig, bad, certPEM); err == nil {
		t.Fatalf("openssl accepted a flipped instruction byte\n%s", out)
	}
	for _, c := range genSigCases {
		if out, err := opensslVerify(t, readFile(t, "testdata/gen_sig/"+c.file), insn, certPEM); err != nil {
			t.Fatalf("openssl cms -verify %s: %v\n%s", c.file, err, out)
		}
	}
}

// ECDSA signatures are randomized: check structure and that openssl and Check accept them.
func TestSignECDSA(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x4e07), Subject: pkix.Name{CommonName: "hornet p256"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := filepath.Join(t.TempDir(), "ec.crt")
	if err := os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	insn, m := goldenInsn(t), goldenMap(t, "map0")
	sig, err := Sign(insn, []Map{{0, m}}, k, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	if s.AlgorithmName() != "ecdsa-with-SHA256" || s.SignerID != cms.IssuerSerial || s.Version != 1 {
		t.Fatalf("ECDSA signature shape: %s %v v%d", s.AlgorithmName(), s.SignerID, s.Version)
	}
	if r := Check(LoadOf(insn, []Map{{0, m}}, sig), []*x509.Certificate{cert}); r.Verdict != OK {
		t.Fatalf("Check: %v (%s: %v)", r.Verdict, r.Reason, r.Err)
	}
	if out, err := opensslVerify(t, sig, insn, certPEM); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
}

func TestSignRefuses(t *testing.T) {
	key, cert, insn := testKey(t), testCert(t), goldenInsn(t)
	pad := make([]byte, 16)
	many := make([]Map, MaxEntries+1)
	for i := range many {
		many[i] = Map{Index: int32(i), Value: pad}
	}
	for name, c := range map[string]struct {
		insn []byte
		maps []Map
	}{
		"no instructions": {nil, []Map{{0, pad}}},
		"no maps":         {insn, nil},
		"negative index":  {insn, []Map{{-1, pad}}},
		"index 128":       {insn, []Map{{128, pad}}},
		"repeated index":  {insn, []Map{{1, pad}, {1, pad}}},
		"unpadded value":  {insn, []Map{{0, make([]byte, 13)}}},
		"64 maps":         {insn, many},
	} {
		if _, err := Sign(c.insn, c.maps, key, cert, SignOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Sign(insn, many[:MaxEntries], key, cert, SignOptions{}); err != nil {
		t.Errorf("%d maps: %v", MaxEntries, err)
	}
	if _, err := Sign(insn, []Map{{0, make([]byte, 13)}}, key, cert, SignOptions{AllowUnpadded: true}); err != nil {
		t.Errorf("unpadded value with AllowUnpadded: %v", err)
	}
}
