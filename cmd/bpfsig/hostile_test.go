//go:build linux

package main

// Hostile use of the command line (issue 9, "Must show"): inputs that are not files, outputs
// that are inputs by another spelling, targets that belong to someone else, symbolic links in
// and out of trees, a full disk, JSON on every failure path, file names that try to break
// the output, and every truncation of every fixture. Each case runs under a timeout, so a
// regression that blocks (opening a FIFO, reading /dev/zero) fails instead of hanging.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// hostileTimeout bounds one in-process run; every run here takes milliseconds.
const hostileTimeout = 20 * time.Second

// runTimed is runCLI with a deadline: a run that blocks fails the test instead of hanging the
// suite (its goroutine is abandoned).
func runTimed(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type res struct {
		code     int
		out, err string
	}
	ch := make(chan res, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run(append([]string{"bpfsig"}, args...), &out, &errb)
		ch <- res{code, out.String(), errb.String()}
	}()
	select {
	case r := <-ch:
		return r.code, r.out, r.err
	case <-time.After(hostileTimeout):
		t.Fatalf("bpfsig %s: still running after %v (blocked?)", strings.Join(args, " "), hostileTimeout)
		return 0, "", ""
	}
}

func writeBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// shortDir is a temporary directory with a short name: a unix socket's path must fit in
// sun_path (108 bytes), which t.TempDir's names for long test names may not.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "bh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// special is something that is not a regular file, made at a path.
type special struct {
	name string
	kind string // as fsio.Kind names it in messages
	// at makes it at path and returns the path to give bpfsig; /dev/zero is used as itself
	// unless link is set (an entry inside a keyring directory), then linked to at path.
	at func(t *testing.T, path string, link bool) string
}

var specials = []special{
	{"fifo", "FIFO", func(t *testing.T, p string, _ bool) string {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}},
	{"dev-zero", "character device", func(t *testing.T, p string, link bool) string {
		if !link {
			return "/dev/zero"
		}
		symlink(t, "/dev/zero", p)
		return p
	}},
	{"directory", "directory", func(t *testing.T, p string, _ bool) string {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}},
	{"socket", "socket", func(t *testing.T, p string, _ bool) string {
		l, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return p
	}},
}

// TestHostileNonRegularInputs gives a FIFO, /dev/zero, a directory and a unix socket in
// every place bpfsig reads a file: the skeleton of each command, --cert, an entry of a
// --keyring directory, --key, --policy, --trust, the --report target, and the inputs of
// mapvalue, loader and load. Each must end at once with exit 1 or 2 and a message naming
// the path and what it is, and write nothing.
func TestHostileNonRegularInputs(t *testing.T) {
	type role struct {
		name string
		// args builds the command line; p is the special path, ring a keyring directory
		// whose x.pem is the special, out a path nothing may be written to.
		args func(p, ring, out string) []string
		// inRing: the special is made as ring/x.pem (and that is the path to be named).
		inRing bool
		// dirMsg is what a directory is called for roles that walk directories.
		dirWalk bool
	}
	v2 := fx("legacy-v2")
	roles := []role{
		{name: "inspect", args: func(p, _, _ string) []string { return []string{"inspect", p} }, dirWalk: true},
		{name: "inspect --json", args: func(p, _, _ string) []string { return []string{"inspect", "--json", p} }, dirWalk: true},
		{name: "verify", args: func(p, _, _ string) []string { return []string{"verify", "--cert", cert, p} }, dirWalk: true},
		{name: "sign", args: func(p, _, out string) []string { return []string{"sign", "--key", key, "--cert", cert, "-o", out, p} }},
		{name: "sign --in-place", args: func(p, _, _ string) []string { return []string{"sign", "--key", key, "--cert", cert, "--in-place", p} }},
		{name: "migrate", args: func(p, _, out string) []string {
			return []string{"migrate", p, "--out", out, "--key", key, "--cert", cert}
		}, dirWalk: true},
		{name: "compare", args: func(p, _, _ string) []string { return []string{"compare", "--cert", cert, p} }},
		{name: "compare --tamper", args: func(p, _, _ string) []string {
			return []string{"compare", "--tamper", "intact", "--key", key, "--cert", cert, p}
		}},
		{name: "load", args: func(p, _, _ string) []string { return []string{"load", p} }},
		{name: "--cert", args: func(p, _, _ string) []string { return []string{"verify", "--cert", p, v2} }},
		{name: "--keyring entry", inRing: true, args: func(_, ring, _ string) []string { return []string{"verify", "--keyring", ring, v2} }},
		{name: "compare --keyring entry", inRing: true, args: func(_, ring, _ string) []string { return []string{"compare", "--keyring", ring, v2} }},
		{name: "--key", args: func(p, _, out string) []string {
			return []string{"sign", "--key", p, "--cert", cert, "-o", out, fx("unsigned")}
		}},
		{name: "sign --cert", args: func(p, _, out string) []string {
			return []string{"sign", "--key", key, "--cert", p, "-o", out, fx("unsigned")}
		}},
		{name: "--policy", args: func(p, _, out string) []string {
			return []string{"sign", "--key", key, "--cert", cert, "--policy", p, "-o", out, fx("unsigned")}
		}},
		{name: "migrate --policy", args: func(p, _, out string) []string {
			return []string{"migrate", v2, "--out", out, "--key", key, "--cert", cert, "--policy", p}
		}},
		{name: "migrate --trust", args: func(p, _, out string) []string {
			return []string{"migrate", v2, "--out", out, "--key", key, "--cert", cert, "--trust", p}
		}},
		{name: "migrate --trust-keyring entry", inRing: true, args: func(_, ring, out string) []string {
			return []string{"migrate", v2, "--out", out, "--key", key, "--cert", cert, "--trust-keyring", ring}
		}},
		{name: "--report", args: func(p, _, out string) []string {
			return []string{"migrate", v2, "--out", out, "--key", key, "--cert", cert, "--report", p}
		}},
		{name: "load --cert", args: func(p, _, _ string) []string { return []string{"load", "--cert", p, fx("raw")} }},
		{name: "mapvalue sign DATA", args: func(p, _, out string) []string {
			return []string{"mapvalue", "sign", "--key", key, "--cert", cert, "-o", out, p}
		}},
		{name: "mapvalue sign --unverified", args: func(p, _, out string) []string {
			return []string{"mapvalue", "sign", "--key", key, "--cert", cert, "-o", out, "--unverified", p, cert}
		}},
		{name: "mapvalue verify", args: func(p, _, _ string) []string { return []string{"mapvalue", "verify", "--cert", cert, p} }},
		{name: "mapvalue inspect", args: func(p, _, _ string) []string { return []string{"mapvalue", "inspect", p} }},
		{name: "loader digest", args: func(p, _, _ string) []string { return []string{"loader", "digest", p} }},
		{name: "loader sign", args: func(p, _, out string) []string {
			return []string{"loader", "sign", "--key", key, "--cert", cert, "-o", out, p}
		}},
		{name: "loader verify", args: func(p, _, _ string) []string { return []string{"loader", "verify", "--cert", cert, p} }},
		{name: "loader verify --sig", args: func(p, _, _ string) []string { return []string{"loader", "verify", "--cert", cert, "--sig", p, cert} }},
	}
	for _, sp := range specials {
		for _, r := range roles {
			t.Run(sp.name+"/"+r.name, func(t *testing.T) {
				dir := shortDir(t)
				ring := filepath.Join(dir, "ring")
				if err := os.Mkdir(ring, 0o755); err != nil {
					t.Fatal(err)
				}
				var p string
				if r.inRing {
					p = sp.at(t, filepath.Join(ring, "x.pem"), true)
				} else {
					p = sp.at(t, filepath.Join(dir, "x.skel.h"), false)
				}
				out := filepath.Join(dir, "out")
				code, stdout, stderr := runTimed(t, r.args(p, ring, out)...)
				all := stdout + stderr
				if code != exitFail && code != exitUsage {
					t.Errorf("exit %d, want 1 or 2\n%s", code, all)
				}
				if !strings.Contains(all, p) {
					t.Errorf("the message does not name %s:\n%s", p, all)
				}
				want := sp.kind
				if sp.kind == "directory" && r.dirWalk {
					want = "directory holds no light skeleton header"
				}
				if !strings.Contains(all, want) {
					t.Errorf("the message does not say %q:\n%s", want, all)
				}
				if _, err := os.Lstat(out); err == nil {
					t.Errorf("%s was written", out)
				}
				if strings.Contains(r.name, "--json") {
					var v any
					if err := json.Unmarshal([]byte(stdout), &v); err != nil {
						t.Errorf("stdout is not JSON: %v\n%s", err, stdout)
					}
				}
			})
		}
	}
}

