package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// akidSpec says what authorityKeyIdentifier a test certificate carries.
type akidSpec struct {
	none       bool   // no extension at all
	keyID      []byte // keyIdentifier, nil = absent
	issuer     []byte // authorityCertIssuer directoryName (raw Name), nil = absent
	serial     *big.Int
	rawContent []byte // the whole extension value, overriding the rest
}

func akidExt(t *testing.T, a akidSpec) []pkix.Extension {
	if a.none {
		return nil
	}
	v := a.rawContent
	if v == nil {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if a.keyID != nil {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(a.keyID) })
			}
			if a.issuer != nil {
				b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(a.issuer) })
				})
			}
			if a.serial != nil {
				// INTEGER content octets: a leading zero when the top bit is set, as in the
				// certificate's own serialNumber.
				v := a.serial.Bytes()
				if len(v) == 0 || v[0]&0x80 != 0 {
					v = append([]byte{0}, v...)
				}
				b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(v) })
			}
		})
		var err error
		if v, err = b.Bytes(); err != nil {
			t.Fatal(err)
		}
	}
	return []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 35}, Value: v}}
}

var serialN int64 = 100

// mkCert makes a certificate for pub named cn, signed by signer as parent (nil parent: self).
// Its authorityKeyIdentifier is exactly a (Go's own is suppressed by the extra extension; with
// a.none on a self-signed certificate Go writes none).
func mkCert(t *testing.T, cn string, pub crypto.PublicKey, skid []byte, signer crypto.Signer, parent *x509.Certificate, a akidSpec) *x509.Certificate {
	t.Helper()
	serialN++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serialN), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
		SubjectKeyId: skid, ExtraExtensions: akidExt(t, a),
	}
	if parent == nil {
		parent = tmpl
	}
	if a.none && parent != tmpl && len(parent.SubjectKeyId) > 0 {
		t.Fatal("test bug: Go always writes an authorityKeyIdentifier for a parent with a subjectKeyIdentifier")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type restrictCase struct {
	name  string
	cert  *x509.Certificate
	roots []*x509.Certificate
	errno compat.Errno // 0: kept
	msg   string
}

// restrictCases builds the rule's table with keys from newKey (ECDSA or RSA), and a second key
// type from altKey for the mixed-algorithm row.
func restrictCases(t *testing.T, newKey, altKey func() crypto.Signer) []restrictCase {
	rootKey, otherKey, leafKey := newKey(), newKey(), newKey()
	altRootKey := altKey()
	rootSKID, otherSKID, leafSKID := []byte("root-skid-000001"), []byte("other-skid-00001"), []byte("leaf-skid-000001")

	root := mkCert(t, "root", rootKey.Public(), rootSKID, rootKey, nil, akidSpec{keyID: rootSKID})
	rootNoAKID := mkCert(t, "root", rootKey.Public(), rootSKID, rootKey, nil, akidSpec{none: true})
	rootNoSKID := mkCert(t, "root-noskid", rootKey.Public(), nil, rootKey, nil, akidSpec{none: true})
	other := mkCert(t, "other", otherKey.Public(), otherSKID, otherKey, nil, akidSpec{keyID: otherSKID})
	altRoot := mkCert(t, "alt-root", altRootKey.Public(), []byte("alt-root-skid"), altRootKey, nil, akidSpec{keyID: []byte("alt-root-skid")})
	rootSerial := root.SerialNumber
	otherNoSKID := mkCert(t, "other-noskid", otherKey.Public(), nil, otherKey, nil, akidSpec{none: true})
	fakeRootName := mkCert(t, "root", otherKey.Public(), nil, otherKey, nil, akidSpec{none: true})

	leaf := func(cn string, signer crypto.Signer, parent *x509.Certificate, a akidSpec) *x509.Certificate {
		return mkCert(t, cn, leafKey.Public(), leafSKID, signer, parent, a)
	}
	delegated := leaf("delegated", rootKey, root, akidSpec{keyID: rootSKID})
	return []restrictCase{
		{"delegated by the root (keyIdentifier)", delegated, []*x509.Certificate{root}, 0, ""},
		{"delegated, root given without its own AKID", delegated, []*x509.Certificate{rootNoAKID}, 0, ""},
		{"delegated, issuer+serial only", leaf("d-is", rootKey, root, akidSpec{issuer: root.RawIssuer, serial: rootSerial}), []*x509.Certificate{root}, 0, ""},
		{"delegated, keyIdentifier and issuer+serial", leaf("d-both", rootKey, root, akidSpec{keyID: rootSKID, issuer: root.RawIssuer, serial: rootSerial}), []*x509.Certificate{root}, 0, ""},
		{"delegated, both ids, issuer+serial wrong", leaf("d-both-bad", rootKey, root, akidSpec{keyID: rootSKID, issuer: root.RawIssuer, serial: big.NewInt(99999)}), []*x509.Certificate{root}, ErrnoENOKEY, "matches no root"},
		{"delegated, both ids, keyIdentifier wrong", leaf("d-both-bad2", rootKey, root, akidSpec{keyID: otherSKID, issuer: root.RawIssuer, serial: rootSerial}), []*x509.Certificate{root}, ErrnoENOKEY, "matches no root"},
		{"delegated, serial without issuer name (falls back to the issuer name)", leaf("d-serial", rootKey, root, akidSpec{serial: rootSerial}), []*x509.Certificate{root}, 0, ""},
		{"delegated by the root, root without SKID, keyIdentifier form", leaf("d-noskid", rootKey, rootNoSKID, akidSpec{keyID: rootSKID}), []*x509.Certificate{rootNoSKID}, ErrnoENOKEY, "matches no root"},
		{"delegated by the root, root without SKID, issuer+serial form", leaf("d-noskid-is", rootKey, rootNoSKID, akidSpec{issuer: rootNoSKID.RawIssuer, serial: rootNoSKID.SerialNumber}), []*x509.Certificate{rootNoSKID}, 0, ""},
		{"delegated by another root", leaf("d-other", otherKey, other, akidSpec{keyID: otherSKID}), []*x509.Certificate{root}, ErrnoENOKEY, "matches no root"},
		{"claims the root, signed by another key", leaf("forged", otherKey, other, akidSpec{keyID: rootSKID}), []*x509.Certificate{root}, ErrnoEKEYREJECTED, "signature check fails"},
		{"claims a root of another key type", leaf("forged-alt", otherKey, other, akidSpec{keyID: []byte("alt-root-skid")}), []*x509.Certificate{altRoot}, ErrnoEKEYREJECTED, "signature check fails"},
		{"no authorityKeyIdentifier, issuer name is the root's", rootNoAKID, []*x509.Certificate{root}, 0, ""},
		{"no authorityKeyIdentifier, issuer name is another's", leaf("noakid-other", otherKey, otherNoSKID, akidSpec{none: true}), []*x509.Certificate{root}, ErrnoENOKEY, "issuer name is no root's subject"},
		{"no authorityKeyIdentifier, root's name, another key signed", leaf("noakid-forged", otherKey, fakeRootName, akidSpec{none: true}), []*x509.Certificate{root}, ErrnoEKEYREJECTED, "signature check fails"},
		{"the root itself", root, []*x509.Certificate{root}, 0, ""},
		{"the root itself without AKID", rootNoAKID, []*x509.Certificate{rootNoAKID}, 0, ""},
		{"self-signed non-root", other, []*x509.Certificate{root}, ErrnoENOKEY, "matches no root"},
		{"chain depth 2 (signed by a delegated key)", leaf("depth2", leafKey, delegated, akidSpec{keyID: leafSKID}), []*x509.Certificate{root}, ErrnoENOKEY, "matches no root"},
		{"chain depth 2, delegated key also a root", leaf("depth2b", leafKey, delegated, akidSpec{keyID: leafSKID}), []*x509.Certificate{root, delegated}, 0, ""},
		{"second of two roots", leaf("d-other2", otherKey, other, akidSpec{keyID: otherSKID}), []*x509.Certificate{root, other}, 0, ""},
		{"no roots", delegated, nil, ErrnoENOKEY, "matches no root"},
	}
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func rsaKey() crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func TestRestrict(t *testing.T) {
	tests := restrictCases(t, ecKey, rsaKey)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kept, refused := Restrict([]*x509.Certificate{tc.cert}, tc.roots)
			if tc.errno == 0 {
				if len(kept) != 1 || len(refused) != 0 {
					t.Fatalf("refused: %v", refused[0].Err())
				}
				return
			}
			if len(kept) != 0 || len(refused) != 1 {
				t.Fatalf("kept, want %d", tc.errno)
			}
			r := refused[0]
			if r.Cert != tc.cert || r.Errno != tc.errno {
				t.Errorf("errno %s, want %d (%s)", r.ErrnoName(), tc.errno, r.Reason)
			}
			if !strings.Contains(r.Reason, tc.msg) {
				t.Errorf("reason %q does not say %q", r.Reason, tc.msg)
			}
			if err := r.Err(); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), r.ErrnoName()) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}

func TestRestrictTrustKeepsSources(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	skid := []byte("r")
	root := mkCert(t, "root", &key.PublicKey, skid, key, nil, akidSpec{keyID: skid})
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := mkCert(t, "d", &lk.PublicKey, []byte("d"), key, root, akidSpec{keyID: skid})
	stray := mkCert(t, "stray", &lk.PublicKey, []byte("d"), lk, nil, akidSpec{keyID: []byte("d")})
	in := &Trust{Certs: []*x509.Certificate{stray, d}, Sources: []string{"ring/stray.pem", "ring/d.pem"}}
	out, refused := RestrictTrust(in, []*x509.Certificate{root})
	if len(out.Certs) != 1 || out.Certs[0] != d || out.Sources[0] != "ring/d.pem" {
		t.Fatalf("kept %v %v", out.Certs, out.Sources)
	}
	if len(refused) != 1 || refused[0].Source != "ring/stray.pem" || !strings.Contains(refused[0].Err().Error(), "ring/stray.pem") {
		t.Fatalf("refused %+v", refused)
	}
}
