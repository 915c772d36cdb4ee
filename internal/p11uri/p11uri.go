// Package p11uri parses PKCS#11 URIs (RFC 7512), the "pkcs11:" names of keys and certificates
// held by a token.
//
// The rules applied, from RFC 7512 §2.3 and §3.3:
//
//   - The path holds ";"-separated name=value attributes, the query "&"-separated ones. Names are
//     matched case-insensitively (ABNF literals are) and must not repeat in the path.
//   - Values are percent-decoded; characters outside the RFC's allowed set must be
//     percent-encoded. "id" is raw bytes, all others are UTF-8 text.
//   - Attribute names outside the grammar are syntax errors. A vendor-specific ("x-") path
//     attribute this package cannot honour would make the URI match no object, so Parse rejects
//     it too: a signing tool must not silently pick another key. Vendor-specific query
//     attributes are ignored (kept in [URI.Ignored]).
//   - "pin-value" and "pin-source" may appear once each, not both. "module-path" and
//     "module-name" at most once.
//
// A URI's String never contains the PIN.
package p11uri

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// Scheme is the URI scheme prefix, without the colon.
const Scheme = "pkcs11"

// MaxPINSourceSize bounds what is read from a pin-source file.
const MaxPINSourceSize = 4096

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("malformed PKCS#11 URI")

// Object types ("type" attribute).
const (
	TypePublic    = "public"
	TypePrivate   = "private"
	TypeCert      = "cert"
	TypeSecretKey = "secret-key"
	TypeData      = "data"
)

// Version is a library-version value "M" or "M.N".
type Version struct{ Major, Minor uint8 }

// URI is a parsed PKCS#11 URI. String fields are empty when the attribute is absent; Has tells an
// absent attribute from an empty one.
type URI struct {
	// Token attributes (CK_TOKEN_INFO).
	Token, Manufacturer, Serial, Model string
	// Library attributes (CK_INFO).
	LibraryManufacturer, LibraryDescription string
	LibraryVersion                          Version
	// Slot attributes (CK_SLOT_INFO, CK_SLOT_ID).
	SlotDescription, SlotManufacturer string
	SlotID                            uint64
	// Object attributes: CKA_LABEL, CKA_CLASS ("type"), CKA_ID.
	Object, Type string
	ID           []byte
	// Query attributes. PIN values are not exported: use PIN.
	PINSource  string
	ModuleName string
	ModulePath string
	// Ignored lists the names of the vendor-specific ("x-") query attributes, in order.
	Ignored []string

	pinValue    string
	hasPINValue bool
	present     map[string]bool
}

var pathAttrs = map[string]bool{
	"token": true, "manufacturer": true, "serial": true, "model": true,
	"library-manufacturer": true, "library-version": true, "library-description": true,
	"object": true, "type": true, "id": true,
	"slot-description": true, "slot-manufacturer": true, "slot-id": true,
}

// pathOrder is the attribute order String writes.
var pathOrder = []string{"token", "manufacturer", "serial", "model", "library-manufacturer",
	"library-description", "library-version", "slot-description", "slot-manufacturer", "slot-id",
	"object", "type", "id"}

// Has reports whether the URI carries the named attribute (path or query), even with an empty value.
func (u *URI) Has(name string) bool { return u.present[name] }

// IsURI reports whether s is meant as a PKCS#11 URI (starts with "pkcs11:", any case) rather than
// a file name.
func IsURI(s string) bool {
	return len(s) >= len(Scheme)+1 && strings.EqualFold(s[:len(Scheme)+1], Scheme+":")
}

func syntaxf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, a...)...)
}