// TestHostileOutputOntoFlagFile: an output that names, by any spelling or link, a file the
// run reads through a flag (the private key, a certificate, the policy) or the executable
// loader sign signs is refused with exit 2, and the file is left as it was. Before, sign -o
// KEY replaced the private key with the signed skeleton, loader sign -o FILE FILE replaced
// the executable with its signature, and migrate --report KEY wrote the report over the key.
func TestHostileOutputOntoFlagFile(t *testing.T) {
	sk := fx("raw")
	cases := []struct {
		name string
		args func(out string) []string
		file string // what out names, relative to the working directory
	}{
		{"sign -o the key", func(o string) []string {
			return []string{"sign", "--key", "k.pem", "--cert", "c.pem", "--scheme", "raw", "-o", o, sk}
		}, "k.pem"},
		{"sign -o the cert", func(o string) []string {
			return []string{"sign", "--key", "k.pem", "--cert", "c.pem", "--scheme", "raw", "-o", o, sk}
		}, "c.pem"},
		{"sign -o the policy", func(o string) []string {
			return []string{"sign", "--key", "k.pem", "--cert", "c.pem", "--policy", "p.yaml", "-o", o, sk}
		}, "p.yaml"},
		{"tbs -o the policy", func(o string) []string { return []string{"tbs", "--policy", "p.yaml", "-o", o, sk} }, "p.yaml"},
		{"loader sign -o the file", func(o string) []string {
			return []string{"loader", "sign", "--key", "k.pem", "--cert", "c.pem", "-o", o, "exe"}
		}, "exe"},
		{"loader sign -o the key", func(o string) []string {
			return []string{"loader", "sign", "--key", "k.pem", "--cert", "c.pem", "-o", o, "exe"}
		}, "k.pem"},
		{"mapvalue sign -o the key", func(o string) []string {
			return []string{"mapvalue", "sign", "--key", "k.pem", "--cert", "c.pem", "-o", o, "exe"}
		}, "k.pem"},
		{"mapvalue sign -o the data", func(o string) []string {
			return []string{"mapvalue", "sign", "--key", "k.pem", "--cert", "c.pem", "-o", o, "exe"}
		}, "exe"},
		{"mapvalue sign -o the unverified part", func(o string) []string {
			return []string{"mapvalue", "sign", "--key", "k.pem", "--cert", "c.pem", "--unverified", "t.pem", "-o", o, "exe"}
		}, "t.pem"},
		{"migrate --report the key", func(o string) []string {
			return []string{"migrate", "--key", "k.pem", "--cert", "c.pem", "--dry-run", "--out", "mo", "--report", o, sk}
		}, "k.pem"},
		{"migrate --report the trusted cert", func(o string) []string {
			return []string{"migrate", "--key", "k.pem", "--cert", "c.pem", "--trust", "t.pem", "--dry-run", "--out", "mo", "--report", o, sk}
		}, "t.pem"},
	}
	for _, c := range cases {
		for _, spell := range []string{"%s", "./%s", "l%s", "sub/../%s"} {
			t.Run(c.name+" "+spell, func(t *testing.T) {
				t.Chdir(t.TempDir())
				writeBytes(t, "k.pem", readBytes(t, key))
				os.Chmod("k.pem", 0o600)
				writeBytes(t, "c.pem", readBytes(t, cert))
				writeBytes(t, "t.pem", readBytes(t, cert))
				writeBytes(t, "p.yaml", []byte("default:\n  scheme: raw\n"))
				writeBytes(t, "exe", []byte("#!/bin/sh\n"))
				os.Mkdir("sub", 0o755)
				symlink(t, c.file, "l"+c.file)
				orig := readBytes(t, c.file)
				code, stdout, stderr := runTimed(t, c.args(strings.ReplaceAll(spell, "%s", c.file))...)
				if code != exitUsage || !strings.Contains(stderr, "(the same file)") {
					t.Errorf("exit %d, want 2 naming the file\n%s%s", code, stdout, stderr)
				}
				if got := readBytes(t, c.file); !bytes.Equal(got, orig) {
					t.Errorf("%s was overwritten", c.file)
				}
			})
		}
	}
}

