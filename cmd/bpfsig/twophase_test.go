package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const signFileTool = "/usr/lib/linux-kbuild-6.1/scripts/sign-file"

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// TestTBSAttachCLI: tbs -o, sign-file, attach -o gives bpfsig sign's file; a wrong signature
// exits 1 and writes nothing.
func TestTBSAttachCLI(t *testing.T) {
	if _, err := os.Stat(signFileTool); err != nil {
		t.Skipf("%s not installed (Debian package linux-kbuild-6.1)", signFileTool)
	}
	dir := t.TempDir()
	for _, scheme := range []string{"raw", "legacy", "chain"} {
		tbs := filepath.Join(dir, scheme+".tbs")
		if code, _, errs := runCLI(t, "tbs", "--scheme", scheme, "-o", tbs, fx("legacy-v1")); code != 0 {
			t.Fatalf("tbs: exit %d: %s", code, errs)
		}
		mustRun(t, signFileTool, "-d", "sha256", key, cert, tbs)
		direct := filepath.Join(dir, scheme+".direct.skel.h")
		if code, _, errs := runCLI(t, "sign", "--scheme", scheme, "--key", key, "--cert", cert, "-o", direct, fx("legacy-v1")); code != 0 {
			t.Fatalf("sign: exit %d: %s", code, errs)
		}
		out := filepath.Join(dir, scheme+".skel.h")
		code, stdout, errs := runCLI(t, "attach", "--scheme", scheme, "--cert", cert, "--sig", tbs+".p7s", "--normalize", "-o", out, fx("legacy-v1"))
		if code != 0 {
			t.Fatalf("attach: exit %d: %s", code, errs)
		}
		if !strings.Contains(stdout, "normalized") {
			t.Errorf("attach --normalize does not say it normalized: %s", stdout)
		}
		if a, b := readOrFail(t, out), readOrFail(t, direct); !bytes.Equal(a, b) {
			t.Fatalf("%s: attach differs from sign", scheme)
		}
		// Without --normalize, issuer+serial is kept, and the output says so.
		code, stdout, _ = runCLI(t, "attach", "--scheme", scheme, "--cert", cert, "--sig", tbs+".p7s", "-o", out+".kept", fx("legacy-v1"))
		if code != 0 || !strings.Contains(stdout, "kept as given") {
			t.Fatalf("attach as given: exit %d: %s", code, stdout)
		}
		// The signature for another scheme's bytes: exit 1, nothing written.
		other := "raw"
		if scheme == "raw" {
			other = "chain"
		}
		bad := filepath.Join(dir, scheme+".bad.skel.h")
		code, _, errs = runCLI(t, "attach", "--scheme", other, "--cert", cert, "--sig", tbs+".p7s", "-o", bad, fx("legacy-v1"))
		if code != 1 || !strings.Contains(errs, "nothing written") {
			t.Fatalf("wrong bytes: exit %d: %s", code, errs)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Fatalf("wrong bytes: %s written", bad)
		}
	}
	// Another key's certificate: exit 1.
	other := filepath.Join(dir, "other.crt")
	writeOtherCert(t, other)
	code, _, errs := runCLI(t, "attach", "--scheme", "raw", "--cert", other, "--sig", filepath.Join(dir, "raw.tbs.p7s"), "-o", filepath.Join(dir, "x.skel.h"), fx("legacy-v1"))
	if code != 1 {
		t.Fatalf("another certificate: exit %d: %s", code, errs)
	}
	// Usage errors: exit 2.
	for _, args := range [][]string{
		{"attach", "--cert", cert, "-o", "x", fx("raw")},
		{"attach", "--sig", "s", "-o", "x", fx("raw")},
		{"attach", "--cert", cert, "--sig", "s", fx("raw")},
		{"attach", "--cert", cert, "--sig", "s", "--sig-format", "der", "-o", "x", fx("raw")},
		{"attach", "--cert", cert, "--sigs", dir, "-o", "x", fx("raw")},
		{"tbs", fx("raw")},
		{"tbs", "-o", "x", fx("raw"), fx("chain")},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}

// TestTBSAttachBatchCLI: tbs --out, sign-file each, attach --sigs --out; then a source
// changed since tbs is refused (exit 1) and not written.
func TestTBSAttachBatchCLI(t *testing.T) {
	if _, err := os.Stat(signFileTool); err != nil {
		t.Skipf("%s not installed (Debian package linux-kbuild-6.1)", signFileTool)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a.skel.h"), readOrFail(t, fx("legacy-v2")), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "b.skel.h"), readOrFail(t, fx("chain")), 0o644)
	tbsDir := filepath.Join(dir, "tbs")
	code, stdout, errs := runCLI(t, "tbs", "--json", "--out", tbsDir, src)
	if code != 0 {
		t.Fatalf("tbs: exit %d: %s", code, errs)
	}
	var rep struct {
		Files []struct{ Outcome, Output string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Files) != 2 {
		t.Fatalf("tbs --json: %v: %s", err, stdout)
	}
	for _, f := range rep.Files {
		mustRun(t, signFileTool, "-dk", "sha256", key, cert, f.Output)
		if err := os.Rename(f.Output+".p7s", strings.TrimSuffix(f.Output, ".tbs")+".sig"); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	if code, _, errs := runCLI(t, "attach", "--cert", cert, "--sigs", tbsDir, "--out", out, src); code != 0 {
		t.Fatalf("attach --sigs: exit %d: %s", code, errs)
	}
	for _, n := range []string{"a.skel.h", "sub/b.skel.h"} {
		direct := filepath.Join(dir, "direct.skel.h")
		if code, _, errs := runCLI(t, "sign", "--key", key, "--cert", cert, "-o", direct, filepath.Join(src, n)); code != 0 {
			t.Fatal(errs)
		}
		if !bytes.Equal(readOrFail(t, filepath.Join(out, n)), readOrFail(t, direct)) {
			t.Fatalf("%s: attach --sigs differs from sign", n)
		}
	}
	b := filepath.Join(src, "sub", "b.skel.h")
	os.WriteFile(b, append(readOrFail(t, b), ' '), 0o644)
	out2 := filepath.Join(dir, "out2")
	code, stdout, _ = runCLI(t, "attach", "--cert", cert, "--sigs", tbsDir, "--out", out2, src)
	if code != 1 || !strings.Contains(stdout, "changed since") {
		t.Fatalf("changed source: exit %d: %s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(out2, "sub", "b.skel.h")); err == nil {
		t.Fatal("changed source written")
	}
	if _, err := os.Stat(filepath.Join(out2, "a.skel.h")); err != nil {
		t.Fatalf("unchanged source not written: %v", err)
	}
}

func readOrFail(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTreeOutInsideSourceIsUsage: tbs --out and attach --sigs --out inside the source tree are
// usage errors (exit 2, as migrate's), not failures of a run, and write nothing.
func TestTreeOutInsideSourceIsUsage(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.skel.h"), readOrFail(t, fx("legacy-v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(src, "out")
	tbsDir := filepath.Join(t.TempDir(), "tbs") // a real manifest, so attach gets to its --out
	if code, _, errs := runCLI(t, "tbs", "--out", tbsDir, src); code != 0 {
		t.Fatalf("tbs: exit %d: %s", code, errs)
	}
	for _, args := range [][]string{
		{"tbs", "--out", inside, src},
		{"attach", "--cert", cert, "--sigs", tbsDir, "--out", inside, src},
	} {
		code, _, errs := runCLI(t, args...)
		if code != 2 || !strings.Contains(errs, "inside, the source directory") {
			t.Errorf("%s: exit %d: %s", args[0], code, errs)
		}
		if _, err := os.Lstat(inside); err == nil {
			t.Errorf("%s: %s was created", args[0], inside)
		}
	}
}
