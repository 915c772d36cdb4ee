package keys

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// noHang fails the test when f does not return promptly: a key path that is a FIFO must
// never block the run.
func noHang(t *testing.T, f func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("did not return within 5s")
		return nil
	}
}

// notFiles creates, in dir, one of each thing that is not a regular file, under the given
// name suffix, and returns name -> what the error must say.
func notFiles(t *testing.T, dir, suffix string) map[string]string {
	t.Helper()
	want := map[string]string{}
	sub := filepath.Join(dir, "sub"+suffix)
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want[sub] = "is a directory, not a regular file"
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling"+suffix)); err == nil {
		want[filepath.Join(dir, "dangling"+suffix)] = ""
	}
	if runtime.GOOS == "windows" {
		return want
	}
	fifo := filepath.Join(dir, "fifo"+suffix)
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	want[fifo] = "is a FIFO, not a regular file"
	sock := filepath.Join(dir, "sock"+suffix)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	want[sock] = "is a socket, not a regular file"
	zero := filepath.Join(dir, "zero"+suffix)
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	want[zero] = "is a character device, not a regular file"
	return want
}

func TestLoadRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	for p, says := range notFiles(t, dir, ".pem") {
		if says == "" {
			says = "no such file"
		}
		for name, load := range map[string]func(string) error{
			"LoadSigner":       func(p string) error { _, err := LoadSigner(p); return err },
			"LoadCertificates": func(p string) error { _, err := LoadCertificates(p); return err },
			"LoadTrust":        func(p string) error { _, err := LoadTrust([]string{p}, nil); return err },
		} {
			err := noHang(t, func() error { return load(p) })
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), says) {
				t.Errorf("%s(%s): %v, want %q", name, filepath.Base(p), err, says)
			}
		}
	}
}

func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, fsio.KeyLimit+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"key":  func() error { _, err := LoadSigner(big); return err }(),
		"cert": func() error { _, err := LoadCertificates(big); return err }(),
		"ring": func() error { _, err := LoadTrust(nil, []string{dir}); return err }(),
	} {
		if !errors.Is(err, fsio.ErrTooLarge) || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "limit of 1 MiB") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKeyringDirEntries: in a keyring directory every entry that is not a regular file is
// an error naming it, whatever its name; regular files without a certificate extension are
// ignored; links to certificates are loaded.
func TestKeyringDirEntries(t *testing.T) {
	pemData := readFile(t, testdata+"keys/test-rsa2048.crt.pem")
	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "README"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(testdata + "keys/test-rsa2048.crt.pem")
	if err := os.Symlink(abs, filepath.Join(good, "link.pem")); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	tr, err := LoadTrust(nil, []string{good})
	if err != nil || len(tr.Certs) != 1 || tr.Sources[0] != filepath.Join(good, "link.pem") {
		t.Fatalf("link in keyring: %v %v", tr, err)
	}
	for _, suffix := range []string{".pem", ".CRT", "", ".txt"} {
		probe := t.TempDir()
		for p, says := range notFiles(t, probe, suffix) {
			t.Run(filepath.Base(p), func(t *testing.T) {
				ring := t.TempDir()
				if err := os.WriteFile(filepath.Join(ring, "a.pem"), pemData, 0o644); err != nil {
					t.Fatal(err)
				}
				q := filepath.Join(ring, filepath.Base(p))
				if err := os.Rename(p, q); err != nil {
					t.Fatal(err)
				}
				if says == "" {
					says = "dangling symbolic link"
				}
				err := noHang(t, func() error { _, err := LoadTrust(nil, []string{ring}); return err })
				if err == nil || !strings.Contains(err.Error(), q) || !strings.Contains(err.Error(), says) {
					t.Fatalf("%v, want it to name %s and say %q", err, q, says)
				}
			})
		}
	}
	if _, err := LoadTrust(nil, []string{testdata + "keys/test-rsa2048.crt.pem"}); err == nil || !strings.Contains(err.Error(), "is a regular file, not a directory") {
		t.Errorf("file as keyring directory: %v", err)
	}
}
