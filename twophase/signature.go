// Package twophase signs light skeletons in two phases, for keys that never meet bpfsig (an
// HSM, a signing service, an air-gapped host): phase one converts a skeleton for its target
// scheme and writes the exact bytes the signature must cover (the "to-be-signed" bytes, TBS);
// phase two takes a signature made elsewhere over those bytes, checks it as the kernel would,
// and attaches it.
//
// What each scheme signs: raw, insn ‖ data of the converted loader; legacy, the converted
// insn; chain, the 32-byte root. A signature comes back either as a detached PKCS#7/CMS
// (DER or PEM, as `sign-file -d` or `openssl cms -sign -binary -noattr` write it) or as the
// bare PKCS#1 v1.5 or ECDSA signature over SHA-256 of the TBS bytes (`openssl pkeyutl -sign`),
// which is wrapped into the kernel-profile CMS that `bpfsig sign` writes. For RSA the attached
// skeleton is then byte-identical to one `bpfsig sign` makes with the same key.
//
// Nothing is attached unchecked: [AttachVerified] verifies the signature against the
// certificate and the exact content with the kernel's rules (internal/cms.Verify, the
// certificate standing in for the keyring) and requires SHA-256, the digest of the kernel
// profile. A tree of skeletons goes through [WriteTree], which writes one NAME.tbs per
// skeleton and a [Manifest] binding each to its source, and [AttachTree], which refuses a
// skeleton whose source, or whose conversion, changed since.
package twophase

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/cms"
)

// Format is the encoding of a signature made elsewhere.
type Format int

const (
	// Auto tells CMS from raw by content: PEM, or a DER ContentInfo of type signedData, is
	// CMS; anything else is raw.
	Auto Format = iota
	// CMS is a detached PKCS#7/CMS SignedData, DER or PEM ("PKCS7" or "CMS" block).
	CMS
	// Raw is a bare signature over SHA-256 of the TBS bytes: PKCS#1 v1.5 for RSA, an X9.62
	// DER ECDSA-Sig-Value for ECDSA.
	Raw
)

// String returns "auto", "cms" or "raw".
func (f Format) String() string {
	switch f {
	case Auto:
		return "auto"
	case CMS:
		return "cms"
	case Raw:
		return "raw"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "auto", "cms" (also "pkcs7") or "raw".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "cms", "pkcs7":
		return CMS, nil
	case "raw":
		return Raw, nil
	}
	return 0, fmt.Errorf("unknown signature format %q (want auto, cms or raw)", s)
}

// Signature is a signature made elsewhere, decoded: a CMS blob in DER, or raw signature bytes.
type Signature struct {
	Format Format // CMS or Raw, never Auto
	Bytes  []byte // DER of the CMS, or the raw signature
}

// MaxSignatureFile bounds a signature file: a kernel-profile CMS is a few hundred bytes, and
// the kernel refuses one over 8 KiB; PEM and embedded certificates fit well below this.
const MaxSignatureFile = 64 << 10

var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// ParseSignature decodes b as format f. A PEM block must be "PKCS7" or "CMS" (white space
// may precede it; anything after it is refused); Auto takes PEM and DER ContentInfo{signedData}
// for CMS, and anything else for a raw signature. An empty input is an error.
func ParseSignature(b []byte, f Format) (*Signature, error) {
	if len(b) == 0 {
		return nil, errors.New("signature is empty")
	}
	if len(b) > MaxSignatureFile {
		return nil, fmt.Errorf("signature of %d bytes exceeds %d", len(b), MaxSignatureFile)
	}
	isPEM := bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("-----BEGIN "))
	switch f {
	case Raw:
		if isPEM {
			return nil, errors.New("signature is PEM, but --sig-format raw wants the bare signature bytes")
		}
		return &Signature{Format: Raw, Bytes: b}, nil
	case CMS, Auto:
		if isPEM {
			blk, rest := pem.Decode(bytes.TrimLeft(b, " \t\r\n"))
			if blk == nil {
				return nil, errors.New("signature: malformed PEM")
			}
			if blk.Type != "PKCS7" && blk.Type != "CMS" {
				return nil, fmt.Errorf("signature: PEM block %q is not PKCS7 or CMS", blk.Type)
			}
			if len(bytes.TrimSpace(rest)) != 0 {
				return nil, errors.New("signature: data after the PEM block")
			}
			return &Signature{Format: CMS, Bytes: blk.Bytes}, nil
		}
		if f == CMS || looksCMS(b) {
			return &Signature{Format: CMS, Bytes: b}, nil
		}
		return &Signature{Format: Raw, Bytes: b}, nil
	}
	return nil, fmt.Errorf("unknown signature format %v", f)
}