// Parse parses s as a PKCS#11 URI. Errors wrap [ErrSyntax] and never quote the pin-value.
func Parse(s string) (*URI, error) {
	if !IsURI(s) {
		return nil, syntaxf("does not start with %q", Scheme+":")
	}
	rest := s[len(Scheme)+1:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, syntaxf("fragment (#) is not allowed")
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	u := &URI{present: map[string]bool{}}
	if path != "" {
		for i, attr := range strings.Split(path, ";") {
			if err := u.pathAttr(i+1, attr); err != nil {
				return nil, err
			}
		}
	}
	if hasQuery {
		if query == "" {
			return nil, syntaxf("empty query after '?'")
		}
		for i, attr := range strings.Split(query, "&") {
			if err := u.queryAttr(i+1, attr); err != nil {
				return nil, err
			}
		}
	}
	if u.Has("pin-value") && u.Has("pin-source") {
		return nil, syntaxf("both pin-value and pin-source are given (RFC 7512 §2.3: refuse)")
	}
	return u, nil
}

// splitAttr splits "name=value"; the name is lower-cased.
func splitAttr(where string, n int, attr string) (name, raw string, err error) {
	name, raw, ok := strings.Cut(attr, "=")
	if !ok {
		if attr == "" {
			return "", "", syntaxf("%s attribute %d is empty", where, n)
		}
		return "", "", syntaxf("%s attribute %d has no '='", where, n)
	}
	if name == "" {
		return "", "", syntaxf("%s attribute %d has an empty name", where, n)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", syntaxf("%s attribute %d: invalid character in name", where, n)
		}
	}
	return strings.ToLower(name), raw, nil
}

// Characters allowed unencoded in values besides unreserved (ALPHA DIGIT - . _ ~).
const (
	pathExtra  = ":[]@!$'()*+,=&"
	queryExtra = ":[]@!$'()*+,=/?|"
)

// decode percent-decodes raw, refusing characters the grammar does not allow unencoded.
func decode(raw, extra string) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) {
				return nil, fmt.Errorf("truncated percent-encoding at offset %d", i)
			}
			h, err1 := unhex(raw[i+1])
			l, err2 := unhex(raw[i+2])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("invalid percent-encoding at offset %d", i)
			}
			out = append(out, h<<4|l)
			i += 2
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			out = append(out, c)
		case strings.IndexByte(extra, c) >= 0:
			out = append(out, c)
		default:
			if c < 0x21 || c > 0x7e {
				return nil, fmt.Errorf("byte 0x%02x at offset %d must be percent-encoded", c, i)
			}
			return nil, fmt.Errorf("character %q at offset %d must be percent-encoded", c, i)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, error) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', nil
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, nil
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, nil
	}
	return 0, errors.New("not hex")
}

func text(name string, b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", syntaxf("attribute %s: value is not UTF-8", name)
	}
	return string(b), nil
}

func (u *URI) pathAttr(n int, attr string) error {
	name, raw, err := splitAttr("path", n, attr)
	if err != nil {
		return err
	}
	if !pathAttrs[name] {
		if strings.HasPrefix(name, "x-") {
			return syntaxf("vendor-specific path attribute %q is not supported (the URI would match no object)", name)
		}
		return syntaxf("unknown path attribute %q (the URI would match no object)", name)
	}
	if u.present[name] {
		return syntaxf("path attribute %q appears more than once", name)
	}
	val, err := decode(raw, pathExtra)
	if err != nil {
		return syntaxf("attribute %s: %v", name, err)
	}
	u.present[name] = true
	if name == "id" {
		u.ID = val
		return nil
	}
	s, err := text(name, val)
	if err != nil {
		return err
	}
	switch name {
	case "token":
		u.Token = s
	case "manufacturer":
		u.Manufacturer = s
	case "serial":
		u.Serial = s
	case "model":
		u.Model = s
	case "library-manufacturer":
		u.LibraryManufacturer = s
	case "library-description":
		u.LibraryDescription = s
	case "library-version":
		v, err := parseVersion(s)
		if err != nil {
			return syntaxf("attribute library-version: %v", err)
		}
		u.LibraryVersion = v
	case "slot-description":
		u.SlotDescription = s
	case "slot-manufacturer":
		u.SlotManufacturer = s
	case "slot-id":
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return syntaxf("attribute slot-id: %q is not a decimal number", s)
		}
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return syntaxf("attribute slot-id: %q is out of range", s)
		}
		u.SlotID = id
	case "object":
		u.Object = s
	case "type":
		switch s {
		case TypePublic, TypePrivate, TypeCert, TypeSecretKey, TypeData:
		default:
			return syntaxf("attribute type: %q is not one of public, private, cert, secret-key, data", s)
		}
		u.Type = s
	}
	return nil
}

