package mapvalue_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/mapvalue"
)

// FuzzParse checks that Parse never panics, that every refusal is a *mapvalue.Error carrying
// an errno, and that an accepted value re-encodes to itself.
func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add(append([]byte{0, 0, 0, 42}, append(make([]byte, 14), mapvalue.Marker...)...))
	ms := []byte{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3}
	body := append(append([]byte("dataSIG"), ms...), mapvalue.Marker...)
	f.Add(append([]byte{0, 0, 0, byte(len(body))}, append(body, 0, 0, 0)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := mapvalue.Parse(b)
		if v == nil || v.Size != len(b) {
			t.Fatalf("Parse returned %+v", v)
		}
		if err != nil {
			var me *mapvalue.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *mapvalue.Error", err)
			}
			if _, ok := kerrno.Of(err); !ok {
				t.Fatalf("error %v carries no errno", err)
			}
			return
		}
		if len(v.Data) == 0 {
			t.Fatal("accepted a value with no data")
		}
		if v.UnverifiedOffset() != 4+int(v.Length) {
			t.Fatalf("parts do not add up: %d vs 4+%d", v.UnverifiedOffset(), v.Length)
		}
		re, err := mapvalue.Encode(v.Data, v.Signature, v.Unverified, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(re, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzVerify runs whole values, seeded with a signed one, through the structural checks
// and the PKCS#7 model: no panic, every refusal an *mapvalue.Error with an errno, and an
// accepted value's verified length equal to its data.
func FuzzVerify(f *testing.F) {
	key, err := keys.LoadSigner(testfix.KeyPath)
	if err != nil {
		f.Fatal(err)
	}
	certs, err := keys.LoadCertificates(testfix.CertPath)
	if err != nil {
		f.Fatal(err)
	}
	for _, form := range []mapvalue.SignerID{mapvalue.IssuerSerial, mapvalue.SubjectKeyID} {
		v, err := mapvalue.Sign([]byte("seed data"), key, certs[0], mapvalue.SignOptions{SignerID: form, Unverified: []byte{1, 2}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	trust := certs[:1]
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := mapvalue.Verify(b, trust)
		if r == nil || r.Value == nil {
			t.Fatal("no result")
		}
		if err != nil {
			var me *mapvalue.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *mapvalue.Error", err)
			}
			if _, ok := kerrno.Of(err); !ok {
				t.Fatalf("error %v carries no errno", err)
			}
			return
		}
		if r.VerifiedLen != len(r.Value.Data) || r.VerifiedLen == 0 || r.Signer == "" {
			t.Fatalf("accepted with %+v", r)
		}
	})
}
