package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"testing"
	"time"
)

// With no extra attribute, SignWithAttributes writes exactly what Sign writes with
// SignedAttributes (itself checked against openssl in sign_test.go).
func TestSignWithAttributesNoExtraEqualsSign(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	content := []byte("content signed with attributes")
	for _, form := range []SignerIDForm{SubjectKeyID, IssuerSerial} {
		for _, st := range []time.Time{{}, time.Date(2026, 5, 7, 19, 14, 0, 0, time.UTC), time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC)} {
			opts := SignOptions{SignerID: form, SignedAttributes: true, SigningTime: st}
			want, err := Sign(content, key, cert, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SignWithAttributes(content, key, cert, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%v, signing time %v: SignWithAttributes differs from Sign", form, st)
			}
		}
	}
}

func TestSignWithAttributesOrderAndVerify(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	content := []byte("payload")
	// A long attribute sorts after messageDigest, a short one before contentType.
	long := Attribute{Type: asn1.ObjectIdentifier{2, 25, 7}, Values: [][]byte{append([]byte{0x04, 0x40}, make([]byte, 64)...)}}
	short := Attribute{Type: asn1.ObjectIdentifier{2, 25, 8}, Values: [][]byte{{0x05, 0x00}}}
	der, err := SignWithAttributes(content, key, cert, SignOptions{SignerID: IssuerSerial}, []Attribute{long, short})
	if err != nil {
		t.Fatal(err)
	}
	sig, signers, err := VerifySigners(content, der, trustOf(cert))
	if err != nil {
		t.Fatalf("VerifySigners: %v", err)
	}
	if len(signers) != 1 || !signers[0].Verified || !signers[0].HasAuthAttrs {
		t.Fatalf("signers = %+v", signers)
	}
	var types []string
	for _, a := range sig.SignedAttributes {
		types = append(types, a.Type.String())
	}
	want := []string{"2.25.8", OIDContentType.String(), OIDMessageDigest.String(), "2.25.7"}
	if len(types) != len(want) {
		t.Fatalf("attribute order %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("attribute order %v, want %v", types, want)
		}
	}
	if _, err := Verify([]byte("other"), der, trustOf(cert)); !errors.Is(err, compat.EKEYREJECTED) {
		t.Fatalf("wrong content: %v, want EKEYREJECTED", err)
	}
}

func TestSignWithAttributesRefuses(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	ok := Attribute{Type: asn1.ObjectIdentifier{2, 25, 1}, Values: [][]byte{{0x05, 0x00}}}
	for name, extra := range map[string][]Attribute{
		"no type":       {{Values: [][]byte{{0x05, 0x00}}}},
		"contentType":   {{Type: OIDContentType, Values: [][]byte{{0x05, 0x00}}}},
		"messageDigest": {{Type: OIDMessageDigest, Values: [][]byte{{0x04, 0x00}}}},
		"signingTime":   {{Type: OIDSigningTime, Values: [][]byte{{0x05, 0x00}}}},
		"smimeCaps":     {{Type: OIDSMIMECapabilities, Values: [][]byte{{0x30, 0x00}}}},
		"no value":      {{Type: asn1.ObjectIdentifier{2, 25, 1}}},
		"twice":         {ok, ok},
		"two elements":  {{Type: asn1.ObjectIdentifier{2, 25, 1}, Values: [][]byte{{0x05, 0x00, 0x05, 0x00}}}},
		"truncated":     {{Type: asn1.ObjectIdentifier{2, 25, 1}, Values: [][]byte{{0x04, 0x02, 0x00}}}},
		"empty value":   {{Type: asn1.ObjectIdentifier{2, 25, 1}, Values: [][]byte{{}}}},
	} {
		if _, err := SignWithAttributes([]byte("x"), key, cert, SignOptions{}, extra); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// VerifySigners returns exactly Verify's error on every fixture and on tampered copies.
func TestVerifySignersAgreesWithVerify(t *testing.T) {
	cert := testCert(t)
	for _, f := range fixtures(t) {
		for i := -1; i < len(f.sig); i += 97 {
			sig := bytes.Clone(f.sig)
			if i >= 0 {
				sig[i] ^= 0x01
			}
			_, e1 := Verify(f.content, sig, trustOf(cert))
			_, res, e2 := VerifySigners(f.content, sig, trustOf(cert))
			if (e1 == nil) != (e2 == nil) || (e1 != nil && e1.Error() != e2.Error()) {
				t.Fatalf("%s flip %d: Verify %v, VerifySigners %v", f.name, i, e1, e2)
			}
			if e1 == nil && (len(res) != 1 || !res[0].Verified) {
				t.Fatalf("%s flip %d: verified signature, signers %+v", f.name, i, res)
			}
		}
	}
}

func trustOf(certs ...*x509.Certificate) []*x509.Certificate { return certs }

// Attribute types the kernel only compares as bytes parse: an arc beyond int (Hornet's
// 2.25.316487325684022475439036912669789383960) and a non-minimal encoding of an arc.
func TestParseUnusualAttributeTypes(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	for name, raw := range map[string][]byte{
		"128-bit arc":   {0x69, 0x83, 0xdc, 0x99, 0x9e, 0xf8, 0xf5, 0xe6, 0x9a, 0x9e, 0xb5, 0xba, 0xc6, 0xac, 0xad, 0x9b, 0xfe, 0xf7, 0xda, 0x18},
		"ordinary 2.25": {0x69, 0x07},
	} {
		der, err := SignWithAttributes([]byte("c"), key, cert, SignOptions{}, []Attribute{{RawType: raw, Values: [][]byte{{0x05, 0x00}}}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sig, err := Verify([]byte("c"), der, trustOf(cert))
		if err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
		found := false
		for _, a := range sig.SignedAttributes {
			if bytes.Equal(a.RawType, raw) {
				found = true
				if name == "128-bit arc" && a.Type != nil {
					t.Errorf("%s: Type = %v, want nil", name, a.Type)
				}
				if name == "ordinary 2.25" && a.Type.String() != "2.25.7" {
					t.Errorf("%s: Type = %v", name, a.Type)
				}
			}
		}
		if !found {
			t.Errorf("%s: attribute not reported", name)
		}
	}
	if _, err := SignWithAttributes([]byte("c"), key, cert, SignOptions{}, []Attribute{{RawType: []byte{0x69, 0x83}, Values: [][]byte{{0x05, 0x00}}}}); err == nil {
		t.Error("unterminated arc accepted")
	}
}
