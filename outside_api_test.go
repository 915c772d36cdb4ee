package bpfsig_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/migrate"
	"github.com/bpfsig/bpfsig/twophase"
)

// ParseSignature describes each fixture's signature as Inspect does, and a signature cut
// short anywhere is refused with the parser's errno (EBADMSG).
func TestParseSignatureAgreesWithInspect(t *testing.T) {
	files, _ := filepath.Glob("testdata/minimal/*.skel.h")
	signed := 0
	for _, f := range files {
		sk, err := bpfsig.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if !sk.Signed() {
			continue
		}
		signed++
		ref := sk.Inspect().SignerInfo
		si, err := bpfsig.ParseSignature(sk.Sig())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if si.IDForm.String() != ref.IDForm || strings.TrimPrefix(si.Signer, "skid:") != ref.ID || si.Algorithm != ref.Algorithm || si.Digest != ref.Digest {
			t.Errorf("%s: ParseSignature %+v, Inspect %+v", f, si, ref)
		}
		sig := sk.Sig()
		for n := 0; n < len(sig); n++ {
			_, err := bpfsig.ParseSignature(sig[:n])
			if e, ok := bpfsig.ErrnoOf(err); err == nil || !ok || e != compat.EBADMSG {
				t.Fatalf("%s: signature cut to %d bytes: %v (errno %v %v)", f, n, err, e, ok)
			}
		}
	}
	if signed < 4 {
		t.Fatalf("%d signed fixtures, want 4", signed)
	}
}

func TestDisasmAndAtomicWrite(t *testing.T) {
	sk, err := bpfsig.Open("testdata/minimal/legacy-v2.skel.h")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sk.Disasm(&b); err != nil {
		t.Fatal(err)
	}
	// One line per instruction slot at least (labels add lines).
	if n := strings.Count(b.String(), "\n"); n < len(sk.Insn())/8/2 {
		t.Errorf("disassembly has %d lines for %d slots:\n%s", n, len(sk.Insn())/8, b.String())
	}
	p := filepath.Join(t.TempDir(), "x.tbs")
	if err := bpfsig.WriteFileAtomic(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "abc" {
		t.Errorf("read back %q, %v", got, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if _, ok := bpfsig.ErrnoOf(nil); ok {
		t.Error("ErrnoOf(nil) reports an errno")
	}
}

func TestIsSkeletonAgrees(t *testing.T) {
	for _, n := range []string{"a.skel.h", "a.lskel.h", "skel.h", ".skel.h", "a.skel.h.orig", "a.skel", "a.h", "a.SKEL.H", "dir/a.skel.h", ""} {
		if got, want := bpfsig.IsSkeleton(n), migrate.IsSkeleton(n); got != want || twophase.IsSkeleton(n) != want {
			t.Errorf("IsSkeleton(%q) = %v; migrate %v, twophase %v", n, got, want, twophase.IsSkeleton(n))
		}
	}
	if migrate.DefaultBackupSuffix != ".orig" {
		t.Errorf("WalkSkeletons leaves out *.orig; migrate's backups are *%s", migrate.DefaultBackupSuffix)
	}
}

func TestWalkSkeletons(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tree/a.skel.h", "tree/b.lskel.h", "tree/c.txt", "tree/sub/d.skel.h", "tree/a.skel.h.orig", "outside.skel.h"} {
		mk(f)
	}
	if err := os.Symlink("a.skel.h", filepath.Join(root, "tree", "z.skel.h")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside.skel.h", filepath.Join(root, "tree", "out.skel.h")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := bpfsig.WalkSkeletons(filepath.Join(root, "tree"), filepath.Join(root, "empty"), filepath.Join(root, "tree", "c.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range w.Files {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	if got, want := strings.Join(files, " "), "tree/a.skel.h tree/b.lskel.h tree/sub/d.skel.h tree/c.txt"; got != want {
		t.Errorf("files %s, want %s", got, want)
	}
	var same, left int
	for _, s := range w.Skipped {
		switch {
		case s.SameAs != "" && strings.HasSuffix(s.Path, "z.skel.h"):
			same++
		case s.SameAs == "" && strings.HasSuffix(s.Path, "out.skel.h"):
			left++
		default:
			t.Errorf("unexpected skip %+v", s)
		}
	}
	if same != 1 || left != 1 {
		t.Errorf("skipped %+v: want the link to a walked file (SameAs) and the link leaving the tree", w.Skipped)
	}
	if len(w.Empty) != 1 || !strings.HasSuffix(w.Empty[0], "empty") {
		t.Errorf("empty %v", w.Empty)
	}
	if _, err := bpfsig.WalkSkeletons(filepath.Join(root, "missing")); err == nil {
		t.Error("a missing path walked")
	}
}
