//go:build cgo && (linux || darwin)

package pkcs11

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/p11uri"
)

// module is one loaded and initialized PKCS#11 library, shared by the Keys that use it.
// C_Initialize/C_Finalize are process-wide per library, so it is reference counted.
type module struct {
	path string
	ctx  *p11.Ctx
	refs int
}

var (
	modMu   sync.Mutex
	modules = map[string]*module{}
)

func acquireModule(path string) (*module, error) {
	modMu.Lock()
	defer modMu.Unlock()
	if m := modules[path]; m != nil {
		m.refs++
		return m, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrModule, path, err)
	}
	if !st.Mode().IsRegular() {
		// dlopen of a FIFO blocks until a writer comes; of a device, reads whatever it gives.
		return nil, fmt.Errorf("%w %s: is a %s, not a PKCS#11 library", ErrModule, path, fsio.Kind(st.Mode()))
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w %s: cannot be loaded as a PKCS#11 library (dlopen failed or no C_GetFunctionList)", ErrModule, path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("%w %s: C_Initialize: %w", ErrModule, path, err)
	}
	m := &module{path: path, ctx: ctx, refs: 1}
	modules[path] = m
	return m, nil
}

func (m *module) release() error {
	modMu.Lock()
	defer modMu.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(modules, m.path)
	err := m.ctx.Finalize()
	m.ctx.Destroy()
	if err != nil {
		return fmt.Errorf("pkcs11: module %s: C_Finalize: %w", m.path, err)
	}
	return nil
}

func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}

// trim removes the blank padding of PKCS#11 fixed-width strings.
func trim(s string) string { return strings.TrimRight(s, " \x00") }

type tokenCandidate struct {
	slot  uint
	info  p11.TokenInfo
	label string
}

// selectToken returns the one initialized token that matches u's library, slot and token attributes.
func selectToken(m *module, u *p11uri.URI) (tokenCandidate, error) {
	ctx := m.ctx
	if u.Has("library-manufacturer") || u.Has("library-description") || u.Has("library-version") {
		info, err := ctx.GetInfo()
		if err != nil {
			return tokenCandidate{}, fmt.Errorf("%w: module %s: C_GetInfo: %w", ErrModule, m.path, err)
		}
		if u.Has("library-manufacturer") && trim(info.ManufacturerID) != u.LibraryManufacturer ||
			u.Has("library-description") && trim(info.LibraryDescription) != u.LibraryDescription ||
			u.Has("library-version") && (info.LibraryVersion.Major != u.LibraryVersion.Major || info.LibraryVersion.Minor != u.LibraryVersion.Minor) {
			return tokenCandidate{}, fmt.Errorf("%w: module %s (%q %q %d.%d) does not match the library attributes of %s", ErrToken, m.path,
				trim(info.ManufacturerID), trim(info.LibraryDescription), info.LibraryVersion.Major, info.LibraryVersion.Minor, u)
		}
	}
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return tokenCandidate{}, fmt.Errorf("%w: module %s: C_GetSlotList: %w", ErrToken, m.path, err)
	}
	var match []tokenCandidate
	var present []string
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil || ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		label := trim(ti.Label)
		present = append(present, fmt.Sprintf("%q (serial %s, slot %d)", label, trim(ti.SerialNumber), s))
		if u.Has("slot-id") && uint64(s) != u.SlotID {
			continue
		}
		if u.Has("slot-description") || u.Has("slot-manufacturer") {
			si, err := ctx.GetSlotInfo(s)
			if err != nil {
				continue
			}
			if u.Has("slot-description") && trim(si.SlotDescription) != u.SlotDescription ||
				u.Has("slot-manufacturer") && trim(si.ManufacturerID) != u.SlotManufacturer {
				continue
			}
		}
		if u.Has("token") && label != u.Token ||
			u.Has("manufacturer") && trim(ti.ManufacturerID) != u.Manufacturer ||
			u.Has("model") && trim(ti.Model) != u.Model ||
			u.Has("serial") && trim(ti.SerialNumber) != u.Serial {
			continue
		}
		match = append(match, tokenCandidate{slot: s, info: ti, label: label})
	}
	sort.Strings(present)
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		if len(present) == 0 {
			return tokenCandidate{}, fmt.Errorf("%w: module %s has no initialized token", ErrToken, m.path)
		}
		return tokenCandidate{}, fmt.Errorf("%w: no token matches %s (module %s has %s)", ErrToken, u, m.path, strings.Join(present, ", "))
	}
	var names []string
	for _, c := range match {
		names = append(names, fmt.Sprintf("%q (slot %d)", c.label, c.slot))
	}
	return tokenCandidate{}, fmt.Errorf("%w: %s matches %d tokens (%s); add token= or serial=", ErrToken, u, len(match), strings.Join(names, ", "))
}