// looksCMS reports whether b begins as a ContentInfo of type signedData: SEQUENCE (any
// length form), then OBJECT IDENTIFIER 1.2.840.113549.1.7.2.
func looksCMS(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	i := 2
	switch l := b[1]; {
	case l == 0x80: // indefinite (BER)
	case l&0x80 != 0:
		i += int(l & 0x7f)
	}
	want := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	return len(b) >= i+len(want) && bytes.Equal(b[i:i+len(want)], want)
}

// Options adjust AttachVerified.
type Options struct {
	// SignerID is the signer identifier form asked for (default SubjectKeyID, as bpftool).
	// A raw signature is wrapped with it; a CMS given in another form is re-encoded to it only
	// with Normalize.
	SignerID bpfsig.SignerIDForm
	// Normalize re-encodes a CMS that is not bpfsig's own encoding of its signature (embedded
	// certificates, issuer+serial where SKID is asked for, BER, trailing bytes) into the
	// kernel-profile form with SignerID. The signature bytes are kept: this is possible only
	// without signed attributes, which the signature would cover.
	Normalize bool
}

// Result is an attached, verified skeleton and what was done to the signature.
type Result struct {
	Skeleton *bpfsig.Skeleton
	// Format is the signature's format as given (CMS or Raw).
	Format Format
	// Signer describes the signer identifier of the attached CMS ("skid:…").
	Signer string
	// Normalized reports that a CMS was re-encoded; Kept that a CMS differing from bpfsig's
	// own encoding was attached as given (Notes say how it differs).
	Normalized, Kept bool
	Notes            []string
}

// ErrRejected is wrapped by every error AttachVerified returns for a signature that does not
// hold (as opposed to a malformed request): other bytes, another key, a digest other than
// SHA-256, attributes the kernel refuses. The errno the kernel would return is wrapped too.
var ErrRejected = errors.New("signature rejected")

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRejected}, args...)...)
}

