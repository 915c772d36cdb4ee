// Package pkcs11 signs with private keys that stay inside a PKCS#11 token (an HSM, a smart
// card, SoftHSM), named by an RFC 7512 "pkcs11:" URI. A [Key] is a crypto.Signer, so it goes
// wherever bpfsig takes a file key (internal/cms.Sign underneath sign and migrate).
//
// The backend needs cgo (it loads the token's C library with dlopen) and is built on linux and
// darwin with cgo enabled. In any other build the package still compiles and [Open] fails with
// [ErrNoCgo], so importing it forces nothing on pure-Go or cross builds.
//
// The PIN never appears in errors, in [Key.String] or in logs written by this package.
package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/p11uri"
)

// EnvModule names the environment variable consulted for the module path when neither the URI
// nor [Options.ModulePath] gives one.
const EnvModule = "BPFSIG_PKCS11_MODULE"

// Errors. Every error from [Open] wraps exactly one of them; [ErrUsage] marks the ones a caller
// should report as a usage error (exit 2), the rest are failures (exit 1).
var (
	// ErrUsage: the URI is malformed, names no private key (type=cert ...), or no module is configured.
	ErrUsage = errors.New("pkcs11: usage")
	// ErrNoCgo: this build has no PKCS#11 backend.
	ErrNoCgo = errors.New("pkcs11: bpfsig was built without cgo (or for an OS other than linux/darwin); PKCS#11 keys need a cgo build")
	// ErrModule: the module file is missing or is not a loadable PKCS#11 library.
	ErrModule = errors.New("pkcs11: module")
	// ErrToken: no initialized token matches the URI, or more than one does.
	ErrToken = errors.New("pkcs11: token")
	// ErrLogin: the token needs a PIN and none was given, or the PIN was refused.
	ErrLogin = errors.New("pkcs11: login")
	// ErrKeyNotFound: the token holds no private key matching the URI (or more than one).
	ErrKeyNotFound = errors.New("pkcs11: key not found")
	// ErrKey: the key was found but cannot be used (type, size, curve, missing public half).
	ErrKey = errors.New("pkcs11: unusable key")
)

// Options are the settings that do not come from the URI.
type Options struct {
	// ModulePath is the PKCS#11 library (the --pkcs11-module flag), used when the URI has no
	// module-path.
	ModulePath string
	// Certificate, when set (--cert), is the key's certificate; it must hold the token key's
	// public key. When nil, the certificate is taken from the token if it holds one.
	Certificate *x509.Certificate
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// IsURI reports whether s names a PKCS#11 key ("pkcs11:" prefix, any case) rather than a file.
func IsURI(s string) bool { return p11uri.IsURI(s) }

// resolveModule picks the module path by precedence: the URI's module-path, then
// opts.ModulePath, then $BPFSIG_PKCS11_MODULE. None of them set is an [ErrUsage] error naming
// all three. A module-name without module-path is not resolved (there is no portable search
// path) and is an error too.
func resolveModule(u *p11uri.URI, opts Options) (string, error) {
	if u.ModulePath != "" {
		return u.ModulePath, nil
	}
	if opts.ModulePath != "" {
		return opts.ModulePath, nil
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if m := getenv(EnvModule); m != "" {
		return m, nil
	}
	if u.ModuleName != "" {
		return "", fmt.Errorf("%w: module-name=%s cannot be resolved to a file: give module-path= in the URI, --pkcs11-module or %s", ErrUsage, u.ModuleName, EnvModule)
	}
	return "", fmt.Errorf("%w: no PKCS#11 module: give module-path= in the URI, --pkcs11-module, or set %s (e.g. /usr/lib/softhsm/libsofthsm2.so)", ErrUsage, EnvModule)
}

// mechanism is the signing operation asked of the backend.
type mechanism int

const (
	mechRSAPKCS mechanism = iota + 1 // CKM_RSA_PKCS: PKCS#1 v1.5 padding of a DigestInfo
	mechECDSA                        // CKM_ECDSA: raw r||s over a digest
)

// backend is one open session on a token with a found private key. Both methods are safe for
// concurrent use; close is idempotent and sign fails after it.
type backend interface {
	sign(m mechanism, data []byte) ([]byte, error)
	close() error
}

// found is what a backend reports after opening.
type found struct {
	be    backend
	pub   crypto.PublicKey
	cert  *x509.Certificate // from the token; nil if none
	token string            // token label, for messages
}

// Key is a private key in a PKCS#11 token. It implements crypto.Signer; Sign is safe for
// concurrent use (calls are serialized on one session). Close releases the session.
type Key struct {
	uri   p11uri.URI
	pub   crypto.PublicKey
	cert  *x509.Certificate
	token string
	be    backend
}

// Open finds the private key uri names and logs in. The PIN comes from the URI's pin-value or
// pin-source; the module from [ResolveModule]. Errors wrap the sentinel errors above, name the
// module, token and object concerned, and never contain the PIN.
func Open(uri string, opts Options) (*Key, error) {
	u, err := p11uri.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if u.Type != "" && u.Type != p11uri.TypePrivate {
		return nil, fmt.Errorf("%w: %s: type=%s names no private key (use type=private or leave type out)", ErrUsage, u, u.Type)
	}
	if !u.Has("object") && !u.Has("id") {
		return nil, fmt.Errorf("%w: %s: name the key with object= (label) or id=", ErrUsage, u)
	}
	module, err := resolveModule(u, opts)
	if err != nil {
		return nil, err
	}
	pin, hasPIN, err := u.PIN()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLogin, u, err)
	}
	f, err := openBackend(u, module, pin, hasPIN)
	if err != nil {
		return nil, err
	}
	k := &Key{uri: *u, pub: f.pub, cert: f.cert, token: f.token, be: f.be}
	if err := checkPublic(f.pub); err != nil {
		k.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrKey, u, err)
	}
	if opts.Certificate != nil {
		if err := keys.MatchKey(k, opts.Certificate); err != nil {
			k.Close()
			return nil, fmt.Errorf("%w: %s: %w", ErrKey, u, err)
		}
		k.cert = opts.Certificate
	}
	return k, nil
}

