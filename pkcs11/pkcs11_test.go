package pkcs11

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/p11uri"
)

func TestResolveModule(t *testing.T) {
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == EnvModule {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		uri, flag, env, want, err string
	}{
		{"pkcs11:object=k?module-path=/uri.so", "/flag.so", "/env.so", "/uri.so", ""},
		{"pkcs11:object=k", "/flag.so", "/env.so", "/flag.so", ""},
		{"pkcs11:object=k", "", "/env.so", "/env.so", ""},
		{"pkcs11:object=k?module-name=softhsm2", "", "/env.so", "/env.so", ""},
		{"pkcs11:object=k", "", "", "", "module-path= in the URI, --pkcs11-module, or set " + EnvModule},
		{"pkcs11:object=k?module-name=softhsm2", "", "", "", "module-name=softhsm2 cannot be resolved"},
	}
	for _, tc := range tests {
		u, err := p11uri.Parse(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		got, err := resolveModule(u, Options{ModulePath: tc.flag, Getenv: env(tc.env)})
		if tc.err != "" {
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s flag=%q env=%q: err %v, want %q", tc.uri, tc.flag, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s flag=%q env=%q: %q, %v; want %q", tc.uri, tc.flag, tc.env, got, err, tc.want)
		}
	}
}

func TestECDSADER(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		k, _ := ecdsa.GenerateKey(c, rand.Reader)
		d := sha256.Sum256([]byte("x"))
		der, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
		// Rebuild r||s from crypto/ecdsa's output and check ecdsaDER restores it exactly.
		var r, s big.Int
		if !parseSig(der, &r, &s) {
			t.Fatal("cannot parse reference signature")
		}
		size := (c.Params().BitSize + 7) / 8
		raw := make([]byte, 2*size)
		r.FillBytes(raw[:size])
		s.FillBytes(raw[size:])
		got, err := ecdsaDER(raw, size)
		if err != nil || string(got) != string(der) {
			t.Errorf("%s: ecdsaDER does not reproduce the DER signature (%v)", c.Params().Name, err)
		}
		if _, err := ecdsaDER(raw[1:], size); err == nil {
			t.Errorf("%s: short raw signature accepted", c.Params().Name)
		}
	}
}

func parseSig(der []byte, r, s *big.Int) bool {
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		return false
	}
	r.Set(v.R)
	s.Set(v.S)
	return true
}

func ExampleOpen() {
	k, err := Open("pkcs11:token=bpfsig;object=signer?pin-source=/run/secrets/pin", Options{ModulePath: "/nonexistent/libsofthsm2.so"})
	if err != nil {
		// Without the module (or in a build without cgo) Open fails with a precise error.
		fmt.Println(errors.Is(err, ErrModule) || errors.Is(err, ErrNoCgo))
		return
	}
	defer k.Close()
	// k is a crypto.Signer: pass it with k.Certificate() to the signing code.
	// Output: true
}