// TestHostileSameFile: an output that is the input by another spelling, a link or a hard
// link is refused with exit 2 and a pointer to --in-place, and the input is left byte for
// byte as it was.
func TestHostileSameFile(t *testing.T) {
	type tc struct {
		name string
		// args gets the base directory (the working directory, holding dir/a.skel.h).
		args func(base string) []string
		in   string // the file that must be unchanged, relative to base
	}
	sign := func(out, in string) []string {
		return []string{"sign", "--key", key, "--cert", cert, "--scheme", "raw", "-o", out, in}
	}
	mig := func(src, out string) []string {
		return []string{"migrate", src, "--out", out, "--key", key, "--cert", cert}
	}
	cases := []tc{
		{"migrate --out dir", func(string) []string { return mig("dir/a.skel.h", "dir") }, "dir/a.skel.h"},
		{"migrate --out ./dir", func(string) []string { return mig("dir/a.skel.h", "./dir") }, "dir/a.skel.h"},
		{"migrate --out dir/", func(string) []string { return mig("dir/a.skel.h", "dir/") }, "dir/a.skel.h"},
		{"migrate --out dir/../dir", func(string) []string { return mig("dir/a.skel.h", "dir/../dir") }, "dir/a.skel.h"},
		{"migrate --out absolute", func(b string) []string { return mig("dir/a.skel.h", filepath.Join(b, "dir")) }, "dir/a.skel.h"},
		{"migrate --out link to dir", func(string) []string { return mig("dir/a.skel.h", "ldir") }, "dir/a.skel.h"},
		{"migrate linked source --out its dir", func(string) []string { return mig("dir/la.skel.h", "dir") }, "dir/a.skel.h"},
		{"migrate source through a linked dir", func(string) []string { return mig("ldir/a.skel.h", "dir") }, "dir/a.skel.h"},
		{"migrate hard link --out its dir", func(string) []string { return mig("dir/ha.skel.h", "dir") }, "dir/a.skel.h"},
		{"migrate tree --out the tree", func(string) []string { return mig("dir", "dir") }, "dir/a.skel.h"},
		{"migrate tree --out a subdirectory", func(string) []string { return mig("dir", "dir/new") }, "dir/a.skel.h"},
		{"migrate tree --out a link to it", func(string) []string { return mig("dir", "ldir") }, "dir/a.skel.h"},
		{"sign -o itself", func(string) []string { return sign("dir/a.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign -o ./", func(string) []string { return sign("./dir/a.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign -o dir/../dir", func(string) []string { return sign("dir/../dir/a.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign -o absolute", func(b string) []string { return sign(filepath.Join(b, "dir/a.skel.h"), "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign -o through a linked dir", func(string) []string { return sign("ldir/a.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign -o a link to it", func(string) []string { return sign("dir/la.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
		{"sign a link -o its file", func(string) []string { return sign("dir/a.skel.h", "dir/la.skel.h") }, "dir/a.skel.h"},
		{"sign -o a hard link", func(string) []string { return sign("dir/ha.skel.h", "dir/a.skel.h") }, "dir/a.skel.h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			t.Chdir(base)
			orig := testfix.Bytes(t, "legacy-v1")
			writeBytes(t, "dir/a.skel.h", orig)
			symlink(t, "dir", "ldir")
			symlink(t, "a.skel.h", "dir/la.skel.h")
			if err := os.Link("dir/a.skel.h", "dir/ha.skel.h"); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runTimed(t, c.args(base)...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "--in-place") {
				t.Errorf("the message does not point to --in-place: %q", stderr)
			}
			if got := readBytes(t, filepath.Join(base, c.in)); !bytes.Equal(got, orig) {
				t.Errorf("%s changed", c.in)
			}
			if fi, err := os.Lstat("dir/la.skel.h"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("dir/la.skel.h is no longer a link")
			}
			if _, err := os.Stat("dir/new"); err == nil {
				t.Errorf("dir/new was created")
			}
		})
	}
	// A link inside the output tree leading back into the source tree: a new file would be
	// created among the sources.
	t.Run("migrate --out holding a link into the tree", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/x/a.skel.h", testfix.Bytes(t, "legacy-v1"))
		os.Mkdir("o", 0o755)
		symlink(t, "../src", "o/x")
		code, _, stderr := runTimed(t, "migrate", "src", "--out", "o", "--key", key, "--cert", cert)
		if code != exitUsage || !strings.Contains(stderr, "--in-place") {
			t.Errorf("exit %d, want 2: %s", code, stderr)
		}
		if _, err := os.Lstat("src/a.skel.h"); err == nil {
			t.Error("a file was created in the source tree")
		}
	})
	// A different output by a confusable spelling is not refused.
	t.Run("sign -o a copy", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "dir/a.skel.h", testfix.Bytes(t, "legacy-v1"))
		writeBytes(t, "a.skel.h", testfix.Bytes(t, "legacy-v1"))
		if code, _, stderr := runTimed(t, "sign", "--key", key, "--cert", cert, "--scheme", "raw", "-o", "dir/../a.skel.h", "dir/a.skel.h"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !bytes.Equal(readBytes(t, "a.skel.h"), testfix.Bytes(t, "raw")) {
			t.Error("a.skel.h is not the raw fixture")
		}
	})
}

// renamed returns fixture name with its object renamed (minimal → maximal, the same length):
// another program with the very same loader and metadata.
func renamed(t *testing.T, name string) []byte {
	return bytes.ReplaceAll(testfix.Bytes(t, name), []byte("minimal"), []byte("maximal"))
}

// TestHostileOverwrite: a target holding something else than the source's program is refused
// (exit 1, the reason) and left intact; --overwrite replaces it.
func TestHostileOverwrite(t *testing.T) {
	cases := []struct {
		name   string
		target []byte
		reason string
	}{
		{"another program with the same loader", renamed(t, "raw"), `holds a different program (object "maximal"`},
		{"another program, legacy", renamed(t, "legacy-v2"), `holds a different program (object "maximal"`},
		{"an unrelated text file", []byte("my notes\n"), "exists and is not a light skeleton"},
		{"an empty file", nil, "exists and is not a light skeleton"},
		{"a C header", []byte("#pragma once\nint f(void);\n"), "exists and is not a light skeleton"},
		{"a truncated skeleton", testfix.Bytes(t, "raw")[:9000], "exists and is not a light skeleton"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, out := t.TempDir(), t.TempDir()
			writeBytes(t, filepath.Join(src, "a.skel.h"), testfix.Bytes(t, "legacy-v1"))
			tgt := filepath.Join(out, "a.skel.h")
			writeBytes(t, tgt, c.target)
			code, stdout, stderr := runTimed(t, "migrate", src, "--out", out, "--key", key, "--cert", cert)
			if code != exitFail || !strings.Contains(stdout, "REFUSED") || !strings.Contains(stdout, c.reason) || !strings.Contains(stdout, "--overwrite") {
				t.Errorf("exit %d, want 1 and REFUSED %q:\n%s%s", code, c.reason, stdout, stderr)
			}
			if !bytes.Equal(readBytes(t, tgt), c.target) {
				t.Fatal("the refused target changed")
			}
			code, stdout, stderr = runTimed(t, "migrate", src, "--out", out, "--key", key, "--cert", cert, "--overwrite")
			if code != 0 || !strings.Contains(stdout, "1 migrated") {
				t.Fatalf("--overwrite: exit %d\n%s%s", code, stdout, stderr)
			}
			if !bytes.Equal(readBytes(t, tgt), testfix.Bytes(t, "raw")) {
				t.Error("--overwrite did not leave the migrated skeleton")
			}
		})
	}
	// The same program with its host-side C code edited is the source's to replace, and is
	// not "up to date" (it is not byte for byte what the migration writes).
	t.Run("the same program, edited", func(t *testing.T) {
		src, out := t.TempDir(), t.TempDir()
		writeBytes(t, filepath.Join(src, "a.skel.h"), testfix.Bytes(t, "legacy-v1"))
		tgt := filepath.Join(out, "a.skel.h")
		writeBytes(t, tgt, readBytes(t, testfix.Path("broken", "raw-rodata-edited.skel.h")))
		code, stdout, stderr := runTimed(t, "migrate", src, "--out", out, "--key", key, "--cert", cert)
		if code != 0 || !strings.Contains(stdout, "1 migrated") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if !bytes.Equal(readBytes(t, tgt), testfix.Bytes(t, "raw")) {
			t.Error("the edited target was not replaced by the migrated skeleton")
		}
	})
}

// reportJSON is the part of a migration report the hostile tests read.
type reportJSON struct {
	Summary map[string]any `json:"summary"`
	Files   []struct {
		Source       string `json:"source"`
		Target       string `json:"target"`
		SourceBase64 string `json:"source_base64"`
		TargetBase64 string `json:"target_base64"`
		Outcome      string `json:"outcome"`
		Reason       string `json:"reason"`
		Backup       string `json:"backup"`
	} `json:"files"`
}

func readReport(t *testing.T, b []byte) reportJSON {
	t.Helper()
	var r reportJSON
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	return r
}

// TestHostileSymlinks: links inside a tree are followed (a file reached twice is taken once,
// and that is no failure), links leaving it are reported skipped in text and in the report,
// a linked directory as SRC is walked, in-place writes go through a link and keep it,
// backups are never migrated.
func TestHostileSymlinks(t *testing.T) {
	v1, v2, raw := testfix.Bytes(t, "legacy-v1"), testfix.Bytes(t, "legacy-v2"), testfix.Bytes(t, "raw")

	t.Run("inside links are followed, once", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		writeBytes(t, "src/real/b.skel.h", v2)
		os.MkdirAll("src/sub", 0o755)
		symlink(t, "../a.skel.h", "src/sub/in.skel.h")
		symlink(t, "real", "src/ldir")
		code, stdout, stderr := runTimed(t, "migrate", "src", "--out", "o", "--key", key, "--cert", cert, "--report", "r.json")
		if code != 0 || !strings.Contains(stdout, "2 migrated") {
			t.Fatalf("exit %d, want 0 and 2 migrated:\n%s%s", code, stdout, stderr)
		}
		for _, p := range []string{"o/a.skel.h", "o/real/b.skel.h"} {
			if !bytes.Equal(readBytes(t, p), raw) {
				t.Errorf("%s is not the migrated skeleton", p)
			}
		}
		for _, p := range []string{"o/sub/in.skel.h", "o/ldir"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s written: the file was migrated twice", p)
			}
		}
		rep := readReport(t, readBytes(t, "r.json"))
		dup := map[string]string{}
		for _, f := range rep.Files {
			if f.Outcome == "duplicate" {
				dup[f.Source] = f.Reason
			}
		}
		if !strings.Contains(dup["src/sub/in.skel.h"], "same file as src/a.skel.h") || !strings.Contains(dup["src/ldir"], "src/real") {
			t.Errorf("duplicates in the report: %v", dup)
		}
		if rep.Summary["duplicates"] != float64(2) {
			t.Errorf("summary: %v", rep.Summary)
		}
	})

	t.Run("outside links are skipped", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		writeBytes(t, "elsewhere/b.skel.h", v2)
		symlink(t, "../elsewhere/b.skel.h", "src/out.skel.h")
		symlink(t, "../elsewhere", "src/outdir")
		code, stdout, stderr := runTimed(t, "migrate", "src", "--out", "o", "--key", key, "--cert", cert, "--report", "r.json")
		if code != exitFail {
			t.Errorf("exit %d, want 1 (something under SRC was not migrated)", code)
		}
		for _, n := range []string{"src/out.skel.h: SKIPPED", "src/outdir: SKIPPED"} {
			if !strings.Contains(stdout, n) {
				t.Errorf("text output lacks %q:\n%s%s", n, stdout, stderr)
			}
		}
		if !strings.Contains(stdout, "outside the source tree") {
			t.Errorf("text output does not say why:\n%s", stdout)
		}
		rep := readReport(t, readBytes(t, "r.json"))
		skipped := 0
		for _, f := range rep.Files {
			if f.Outcome == "skipped" && strings.Contains(f.Reason, "outside the source tree") {
				skipped++
			}
		}
		if skipped != 2 {
			t.Errorf("report: %d links outside reported skipped, want 2: %+v", skipped, rep.Files)
		}
		if !bytes.Equal(readBytes(t, "o/a.skel.h"), raw) {
			t.Error("o/a.skel.h not migrated")
		}
		for _, p := range []string{"o/out.skel.h", "o/outdir"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s written", p)
			}
		}
		if !bytes.Equal(readBytes(t, "elsewhere/b.skel.h"), v2) {
			t.Error("the file outside changed")
		}
		// In place, the file outside must not be rewritten through the link.
		code, stdout, _ = runTimed(t, "migrate", "src", "--in-place", "--key", key, "--cert", cert)
		if code != exitFail || !bytes.Equal(readBytes(t, "elsewhere/b.skel.h"), v2) {
			t.Errorf("in place: exit %d; the file outside changed or was not reported:\n%s", code, stdout)
		}
		// verify and inspect walk the same way: what was left out makes them fail.
		for _, cmd := range [][]string{{"verify", "--cert", cert, "src"}, {"inspect", "src"}} {
			code, stdout, stderr := runTimed(t, cmd...)
			if code != exitFail || !strings.Contains(stdout+stderr, "outside the source tree") {
				t.Errorf("%s: exit %d, want 1 and the skipped link named:\n%s%s", cmd[0], code, stdout, stderr)
			}
		}
	})

	t.Run("link loops are skipped, the rest migrated", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		symlink(t, "c.skel.h", "src/b.skel.h")
		symlink(t, "b.skel.h", "src/c.skel.h")
		symlink(t, "self.skel.h", "src/self.skel.h")
		symlink(t, "loopdir", "src/loopdir")
		code, stdout, stderr := runTimed(t, "migrate", "src", "--out", "o", "--key", key, "--cert", cert)
		if code != exitFail || !strings.Contains(stdout, "1 migrated") {
			t.Errorf("exit %d, want 1 and a.skel.h migrated:\n%s%s", code, stdout, stderr)
		}
		for _, p := range []string{"src/b.skel.h", "src/c.skel.h", "src/self.skel.h"} {
			if !strings.Contains(stdout, p+": SKIPPED: not migrated: symbolic link loop") {
				t.Errorf("%s not reported as a loop:\n%s", p, stdout)
			}
		}
		code, stdout, stderr = runTimed(t, "verify", "--cert", cert, "src")
		if code != exitFail || !strings.Contains(stdout, "src/a.skel.h: OK") || !strings.Contains(stdout, "src/b.skel.h: FAILED: src/b.skel.h: skipped: symbolic link loop") {
			t.Errorf("verify: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("linked directory as SRC", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "real/a.skel.h", v1)
		writeBytes(t, "real/sub/b.skel.h", v2)
		symlink(t, "real", "lsrc")
		code, stdout, stderr := runTimed(t, "migrate", "lsrc", "--out", "o", "--key", key, "--cert", cert)
		if code != 0 || !strings.Contains(stdout, "2 migrated") {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		if !bytes.Equal(readBytes(t, "o/sub/b.skel.h"), raw) {
			t.Error("o/sub/b.skel.h not migrated")
		}
		if code, stdout, _ := runTimed(t, "verify", "--cert", cert, "lsrc/"); code != 0 || !strings.Contains(stdout, "lsrc/sub/b.skel.h: OK") {
			t.Errorf("verify of a linked tree: exit %d\n%s", code, stdout)
		}
	})

	inPlace := func(t *testing.T, args ...string) {
		t.Helper()
		t.Chdir(t.TempDir())
		writeBytes(t, "real/a.skel.h", v1)
		symlink(t, "real/a.skel.h", "l.skel.h")
		code, stdout, stderr := runTimed(t, append(args, "l.skel.h")...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		fi, err := os.Lstat("l.skel.h")
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("l.skel.h is no longer a link (%v)", err)
		}
		if dest, _ := os.Readlink("l.skel.h"); dest != "real/a.skel.h" {
			t.Errorf("the link now points to %q", dest)
		}
		if !bytes.Equal(readBytes(t, "real/a.skel.h"), raw) {
			t.Error("the file the link names was not rewritten")
		}
		ents, _ := os.ReadDir("real")
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), atomicfile.TempPrefix) {
				t.Errorf("temporary left: real/%s", e.Name())
			}
		}
	}
	t.Run("sign --in-place writes through a link", func(t *testing.T) {
		inPlace(t, "sign", "--key", key, "--cert", cert, "--scheme", "raw", "--in-place")
	})
	t.Run("migrate --in-place writes through a link", func(t *testing.T) {
		inPlace(t, "migrate", "--in-place", "--key", key, "--cert", cert)
		if !bytes.Equal(readBytes(t, "l.skel.h.orig"), v1) {
			t.Error("no backup of the original")
		}
	})

	t.Run("backups are never migrated", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		for _, s := range []string{".skel.h", ".lskel.h", ".orig.skel.h", "x.lskel.h", "/../../x", ".d/x", `\x`} {
			code, _, stderr := runTimed(t, "migrate", "src", "--in-place", "--backup-suffix", s, "--key", key, "--cert", cert)
			if code != exitUsage || !strings.Contains(stderr, "backup suffix") {
				t.Errorf("--backup-suffix %s: exit %d, want 2: %s", s, code, stderr)
			}
		}
		if !bytes.Equal(readBytes(t, "src/a.skel.h"), v1) {
			t.Fatal("a refused run changed the source")
		}
		writeBytes(t, "src/x.skel.h.orig", v2)
		writeBytes(t, "src/sub/y.lskel.h.orig", v2)
		code, stdout, stderr := runTimed(t, "migrate", "src", "--out", "o", "--key", key, "--cert", cert, "--json")
		if code != 0 {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		if strings.Contains(stdout, ".orig") {
			t.Errorf("a backup is in the run:\n%s", stdout)
		}
		var found []string
		filepath.Walk("o", func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				found = append(found, p)
			}
			return nil
		})
		if strings.Join(found, " ") != "o/a.skel.h" {
			t.Errorf("written: %v, want only o/a.skel.h", found)
		}
		// An in-place run, then another: the backup it made is not migrated the second time.
		if code, stdout, _ := runTimed(t, "migrate", "src", "--in-place", "--key", key, "--cert", cert); code != 0 || !strings.Contains(stdout, "1 migrated") {
			t.Fatalf("in place: exit %d\n%s", code, stdout)
		}
		if code, stdout, _ := runTimed(t, "migrate", "src", "--in-place", "--key", key, "--cert", cert); code != 0 || !strings.Contains(stdout, "0 migrated, 1 up to date") {
			t.Errorf("second in-place run: exit %d\n%s", code, stdout)
		}
		if !bytes.Equal(readBytes(t, "src/a.skel.h.orig"), v1) || !bytes.Equal(readBytes(t, "src/x.skel.h.orig"), v2) {
			t.Error("a backup changed")
		}
	})

	t.Run("the same file reached twice is processed once", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		symlink(t, "src", "lsrc")
		code, stdout, stderr := runTimed(t, "migrate", "src/a.skel.h", "./src/a.skel.h", "src", "lsrc", "src/../src/a.skel.h", "--out", "o", "--key", key, "--cert", cert, "--json")
		if code != 0 {
			t.Fatalf("exit %d, want 0:\n%s%s", code, stdout, stderr)
		}
		var m reportJSON
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatal(err)
		}
		if m.Summary["migrated"] != float64(1) || m.Summary["duplicates"] != float64(4) {
			t.Errorf("summary %v, want 1 migrated and 4 duplicates", m.Summary)
		}
		if !bytes.Equal(readBytes(t, "o/a.skel.h"), raw) {
			t.Error("o/a.skel.h not migrated")
		}
	})

	t.Run("report onto a file of the run is refused", func(t *testing.T) {
		t.Chdir(t.TempDir())
		writeBytes(t, "src/a.skel.h", v1)
		symlink(t, "src/a.skel.h", "la")
		for _, c := range []struct {
			report string
			extra  []string
		}{
			{"src/a.skel.h", []string{"--out", "o"}},
			{"./src/../src/a.skel.h", []string{"--out", "o"}},
			{"la", []string{"--out", "o"}},
			{"o/a.skel.h", []string{"--out", "o"}},
			{"src/a.skel.h", []string{"--in-place"}},
			{"src/a.skel.h.orig", []string{"--in-place"}},
			{"src/a.skel.h.bak", []string{"--in-place", "--backup-suffix", ".bak"}},
		} {
			args := append([]string{"migrate", "src", "--key", key, "--cert", cert, "--report", c.report}, c.extra...)
			code, stdout, stderr := runTimed(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "--report") {
				t.Errorf("--report %s %v: exit %d, want 2\n%s%s", c.report, c.extra, code, stdout, stderr)
			}
			if !bytes.Equal(readBytes(t, "src/a.skel.h"), v1) {
				t.Fatalf("--report %s %v: the source changed", c.report, c.extra)
			}
			for _, p := range []string{"o", "src/a.skel.h.orig", "src/a.skel.h.bak"} {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("--report %s %v: %s written", c.report, c.extra, p)
				}
			}
		}
	})
}

