// Package keygen makes BPF signing keys and the X.509 certificates a Linux kernel accepts for
// them: self-signed (optionally as a root that delegates) or delegated, signed by a root.
//
// The certificate profile is the kernel's own (certs/default_x509.genkey): basicConstraints
// critical CA:FALSE, keyUsage digitalSignature, subjectKeyIdentifier = SHA-1 of the public key
// bits (RFC 5280 §4.2.1.2 method 1, openssl's "hash"), authorityKeyIdentifier = the issuer's
// key identifier, also on self-signed certificates. The kernel needs that identifier: a keyring
// restricted with key_or_keyring links a certificate only through its authorityKeyIdentifier,
// and CMS signatures made by bpftool name the signer by subjectKeyIdentifier.
package keygen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/keys"
)

// Algorithm is a key type and size.
type Algorithm string

// The algorithms the kernel verifies for BPF signatures.
const (
	RSA2048 Algorithm = "rsa2048"
	RSA3072 Algorithm = "rsa3072"
	RSA4096 Algorithm = "rsa4096"
	P256    Algorithm = "p256"
	P384    Algorithm = "p384"
)

// Algorithms lists the accepted names, in the order help text shows them.
var Algorithms = []Algorithm{RSA2048, RSA3072, RSA4096, P256, P384}

// ParseAlgorithm accepts one of [Algorithms] (case-insensitive).
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range Algorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return "", fmt.Errorf("keygen: unknown algorithm %q (use %s)", s, strings.Join(names, ", "))
}

// GenerateKey makes a new private key; rnd nil means crypto/rand.Reader.
func GenerateKey(alg Algorithm, rnd io.Reader) (crypto.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch alg {
	case RSA2048, RSA3072, RSA4096:
		bits := map[Algorithm]int{RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}[alg]
		return rsa.GenerateKey(rnd, bits)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rnd)
	}
	return nil, fmt.Errorf("keygen: unknown algorithm %q", alg)
}

// DefaultSubject is the common name used when CertOptions.Subject is empty.
const DefaultSubject = "bpfsig BPF signing key"

// DefaultDelegatedSubject is the common name of a delegated certificate when
// CertOptions.Subject is empty.
const DefaultDelegatedSubject = "bpfsig delegated BPF signing key"

// DefaultDays is the validity used when CertOptions.Days is 0. (The kernel does not check
// validity dates of keys it verifies BPF signatures with; tools that do, such as openssl, will.)
const DefaultDays = 365

// CertOptions shape a certificate.
type CertOptions struct {
	Subject string // common name; "" means DefaultSubject (DefaultDelegatedSubject with an issuer)
	Days    int    // validity from Now; 0 means DefaultDays; negative is an error
	// CA makes the certificate a root that may sign delegated certificates: basicConstraints
	// CA:TRUE and keyUsage digitalSignature|keyCertSign. The kernel's key_or_keyring rule does
	// not require it; openssl verify and Go's x509.Verify do.
	CA bool
	// Issuer and IssuerCert, both set, make a delegated certificate signed by Issuer, whose
	// certificate is IssuerCert. IssuerCert must carry a subjectKeyIdentifier (it becomes the
	// delegated certificate's authorityKeyIdentifier) and hold Issuer's public key.
	Issuer     crypto.Signer
	IssuerCert *x509.Certificate
	Now        time.Time // zero means time.Now()
	Rand       io.Reader // nil means crypto/rand.Reader
}

var oidAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}

// SubjectKeyID returns SHA-1 over the subjectPublicKey BIT STRING of pub (RFC 5280 method 1).
func SubjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("keygen: %w", err)
	}
	in := cryptobyte.String(der)
	var spki, algo cryptobyte.String
	var bits asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&algo, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) {
		return nil, errors.New("keygen: cannot parse the public key encoding")
	}
	sum := sha1.Sum(bits.Bytes)
	return sum[:], nil
}

func akidExtension(keyID []byte) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(keyID) })
	})
	v, err := b.Bytes()
	return pkix.Extension{Id: oidAuthorityKeyID, Value: v}, err
}

func signatureAlgorithm(pub crypto.PublicKey) (x509.SignatureAlgorithm, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return 0, fmt.Errorf("RSA key of %d bits is too small (need at least 2048)", p.N.BitLen())
		}
		return x509.SHA256WithRSA, nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return x509.ECDSAWithSHA256, nil
		case elliptic.P384():
			return x509.ECDSAWithSHA384, nil
		}
		return 0, fmt.Errorf("ECDSA curve %s not supported (use P-256 or P-384)", p.Curve.Params().Name)
	}
	return 0, fmt.Errorf("unsupported key type %T (use RSA or ECDSA P-256/P-384)", pub)
}

