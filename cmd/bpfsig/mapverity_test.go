package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/testfix"
)

// runMV runs the command line in-process, as a user would (flags before or after arguments).
func runMV(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, args...)
}

func TestMapvalueCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "policy")
	if err := os.WriteFile(data, []byte("allow /usr/sbin/loader\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unv := filepath.Join(dir, "unv")
	if err := os.WriteFile(unv, []byte("comment"), 0o644); err != nil {
		t.Fatal(err)
	}
	val := filepath.Join(dir, "value")
	code, out, errs := runMV(t, "mapvalue", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath,
		"--signer-id", "skid", "--value-size", "1024", "--unverified", unv, "-o", val, data)
	if code != 0 {
		t.Fatalf("sign: %d %s", code, errs)
	}
	if !strings.Contains(out, "1024 bytes") {
		t.Errorf("sign output: %q", out)
	}
	v, err := os.ReadFile(val)
	if err != nil || len(v) != 1024 {
		t.Fatalf("value: %d bytes, %v", len(v), err)
	}
	// Equal to sign-file -k when it is installed.
	if m, _ := filepath.Glob("/usr/lib/linux-kbuild-*/scripts/sign-file"); len(m) > 0 {
		signed := filepath.Join(dir, "policy.signed")
		if msg, err := exec.Command(m[0], "-k", "sha256", testfix.KeyPath, testfix.CertPath, data, signed).CombinedOutput(); err != nil {
			t.Fatalf("sign-file: %v %s", err, msg)
		}
		want, _ := os.ReadFile(signed)
		if !bytes.HasPrefix(v[4:], want) || !bytes.HasPrefix(v[4+len(want):], []byte("comment")) {
			t.Error("CLI value is not length ‖ sign-file output ‖ unverified")
		}
	}

	code, out, _ = runMV(t, "mapvalue", "verify", "--cert", testfix.CertPath, val)
	if code != 0 || !strings.Contains(out, "OK verified 23 bytes") || !strings.Contains(out, "(skid)") {
		t.Fatalf("verify: %d %q", code, out)
	}
	bad := filepath.Join(dir, "bad")
	v[5] ^= 1
	if err := os.WriteFile(bad, v, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runMV(t, "mapvalue", "verify", "--json", "--cert", testfix.CertPath, val, bad)
	if code != 1 {
		t.Fatalf("verify good+bad: exit %d", code)
	}
	var rs []mapvalueResult
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 2 {
		t.Fatalf("json: %v %q", err, out)
	}
	if !rs[0].OK || *rs[0].VerifiedLen != 23 || rs[1].OK || rs[1].Errno != "EKEYREJECTED" || rs[1].Check != "pkcs7" {
		t.Errorf("json results: %+v %+v", rs[0], rs[1])
	}
	// A value cut inside the signed part: EINVAL at the length check.
	short := filepath.Join(dir, "short")
	os.WriteFile(short, v[:100], 0o644)
	code, out, _ = runMV(t, "mapvalue", "verify", "--cert", testfix.CertPath, short)
	t.Logf("verify short: %s", out)
	if code != 1 || !strings.Contains(out, "REJECTED EINVAL at length") {
		t.Errorf("short value: %d %q", code, out)
	}

	code, out, _ = runMV(t, "mapvalue", "inspect", val)
	t.Logf("inspect:\n%s", out)
	for _, want := range []string{"length word", "pkcs7", "module_signature", "marker", "unverified", "id_type 2", "skid:"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("inspect: exit %d", code)
	}
	// Usage errors.
	for _, args := range [][]string{
		{"mapvalue", "verify", val},
		{"mapvalue", "verify", "--cert", testfix.CertPath},
		{"mapvalue", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, data},
		{"mapvalue", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, "--signer-id", "x", "-o", val, data},
		{"mapvalue", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, "--hash", "md5", "-o", val, data},
	} {
		if code, _, _ := runMV(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	// A value size too small is a failure naming the sizes.
	code, _, errs = runMV(t, "mapvalue", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, "--value-size", "64", "-o", val, data)
	if code != exitFail || !strings.Contains(errs, "value size is 64") {
		t.Errorf("small value size: %d %q", code, errs)
	}
}

func TestLoaderCLI(t *testing.T) {
	tool, err := exec.LookPath("fsverity")
	if err != nil {
		t.Skip("fsverity not installed (apt-get install fsverity)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "loader")
	body := bytes.Repeat([]byte("\x7fELF loader "), 1000)
	if err := os.WriteFile(bin, body, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--hash-alg", "sha512", "--block-size", "1024", "--salt", "abcd"}} {
		want, err := exec.Command(tool, append(append([]string{"digest"}, extra...), bin)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := runMV(t, append(append([]string{"loader", "digest"}, extra...), bin)...)
		if code != 0 || out != string(want) {
			t.Errorf("digest %v: %d %q %s, want %q", extra, code, out, errs, want)
		}
	}
	sig := filepath.Join(dir, "loader.sig")
	code, _, errs := runMV(t, "loader", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, "-o", sig, bin)
	if code != 0 {
		t.Fatalf("sign: %d %s", code, errs)
	}
	ref := filepath.Join(dir, "ref.sig")
	if out, err := exec.Command(tool, "sign", bin, ref, "--key="+testfix.KeyPath, "--cert="+testfix.CertPath).CombinedOutput(); err != nil {
		t.Fatalf("fsverity sign: %v %s", err, out)
	}
	a, _ := os.ReadFile(sig)
	b, _ := os.ReadFile(ref)
	if !bytes.Equal(a, b) {
		t.Error("loader sign differs from fsverity sign")
	}
	code, out, _ := runMV(t, "loader", "verify", "--cert", testfix.CertPath, "--sig", sig, bin)
	t.Logf("verify: %s", out)
	if code != 0 || !strings.Contains(out, "OK sha256:") || !strings.Contains(out, "signature from file") {
		t.Errorf("verify --sig: %d %q", code, out)
	}
	// No xattr yet: unsigned.
	code, out, _ = runMV(t, "loader", "verify", "--cert", testfix.CertPath, bin)
	if code != 1 || !strings.Contains(out, "unsigned") {
		t.Errorf("verify unsigned: %d %q", code, out)
	}
	probe := filepath.Join(dir, "probe")
	os.WriteFile(probe, nil, 0o644)
	if err := unix.Setxattr(probe, "user.probe", []byte{1}, 0); err != nil {
		t.Skipf("temporary directory has no user xattrs: %v", err)
	}
	code, _, errs = runMV(t, "loader", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, "--xattr", "user.sig", bin)
	if code != 0 {
		t.Fatalf("sign --xattr: %d %s", code, errs)
	}
	code, out, _ = runMV(t, "loader", "verify", "--json", "--cert", testfix.CertPath, bin)
	var rs []loaderResult
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 {
		t.Fatalf("json: %v %q", err, out)
	}
	if code != 0 || !rs[0].OK || rs[0].SignatureSource != "xattr user.sig" || rs[0].DigestSource != "computed" {
		t.Errorf("verify xattr: %d %+v", code, rs[0])
	}
	// Change the file after signing: the recomputed digest no longer matches.
	f, _ := os.OpenFile(bin, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0})
	f.Close()
	code, out, _ = runMV(t, "loader", "verify", "--cert", testfix.CertPath, bin)
	t.Logf("verify modified: %s", out)
	if code != 1 || !strings.Contains(out, "REJECTED EKEYREJECTED") {
		t.Errorf("verify modified: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"loader", "sign", "--key", testfix.KeyPath, "--cert", testfix.CertPath, bin},
		{"loader", "digest", "--hash-alg", "md5", bin},
		{"loader", "digest", "--block-size", "3000", bin},
		{"loader", "digest", "--salt", "zz", bin},
		{"loader", "verify", bin},
	} {
		if code, _, _ := runMV(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
