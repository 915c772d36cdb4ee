package p11uri

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		check func(*URI) error
		str   string // expected String(); "" skips
	}{
		{"pkcs11:", func(u *URI) error { return nil }, "pkcs11:"},
		{"PKCS11:token=a", func(u *URI) error { return want(u.Token, "a") }, "pkcs11:token=a"},
		{"pkcs11:token=My%20Token;object=bpf%2Dsigner", func(u *URI) error {
			return errors.Join(want(u.Token, "My Token"), want(u.Object, "bpf-signer"))
		}, "pkcs11:token=My%20Token;object=bpf-signer"},
		{"pkcs11:id=%01%02%ff", func(u *URI) error {
			if !bytes.Equal(u.ID, []byte{1, 2, 0xff}) {
				return fmt.Errorf("id %x", u.ID)
			}
			return nil
		}, "pkcs11:id=%01%02%FF"},
		{"pkcs11:id=", func(u *URI) error {
			if !u.Has("id") || len(u.ID) != 0 {
				return fmt.Errorf("empty id: has %v len %d", u.Has("id"), len(u.ID))
			}
			return nil
		}, "pkcs11:id="},
		{"pkcs11:token=", func(u *URI) error {
			if !u.Has("token") || u.Has("object") {
				return errors.New("presence wrong")
			}
			return nil
		}, "pkcs11:token="},
		{"pkcs11:TOKEN=x;Object=y", func(u *URI) error { return errors.Join(want(u.Token, "x"), want(u.Object, "y")) }, "pkcs11:token=x;object=y"},
		{"pkcs11:manufacturer=SoftHSM%20project;serial=0123abc;model=SoftHSM%20v2", func(u *URI) error {
			return errors.Join(want(u.Manufacturer, "SoftHSM project"), want(u.Serial, "0123abc"), want(u.Model, "SoftHSM v2"))
		}, ""},
		{"pkcs11:library-manufacturer=OpenSC;library-description=x;library-version=2.5", func(u *URI) error {
			if u.LibraryVersion != (Version{2, 5}) {
				return fmt.Errorf("version %+v", u.LibraryVersion)
			}
			return errors.Join(want(u.LibraryManufacturer, "OpenSC"), want(u.LibraryDescription, "x"))
		}, "pkcs11:library-manufacturer=OpenSC;library-description=x;library-version=2.5"},
		{"pkcs11:library-version=3", func(u *URI) error {
			if u.LibraryVersion != (Version{3, 0}) {
				return fmt.Errorf("version %+v", u.LibraryVersion)
			}
			return nil
		}, "pkcs11:library-version=3.0"},
		{"pkcs11:slot-id=18446744073709551615;slot-description=d;slot-manufacturer=m", func(u *URI) error {
			if u.SlotID != 1<<64-1 {
				return fmt.Errorf("slot %d", u.SlotID)
			}
			return errors.Join(want(u.SlotDescription, "d"), want(u.SlotManufacturer, "m"))
		}, ""},
		{"pkcs11:type=private", func(u *URI) error { return want(u.Type, TypePrivate) }, "pkcs11:type=private"},
		{"pkcs11:object=a:b@c,d=e&f", func(u *URI) error { return want(u.Object, "a:b@c,d=e&f") }, ""},
		{"pkcs11:object=k?module-path=/usr/lib/softhsm/libsofthsm2.so", func(u *URI) error {
			return errors.Join(want(u.Object, "k"), want(u.ModulePath, "/usr/lib/softhsm/libsofthsm2.so"))
		}, "pkcs11:object=k?module-path=/usr/lib/softhsm/libsofthsm2.so"},
		{"pkcs11:object=k?pin-value=1234&module-name=softhsm2", func(u *URI) error {
			pin, ok, err := u.PIN()
			if err != nil || !ok || pin != "1234" {
				return fmt.Errorf("pin %v %v", ok, err)
			}
			return want(u.ModuleName, "softhsm2")
		}, "pkcs11:object=k?pin-value=REDACTED&module-name=softhsm2"},
		{"pkcs11:?pin-source=/etc/pin", func(u *URI) error { return want(u.PINSource, "/etc/pin") }, "pkcs11:?pin-source=/etc/pin"},
		{"pkcs11:object=k?x-vendor=1&X-Other_attr=a/b", func(u *URI) error {
			if strings.Join(u.Ignored, ",") != "x-vendor,x-other_attr" {
				return fmt.Errorf("ignored %v", u.Ignored)
			}
			return nil
		}, "pkcs11:object=k"},
		{"pkcs11:token=%e2%82%ac", func(u *URI) error { return want(u.Token, "€") }, "pkcs11:token=%E2%82%AC"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(u); err != nil {
				t.Error(err)
			}
			if tc.str != "" && u.String() != tc.str {
				t.Errorf("String() = %q, want %q", u.String(), tc.str)
			}
			// String output parses back to the same attributes.
			if !strings.Contains(u.String(), "REDACTED") {
				u2, err := Parse(u.String())
				if err != nil {
					t.Fatalf("reparse %q: %v", u.String(), err)
				}
				if u2.String() != u.String() {
					t.Errorf("round trip %q -> %q", u.String(), u2.String())
				}
			}
		})
	}
}

