package keys

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/bpfsig/bpfsig/compat"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The errnos a restricted keyring answers with (portable Linux values).
const (
	ErrnoENOPKG       = compat.ENOPKG
	ErrnoENOKEY       = compat.ENOKEY
	ErrnoEKEYREJECTED = compat.EKEYREJECTED
)

// ErrRefused is wrapped by every [Refusal.Err].
var ErrRefused = errors.New("certificate refused by the restricted keyring")

// Refusal is a certificate a restricted keyring would not link, and why.
type Refusal struct {
	Cert   *x509.Certificate
	Source string       // file the certificate came from ([RestrictTrust]); "" for [Restrict]
	Errno  compat.Errno // the errno add_key(2) returns: ENOKEY, EKEYREJECTED or ENOPKG
	Reason string
}

// ErrnoName is the errno's symbolic name ("ENOKEY", ...).
func (r Refusal) ErrnoName() string { return r.Errno.Name() }

// Err is the refusal as an error wrapping [ErrRefused], naming the certificate, its file and
// the kernel's errno.
func (r Refusal) Err() error {
	name := "certificate"
	if r.Cert != nil {
		name = fmt.Sprintf("certificate %q (serial %s)", r.Cert.Subject.String(), r.Cert.SerialNumber.Text(16))
	}
	if r.Source != "" {
		name += " from " + r.Source
	}
	return fmt.Errorf("%w: %s: %s (%s)", ErrRefused, name, r.Reason, r.ErrnoName())
}

// Restrict filters certs the way a keyring restricted with
// `keyctl restrict_keyring RING asymmetric key_or_keyring:ROOT` filters the keys linked into it
// (crypto/asymmetric_keys/restrict.c, restrict_link_by_key_or_keyring, as in current kernels
// with the issuer-name id): a certificate is kept only if one of roots signed it. The rule, per
// certificate:
//
//   - Its authorityKeyIdentifier gives up to two ids: the issuer+serial form
//     (authorityCertIssuer directoryName + authorityCertSerialNumber) and the keyIdentifier.
//   - A root matches when, with neither id present, the certificate's issuer name equals the
//     root's subject name; with one present, that id equals either of the root's ids (its own
//     issuer+serial, its subjectKeyIdentifier); with both, the keyIdentifier equals the root's
//     subjectKeyIdentifier and the issuer+serial id equals either root id. No root matches:
//     ENOKEY. This refuses a certificate signed by anyone else, a depth-2 certificate signed by a
//     delegated key, and a self-signed certificate other than a root.
//   - The matched root's key must verify the certificate's signature: EKEYREJECTED if it does
//     not, ENOPKG for an algorithm that cannot be checked (including SHA-1 signatures, which
//     Go refuses; the kernel would check those). Kernels from 6.13 on answer EINVAL instead of
//     EKEYREJECTED when an RSA signature was made by another key (its padding does not decode);
//     both mean the signature check failed.
//
// A root itself is kept (it matches itself by keyIdentifier or by name and verifies). The CA
// flag and keyUsage are not consulted (key_or_keyring does not; restrict_link_by_ca would).
// With several roots the first matching root decides, as a lookup in a ROOT keyring would.
func Restrict(certs, roots []*x509.Certificate) (kept []*x509.Certificate, refused []Refusal) {
	rids := make([]keyIDs, len(roots))
	for i, r := range roots {
		rids[i] = idsOf(r)
	}
	for _, c := range certs {
		if ref, ok := linkCheck(c, roots, rids); !ok {
			refused = append(refused, ref)
			continue
		}
		kept = append(kept, c)
	}
	return kept, refused
}

// RestrictTrust applies [Restrict] to t, keeping each kept certificate's source file.
func RestrictTrust(t *Trust, roots []*x509.Certificate) (*Trust, []Refusal) {
	out := &Trust{}
	var refused []Refusal
	rids := make([]keyIDs, len(roots))
	for i, r := range roots {
		rids[i] = idsOf(r)
	}
	for i, c := range t.Certs {
		src := ""
		if i < len(t.Sources) {
			src = t.Sources[i]
		}
		if ref, ok := linkCheck(c, roots, rids); !ok {
			ref.Source = src
			refused = append(refused, ref)
			continue
		}
		out.Certs = append(out.Certs, c)
		out.Sources = append(out.Sources, src)
	}
	return out, refused
}

// keyIDs are a certificate's kernel key ids: id0 = raw serial ‖ raw issuer name,
// id1 = subjectKeyIdentifier (nil when absent), id2 = raw subject name.
type keyIDs struct{ id0, id1, id2 []byte }