// TestHostileDiskFull migrates into a 256 KiB tmpfs that holds about a dozen results: the run
// fails (exit 1), every target is absent or complete, no temporary is left, and the errors
// name targets, never temporaries.
func TestHostileDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a 256 KiB tmpfs to fill it (mount -t tmpfs -o size=256k)")
	}
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	src := t.TempDir()
	const n = 40
	for i := 0; i < n; i++ {
		writeBytes(t, filepath.Join(src, fmt.Sprintf("d%d", i%3), fmt.Sprintf("s%02d.skel.h", i)), testfix.Bytes(t, "legacy-v2"))
	}
	out := filepath.Join(mnt, "out")
	for _, jobs := range []string{"1", "2"} {
		os.RemoveAll(out)
		code, stdout, stderr := runTimed(t, "migrate", src, "--out", out, "--key", key, "--cert", cert, "--json", "--jobs", jobs)
		if code != exitFail {
			t.Fatalf("jobs %s: exit %d, want 1 (the disk is full)\n%s", jobs, code, stderr)
		}
		var rep reportJSON
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("jobs %s: %v\n%s", jobs, err, stdout)
		}
		failedN := 0
		for _, f := range rep.Files {
			b, err := os.ReadFile(f.Target)
			switch {
			case f.Outcome == "migrated":
				if !bytes.Equal(b, testfix.Bytes(t, "raw")) {
					t.Errorf("jobs %s: %s reported migrated but is not complete (%v, %d bytes)", jobs, f.Target, err, len(b))
				}
			case f.Outcome == "failed":
				failedN++
				if err == nil && !bytes.Equal(b, testfix.Bytes(t, "raw")) {
					t.Errorf("jobs %s: failed target %s is partial (%d bytes)", jobs, f.Target, len(b))
				}
				if !strings.Contains(f.Reason, "no space left on device") || !strings.Contains(f.Reason, out) {
					t.Errorf("jobs %s: %s: reason does not name a target and ENOSPC: %s", jobs, f.Source, f.Reason)
				}
			default:
				t.Errorf("jobs %s: %s: outcome %s", jobs, f.Source, f.Outcome)
			}
		}
		if failedN == 0 {
			t.Errorf("jobs %s: nothing failed on a full disk", jobs)
		}
		if strings.Contains(stdout+stderr, atomicfile.TempPrefix) {
			t.Errorf("jobs %s: a message names a temporary file", jobs)
		}
		filepath.Walk(mnt, func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasPrefix(fi.Name(), atomicfile.TempPrefix) {
				t.Errorf("jobs %s: temporary left: %s", jobs, p)
			}
			if err == nil && fi.Mode().IsRegular() && !bytes.Equal(readBytes(t, p), testfix.Bytes(t, "raw")) {
				t.Errorf("jobs %s: partial file %s", jobs, p)
			}
			return nil
		})
		t.Logf("jobs %s: %d of %d failed on the full disk", jobs, failedN, n)
	}
}