func parseVersion(s string) (Version, error) {
	maj, min, hasMin := strings.Cut(s, ".")
	num := func(x string) (uint8, error) {
		if x == "" || strings.TrimLeft(x, "0123456789") != "" {
			return 0, fmt.Errorf("%q is not M or M.N", s)
		}
		v, err := strconv.ParseUint(x, 10, 8)
		if err != nil {
			return 0, fmt.Errorf("%q: component out of range 0..255", s)
		}
		return uint8(v), nil
	}
	var v Version
	var err error
	if v.Major, err = num(maj); err != nil {
		return Version{}, err
	}
	if hasMin {
		if v.Minor, err = num(min); err != nil {
			return Version{}, err
		}
	}
	return v, nil
}

func (u *URI) queryAttr(n int, attr string) error {
	name, raw, err := splitAttr("query", n, attr)
	if err != nil {
		return err
	}
	val, err := decode(raw, queryExtra)
	if err != nil {
		if name == "pin-value" {
			return syntaxf("attribute pin-value: malformed percent-encoding or character (value not shown)")
		}
		return syntaxf("attribute %s: %v", name, err)
	}
	switch {
	case name == "pin-value" || name == "pin-source" || name == "module-name" || name == "module-path":
	case strings.HasPrefix(name, "x-") && len(name) > 2:
		u.Ignored = append(u.Ignored, name)
		return nil
	default:
		return syntaxf("unknown query attribute %q (RFC 7512 allows pin-source, pin-value, module-name, module-path and x- vendor attributes)", name)
	}
	if u.present[name] {
		return syntaxf("query attribute %q appears more than once", name)
	}
	u.present[name] = true
	if name == "pin-value" {
		u.pinValue, u.hasPINValue = string(val), true
		return nil
	}
	s, err := text(name, val)
	if err != nil {
		return err
	}
	switch name {
	case "pin-source":
		if s == "" {
			return syntaxf("attribute pin-source is empty")
		}
		u.PINSource = s
	case "module-name":
		if s == "" || strings.ContainsAny(s, `/\`) {
			return syntaxf("attribute module-name must be a bare library name")
		}
		u.ModuleName = s
	case "module-path":
		if s == "" {
			return syntaxf("attribute module-path is empty")
		}
		u.ModulePath = s
	}
	return nil
}

// HasPIN reports whether the URI supplies a PIN (pin-value or pin-source).
func (u *URI) HasPIN() bool { return u.hasPINValue || u.PINSource != "" }

// PIN returns the PIN: the pin-value, or the contents of the pin-source file (a path, or a
// "file:" URI with an absolute path), without one trailing "\n" or "\r\n". A pin-source larger
// than [MaxPINSourceSize] bytes, anything but a regular file (a FIFO, a pipe, a device, a
// directory: refused without blocking), or an empty file is an error; errors name the file,
// never its contents. ok is false when the URI has no PIN.
func (u *URI) PIN() (pin string, ok bool, err error) {
	if u.hasPINValue {
		return u.pinValue, true, nil
	}
	if u.PINSource == "" {
		return "", false, nil
	}
	path, err := pinSourcePath(u.PINSource)
	if err != nil {
		return "", false, err
	}
	b, err := readLimited(path)
	if err != nil {
		return "", false, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", false, fmt.Errorf("pin-source %s: file is empty", path)
	}
	return string(b), true, nil
}

func pinSourcePath(src string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(src), "file:") {
		if strings.Contains(src, "://") || strings.Contains(src, "|") {
			return "", fmt.Errorf("pin-source %q: only a file path or a file: URI is supported", src)
		}
		return src, nil
	}
	fu, err := url.Parse(src)
	if err != nil || fu.Scheme != "file" && fu.Scheme != "FILE" {
		return "", fmt.Errorf("pin-source %q: malformed file: URI", src)
	}
	if fu.Host != "" && fu.Host != "localhost" {
		return "", fmt.Errorf("pin-source %q: file: URI names a remote host", src)
	}
	if fu.RawQuery != "" || fu.Fragment != "" {
		return "", fmt.Errorf("pin-source %q: file: URI has a query or fragment", src)
	}
	p := fu.Path
	if p == "" {
		p = fu.Opaque
	}
	if p == "" {
		return "", fmt.Errorf("pin-source %q: file: URI has no path", src)
	}
	return p, nil
}

// readLimited reads a pin-source: a regular file of at most MaxPINSourceSize bytes. Anything
// else (a FIFO, which would block the open until a writer came; a device such as /dev/zero; a
// directory) is refused without reading, by fsio's non-blocking open.
func readLimited(path string) ([]byte, error) {
	b, err := fsio.ReadFile(path, MaxPINSourceSize)
	var tl *fsio.TooLargeError
	switch {
	case errors.As(err, &tl):
		return nil, fmt.Errorf("pin-source %s: larger than %d bytes, not a PIN file", path, MaxPINSourceSize)
	case err != nil:
		return nil, fmt.Errorf("pin-source: %w", err)
	}
	return b, nil
}

// encode percent-encodes b for a value position: unreserved characters stay, everything else
// (including the reserved characters the grammar would allow) is encoded, except "/" in the query.
func encode(b []byte, query bool) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || (query && (c == '/' || c == ':')) {
			sb.WriteByte(c)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}

// String returns the URI in a normal form (path attributes in a fixed order, values
// percent-encoded, ignored query attributes dropped) with the pin-value replaced by "REDACTED".
func (u URI) String() string {
	var path []string
	for _, name := range pathOrder {
		if !u.present[name] {
			continue
		}
		var v string
		switch name {
		case "token":
			v = encode([]byte(u.Token), false)
		case "manufacturer":
			v = encode([]byte(u.Manufacturer), false)
		case "serial":
			v = encode([]byte(u.Serial), false)
		case "model":
			v = encode([]byte(u.Model), false)
		case "library-manufacturer":
			v = encode([]byte(u.LibraryManufacturer), false)
		case "library-description":
			v = encode([]byte(u.LibraryDescription), false)
		case "library-version":
			v = fmt.Sprintf("%d.%d", u.LibraryVersion.Major, u.LibraryVersion.Minor)
		case "slot-description":
			v = encode([]byte(u.SlotDescription), false)
		case "slot-manufacturer":
			v = encode([]byte(u.SlotManufacturer), false)
		case "slot-id":
			v = strconv.FormatUint(u.SlotID, 10)
		case "object":
			v = encode([]byte(u.Object), false)
		case "type":
			v = u.Type
		case "id":
			var sb strings.Builder
			for _, c := range u.ID {
				fmt.Fprintf(&sb, "%%%02X", c)
			}
			v = sb.String()
		}
		path = append(path, name+"="+v)
	}
	var query []string
	if u.hasPINValue {
		query = append(query, "pin-value=REDACTED")
	}
	if u.present["pin-source"] {
		query = append(query, "pin-source="+encode([]byte(u.PINSource), true))
	}
	if u.present["module-name"] {
		query = append(query, "module-name="+encode([]byte(u.ModuleName), true))
	}
	if u.present["module-path"] {
		query = append(query, "module-path="+encode([]byte(u.ModulePath), true))
	}
	s := Scheme + ":" + strings.Join(path, ";")
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// GoString is String, so that %#v does not print the PIN either.
func (u URI) GoString() string { return u.String() }
