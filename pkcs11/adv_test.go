//go:build cgo && (linux || darwin)

package pkcs11

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openWithin runs Open and fails the test, rather than hanging it, when Open does not return
// within d.
func openWithin(t *testing.T, d time.Duration, uri string, opts Options) (*Key, error) {
	t.Helper()
	type res struct {
		k   *Key
		err error
	}
	ch := make(chan res, 1)
	go func() { k, err := Open(uri, opts); ch <- res{k, err} }()
	select {
	case r := <-ch:
		return r.k, r.err
	case <-time.After(d):
		t.Fatalf("Open(%s) did not return within %v", strings.ReplaceAll(uri, testPIN, "PIN"), d)
		return nil, nil
	}
}

// TestHostilePINSourceAdv: a pin-source that is a FIFO without a writer, a device, a
// directory or a file over the limit fails at once with ErrLogin, naming the file, and the
// token is never asked.
func TestHostilePINSourceAdv(t *testing.T) {
	h := softHSM(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pin.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat(testPIN, 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, []byte(testPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(exact, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src, msg string
	}{
		{fifo, "FIFO"},
		{"/dev/zero", "character device"},
		{"/dev/null", "character device"},
		{dir, "directory"},
		{big, "larger than"},
		{"file://" + fifo, "FIFO"},
	} {
		k, err := openWithin(t, 10*time.Second, "pkcs11:token=bpfsig;object=rsa?pin-source="+tc.src+"&module-path="+h.module, Options{})
		if err == nil {
			k.Close()
			t.Errorf("pin-source %s: Open succeeded", tc.src)
			continue
		}
		if !errors.Is(err, ErrLogin) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), strings.TrimPrefix(tc.src, "file://")) {
			t.Errorf("pin-source %s: %v (want ErrLogin saying %q and naming the file)", tc.src, err, tc.msg)
		}
		if strings.Contains(fmt.Sprintf("%v %+v", err, err), testPIN) {
			t.Errorf("pin-source %s: the error holds the PIN", tc.src)
		}
	}
	// A symbolic link to a PIN file is a PIN file.
	k, err := openWithin(t, 10*time.Second, "pkcs11:token=bpfsig;object=rsa?pin-source="+link+"&module-path="+h.module, Options{})
	if err != nil {
		t.Fatalf("pin-source through a symbolic link: %v", err)
	}
	k.Close()
}

// TestHostileModulePathAdv: a module path that is a FIFO (dlopen would block), a device or
// a directory fails at once with ErrModule naming the path and what it is.
func TestHostileModulePathAdv(t *testing.T) {
	softHSM(t) // SOFTHSM2_CONF for the link case
	dir := t.TempDir()
	fifo := filepath.Join(dir, "mod.so")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, msg string }{
		{fifo, "FIFO"},
		{"/dev/zero", "character device"},
		{dir, "directory"},
	} {
		k, err := openWithin(t, 10*time.Second, "pkcs11:token=bpfsig;object=rsa?pin-value="+testPIN+"&module-path="+tc.path, Options{})
		if err == nil {
			k.Close()
			t.Errorf("module %s: Open succeeded", tc.path)
			continue
		}
		if !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("module %s: %v", tc.path, err)
		}
		if strings.Contains(err.Error(), testPIN) {
			t.Errorf("module %s: the error holds the PIN", tc.path)
		}
	}
	// A symbolic link to the real module loads it.
	link := filepath.Join(dir, "libsofthsm2.so")
	if err := os.Symlink(softhsmModule, link); err != nil {
		t.Fatal(err)
	}
	k, err := openWithin(t, 10*time.Second, "pkcs11:token=bpfsig;object=rsa?pin-value="+testPIN+"&module-path="+link, Options{})
	if err != nil {
		t.Fatalf("module through a symbolic link: %v", err)
	}
	k.Close()
}