// TestHostileJSONOnFailure: with --json, every command's standard output is one JSON
// document on its failure paths (an object with "error" when it failed before printing), logs
// go to stderr, and exit codes are only 0, 1 and 2.
func TestHostileJSONOnFailure(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.skel.h")
	garbage := filepath.Join(dir, "garbage.skel.h")
	writeBytes(t, garbage, []byte("int main(void) { return 0; }\n"))
	fifo := filepath.Join(dir, "fifo.skel.h")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(garbage, "below-a-file.skel.h") // ENOTDIR: unreadable even for root
	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"inspect missing", []string{"inspect", missing}, 1},
		{"inspect garbage", []string{"inspect", garbage}, 1},
		{"inspect fifo", []string{"inspect", fifo}, 1},
		{"inspect ENOTDIR", []string{"inspect", notDir}, 1},
		{"inspect no file", []string{"inspect"}, 2},
		{"inspect bad flag", []string{"inspect", "--bogus", fx("raw")}, 2},
		{"verify missing", []string{"verify", "--cert", cert, missing}, 1},
		{"verify garbage", []string{"verify", "--cert", cert, garbage}, 1},
		{"verify no trust", []string{"verify", fx("raw")}, 2},
		{"verify missing cert", []string{"verify", "--cert", missing, fx("raw")}, 1},
		{"verify bad scheme", []string{"verify", "--cert", cert, "--scheme", "nosuch", fx("raw")}, 2},
		{"verify bad flag", []string{"verify", "--bogus", fx("raw")}, 2},
		{"verify unsigned", []string{"verify", "--cert", cert, fx("unsigned")}, 1},
		{"sign missing (sign has no --json)", []string{"sign", "--key", key, "--cert", cert, "-o", out, missing}, 2},
		{"sign usage", []string{"sign", "--key", key, "--cert", cert, missing}, 2},
		{"sign missing key", []string{"sign", "--key", missing, "--cert", cert, "-o", out, fx("unsigned")}, 2},
		{"sign onto itself", []string{"sign", "--key", key, "--cert", cert, "-o", fx("raw"), fx("raw")}, 2},
		{"compare missing", []string{"compare", "--cert", cert, missing}, 1},
		{"compare usage", []string{"compare", "--cert", cert}, 2},
		{"compare bad scenario", []string{"compare", "--tamper", "nosuch", "--key", key, "--cert", cert, fx("raw")}, 2},
		{"migrate missing", []string{"migrate", missing, "--out", out, "--key", key, "--cert", cert}, 1},
		{"migrate usage", []string{"migrate", fx("raw"), "--key", key, "--cert", cert}, 2},
		{"migrate fifo", []string{"migrate", fifo, "--out", out, "--key", key, "--cert", cert}, 1},
		{"migrate garbage", []string{"migrate", garbage, "--out", out, "--key", key, "--cert", cert}, 1},
		{"migrate bad report", []string{"migrate", fx("raw"), "--out", out, "--key", key, "--cert", cert, "--report", filepath.Join(missing, "r.json")}, 2},
		{"probe bad flag", []string{"probe", "--bogus"}, 2},
		{"probe bad flag with a value", []string{"probe", "--bogus=1"}, 2},
		{"load missing", []string{"load", missing}, 1},
		{"load usage", []string{"load"}, 2},
		{"load both keyrings", []string{"load", "--keyring-id", "1", "--cert", cert, fx("raw")}, 2},
		{"mapvalue sign missing (no --json)", []string{"mapvalue", "sign", "--key", key, "--cert", cert, "-o", out, missing}, 2},
		{"mapvalue sign usage", []string{"mapvalue", "sign", "--key", key, "--cert", cert, missing}, 2},
		{"mapvalue verify missing", []string{"mapvalue", "verify", "--cert", cert, missing}, 1},
		{"mapvalue verify garbage", []string{"mapvalue", "verify", "--cert", cert, garbage}, 1},
		{"mapvalue inspect missing", []string{"mapvalue", "inspect", missing}, 1},
		{"mapvalue inspect fifo", []string{"mapvalue", "inspect", fifo}, 1},
		{"mapvalue nosuch", []string{"mapvalue", "nosuch"}, 2},
		{"loader digest missing (no --json)", []string{"loader", "digest", missing}, 2},
		{"loader digest usage", []string{"loader", "digest"}, 2},
		{"loader sign usage", []string{"loader", "sign", "--key", key, "--cert", cert, garbage}, 2},
		{"loader verify missing", []string{"loader", "verify", "--cert", cert, missing}, 1},
		{"loader verify missing sig", []string{"loader", "verify", "--cert", cert, "--sig", missing, garbage}, 1},
		{"loader verify unsigned", []string{"loader", "verify", "--cert", cert, garbage}, 1},
		{"oracle selftest bad flag", []string{"oracle", "selftest", "--bogus"}, 2},
		{"global bad log level", []string{"--log-level", "loud", "inspect", fx("raw")}, 2},
		{"global bad log format", []string{"--log-format", "xml", "inspect", fx("raw")}, 2},
	}
	for _, c := range cases {
		for _, where := range []string{"after", "before"} {
			// --json at the end, and right after the command name (flags may go anywhere).
			args := append(append([]string(nil), c.args...), "--json")
			if where == "before" {
				i := 1
				if c.args[0] == "--log-level" || c.args[0] == "--log-format" {
					i = 3
				} else if c.args[0] == "mapvalue" || c.args[0] == "loader" || c.args[0] == "oracle" {
					i = 2
				}
				args = append(append(append([]string(nil), c.args[:i]...), "--json"), c.args[i:]...)
			}
			t.Run(c.name+"/"+where, func(t *testing.T) {
				code, stdout, stderr := runTimed(t, args...)
				if code != c.code {
					t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
				}
				dec := json.NewDecoder(strings.NewReader(stdout))
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%q\nstderr: %s", err, stdout, stderr)
				}
				if dec.More() {
					t.Errorf("stdout holds more than one JSON document: %q", stdout)
				}
				if obj, ok := v.(map[string]any); ok && obj["error"] != nil {
					if s, _ := obj["error"].(string); s == "" || obj["exit_code"] != float64(code) {
						t.Errorf("error object %v for exit %d", obj, code)
					}
				}
				if code == exitUsage && !isErrorObject(v) {
					t.Errorf("a usage error printed %q, want an error object", stdout)
				}
				if strings.Contains(stdout, "level=") {
					t.Errorf("a log line on stdout: %q", stdout)
				}
			})
		}
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"nosuch"}, 2}, {[]string{"help", "nosuch"}, 2}, {[]string{"help", "verify"}, 0},
		{[]string{"nosuch", "--json"}, 2}, {[]string{"--version"}, 0}, {[]string{}, 0}, {[]string{"--bogus"}, 2},
		{[]string{"verify", "--help"}, 0}, {[]string{"mapvalue"}, 0}, {[]string{"oracle"}, 0},
	} {
		code, stdout, stderr := runTimed(t, c.args...)
		if code != c.code {
			t.Errorf("bpfsig %v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		if len(c.args) > 1 && c.args[1] == "--json" {
			if !isErrorObject(decodeJSON(stdout)) {
				t.Errorf("bpfsig %v: stdout %q, want an error object", c.args, stdout)
			}
		}
	}
}

