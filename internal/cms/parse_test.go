package cms

import (
	"bytes"
	"encoding/hex"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"reflect"
	"strings"
	"testing"

	"crypto/x509"
)

func TestParseFixtures(t *testing.T) {
	cert := testCert(t)
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			s, err := Parse(f.sig)
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != 3 || s.SignerInfoVersion != 3 || s.SignerID != SubjectKeyID || s.Signers != 1 {
				t.Fatalf("versions/form: %+v", s)
			}
			if !bytes.Equal(s.SubjectKeyID, cert.SubjectKeyId) {
				t.Fatalf("skid %x, cert %x", s.SubjectKeyID, cert.SubjectKeyId)
			}
			if got, want := s.SignerString(), "skid:"+hex.EncodeToString(cert.SubjectKeyId); got != want {
				t.Fatalf("SignerString %q, want %q", got, want)
			}
			if s.DigestName() != "sha256" || s.AlgorithmName() != "rsa" {
				t.Fatalf("algorithms %s/%s", s.DigestName(), s.AlgorithmName())
			}
			if !bytes.Equal(s.SignatureAlgorithmParams, []byte{0x05, 0x00}) {
				t.Fatalf("rsaEncryption parameters %x, want NULL", s.SignatureAlgorithmParams)
			}
			if !s.Detached || len(s.Certificates) != 0 || len(s.SignedAttributes) != 0 || !s.ContentType.Equal(OIDData) {
				t.Fatalf("profile: %+v", s)
			}
			if s.Size != len(f.sig) || len(s.Signature) != 256 || s.TrailingBytes != 0 {
				t.Fatalf("sizes: size %d sig %d trailing %d", s.Size, len(s.Signature), s.TrailingBytes)
			}
		})
	}
}

func TestParseIssuerSerialString(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	der, err := Sign([]byte("x"), key, cert, SignOptions{SignerID: IssuerSerial})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 || s.SignerInfoVersion != 1 || s.SignerID != IssuerSerial {
		t.Fatalf("%+v", s)
	}
	if s.Serial.Cmp(cert.SerialNumber) != 0 || !bytes.Equal(s.Issuer, cert.RawIssuer) {
		t.Fatal("issuer/serial differ from the certificate")
	}
	want := "issuer:" + cert.Issuer.String() + ",serial:" + cert.SerialNumber.Text(16)
	if s.SignerString() != want {
		t.Fatalf("%q, want %q", s.SignerString(), want)
	}
}

// BER input (indefinite lengths, non-minimal lengths) parses to the same description.
func TestParseBER(t *testing.T) {
	f := fixtures(t)[0]
	want, err := Parse(f.sig)
	if err != nil {
		t.Fatal(err)
	}
	ber := toIndefinite(t, f.sig)
	got, err := Parse(ber)
	if err != nil {
		t.Fatal(err)
	}
	got.Size, want.Size = 0, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("BER parse differs:\n got %+v\nwant %+v", got, want)
	}
	// Non-minimal length on the outer SEQUENCE: 30 82 01 73 → 30 84 00 00 01 73.
	nm := append([]byte{0x30, 0x84, 0, 0}, f.sig[2:]...)
	if _, err := Parse(nm); err != nil {
		t.Fatalf("non-minimal length: %v", err)
	}
	// Trailing data is ignored, as the kernel's decoder does, and reported.
	tr, err := Parse(append(append([]byte{}, f.sig...), 1, 2, 3))
	if err != nil || tr.TrailingBytes != 3 {
		t.Fatalf("trailing: %v %+v", err, tr)
	}
}

func TestParseMalformed(t *testing.T) {
	sig := fixtures(t)[0].sig
	for _, tc := range []struct {
		name string
		in   []byte
		want compat.Errno
	}{
		{"empty", nil, compat.EBADMSG},
		{"one byte", []byte{0x30}, compat.EBADMSG},
		{"long tag", []byte{0x1f, 0x01, 0x00}, compat.EBADMSG},
		{"indefinite primitive", []byte{0x04, 0x80, 0, 0}, compat.EBADMSG},
		{"length overrun", sig[:len(sig)-1], compat.EBADMSG},
		{"missing EOC", []byte{0x30, 0x80, 0x05, 0x00}, compat.EBADMSG},
		{"octet string", []byte{0x04, 0x01, 0x00}, compat.EBADMSG},
		{"no content", []byte{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}, compat.EINVAL},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 100), compat.EBADMSG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.in)
			if !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("got %v, %v; want %v", s, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "cms: ") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, fx := range fixtures(f) {
		f.Add(fx.sig)
		f.Add(toIndefinite(f, fx.sig))
	}
	key, cert := testKey(f), testCert(f)
	for _, opts := range []SignOptions{{SignerID: IssuerSerial, IncludeCertificate: true}, {SignedAttributes: true}} {
		der, err := Sign([]byte("seed"), key, cert, opts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Parse(in)
		if err != nil {
			var e compat.Errno
			if !errors.As(err, &e) {
				t.Fatalf("error without errno: %v", err)
			}
			return
		}
		_ = s.SignerString() + s.AlgorithmName() + s.DigestName()
		_, _ = Verify([]byte("seed"), in, []*x509.Certificate{cert})
	})
}