// AttachVerified attaches sig, made elsewhere over p.Content(), to the prepared skeleton after
// checking it against cert with the kernel's rules: cms.Verify(content, der, {cert}) must
// succeed and the digest must be SHA-256. A raw signature is first wrapped into the
// kernel-profile CMS (the one `bpfsig sign` writes, signer id opts.SignerID) and then checked
// the same way. Nothing is returned unless the check holds.
func AttachVerified(p *bpfsig.Prepared, sig *Signature, cert *x509.Certificate, opts Options) (*Result, error) {
	if p == nil || sig == nil || cert == nil {
		return nil, errors.New("attach needs a prepared skeleton, a signature and the signer's certificate")
	}
	content := p.Content()
	res := &Result{Format: sig.Format}
	var der []byte
	switch sig.Format {
	case Raw:
		out, err := wrap(p, sig.Bytes, cert, opts.SignerID)
		if err != nil {
			return nil, err
		}
		der = out
	case CMS:
		s, err := check(content, sig.Bytes, cert)
		if err != nil {
			return nil, err
		}
		der = sig.Bytes
		// What bpfsig itself would write for this signature (no signed attributes only).
		canonical := func(form bpfsig.SignerIDForm) ([]byte, error) {
			if len(s.SignedAttributes) > 0 {
				return nil, errors.New("the signature covers signed attributes")
			}
			if s.Signers != 1 {
				return nil, fmt.Errorf("the CMS has %d SignerInfos", s.Signers)
			}
			return wrap(p, s.Signature, cert, form)
		}
		givenForm := bpfsig.SubjectKeyID
		if s.SignerID == cms.IssuerSerial {
			givenForm = bpfsig.IssuerSerial
		}
		var diffs []string
		if len(s.Certificates) > 0 {
			diffs = append(diffs, fmt.Sprintf("it embeds %d certificate(s)", len(s.Certificates)))
		}
		if givenForm != opts.SignerID {
			diffs = append(diffs, fmt.Sprintf("its signer id is %s, %s was asked for", formName(givenForm), formName(opts.SignerID)))
		}
		if len(s.SignedAttributes) > 0 {
			diffs = append(diffs, fmt.Sprintf("it has %d signed attribute(s)", len(s.SignedAttributes)))
		}
		if s.TrailingBytes > 0 {
			diffs = append(diffs, fmt.Sprintf("%d byte(s) follow it", s.TrailingBytes))
		}
		if len(diffs) == 0 {
			if c, err := canonical(givenForm); err == nil && !bytes.Equal(c, der) {
				diffs = append(diffs, "its encoding differs from bpfsig's (BER or field order)")
			}
		}
		switch {
		case len(diffs) == 0:
		case opts.Normalize:
			c, err := canonical(opts.SignerID)
			if err != nil {
				return nil, fmt.Errorf("--normalize: cannot re-encode the CMS: %w (attach it as given, without --normalize)", err)
			}
			der = c
			res.Normalized = true
			res.Notes = append(res.Notes, "normalized: "+strings.Join(diffs, "; ")+"; re-encoded as the kernel-profile CMS, signature bytes unchanged")
		default:
			res.Kept = true
			res.Notes = append(res.Notes, "kept as given: "+strings.Join(diffs, "; ")+" (--normalize re-encodes it)")
		}
	default:
		return nil, fmt.Errorf("signature format %v: want cms or raw", sig.Format)
	}
	out, err := p.Attach(der)
	if err != nil {
		return nil, err
	}
	// The blob attached is the one checked; check what the skeleton carries all the same.
	s, err := check(content, out.Sig(), cert)
	if err != nil {
		return nil, err
	}
	res.Skeleton, res.Signer = out, s.SignerString()
	return res, nil
}

// check is the kernel's verification with cert as the keyring, plus the profile's digest.
func check(content, der []byte, cert *x509.Certificate) (*cms.Signature, error) {
	s, err := cms.Verify(content, der, []*x509.Certificate{cert})
	if err != nil {
		return nil, rejected("%w", err)
	}
	if !s.DigestAlgorithm.Equal(cms.OIDSHA256) {
		return nil, rejected("digest %s: the kernel profile signs with sha256", s.DigestName())
	}
	return s, nil
}

// wrap builds the kernel-profile CMS around a bare signature exactly as Prepared.Sign would
// with the certificate's key, and checks it.
func wrap(p *bpfsig.Prepared, raw []byte, cert *x509.Certificate, form bpfsig.SignerIDForm) ([]byte, error) {
	sum := sha256.Sum256(p.Content())
	ps := &presigned{pub: cert.PublicKey, sig: raw, digest: sum[:]}
	sk, err := p.Sign(&bpfsig.Signer{Key: ps, Cert: cert, ID: form})
	if ps.err != nil {
		return nil, ps.err
	}
	if err != nil {
		return nil, fmt.Errorf("wrapping the signature: %w", err)
	}
	if _, err := check(p.Content(), sk.Sig(), cert); err != nil {
		return nil, err
	}
	return sk.Sig(), nil
}

// presigned is a crypto.Signer that holds one signature made elsewhere and hands it out for
// the one digest it was made over.
type presigned struct {
	pub    crypto.PublicKey
	sig    []byte
	digest []byte
	err    error
}

func (k *presigned) Public() crypto.PublicKey { return k.pub }

func (k *presigned) Sign(_ io.Reader, digest []byte, o crypto.SignerOpts) ([]byte, error) {
	switch {
	case o.HashFunc() != crypto.SHA256:
		k.err = fmt.Errorf("the target's signer asks for a %v signature; a raw signature is over SHA-256", o.HashFunc())
	case !bytes.Equal(digest, k.digest):
		k.err = errors.New("the target scheme signs signed attributes, not the content alone: a raw signature cannot be wrapped (give the CMS)")
	default:
		return append([]byte(nil), k.sig...), nil
	}
	return nil, k.err
}

func formName(f bpfsig.SignerIDForm) string {
	if f == bpfsig.IssuerSerial {
		return "issuer-serial"
	}
	return "skid"
}