func decodeJSON(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

func isErrorObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["error"] != nil
}

// TestHostileFileNames: names with a newline, a terminal escape and a byte that is not
// UTF-8. Text output prints them quoted (no raw control byte or invalid byte reaches
// stdout); JSON keeps them exactly (the *_base64 fields for the byte that JSON cannot hold).
func TestHostileFileNames(t *testing.T) {
	names := []string{"new\nline.skel.h", "esc\x1b[31mred.skel.h", "bad\xffbyte.skel.h", "bad\xff\nboth.skel.h"}
	dir := t.TempDir()
	t.Chdir(dir)
	for i, n := range names {
		writeBytes(t, filepath.Join("src", n), testfix.Bytes(t, "legacy-v1"))
		// The same hostile name on a file that fails, so the error paths print it too.
		writeBytes(t, filepath.Join("bad", fmt.Sprintf("%d", i), n), []byte("not a skeleton\n"))
	}
	clean := func(t *testing.T, what, s string) {
		t.Helper()
		for _, b := range []byte{'\x1b', '\xff'} {
			if bytes.IndexByte([]byte(s), b) >= 0 {
				t.Errorf("%s: raw byte %#x in the output:\n%q", what, b, s)
			}
		}
		for _, n := range names {
			if strings.Contains(s, strings.TrimSuffix(n, ".skel.h")) {
				t.Errorf("%s: the name %q printed unquoted:\n%q", what, n, s)
			}
		}
	}
	quoted := func(t *testing.T, what, s string, wantNames []string) {
		t.Helper()
		for _, n := range wantNames {
			if !strings.Contains(s, strings.TrimSuffix(strconv.Quote(n), `"`)) {
				t.Errorf("%s: %q not printed quoted:\n%q", what, n, s)
			}
		}
	}
	var srcPaths, badPaths []string
	for i, n := range names {
		srcPaths = append(srcPaths, filepath.Join("src", n))
		badPaths = append(badPaths, filepath.Join("bad", fmt.Sprintf("%d", i), n))
	}
	text := []struct {
		name  string
		args  []string
		code  int
		names []string
	}{
		{"inspect", []string{"inspect", "src"}, 0, srcPaths},
		{"inspect files", append([]string{"inspect"}, srcPaths...), 0, srcPaths},
		{"verify", []string{"verify", "--cert", cert, "src"}, 0, srcPaths},
		{"migrate", []string{"migrate", "src", "--out", "o", "--key", key, "--cert", cert}, 0, srcPaths},
		{"migrate again", []string{"migrate", "src", "--out", "o", "--key", key, "--cert", cert}, 0, srcPaths},
		{"inspect failing", []string{"inspect", "bad"}, 1, badPaths},
		{"verify failing", []string{"verify", "--cert", cert, "bad"}, 1, badPaths},
		{"migrate failing", []string{"migrate", "bad", "--out", "o2", "--key", key, "--cert", cert}, 1, badPaths},
	}
	for _, c := range text {
		t.Run("text/"+c.name, func(t *testing.T) {
			code, stdout, stderr := runTimed(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%q\n%q", code, c.code, stdout, stderr)
			}
			clean(t, "stdout", stdout)
			clean(t, "stderr", stderr)
			quoted(t, "stdout", stdout, c.names)
		})
	}
	// JSON: every name comes back byte for byte.
	name := func(t *testing.T, s, b64 string) string {
		t.Helper()
		if b64 == "" {
			return s
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("bad base64 %q: %v", b64, err)
		}
		return string(raw)
	}
	want := func(t *testing.T, what string, got []string, wantPaths []string) {
		t.Helper()
		set := map[string]bool{}
		for _, g := range got {
			set[g] = true
		}
		for _, w := range wantPaths {
			if !set[w] {
				t.Errorf("%s: %q not in the JSON names %q", what, w, got)
			}
		}
	}
	for _, c := range []struct {
		dir   string
		paths []string
		code  int
	}{{"src", srcPaths, 0}, {"bad", badPaths, 1}} {
		t.Run("json/"+c.dir, func(t *testing.T) {
			var files []struct {
				File string `json:"file"`
				B64  string `json:"file_base64"`
			}
			for _, cmd := range [][]string{{"inspect", "--json", c.dir}, {"verify", "--json", "--cert", cert, c.dir}} {
				code, stdout, _ := runTimed(t, cmd...)
				if code != c.code {
					t.Errorf("%s: exit %d", cmd[0], code)
				}
				if err := json.Unmarshal([]byte(stdout), &files); err != nil {
					t.Fatalf("%s: %v", cmd[0], err)
				}
				var got []string
				for _, f := range files {
					got = append(got, name(t, f.File, f.B64))
					if utf8Valid(f.File) && f.B64 == "" && strings.ContainsRune(f.File, '\uFFFD') {
						t.Errorf("%s: %q lost bytes and has no file_base64", cmd[0], f.File)
					}
				}
				want(t, cmd[0], got, c.paths)
			}
			out := "oj-" + c.dir
			report := "r-" + c.dir + ".json"
			code, stdout, _ := runTimed(t, "migrate", c.dir, "--out", out, "--key", key, "--cert", cert, "--json", "--report", report)
			if code != c.code {
				t.Errorf("migrate: exit %d", code)
			}
			for _, doc := range []string{stdout, string(readBytes(t, report))} {
				rep := readReport(t, []byte(doc))
				var srcs, tgts []string
				for _, f := range rep.Files {
					srcs = append(srcs, name(t, f.Source, f.SourceBase64))
					tgts = append(tgts, name(t, f.Target, f.TargetBase64))
				}
				want(t, "migrate sources", srcs, c.paths)
				if c.code == 0 {
					var wantT []string
					for _, p := range c.paths {
						wantT = append(wantT, filepath.Join(out, strings.TrimPrefix(p, c.dir+"/")))
					}
					want(t, "migrate targets", tgts, wantT)
					for _, p := range wantT {
						if !bytes.Equal(readBytes(t, p), testfix.Bytes(t, "raw")) {
							t.Errorf("%q not migrated", p)
						}
					}
				}
			}
		})
	}
}

