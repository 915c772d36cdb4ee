package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
)

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// softToken makes a SoftHSM2 token in a temporary SOFTHSM2_CONF with the fixture RSA key
// imported (label bpfsig-key, id 01) and returns the URI, PIN included.
func softToken(t *testing.T) string {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Skip("softhsm2-util not found (Debian package softhsm2)")
	}
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Skipf("SoftHSM2 module %s: %v", softhsmModule, err)
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	p8 := filepath.Join(dir, "key.p8")
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run(openssl, "pkcs8", "-topk8", "-nocrypt", "-in", testfix.KeyPath, "-out", p8)
	run(util, "--init-token", "--free", "--label", "bpfsig", "--pin", "987654", "--so-pin", "123456")
	run(util, "--import", p8, "--token", "bpfsig", "--label", "bpfsig-key", "--id", "01", "--pin", "987654")
	return "pkcs11:token=bpfsig;object=bpfsig-key?pin-value=987654&module-path=" + softhsmModule
}

// TestPKCS11SignAndMigrate: signing through a real SoftHSM2 token gives the same bytes as the
// file key, for sign and migrate; the PIN appears in no output, even at --log-level trace;
// a wrong PIN, a missing object and a missing module are each a clear error.
func TestPKCS11SignAndMigrate(t *testing.T) {
	uri := softToken(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "raw.skel.h")
	code, so, se := runCLI(t, "--log-level", "trace", "sign", "--scheme", "raw", "--key", uri, "--cert", cert, "-o", out, fx("legacy-v1"))
	if code != 0 {
		t.Fatalf("sign through the token: exit %d: %s", code, se)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, testfix.Bytes(t, "raw")) {
		t.Fatal("RSA signing through PKCS#11 differs from the file key's (the raw fixture)")
	}
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.skel.h"), testfix.Bytes(t, "legacy-v2"), 0o644)
	mout := filepath.Join(dir, "out")
	c2, so2, se2 := runCLI(t, "--log-level", "trace", "migrate", src, "--out", mout, "--key", uri, "--cert", cert, "--json")
	if c2 != 0 {
		t.Fatalf("migrate through the token: exit %d: %s", c2, se2)
	}
	if got, _ := os.ReadFile(filepath.Join(mout, "a.skel.h")); !bytes.Equal(got, testfix.Bytes(t, "raw")) {
		t.Fatal("migrate through PKCS#11 differs from the file key's result")
	}
	for _, s := range []string{so, se, so2, se2} {
		if strings.Contains(s, "987654") {
			t.Fatalf("the PIN reached the output: %q", s)
		}
	}
	for _, tc := range []struct {
		name, uri string
		code      int
	}{
		{"wrong PIN", strings.Replace(uri, "987654", "111111", 1), 1},
		{"missing object", strings.Replace(uri, "object=bpfsig-key", "object=nosuch", 1), 1},
		{"missing module", strings.Replace(uri, softhsmModule, "/nonexistent/libnosuch.so", 1), 1},
		{"token without the key", strings.Replace(uri, "token=bpfsig", "token=nosuch", 1), 1},
		{"bad URI", "pkcs11:token=bpfsig;bogus=1", 2},
	} {
		// A fresh process each: PKCS#11 login state belongs to the process (a token already
		// logged in by this test process would not check the PIN again).
		cmd := exec.Command(os.Args[0], "sign", "--key", tc.uri, "--cert", cert, "-o", filepath.Join(dir, "x.skel.h"), fx("unsigned"))
		cmd.Env = append(os.Environ(), "BPFSIG_TEST_AS_MAIN=1")
		var ob, eb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &ob, &eb
		cmd.Run()
		code, so, se := cmd.ProcessState.ExitCode(), ob.String(), eb.String()
		if code != tc.code || se == "" {
			t.Errorf("%s: exit %d (want %d): %s", tc.name, code, tc.code, se)
		}
		if strings.Contains(so+se, "987654") || strings.Contains(so+se, "111111") {
			t.Errorf("%s: PIN in the output: %s", tc.name, se)
		}
	}
}

// TestKeygenDelegatedRestrict: keygen makes a root and a delegated key; a skeleton signed with
// the delegated key verifies with the trust set restricted to its root, and is refused (the
// certificate refused into the keyring, the signature then ENOKEY) under another root.
func TestKeygenDelegatedRestrict(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, args := range [][]string{
		{"keygen", "--algo", "p256", "--ca", "--subject", "root A", "--key-out", p("ra.key"), "--cert-out", p("ra.crt")},
		{"keygen", "--algo", "p256", "--ca", "--subject", "root B", "--key-out", p("rb.key"), "--cert-out", p("rb.crt")},
		{"keygen", "--algo", "rsa2048", "--subject", "delegate", "--issuer-key", p("ra.key"), "--issuer-cert", p("ra.crt"), "--key-out", p("d.key"), "--cert-out", p("d.crt")},
		{"sign", "--scheme", "raw", "--key", p("d.key"), "--cert", p("d.crt"), "-o", p("s.skel.h"), fx("unsigned")},
	} {
		if code, _, se := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, se)
		}
	}
	if fi, err := os.Stat(p("d.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if code, _, _ := runCLI(t, "keygen", "--key-out", p("d.key"), "--cert-out", p("new.crt")); code == 0 {
		t.Fatal("keygen overwrote an existing key")
	}
	if code, so, se := runCLI(t, "verify", "--cert", p("d.crt"), "--restrict-to", p("ra.crt"), p("s.skel.h")); code != 0 {
		t.Fatalf("delegated key under its root: exit %d\n%s%s", code, so, se)
	}
	code, so, se := runCLI(t, "verify", "--cert", p("d.crt"), "--restrict-to", p("rb.crt"), p("s.skel.h"))
	if code != 1 || !strings.Contains(se, "refused into the keyring") || !strings.Contains(so, "ENOKEY") {
		t.Fatalf("delegated key under another root: exit %d\n%s%s", code, so, se)
	}
}