type session struct {
	mu   sync.Mutex
	m    *module
	sh   p11.SessionHandle
	priv p11.ObjectHandle
}

func (s *session) sign(mech mechanism, data []byte) ([]byte, error) {
	var mt uint
	switch mech {
	case mechRSAPKCS:
		mt = p11.CKM_RSA_PKCS
	case mechECDSA:
		mt = p11.CKM_ECDSA
	default:
		return nil, fmt.Errorf("internal: mechanism %d", mech)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return nil, errors.New("key is closed")
	}
	if err := s.m.ctx.SignInit(s.sh, []*p11.Mechanism{p11.NewMechanism(mt, nil)}, s.priv); err != nil {
		return nil, fmt.Errorf("C_SignInit: %w", err)
	}
	sig, err := s.m.ctx.Sign(s.sh, data)
	if err != nil {
		return nil, fmt.Errorf("C_Sign: %w", err)
	}
	return sig, nil
}

// close ends the session. It does not log out: the login state is shared by every session of
// the application on that token, and other Keys may still use it.
func (s *session) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return nil
	}
	err := s.m.ctx.CloseSession(s.sh)
	if rerr := s.m.release(); err == nil {
		err = rerr
	}
	s.m = nil
	return err
}

func openBackend(u *p11uri.URI, modulePath, pin string, hasPIN bool) (f found, err error) {
	m, err := acquireModule(modulePath)
	if err != nil {
		return found{}, err
	}
	released := false
	defer func() {
		if err != nil && !released {
			m.release()
		}
	}()
	tok, err := selectToken(m, u)
	if err != nil {
		return found{}, err
	}
	sh, err := m.ctx.OpenSession(tok.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return found{}, fmt.Errorf("%w: token %q: C_OpenSession: %w", ErrToken, tok.label, err)
	}
	s := &session{m: m, sh: sh}
	defer func() {
		if err != nil {
			released = true
			s.close()
		}
	}()
	if tok.info.Flags&p11.CKF_LOGIN_REQUIRED != 0 {
		if !hasPIN {
			return found{}, fmt.Errorf("%w: token %q requires a PIN: add pin-source=FILE (or pin-value=) to the URI", ErrLogin, tok.label)
		}
		if err := m.ctx.Login(sh, p11.CKU_USER, pin); err != nil && !isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
			switch {
			case isCode(err, p11.CKR_PIN_INCORRECT):
				return found{}, fmt.Errorf("%w: token %q: wrong PIN (CKR_PIN_INCORRECT)", ErrLogin, tok.label)
			case isCode(err, p11.CKR_PIN_LOCKED):
				return found{}, fmt.Errorf("%w: token %q: PIN is locked (CKR_PIN_LOCKED)", ErrLogin, tok.label)
			case isCode(err, p11.CKR_PIN_LEN_RANGE):
				return found{}, fmt.Errorf("%w: token %q: PIN length out of range (CKR_PIN_LEN_RANGE)", ErrLogin, tok.label)
			}
			return found{}, fmt.Errorf("%w: token %q: C_Login: %w", ErrLogin, tok.label, err)
		}
	}
	tmpl := []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY)}
	if u.Has("object") {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_LABEL, u.Object))
	}
	if u.Has("id") {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_ID, u.ID))
	}
	privs, err := findObjects(m.ctx, sh, tmpl, 2)
	if err != nil {
		return found{}, fmt.Errorf("%w: token %q: %w", ErrKeyNotFound, tok.label, err)
	}
	switch len(privs) {
	case 0:
		all, err := findObjects(m.ctx, sh, tmpl[:1], 1)
		if err == nil && len(all) == 0 {
			return found{}, fmt.Errorf("%w: token %q holds no private key at all (wanted %s)", ErrKeyNotFound, tok.label, u)
		}
		return found{}, fmt.Errorf("%w: token %q holds no private key matching %s", ErrKeyNotFound, tok.label, u)
	case 2:
		return found{}, fmt.Errorf("%w: %s matches more than one private key on token %q; add id= or object=", ErrKeyNotFound, u, tok.label)
	}
	s.priv = privs[0]
	pub, cert, err := publicOf(m.ctx, sh, s.priv)
	if err != nil {
		return found{}, fmt.Errorf("%w: token %q, %s: %w", ErrKey, tok.label, u, err)
	}
	return found{be: s, pub: pub, cert: cert, token: tok.label}, nil
}

func findObjects(ctx *p11.Ctx, sh p11.SessionHandle, tmpl []*p11.Attribute, max int) ([]p11.ObjectHandle, error) {
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, fmt.Errorf("C_FindObjectsInit: %w", err)
	}
	objs, _, err := ctx.FindObjects(sh, max)
	ferr := ctx.FindObjectsFinal(sh)
	if err != nil {
		return nil, fmt.Errorf("C_FindObjects: %w", err)
	}
	if ferr != nil {
		return nil, fmt.Errorf("C_FindObjectsFinal: %w", ferr)
	}
	return objs, nil
}