// TestPercentEncodedURIAdv: percent-encoded names select the same token and key as plain ones;
// an encoded NUL, trailing blank or case change selects nothing; the PIN given encoded never
// shows.
func TestPercentEncodedURIAdv(t *testing.T) {
	h := softHSM(t)
	mod := "&module-path=" + h.module
	enc := ""
	for _, c := range []byte(testPIN) {
		enc += fmt.Sprintf("%%%02X", c)
	}
	ok := []string{
		"pkcs11:token=%62%70%66%73%69%67;object=%72%73%61?pin-value=" + testPIN + mod,
		"pkcs11:token=bpfsig;object=rsa;id=%01?pin-value=" + enc + mod,
		"pkcs11:TOKEN=bpfsig;Object=rsa?PIN-VALUE=" + testPIN + mod,
	}
	for _, uri := range ok {
		k, err := openWithin(t, 10*time.Second, uri, Options{})
		if err != nil {
			t.Errorf("%s: %v", strings.ReplaceAll(uri, testPIN, "PIN"), err)
			continue
		}
		if s := k.String(); strings.Contains(s, testPIN) || strings.Contains(s, enc) {
			t.Errorf("String() holds the PIN: %s", s)
		}
		k.Close()
	}
	bad := []struct{ uri string }{
		{"pkcs11:token=bpfsig%00;object=rsa?pin-value=" + testPIN + mod},
		{"pkcs11:token=bpfsig%20;object=rsa?pin-value=" + testPIN + mod},
		{"pkcs11:token=BPFSIG;object=rsa?pin-value=" + testPIN + mod},
		{"pkcs11:token=bpfsig;object=rsa%00?pin-value=" + testPIN + mod},
		{"pkcs11:token=bpfsig;object=RSA?pin-value=" + testPIN + mod},
		{"pkcs11:token=bpfsig;object=rsa?pin-value=" + enc + "%0A" + mod},
	}
	for _, tc := range bad {
		k, err := openWithin(t, 10*time.Second, tc.uri, Options{})
		if err == nil {
			k.Close()
			t.Errorf("%s: selected a key", strings.ReplaceAll(tc.uri, testPIN, "PIN"))
			continue
		}
		if s := fmt.Sprintf("%v", err); strings.Contains(s, testPIN) || strings.Contains(s, enc) {
			t.Errorf("error holds the PIN: %s", s)
		}
	}
}

// TestSameLabelTokensAdv: two initialized tokens with the same label are ambiguous by label
// (ErrToken, both listed, no PIN), and serial= tells them apart. It uses its own SoftHSM2
// configuration, so that the shared tokens of the other tests stay as they are.
func TestSameLabelTokensAdv(t *testing.T) {
	softHSM(t) // skips without SoftHSM2
	modMu.Lock()
	loaded := len(modules)
	modMu.Unlock()
	if loaded != 0 {
		t.Skip("a module is loaded by another test; SoftHSM2 reads its configuration at C_Initialize only")
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Skip("softhsm2-util not found (Debian package softhsm2)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for i := 0; i < 2; i++ {
		cmd := exec.Command(util, "--init-token", "--free", "--label", "dup", "--so-pin", "12345678", "--pin", testPIN)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util: %v: %s", err, out)
		}
	}
	_, err = openWithin(t, 20*time.Second, "pkcs11:token=dup;object=k?pin-value="+testPIN+"&module-path="+softhsmModule, Options{})
	if err == nil || !errors.Is(err, ErrToken) || !strings.Contains(err.Error(), "matches 2 tokens") {
		t.Fatalf("two tokens labelled dup: %v", err)
	}
	if strings.Contains(err.Error(), testPIN) {
		t.Errorf("the error holds the PIN: %v", err)
	}
	// The serials tell them apart: the URI with one of them reaches that token (which holds
	// no key, so the failure moves on to the key).
	m, err := acquireModule(softhsmModule)
	if err != nil {
		t.Fatal(err)
	}
	slots, err := m.ctx.GetSlotList(true)
	var serial string
	for _, s := range slots {
		if ti, err := m.ctx.GetTokenInfo(s); err == nil && trim(ti.Label) == "dup" {
			serial = trim(ti.SerialNumber)
			break
		}
	}
	m.release()
	if err != nil || serial == "" {
		t.Fatalf("no serial of a dup token: %v", err)
	}
	_, err = openWithin(t, 20*time.Second, "pkcs11:token=dup;serial="+serial+";object=k?pin-value="+testPIN+"&module-path="+softhsmModule, Options{})
	if !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("token dup with serial %s: %v, want ErrKeyNotFound", serial, err)
	}
}