// The other commands that print file names in JSON: compare (one file), mapvalue verify and
// inspect, loader verify (any file: the skeletons fail as map values and are unsigned as
// loaders, and the names must still come back exactly).
func TestHostileFileNamesOtherJSON(t *testing.T) {
	t.Chdir(t.TempDir())
	var paths []string
	for _, n := range []string{"new\nline.skel.h", "esc\x1b[31mred.skel.h", "bad\xffbyte.skel.h"} {
		p := filepath.Join("src", n)
		writeBytes(t, p, testfix.Bytes(t, "legacy-v2"))
		paths = append(paths, p)
	}
	type named struct {
		File string `json:"file"`
		B64  string `json:"file_base64"`
	}
	decode := func(t *testing.T, n named) string {
		if n.B64 == "" {
			return n.File
		}
		b, err := base64.StdEncoding.DecodeString(n.B64)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, p := range paths {
		code, stdout, stderr := runTimed(t, "compare", "--json", "--cert", cert, p)
		var n named
		if err := json.Unmarshal([]byte(stdout), &n); err != nil || code != 0 {
			t.Fatalf("compare %q: exit %d %v\n%s", p, code, err, stderr)
		}
		if got := decode(t, n); got != p {
			t.Errorf("compare: name %q, want %q", got, p)
		}
	}
	for _, cmd := range [][]string{
		{"mapvalue", "verify", "--json", "--cert", cert},
		{"mapvalue", "inspect", "--json"},
		{"loader", "verify", "--json", "--cert", cert},
	} {
		code, stdout, stderr := runTimed(t, append(cmd, paths...)...)
		var ns []named
		if err := json.Unmarshal([]byte(stdout), &ns); err != nil || code != exitFail || len(ns) != len(paths) {
			t.Fatalf("%v: exit %d, %v\n%s%s", cmd[:2], code, err, stdout, stderr)
		}
		for i, n := range ns {
			if got := decode(t, n); got != paths[i] {
				t.Errorf("%v: name %q, want %q", cmd[:2], got, paths[i])
			}
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// fileLine matches a message that names a file and a line: "PATH:LINE:".
func fileLine(path string) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(path) + `:[0-9]+:`)
}

// TestHostileTruncatedHeaders: every strict prefix of every fixture header is rejected. The
// library (bpfsig.Parse) is asked about every byte offset; the command line about about 50
// offsets per file, spread over the file, for inspect, verify, sign and migrate: each must
// exit non-zero with a file:line message.
func TestHostileTruncatedHeaders(t *testing.T) {
	dir := t.TempDir()
	for _, name := range testfix.Names {
		full := testfix.Bytes(t, name)
		var offs []int
		for k := 0; k < 50; k++ {
			offs = append(offs, k*(len(full)-1)/49)
		}
		offs = append(offs, len(full)-2) // with k = 49, the last two bytes: a missing newline or brace
		for _, n := range offs {
			p := filepath.Join(dir, fmt.Sprintf("%s-%05d.skel.h", name, n))
			writeBytes(t, p, full[:n])
			re := fileLine(p)
			for _, cmd := range []struct {
				name string
				args []string
			}{
				{"inspect", []string{"inspect", p}},
				{"verify", []string{"verify", "--cert", cert, p}},
				{"sign", []string{"sign", "--key", key, "--cert", cert, "--scheme", "raw", "-o", p + ".out", p}},
				{"migrate", []string{"migrate", p, "--out", filepath.Join(dir, "out"), "--key", key, "--cert", cert, "--force"}},
			} {
				code, stdout, stderr := runTimed(t, cmd.args...)
				if code == 0 || !re.MatchString(stdout+stderr) {
					t.Errorf("%s of %s cut at %d of %d bytes: exit %d, want non-zero and %s:LINE:\n%s%s",
						cmd.name, name, n, len(full), code, filepath.Base(p), lastLine(stdout), lastLine(stderr))
				}
			}
			if _, err := os.Stat(p + ".out"); err == nil {
				t.Errorf("sign wrote %s.out from a prefix", filepath.Base(p))
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Errorf("migrate wrote output for a prefix of %s", name)
		}
	}
}

// TestHostileNonRegularOutputs: an output path that exists and is not a regular file (a
// FIFO, a character device, a directory, a socket) is refused with exit 1 or 2 and a message
// naming it and what it is, and is still what it was afterwards: bpfsig never renames a
// file over a device or into a FIFO's place.
func TestHostileNonRegularOutputs(t *testing.T) {
	outs := []special{specials[0], specials[2], specials[3]}
	if os.Geteuid() == 0 {
		// A character device of our own (the zero device's numbers), never the system's:
		// a regression would replace only this node.
		outs = append(outs, special{"char-device", "character device", func(t *testing.T, p string, _ bool) string {
			if err := unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))); err != nil {
				t.Skipf("mknod: %v", err)
			}
			return p
		}})
	} else {
		t.Log("not root: no character device of our own to write to; FIFO, directory and socket only")
	}
	roles := []struct {
		name string
		args func(p string) []string
		// notDir: the role wants a directory, so a directory is no refusal case for it.
		notDir bool
	}{
		{name: "sign -o", args: func(p string) []string {
			return []string{"sign", "--key", key, "--cert", cert, "-o", p, fx("unsigned")}
		}},
		{name: "mapvalue sign -o", args: func(p string) []string {
			return []string{"mapvalue", "sign", "--key", key, "--cert", cert, "-o", p, cert}
		}},
		{name: "loader sign -o", args: func(p string) []string {
			return []string{"loader", "sign", "--key", key, "--cert", cert, "-o", p, cert}
		}},
		{name: "migrate --out", notDir: true, args: func(p string) []string {
			return []string{"migrate", fx("legacy-v2"), "--out", p, "--key", key, "--cert", cert}
		}},
		{name: "migrate target", args: func(p string) []string {
			return []string{"migrate", fx("legacy-v2"), "--out", filepath.Dir(p), "--key", key, "--cert", cert}
		}},
	}
	for _, sp := range outs {
		for _, r := range roles {
			if r.notDir && sp.kind == "directory" {
				continue
			}
			t.Run(sp.name+"/"+r.name, func(t *testing.T) {
				dir := shortDir(t)
				p := filepath.Join(dir, "legacy-v2.skel.h") // the migrate target's name
				p = sp.at(t, p, false)
				before, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				code, stdout, stderr := runTimed(t, r.args(p)...)
				all := stdout + stderr
				if code != exitFail && code != exitUsage {
					t.Errorf("exit %d, want 1 or 2\n%s", code, all)
				}
				if !strings.Contains(all, p) || !strings.Contains(all, sp.kind) {
					t.Errorf("the message does not name %s and say %q:\n%s", p, sp.kind, all)
				}
				after, err := os.Lstat(p)
				if err != nil || after.Mode().Type() != before.Mode().Type() || !os.SameFile(before, after) {
					t.Errorf("%s was replaced (%v)", p, err)
				}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), atomicfile.TempPrefix) {
						t.Errorf("temporary left: %s", e.Name())
					}
				}
			})
		}
	}
	t.Run("migrate --out a regular file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		writeBytes(t, f, []byte("x"))
		code, _, stderr := runTimed(t, "migrate", fx("legacy-v2"), "--out", f, "--key", key, "--cert", cert)
		if code != exitUsage || !strings.Contains(stderr, f+" is a regular file, not a directory") {
			t.Errorf("exit %d, want 2: %s", code, stderr)
		}
	})
	t.Run("--keyring itself", func(t *testing.T) {
		for _, sp := range []special{specials[0], specials[3]} {
			p := sp.at(t, filepath.Join(shortDir(t), "ring"), false)
			code, stdout, stderr := runTimed(t, "verify", "--keyring", p, fx("raw"))
			if code != exitFail || !strings.Contains(stderr, p) || !strings.Contains(stderr, sp.kind+", not a directory") {
				t.Errorf("%s: exit %d\n%s%s", sp.name, code, stdout, stderr)
			}
		}
	})
}