// Certificate makes the certificate for key: self-signed by key, or, with opts.Issuer, a
// delegated certificate (basicConstraints CA:FALSE) signed by the issuer.
func Certificate(key crypto.Signer, opts CertOptions) (*x509.Certificate, error) {
	if key == nil {
		return nil, errors.New("keygen: certificate: no key")
	}
	if (opts.Issuer == nil) != (opts.IssuerCert == nil) {
		return nil, errors.New("keygen: certificate: the issuer key and the issuer certificate go together")
	}
	if opts.Issuer != nil && opts.CA {
		return nil, errors.New("keygen: certificate: a delegated certificate is never a CA here (CA:FALSE)")
	}
	if opts.Days < 0 {
		return nil, fmt.Errorf("keygen: certificate: days %d is negative", opts.Days)
	}
	days := opts.Days
	if days == 0 {
		days = DefaultDays
	}
	subject := opts.Subject
	if subject == "" {
		subject = DefaultSubject
		if opts.Issuer != nil {
			subject = DefaultDelegatedSubject
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	pub := key.Public()
	if _, err := signatureAlgorithm(pub); err != nil {
		return nil, fmt.Errorf("keygen: key: %w", err)
	}
	skid, err := SubjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial(rnd)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             now.Add(-time.Minute).UTC().Truncate(time.Second),
		NotAfter:              now.AddDate(0, 0, days).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  opts.CA,
		SubjectKeyId:          skid,
	}
	if opts.CA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	parent, signer := tmpl, key
	if opts.Issuer != nil {
		if len(opts.IssuerCert.SubjectKeyId) == 0 {
			return nil, fmt.Errorf("keygen: issuer certificate %q has no subjectKeyIdentifier: the kernel could not link a delegated certificate to it", opts.IssuerCert.Subject)
		}
		if err := keys.MatchKey(opts.Issuer, opts.IssuerCert); err != nil {
			return nil, fmt.Errorf("keygen: issuer: %w", err)
		}
		parent, signer = opts.IssuerCert, opts.Issuer
		// Set explicitly: Go derives it from parent.SubjectKeyId only when the subject and
		// issuer names differ.
		tmpl.AuthorityKeyId = opts.IssuerCert.SubjectKeyId
	} else {
		ext, err := akidExtension(skid)
		if err != nil {
			return nil, fmt.Errorf("keygen: %w", err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{ext} // Go omits it on self-signed certificates
	}
	if tmpl.SignatureAlgorithm, err = signatureAlgorithm(signer.Public()); err != nil {
		return nil, fmt.Errorf("keygen: issuer key: %w", err)
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("keygen: create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// randomSerial returns a positive 127-bit random serial number.
func randomSerial(rnd io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, fmt.Errorf("keygen: serial: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // never zero, fixed length
	return new(big.Int).SetBytes(b), nil
}

// Generate makes a key of alg and its certificate.
func Generate(alg Algorithm, opts CertOptions) (crypto.Signer, *x509.Certificate, error) {
	key, err := GenerateKey(alg, opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	cert, err := Certificate(key, opts)
	if err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// EncodeKey returns key as PKCS#8, PEM ("PRIVATE KEY") or DER.
func EncodeKey(key crypto.Signer, der bool) ([]byte, error) {
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keygen: encode key: %w", err)
	}
	if der {
		return b, nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}), nil
}

// EncodeCertificate returns cert as PEM ("CERTIFICATE") or DER.
func EncodeCertificate(cert *x509.Certificate, der bool) []byte {
	if der {
		return append([]byte(nil), cert.Raw...)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// WriteFiles writes the key (mode 0600) and the certificate (mode 0644), PEM or DER. Neither
// file may exist: both are created with O_EXCL, and when either is already there nothing is
// written. If the certificate cannot be written, the key just created is removed again. key
// may be nil to write only the certificate (keyOut is then ignored).
func WriteFiles(keyOut, certOut string, key crypto.Signer, cert *x509.Certificate, der bool) error {
	if cert == nil || certOut == "" || key != nil && keyOut == "" {
		return errors.New("keygen: write: key and certificate paths are required")
	}
	if key != nil && sameNewFile(keyOut, certOut) {
		return fmt.Errorf("keygen: write: key and certificate would both be %s", keyOut)
	}
	for _, p := range []string{keyOut, certOut} {
		if p == "" || key == nil && p == keyOut {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("keygen: write %s: file exists (refusing to overwrite)", p)
		}
	}
	if key != nil {
		kb, err := EncodeKey(key, der)
		if err != nil {
			return err
		}
		if err := writeExcl(keyOut, kb, 0o600); err != nil {
			return err
		}
	}
	if err := writeExcl(certOut, EncodeCertificate(cert, der), 0o644); err != nil {
		if key != nil {
			os.Remove(keyOut)
		}
		return err
	}
	return nil
}

// sameNewFile reports whether a and b name the same file as the system resolves them
// ("x" and "./x", or "l/../x" and "d/x" with l a link to d/sub), not only when spelled alike.
func sameNewFile(a, b string) bool {
	if a == b {
		return true
	}
	ra, erra := fsio.Resolve(a)
	rb, errb := fsio.Resolve(b)
	return erra == nil && errb == nil && ra == rb
}

func writeExcl(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keygen: write %s: file exists (refusing to overwrite)", path)
		}
		return fmt.Errorf("keygen: write: %w", err)
	}
	// The umask may have narrowed mode; it cannot have widened it. Set it exactly.
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("keygen: write %s: %w", path, err)
	}
	return nil
}