func want(got, want string) error {
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "does not start"},
		{"pkcs11", "does not start"},
		{"file:/x", "does not start"},
		{"pkcs11:token=a#frag", "fragment"},
		{"pkcs11:token", "has no '='"},
		{"pkcs11:token=a;", "attribute 2 is empty"},
		{"pkcs11:;token=a", "attribute 1 is empty"},
		{"pkcs11:=a", "empty name"},
		{"pkcs11:to*ken=a", "invalid character in name"},
		{"pkcs11:token=a;token=b", "more than once"},
		{"pkcs11:token=a;TOKEN=b", "more than once"},
		{"pkcs11:label=a", "unknown path attribute \"label\""},
		{"pkcs11:x-vendor=a", "vendor-specific"},
		{"pkcs11:token=a b", "must be percent-encoded"},
		{"pkcs11:token=a/b", "must be percent-encoded"},
		{"pkcs11:token=a?", "empty query"},
		{"pkcs11:token=%4", "truncated percent-encoding"},
		{"pkcs11:token=%", "truncated percent-encoding"},
		{"pkcs11:token=%zz", "invalid percent-encoding"},
		{"pkcs11:token=%ff", "not UTF-8"},
		{"pkcs11:token=\x00", "byte 0x00"},
		{"pkcs11:slot-id=abc", "not a decimal number"},
		{"pkcs11:slot-id=-1", "not a decimal number"},
		{"pkcs11:slot-id=", "not a decimal number"},
		{"pkcs11:slot-id=18446744073709551616", "out of range"},
		{"pkcs11:library-version=1.2.3", "not M or M.N"},
		{"pkcs11:library-version=256", "out of range"},
		{"pkcs11:library-version=", "not M or M.N"},
		{"pkcs11:library-version=1.", "not M or M.N"},
		{"pkcs11:type=secret", "not one of"},
		{"pkcs11:?pin-value=1&pin-value=2", "more than once"},
		{"pkcs11:?pin-value=1&pin-source=/f", "both pin-value and pin-source"},
		{"pkcs11:?module-path=/a&module-path=/b", "more than once"},
		{"pkcs11:?module-path=", "module-path is empty"},
		{"pkcs11:?module-name=/lib/x.so", "bare library name"},
		{"pkcs11:?pin-source=", "pin-source is empty"},
		{"pkcs11:?pin-value", "has no '='"},
		{"pkcs11:?module-path=a&", "attribute 2 is empty"},
		{"pkcs11:?module-path=a#b", "fragment"},
		{"pkcs11:?module-path=a b", "must be percent-encoded"},
		{"pkcs11:?module-path=a;b", "must be percent-encoded"},
		{"pkcs11:object=k?foo=bar", "unknown query attribute \"foo\""},
		{"pkcs11:object=k?x-=1", "unknown query attribute"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %v", u)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error does not wrap ErrSyntax: %v", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestPINNeverPrinted formats URIs with a secret PIN in every way fmt offers and checks the
// PIN is absent; malformed PINs must not leak through the parse error either.
func TestPINNeverPrinted(t *testing.T) {
	const secret = "s3cr3tPIN"
	u, err := Parse("pkcs11:token=t;object=o?pin-value=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{u, *u} {
			if s := fmt.Sprintf(f, v); strings.Contains(s, secret) {
				t.Errorf("%s of %T prints the PIN: %s", f, v, s)
			}
		}
	}
	for _, bad := range []string{secret + "%zz", secret + " x", secret + "%"} {
		_, err := Parse("pkcs11:object=o?pin-value=" + bad)
		if err == nil {
			t.Fatalf("pin-value %q accepted", bad)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("parse error leaks the PIN: %v", err)
		}
	}
}

func TestPINSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nl := write("nl", []byte("1234\n"))
	crlf := write("crlf", []byte("1234\r\n"))
	two := write("two", []byte("12\n34\n\n"))
	empty := write("empty", nil)
	onlyNL := write("onlynl", []byte("\n"))
	big := write("big", bytes.Repeat([]byte("9"), MaxPINSourceSize+1))
	max := write("max", bytes.Repeat([]byte("9"), MaxPINSourceSize))
	tests := []struct {
		src, pin, errMsg string
	}{
		{nl, "1234", ""},
		{"file://" + nl, "1234", ""},
		{"file://localhost" + nl, "1234", ""},
		{"file:" + nl, "1234", ""},
		{crlf, "1234", ""},
		{two, "12\n34\n", ""},
		{max, strings.Repeat("9", MaxPINSourceSize), ""},
		{empty, "", "file is empty"},
		{onlyNL, "", "file is empty"},
		{big, "", "larger than 4096 bytes"},
		{dir, "", "is a directory"},
		{filepath.Join(dir, "missing"), "", "no such file"},
		{"file://example.com/etc/pin", "", "remote host"},
		{"file://" + nl + "?x=1", "", "query or fragment"},
		{"https://example.com/pin", "", "only a file path"},
		{"|/bin/cat", "", "only a file path"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			u, err := Parse("pkcs11:object=o?pin-source=" + encode([]byte(tc.src), true))
			if err != nil {
				t.Fatal(err)
			}
			pin, ok, err := u.PIN()
			if tc.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
					t.Fatalf("err = %v, want %q", err, tc.errMsg)
				}
				if strings.Contains(err.Error(), "9999") {
					t.Errorf("error quotes file contents: %v", err)
				}
				return
			}
			if err != nil || !ok || pin != tc.pin {
				t.Fatalf("PIN() = %q, %v, %v; want %q", pin, ok, err, tc.pin)
			}
		})
	}
	u, _ := Parse("pkcs11:object=o")
	if _, ok, err := u.PIN(); ok || err != nil || u.HasPIN() {
		t.Errorf("URI without PIN: ok %v err %v", ok, err)
	}
}

func TestIsURI(t *testing.T) {
	for s, w := range map[string]bool{"pkcs11:": true, "PKCS11:x": true, "pkcs11": false, "./pkcs11:x": false, "key.pem": false, "": false} {
		if IsURI(s) != w {
			t.Errorf("IsURI(%q) = %v", s, !w)
		}
	}
}

func ExampleParse() {
	u, err := Parse("pkcs11:token=bpf;object=signer;id=%01?pin-value=1234&module-path=/usr/lib/softhsm/libsofthsm2.so")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Token, u.Object, u.ID, u.ModulePath)
	fmt.Println(u)
	// Output:
	// bpf signer [1] /usr/lib/softhsm/libsofthsm2.so
	// pkcs11:token=bpf;object=signer;id=%01?pin-value=REDACTED&module-path=/usr/lib/softhsm/libsofthsm2.so
}

// FuzzParse: Parse never panics, and what it accepts prints to a URI that parses to the same
// normal form (unless a PIN was redacted).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"pkcs11:", "pkcs11:token=a;id=%01?pin-value=x", "pkcs11:object=%zz", "pkcs11:?module-path=/a&x=1", "pkcs11:slot-id=1;library-version=1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		out := u.String()
		if strings.Contains(out, "REDACTED") {
			return
		}
		u2, err := Parse(out)
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", out, s, err)
		}
		if u2.String() != out {
			t.Fatalf("not stable: %q -> %q", out, u2.String())
		}
	})
}
