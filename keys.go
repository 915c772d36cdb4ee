package bpfsig

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/keys"
)

// SignerOption adjusts LoadSigner.
type SignerOption func(*signerConfig)

type signerConfig struct {
	id       SignerIDForm
	warn     func(string)
	backends map[string]string
}

// WithSignerID sets how signatures name the certificate (default SubjectKeyID, as bpftool).
func WithSignerID(f SignerIDForm) SignerOption { return func(c *signerConfig) { c.id = f } }

// WithWarnings receives warnings about the key, such as a key file readable by others.
func WithWarnings(f func(string)) SignerOption { return func(c *signerConfig) { c.warn = f } }

// WithBackendOption passes a named option to the key backend (for example the PKCS#11 module
// path as "module-path").
func WithBackendOption(name, value string) SignerOption {
	return func(c *signerConfig) {
		if c.backends == nil {
			c.backends = map[string]string{}
		}
		c.backends[name] = value
	}
}

// KeyBackend opens a private key named by a URI of its scheme (such as "pkcs11:…"). It returns
// the key, the certificate the backend holds for it (nil if none) and the options it was given.
type KeyBackend func(uri string, opts map[string]string) (crypto.Signer, *x509.Certificate, error)

var (
	backendsMu sync.RWMutex
	backends   = map[string]KeyBackend{}
)

// RegisterKeyBackend makes LoadSigner accept keys named "scheme:…". A backend that needs cgo
// (PKCS#11) registers from its own package, so that importing bpfsig forces it on no one.
func RegisterKeyBackend(scheme string, b KeyBackend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[scheme]; dup {
		panic("bpfsig: RegisterKeyBackend called twice for " + scheme)
	}
	backends[scheme] = b
}

// knownBackendPackages names the package to import for a key URI scheme bpfsig knows of.
var knownBackendPackages = map[string]string{"pkcs11": "github.com/bpfsig/bpfsig/pkcs11 (needs cgo)"}

// LoadSigner reads a private key and its certificate and checks that they belong together.
//
// key is a file (PEM or DER; PKCS#1, PKCS#8 or SEC 1; RSA ≥ 2048 bits, ECDSA P-256 or P-384)
// or a URI of a registered key backend ("pkcs11:token=…;object=…"). cert is a certificate
// file; it may be "" when the backend holds the certificate. Errors name the files, never the
// key material or a PIN.
func LoadSigner(key, cert string, opts ...SignerOption) (*Signer, error) {
	var cfg signerConfig
	for _, o := range opts {
		o(&cfg)
	}
	if key == "" {
		return nil, fmt.Errorf("signing needs a private key")
	}
	var (
		k        crypto.Signer
		heldCert *x509.Certificate
		err      error
	)
	if scheme, ok := uriScheme(key); ok {
		backendsMu.RLock()
		b := backends[scheme]
		backendsMu.RUnlock()
		if b == nil {
			if pkg, known := knownBackendPackages[scheme]; known {
				return nil, fmt.Errorf("%s: keys are not supported by this build: import %s", scheme, pkg)
			}
			return nil, fmt.Errorf("%q: no key backend for URI scheme %q", redactURI(key), scheme)
		}
		if k, heldCert, err = b(key, cfg.backends); err != nil {
			return nil, err
		}
	} else {
		if w, err := keys.CheckKeyFileMode(key); err != nil {
			return nil, err
		} else if w != "" && cfg.warn != nil {
			cfg.warn(w)
		}
		if k, err = keys.LoadSigner(key); err != nil {
			return nil, err
		}
	}
	var c *x509.Certificate
	switch {
	case cert != "":
		certs, err := keys.LoadCertificates(cert)
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("%s: no certificate", cert)
		}
		c = certs[0]
	case heldCert != nil:
		c = heldCert
	default:
		return nil, fmt.Errorf("signing needs the signer's certificate (none given, and the key's store holds none)")
	}
	if err := keys.MatchKey(k, c); err != nil {
		return nil, fmt.Errorf("%s and %s: %w", redactURI(key), certName(cert), err)
	}
	return &Signer{Key: k, Cert: c, ID: cfg.id}, nil
}