func checkPublic(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too small (need at least 2048)", p.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		if n := p.Curve.Params().Name; n != "P-256" && n != "P-384" {
			return fmt.Errorf("ECDSA curve %s not supported (use P-256 or P-384)", n)
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T (use RSA or ECDSA P-256/P-384)", pub)
}

// Public returns the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Certificate returns the certificate given in [Options.Certificate], else the token's
// certificate for this key, else nil.
func (k *Key) Certificate() *x509.Certificate { return k.cert }

// String names the key by its URI, without the PIN.
func (k *Key) String() string { return "PKCS#11 key " + k.uri.String() }

// Close ends the session; closing again does nothing. The Key cannot sign afterwards.
func (k *Key) Close() error { return k.be.close() }

// digestInfoPrefix is the DER DigestInfo header PKCS#1 v1.5 puts before the digest.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Sign signs digest in the token: RSA keys with PKCS#1 v1.5 (opts.HashFunc() must be SHA-256,
// SHA-384 or SHA-512; PSS is refused), ECDSA keys with an ASN.1 DER signature as
// crypto/ecdsa makes. rand is not used: the token supplies its own randomness.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return nil, fmt.Errorf("pkcs11: sign with %s: RSA-PSS is not supported (the kernel verifies PKCS#1 v1.5)", k.uri)
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, fmt.Errorf("pkcs11: sign with %s: hash %v not supported (SHA-256/384/512)", k.uri, h)
		}
		if len(digest) != h.Size() {
			return nil, fmt.Errorf("pkcs11: sign with %s: digest is %d bytes, %v needs %d", k.uri, len(digest), h, h.Size())
		}
		sig, err := k.be.sign(mechRSAPKCS, append(append([]byte{}, prefix...), digest...))
		if err != nil {
			return nil, fmt.Errorf("pkcs11: sign on token %q: %w", k.token, err)
		}
		if len(sig) != (pub.N.BitLen()+7)/8 {
			return nil, fmt.Errorf("pkcs11: sign on token %q: RSA signature is %d bytes, want %d", k.token, len(sig), (pub.N.BitLen()+7)/8)
		}
		return sig, nil
	case *ecdsa.PublicKey:
		if h != 0 && len(digest) != h.Size() {
			return nil, fmt.Errorf("pkcs11: sign with %s: digest is %d bytes, %v needs %d", k.uri, len(digest), h, h.Size())
		}
		raw, err := k.be.sign(mechECDSA, digest)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: sign on token %q: %w", k.token, err)
		}
		return ecdsaDER(raw, (pub.Curve.Params().BitSize+7)/8)
	}
	return nil, fmt.Errorf("pkcs11: sign with %s: unsupported key type %T", k.uri, k.pub)
}

// ecdsaDER turns the PKCS#11 r||s form (each size bytes) into SEQUENCE { INTEGER r, INTEGER s }.
func ecdsaDER(raw []byte, size int) ([]byte, error) {
	if len(raw) != 2*size {
		return nil, fmt.Errorf("pkcs11: ECDSA signature from the token is %d bytes, want %d", len(raw), 2*size)
	}
	r := new(big.Int).SetBytes(raw[:size])
	s := new(big.Int).SetBytes(raw[size:])
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

// ResolveModule returns the module path a key URI resolves to by precedence: the URI's
// module-path, then opts.ModulePath (the --pkcs11-module flag), then $BPFSIG_PKCS11_MODULE;
// without any, an error naming all three.
func ResolveModule(uri string, opts Options) (string, error) {
	u, err := p11uri.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return resolveModule(u, opts)
}
