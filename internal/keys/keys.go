// Package keys loads signing keys and certificates for bpfsig, and the certificates that
// stand in for a kernel keyring.
//
// Errors never contain key material or file contents: they name the file, the format that
// was tried and what was wrong, nothing more.
package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// ErrEncryptedKey reports a passphrase-protected private key, which bpfsig does not decrypt.
var ErrEncryptedKey = errors.New("private key is encrypted (passphrase-protected); decrypt it first, " +
	"e.g. `openssl pkey -in KEY -out KEY.clear`")

// LoadSigner reads a private key from path, a regular file (or a link to one) of at most
// [fsio.KeyLimit] bytes — a FIFO, socket, device or directory fails at once, naming it: PEM ("PRIVATE KEY" PKCS#8, "RSA PRIVATE KEY"
// PKCS#1, "EC PRIVATE KEY" SEC 1; other PEM blocks such as EC PARAMETERS or certificates are
// skipped) or DER in any of those encodings. Supported keys: RSA (at least 2048 bits) and
// ECDSA on P-256 or P-384, the ones the kernel verifies for BPF. Encrypted PEM keys
// ("ENCRYPTED PRIVATE KEY", or Proc-Type: 4,ENCRYPTED) fail with [ErrEncryptedKey].
func LoadSigner(path string) (crypto.Signer, error) {
	data, err := fsio.ReadFile(path, fsio.KeyLimit)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("load key %s: file is empty", path)
	}
	var key any
	if bytes.Contains(data, []byte("-----BEGIN")) {
		key, err = pemKey(data)
	} else {
		key, err = derKey(data)
	}
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	s, err := checkKey(key)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	return s, nil
}

func pemKey(data []byte) (any, error) {
	rest := data
	var seen []string
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		seen = append(seen, b.Type)
		switch b.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, ErrEncryptedKey
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, ErrEncryptedKey
			}
			var k any
			var err error
			switch b.Type {
			case "PRIVATE KEY":
				k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
			case "RSA PRIVATE KEY":
				k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			default:
				k, err = x509.ParseECPrivateKey(b.Bytes)
			}
			if err != nil {
				return nil, fmt.Errorf("malformed %s PEM block (%s)", b.Type, sanitize(err))
			}
			return k, nil
		}
	}
	if len(seen) == 0 {
		return nil, errors.New("no PEM block found (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
	}
	return nil, fmt.Errorf("no private key among the PEM blocks (found %s)", strings.Join(seen, ", "))
}

func derKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if looksEncryptedPKCS8(der) {
		return nil, ErrEncryptedKey
	}
	return nil, errors.New("not a PEM file and not a DER private key (tried PKCS#8, PKCS#1, SEC 1)")
}

// looksEncryptedPKCS8 reports whether der starts like EncryptedPrivateKeyInfo
// (SEQUENCE { SEQUENCE { OID pkcs5PBES2 / pbeWith... } ... }).
func looksEncryptedPKCS8(der []byte) bool {
	pbes2 := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d}
	return len(der) > 32 && der[0] == 0x30 && bytes.Contains(der[:32], pbes2)
}

// sanitize keeps only the fixed text of a parser error; Go's x509 errors do not embed input
// bytes, but be strict anyway: cut at the first character outside printable ASCII.
func sanitize(err error) string {
	s := err.Error()
	for i, r := range s {
		if r < 0x20 || r > 0x7e {
			return s[:i]
		}
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func checkKey(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too small (need at least 2048)", k.N.BitLen())
		}
		return k, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return k, nil
		}
		return nil, fmt.Errorf("ECDSA curve %s not supported (use P-256 or P-384)", k.Curve.Params().Name)
	}
	return nil, fmt.Errorf("unsupported key type %T (use RSA or ECDSA P-256/P-384)", k)
}

// CheckKeyFileMode returns a warning when the private key file at path can be read by its
// group or by others (any of mode bits 0o044 set, or 0o077 for write/execute too); err only
// when the file cannot be examined.
func CheckKeyFileMode(path string) (warning string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("check key file mode: %w", err)
	}
	perm := st.Mode().Perm()
	if perm&0o077 != 0 {
		return fmt.Sprintf("private key %s has mode %04o: group or others can access it (chmod 600 %s)", path, perm, path), nil
	}
	return "", nil
}

// LoadCertificates reads one or more certificates from path, a regular file (or a link to
// one) of at most [fsio.CertificateLimit] bytes: PEM ("CERTIFICATE" blocks; other blocks are
// skipped) or a single DER certificate.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	return loadCertificates(path, fsio.CertificateLimit)
}

func loadCertificates(path string, limit int64) ([]*x509.Certificate, error) {
	data, err := fsio.ReadFile(path, limit)
	if err != nil {
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", path, err)
	}
	return certs, nil
}