func certName(cert string) string {
	if cert == "" {
		return "the token's certificate"
	}
	return cert
}

// uriScheme returns the scheme of a key URI ("pkcs11"), false for a file path. A path that
// exists as a file is always a path.
func uriScheme(s string) (string, bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || strings.ContainsAny(s[:i], "/\\.") {
		return "", false
	}
	if _, err := os.Lstat(s); err == nil {
		return "", false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '+') {
			return "", false
		}
	}
	return s[:i], true
}

// redactURI removes PIN values from a key URI so that it may appear in a message.
func redactURI(s string) string {
	if _, ok := uriScheme(s); !ok {
		return s
	}
	var b strings.Builder
	for i, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '?' || r == '&' }) {
		if i > 0 {
			b.WriteByte(';')
		}
		if k, _, ok := strings.Cut(part, "="); ok && strings.HasSuffix(strings.ToLower(k), "pin-value") {
			b.WriteString(k + "=REDACTED")
			continue
		}
		b.WriteString(part)
	}
	return b.String()
}

// Trust is the set of certificates that stands in for a kernel keyring.
type Trust struct {
	Certs []*x509.Certificate
	// Sources names, for each certificate, the file it came from.
	Sources []string
}

// NewTrust returns a trust set of certs.
func NewTrust(certs ...*x509.Certificate) *Trust {
	t := &Trust{Certs: certs}
	for range certs {
		t.Sources = append(t.Sources, "")
	}
	return t
}

// LoadTrust reads a trust set: each path is a certificate file (PEM, possibly several, or DER)
// or a directory whose *.pem, *.crt, *.der, *.cer and *.x509 files are read. An empty result is
// not an error here (an empty keyring is a thing to emulate); Verify then reports ENOKEY.
func LoadTrust(paths ...string) (*Trust, error) {
	var files, dirs []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("trust: %w", err)
		}
		if fi.IsDir() {
			dirs = append(dirs, p)
		} else {
			files = append(files, p)
		}
	}
	return LoadTrustFrom(files, dirs)
}

// LoadTrustFrom reads certificate files and keyring directories, as --cert and --keyring.
func LoadTrustFrom(certFiles, keyringDirs []string) (*Trust, error) {
	t, err := keys.LoadTrust(certFiles, keyringDirs)
	if err != nil {
		return nil, err
	}
	return &Trust{Certs: t.Certs, Sources: t.Sources}, nil
}

func (t *Trust) certs() []*x509.Certificate {
	if t == nil {
		return nil
	}
	return t.Certs
}

// Refusal is a certificate a restricted keyring does not take, with the kernel's errno and why.
type Refusal struct {
	Cert   *x509.Certificate
	Source string // the file it came from, when known
	Errno  compat.Errno
	Reason string
}

// Error names the certificate, its file, the reason and the errno.
func (r Refusal) Error() string {
	name := "certificate"
	if r.Cert != nil {
		name = fmt.Sprintf("certificate %q (serial %s)", r.Cert.Subject.String(), r.Cert.SerialNumber.Text(16))
	}
	if r.Source != "" {
		name += " from " + r.Source
	}
	return fmt.Sprintf("%s refused into the keyring: %s (%s)", name, r.Reason, r.Errno.Name())
}

// RestrictTo returns the trust set a keyring restricted with `keyctl restrict_keyring … asymmetric
// key_or_keyring:ROOT` would hold: a certificate counts only if one of roots signed it (or it
// is a root), as restrict_link_by_key_or_keyring decides; the others are returned as refusals.
// A signature by a refused certificate then fails as a key that is not in the keyring (ENOKEY).
func (t *Trust) RestrictTo(roots []*x509.Certificate) (*Trust, []Refusal) {
	kept, refused := keys.RestrictTrust(&keys.Trust{Certs: t.certs(), Sources: t.sources()}, roots)
	out := make([]Refusal, len(refused))
	for i, r := range refused {
		out[i] = Refusal{Cert: r.Cert, Source: r.Source, Errno: r.Errno, Reason: r.Reason}
	}
	return &Trust{Certs: kept.Certs, Sources: kept.Sources}, out
}

func (t *Trust) sources() []string {
	if t == nil {
		return nil
	}
	return t.Sources
}