func attrs(ctx *p11.Ctx, sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	var t []*p11.Attribute
	for _, ty := range types {
		t = append(t, p11.NewAttribute(ty, nil))
	}
	got, err := ctx.GetAttributeValue(sh, o, t)
	if err != nil {
		return nil, err
	}
	out := map[uint][]byte{}
	for _, a := range got {
		out[a.Type] = a.Value
	}
	return out, nil
}

var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
)

// publicOf finds the private key's public half (from the key itself for RSA, else from the
// public key object or the certificate with the same CKA_ID) and the token's certificate.
func publicOf(ctx *p11.Ctx, sh p11.SessionHandle, priv p11.ObjectHandle) (crypto.PublicKey, *x509.Certificate, error) {
	a, err := attrs(ctx, sh, priv, p11.CKA_KEY_TYPE, p11.CKA_ID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading key attributes: %w", err)
	}
	id := a[p11.CKA_ID]
	kt := ulong(a[p11.CKA_KEY_TYPE])
	cert := certificateFor(ctx, sh, id)

	var pub crypto.PublicKey
	switch kt {
	case p11.CKK_RSA:
		if ra, err := attrs(ctx, sh, priv, p11.CKA_MODULUS, p11.CKA_PUBLIC_EXPONENT); err == nil && len(ra[p11.CKA_MODULUS]) > 0 {
			e := new(big.Int).SetBytes(ra[p11.CKA_PUBLIC_EXPONENT])
			if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
				return nil, nil, errors.New("RSA public exponent out of range")
			}
			pub = &rsa.PublicKey{N: new(big.Int).SetBytes(ra[p11.CKA_MODULUS]), E: int(e.Int64())}
		}
	case p11.CKK_EC:
		ea, err := attrs(ctx, sh, priv, p11.CKA_EC_PARAMS)
		if err != nil {
			return nil, nil, fmt.Errorf("reading CKA_EC_PARAMS: %w", err)
		}
		var oid asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(ea[p11.CKA_EC_PARAMS], &oid); err != nil || len(rest) != 0 {
			return nil, nil, errors.New("CKA_EC_PARAMS is not a named curve OID")
		}
		var curve elliptic.Curve
		switch {
		case oid.Equal(oidP256):
			curve = elliptic.P256()
		case oid.Equal(oidP384):
			curve = elliptic.P384()
		default:
			return nil, nil, fmt.Errorf("ECDSA curve %v not supported (use P-256 or P-384)", oid)
		}
		if p := ecPublicFor(ctx, sh, id, curve); p != nil {
			pub = p
		} else if cert != nil {
			if cp, ok := cert.PublicKey.(*ecdsa.PublicKey); ok && cp.Curve == curve {
				pub = cp
			}
		}
	default:
		return nil, nil, fmt.Errorf("key type 0x%x is neither RSA nor EC", kt)
	}
	if pub == nil {
		return nil, nil, errors.New("the token holds neither a public key object nor a certificate with the key's CKA_ID, so its public key is unknown")
	}
	if cert != nil {
		if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
			cert = nil // a certificate with the same CKA_ID but another key: not this key's
		}
	}
	return pub, cert, nil
}

// ulong decodes a CK_ULONG attribute, which the module writes in host byte order.
func ulong(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	}
	return ^uint(0)
}

func ecPublicFor(ctx *p11.Ctx, sh p11.SessionHandle, id []byte, curve elliptic.Curve) *ecdsa.PublicKey {
	objs, err := findObjects(ctx, sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
		p11.NewAttribute(p11.CKA_ID, id),
	}, 1)
	if err != nil || len(objs) == 0 {
		return nil
	}
	a, err := attrs(ctx, sh, objs[0], p11.CKA_EC_POINT)
	if err != nil {
		return nil
	}
	point := a[p11.CKA_EC_POINT]
	// PKCS#11 says DER OCTET STRING; some modules store the bare point.
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	p, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil
	}
	return p
}

func certificateFor(ctx *p11.Ctx, sh p11.SessionHandle, id []byte) *x509.Certificate {
	if len(id) == 0 {
		return nil
	}
	objs, err := findObjects(ctx, sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_CERTIFICATE),
		p11.NewAttribute(p11.CKA_CERTIFICATE_TYPE, p11.CKC_X_509),
		p11.NewAttribute(p11.CKA_ID, id),
	}, 1)
	if err != nil || len(objs) == 0 {
		return nil
	}
	a, err := attrs(ctx, sh, objs[0], p11.CKA_VALUE)
	if err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(bytes.Clone(a[p11.CKA_VALUE]))
	if err != nil {
		return nil
	}
	return c
}