// TestHostileOversizedInputs: a file over its kind's limit (sparse, so it costs nothing) is
// refused at once by its size, naming it and the limit, in every place it can be given.
func TestHostileOversizedInputs(t *testing.T) {
	dir := t.TempDir()
	sparse := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bigSkel := sparse("big.skel.h", 129<<20)
	bigPEM := sparse("big.pem", 2<<20)
	bigVal := sparse("big.value", 5<<20) // mapvalue.MaxValueSize is 4 MiB
	ring := filepath.Join(dir, "ring")
	os.Mkdir(ring, 0o755)
	if err := os.Link(bigPEM, filepath.Join(ring, "big.pem")); err != nil {
		t.Fatal(err)
	}
	bigTree := filepath.Join(dir, "tree")
	os.Mkdir(bigTree, 0o755)
	if err := os.Link(bigSkel, filepath.Join(bigTree, "big.skel.h")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		name, path, limit string
		args              []string
	}{
		{"inspect", bigSkel, "128 MiB", []string{"inspect", bigSkel}},
		{"verify", bigSkel, "128 MiB", []string{"verify", "--cert", cert, bigSkel}},
		{"sign", bigSkel, "128 MiB", []string{"sign", "--key", key, "--cert", cert, "-o", out, bigSkel}},
		{"compare", bigSkel, "128 MiB", []string{"compare", "--cert", cert, bigSkel}},
		{"migrate", filepath.Join(bigTree, "big.skel.h"), "128 MiB", []string{"migrate", bigTree, "--out", out, "--key", key, "--cert", cert}},
		{"--cert", bigPEM, "1 MiB", []string{"verify", "--cert", bigPEM, fx("raw")}},
		{"--keyring entry", filepath.Join(ring, "big.pem"), "1 MiB", []string{"verify", "--keyring", ring, fx("raw")}},
		{"--key", bigPEM, "1 MiB", []string{"sign", "--key", bigPEM, "--cert", cert, "-o", out, fx("unsigned")}},
		{"--policy", bigPEM, "1 MiB", []string{"sign", "--key", key, "--cert", cert, "--policy", bigPEM, "-o", out, fx("unsigned")}},
		{"mapvalue sign", bigVal, "exceeds the largest array map value", []string{"mapvalue", "sign", "--key", key, "--cert", cert, "-o", out, bigVal}},
		{"mapvalue verify", bigVal, "exceeds the largest array map value", []string{"mapvalue", "verify", "--cert", cert, bigVal}},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := runTimed(t, c.args...)
			all := stdout + stderr
			if code != exitFail && code != exitUsage {
				t.Errorf("exit %d, want 1 or 2\n%s", code, all)
			}
			if !strings.Contains(all, c.path) || !strings.Contains(all, c.limit) || !strings.Contains(all, "bytes") {
				t.Errorf("the message does not name %s and the limit %s:\n%s", c.path, c.limit, all)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: the size should refuse it before reading", d)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s written", out)
			}
		})
	}
}

// TestHostileKeyNeverPrinted: the private key given where something else belongs (a
// skeleton, a certificate, a trust file, a policy, a map value, a keyring) makes bpfsig fail,
// and no part of the key reaches stdout or stderr, in text or JSON.
func TestHostileKeyNeverPrinted(t *testing.T) {
	keyPEM := readBytes(t, key)
	var body []string // 16-character pieces of the key's base64 body
	for _, l := range strings.Split(string(keyPEM), "\n") {
		if l == "" || strings.HasPrefix(l, "-----") {
			continue
		}
		for i := 0; i+16 <= len(l); i += 16 {
			body = append(body, l[i:i+16])
		}
	}
	if len(body) < 50 {
		t.Fatalf("%d pieces of key body: not a PEM key?", len(body))
	}
	ring := t.TempDir()
	writeBytes(t, filepath.Join(ring, "key.pem"), keyPEM)
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{
		{"inspect", key}, {"inspect", "--json", key}, {"inspect", "--disasm", key},
		{"verify", "--cert", cert, key}, {"verify", "--json", "--cert", key, fx("raw")},
		{"verify", "--keyring", ring, fx("raw")},
		{"sign", "--key", key, "--cert", key, "-o", out, fx("unsigned")},
		{"sign", "--key", key, "--cert", cert, "--policy", key, "-o", out, fx("unsigned")},
		{"sign", "--key", key, "--cert", cert, "-o", out, key},
		{"compare", "--cert", cert, key}, {"compare", "--json", "--cert", key, fx("raw")},
		{"migrate", fx("raw"), "--out", out, "--key", key, "--cert", cert, "--trust", key, "--json"},
		{"migrate", fx("raw"), "--out", out, "--key", key, "--cert", cert, "--policy", key},
		{"migrate", key, "--out", out, "--key", key, "--cert", cert, "--json"},
		{"mapvalue", "inspect", "--json", key}, {"mapvalue", "verify", "--json", "--cert", cert, key},
		{"mapvalue", "verify", "--cert", key, fx("raw")},
		{"loader", "verify", "--json", "--cert", cert, "--sig", key, fx("raw")},
	} {
		code, stdout, stderr := runTimed(t, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		for _, piece := range body {
			if strings.Contains(stdout+stderr, piece) {
				t.Errorf("%v: the output holds key material %q", args, piece)
				break
			}
		}
	}
}