func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("file is empty")
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("not a PEM file and not a DER certificate (%s)", sanitize(err))
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	rest := data
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			if strings.Contains(b.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("PEM block %d is a private key, not a certificate", n)
			}
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: malformed certificate (%s)", n, sanitize(err))
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return out, nil
}

// Trust is the emulated keyring: the certificates a kernel keyring would hold, and for each
// the file it came from.
type Trust struct {
	Certs   []*x509.Certificate
	Sources []string // Sources[i] is the file Certs[i] was read from
}

// certExtensions are the file name endings LoadTrust reads from keyring directories.
var certExtensions = []string{".pem", ".crt", ".der", ".cer", ".x509"}

// LoadTrust builds the emulated keyring from certificate files and keyring directories.
//
// Each file in certFiles must hold at least one certificate (any failure is an error).
// Each directory in keyringDirs is read non-recursively, in name order. Its regular files
// (and links to regular files) ending in .pem, .crt, .der, .cer or .x509 (case-insensitive)
// are loaded, each at most [fsio.KeyringEntryLimit] bytes; other regular files (a README)
// are ignored. Everything else in the directory is an error naming the entry and what it is
// ("ring/sub: is a directory, not a regular file; a keyring directory is not read
// recursively"): a subdirectory, FIFO, socket, device or dangling link, whatever its name,
// since a keyring silently missing a key would turn a trust problem into a confusing ENOKEY
// later — and a FIFO is never opened, so it cannot hang the run. A file with a certificate
// extension that does not hold a certificate is an error naming the file, likewise.
// Duplicate certificates (same DER) are kept once. An empty result is not an error (an
// empty keyring is a valid thing to emulate).
func LoadTrust(certFiles, keyringDirs []string) (*Trust, error) {
	t := &Trust{}
	seen := map[string]bool{}
	add := func(path string, certs []*x509.Certificate) {
		for _, c := range certs {
			if seen[string(c.Raw)] {
				continue
			}
			seen[string(c.Raw)] = true
			t.Certs = append(t.Certs, c)
			t.Sources = append(t.Sources, path)
		}
	}
	for _, f := range certFiles {
		certs, err := LoadCertificates(f)
		if err != nil {
			return nil, fmt.Errorf("trust: %w", err)
		}
		add(f, certs)
	}
	for _, d := range keyringDirs {
		names, err := keyringEntries(d)
		if err != nil {
			return nil, fmt.Errorf("trust: %w", err)
		}
		for _, p := range names {
			certs, err := loadCertificates(p, fsio.KeyringEntryLimit)
			if err != nil {
				return nil, fmt.Errorf("trust: %w", err)
			}
			add(p, certs)
		}
	}
	return t, nil
}

// keyringEntries returns the certificate files of keyring directory d, in name order, or an
// error naming the first entry that is not a regular file (see LoadTrust).
func keyringEntries(d string) ([]string, error) {
	fi, err := os.Stat(d)
	if err != nil {
		return nil, fmt.Errorf("keyring directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("keyring directory %s: is a %s, not a directory", d, fsio.Kind(fi.Mode()))
	}
	entries, err := os.ReadDir(d) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("keyring directory: %w", err)
	}
	var out []string
	dir := fsio.Physical(d) // "l/../ring": the entries are those of the directory the system lists
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		m := e.Type()
		if m&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("keyring directory %s: %s: dangling symbolic link", d, p)
			}
			if err != nil {
				return nil, fmt.Errorf("keyring directory %s: %w", d, err)
			}
			m = st.Mode().Type()
		}
		switch {
		case m.IsDir():
			return nil, fmt.Errorf("keyring directory %s: %w; a keyring directory is not read recursively", d,
				&fsio.NotRegularError{Path: p, Kind: fsio.Kind(m)})
		case !m.IsRegular():
			return nil, fmt.Errorf("keyring directory %s: %w", d, &fsio.NotRegularError{Path: p, Kind: fsio.Kind(m)})
		case hasCertExtension(e.Name()):
			out = append(out, p)
		}
	}
	return out, nil
}

func hasCertExtension(name string) bool {
	l := strings.ToLower(name)
	for _, e := range certExtensions {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

// MatchKey reports an error unless signer's public key is the one in cert.
func MatchKey(signer crypto.Signer, cert *x509.Certificate) error {
	if signer == nil || cert == nil {
		return errors.New("match key: missing key or certificate")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return fmt.Errorf("match key: unsupported key type %T", signer.Public())
	}
	if !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("match key: the private key does not belong to certificate %q (serial %s)",
			cert.Subject.String(), cert.SerialNumber.Text(16))
	}
	return nil
}