func idsOf(c *x509.Certificate) keyIDs {
	ids := keyIDs{}
	if serial, ok := rawSerial(c.RawTBSCertificate); ok {
		ids.id0 = append(append([]byte{}, serial...), c.RawIssuer...)
	}
	if len(c.SubjectKeyId) > 0 {
		ids.id1 = c.SubjectKeyId
	}
	ids.id2 = c.RawSubject
	return ids
}

func same(a, b []byte) bool { return a != nil && b != nil && bytes.Equal(a, b) }

func (k keyIDs) either(id []byte) bool { return same(k.id0, id) || same(k.id1, id) }

func linkCheck(c *x509.Certificate, roots []*x509.Certificate, rids []keyIDs) (Refusal, bool) {
	auth0, auth1, err := authIDs(c)
	if err != nil {
		return Refusal{Cert: c, Errno: ErrnoEKEYREJECTED, Reason: "malformed authorityKeyIdentifier: " + err.Error()}, false
	}
	for i, r := range roots {
		s := rids[i]
		var match bool
		if auth0 == nil && auth1 == nil {
			match = same(s.id2, c.RawIssuer) // auth_ids[2]: the issuer name
		} else if auth0 == nil || auth1 == nil {
			id := auth0
			if id == nil {
				id = auth1
			}
			match = s.either(id)
		} else {
			match = same(s.id1, auth1) && s.either(auth0)
		}
		if !match {
			continue
		}
		if err := r.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
			var insecure x509.InsecureAlgorithmError
			if errors.Is(err, x509.ErrUnsupportedAlgorithm) || errors.As(err, &insecure) {
				return Refusal{Cert: c, Errno: ErrnoENOPKG, Reason: fmt.Sprintf("signature algorithm %v cannot be checked", c.SignatureAlgorithm)}, false
			}
			return Refusal{Cert: c, Errno: ErrnoEKEYREJECTED, Reason: fmt.Sprintf("names root %q as its signer but that key's signature check fails", r.Subject.String())}, false
		}
		return Refusal{}, true
	}
	if auth0 == nil && auth1 == nil {
		return Refusal{Cert: c, Errno: ErrnoENOKEY, Reason: "not signed by any root key (no authorityKeyIdentifier ids, and the issuer name is no root's subject)"}, false
	}
	return Refusal{Cert: c, Errno: ErrnoENOKEY, Reason: "not signed by any root key (authorityKeyIdentifier matches no root)"}, false
}

var oidAKID = []int{2, 5, 29, 35}

// authIDs returns the kernel's auth_ids[0] (issuer+serial from authorityKeyIdentifier) and
// auth_ids[1] (its keyIdentifier); each nil when absent.
func authIDs(c *x509.Certificate) (auth0, auth1 []byte, err error) {
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidAKID) {
			continue
		}
		in := cryptobyte.String(e.Value)
		var akid cryptobyte.String
		if !in.ReadASN1(&akid, cbasn1.SEQUENCE) || !in.Empty() {
			return nil, nil, errors.New("not a SEQUENCE")
		}
		var kid, names, serial cryptobyte.String
		var hasKID, hasNames, hasSerial bool
		if !akid.ReadOptionalASN1(&kid, &hasKID, cbasn1.Tag(0).ContextSpecific()) ||
			!akid.ReadOptionalASN1(&names, &hasNames, cbasn1.Tag(1).ContextSpecific().Constructed()) ||
			!akid.ReadOptionalASN1(&serial, &hasSerial, cbasn1.Tag(2).ContextSpecific()) || !akid.Empty() {
			return nil, nil, errors.New("unexpected fields")
		}
		if hasKID {
			auth1 = append([]byte{}, kid...)
		}
		var dirName []byte
		for hasNames && !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return nil, nil, errors.New("malformed authorityCertIssuer")
			}
			if tag == cbasn1.Tag(4).ContextSpecific().Constructed() {
				var name cryptobyte.String
				if !gn.ReadASN1Element(&name, cbasn1.SEQUENCE) {
					return nil, nil, errors.New("malformed directoryName")
				}
				dirName = name // the kernel keeps the last directoryName seen
			}
		}
		if hasSerial && dirName != nil {
			auth0 = append(append([]byte{}, serial...), dirName...)
		}
		return auth0, auth1, nil
	}
	return nil, nil, nil
}

// rawSerial returns the content octets of the serialNumber INTEGER in a TBSCertificate.
func rawSerial(tbs []byte) ([]byte, bool) {
	in := cryptobyte.String(tbs)
	var body, serial cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, false
	}
	if !body.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, false
	}
	if !body.ReadASN1(&serial, cbasn1.INTEGER) {
		return nil, false
	}
	return serial, true
}
