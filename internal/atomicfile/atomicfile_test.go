package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bpfsig/bpfsig/internal/fsio"
)

// temps returns the temporaries left anywhere under dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), TempPrefix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	if l := temps(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left behind: %q", l)
	}
}

// checkErr fails unless err names path, says what, and names no temporary.
func checkErr(t *testing.T, err error, path, says string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, says) {
		t.Fatalf("%q does not name %s and say %q", msg, path, says)
	}
	if strings.Contains(msg, TempPrefix) {
		t.Fatalf("error names a temporary file: %q", msg)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func content(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symbolic links here: %v", err)
	}
}

func TestWriteFileReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.skel.h")
	writeFile(t, p, "old")
	for _, perm := range []fs.FileMode{0o640, 0o600, 0o755, 0o444} {
		if err := WriteFile(p, []byte("new contents"), perm); err != nil {
			t.Fatal(err)
		}
		if got := content(t, p); got != "new contents" {
			t.Fatalf("content = %q", got)
		}
		st, _ := os.Stat(p)
		if runtime.GOOS != "windows" && st.Mode().Perm() != perm {
			t.Fatalf("mode = %v, want %v", st.Mode().Perm(), perm)
		}
	}
	// A new file, and an empty one.
	if err := WriteFile(filepath.Join(dir, "new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "new")); got != "" {
		t.Fatalf("new = %q", got)
	}
	noTemps(t, dir)
}

// TestWriteFileRefuses: a target that is not a regular file is refused, named with what it
// is, and left exactly as it was; nothing is left behind.
func TestWriteFileRefuses(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeFile(t, p("full/f"), "x")
	if err := os.Mkdir(p("empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "full", p("dirlink"))
	symlink(t, "no-such-file", p("dangling"))
	cases := []struct {
		name, path, says string
		notRegular       bool
	}{
		{"directory", p("full"), "is a directory, not a regular file; not replacing it", true},
		{"empty directory", p("empty"), "is a directory, not a regular file", true},
		{"link to directory", p("dirlink"), "is a directory, not a regular file", true},
		{"dangling link", p("dangling"), "dangling symbolic link; not writing through it", false},
		{"missing directory", p("nodir/f"), "no such file or directory", false},
		{"under a file", p("full/f/g"), "not a directory", false},
	}
	if runtime.GOOS != "windows" {
		if err := mkfifo(p("fifo")); err != nil {
			t.Fatal(err)
		}
		symlink(t, "/dev/null", p("null"))
		cases = append(cases,
			struct {
				name, path, says string
				notRegular       bool
			}{"FIFO", p("fifo"), "is a FIFO, not a regular file", true},
			struct {
				name, path, says string
				notRegular       bool
			}{"link to a device", p("null"), "is a character device, not a regular file", true},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.Lstat(tc.path)
			err := WriteFile(tc.path, []byte("data"), 0o644)
			checkErr(t, err, tc.path, tc.says)
			if errors.Is(err, fsio.ErrNotRegular) != tc.notRegular {
				t.Fatalf("errors.Is(ErrNotRegular) = %v", !tc.notRegular)
			}
			after, _ := os.Lstat(tc.path)
			if (before == nil) != (after == nil) || (before != nil && (before.Mode() != after.Mode() || !os.SameFile(before, after))) {
				t.Fatal("target changed")
			}
			b := NewBatch()
			checkErr(t, b.Stage(tc.path, []byte("data"), 0o644), tc.path, tc.says)
			if b.Len() != 0 {
				t.Fatal("refused file staged")
			}
			noTemps(t, dir)
		})
	}
	if fi, err := os.Stat("/dev/null"); err == nil && fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatal("/dev/null is no longer a device")
	}
	if got := content(t, p("full/f")); got != "x" {
		t.Fatal("file inside refused directory changed")
	}
}

// TestWriteThroughSymlink: writing to a link replaces the file it names, in that file's
// directory, and keeps the link.
func TestWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeFile(t, p("real/a.skel.h"), "old")
	if err := os.Mkdir(p("links"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../real/a.skel.h", p("links/rel"))
	symlink(t, p("real/a.skel.h"), p("links/abs"))
	symlink(t, "rel", p("links/chain"))
	symlink(t, "real", p("dirlink"))
	for i, link := range []string{p("links/rel"), p("links/abs"), p("links/chain"), p("dirlink/a.skel.h")} {
		want := fmt.Sprintf("new %d", i)
		before, _ := os.Readlink(link)
		if err := WriteFile(link, []byte(want), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := content(t, p("real/a.skel.h")); got != want {
			t.Fatalf("%s: real file = %q, want %q", link, got, want)
		}
		if after, _ := os.Readlink(link); after != before {
			t.Fatalf("%s: link changed from %q to %q", link, before, after)
		}
		if fi, _ := os.Lstat(p("real/a.skel.h")); !fi.Mode().IsRegular() || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Fatalf("real file mode %v", fi.Mode())
		}
	}
	if fi, _ := os.Lstat(p("links/rel")); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("link replaced by a file")
	}
	if got, err := Target(p("links/chain")); err != nil || got != filepath.Join(mustEval(t, dir), "real/a.skel.h") {
		t.Fatalf("Target = %q, %v", got, err)
	}
	noTemps(t, dir)
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBatch(t *testing.T) {
	dir := t.TempDir()
	const n = 120
	path := func(i int) string { return filepath.Join(dir, fmt.Sprintf("d%d", i%7), fmt.Sprintf("f%03d", i)) }
	for i := 0; i < n; i += 2 {
		writeFile(t, path(i), "old")
	}
	for i := 1; i < n; i += 2 {
		os.MkdirAll(filepath.Dir(path(i)), 0o755)
	}
	b := NewBatch()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Stage(path(i), bytes.Repeat([]byte{byte(i)}, 1000+i), 0o644)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if b.Len() != n {
		t.Fatalf("Len = %d", b.Len())
	}
	// Staged, not committed: no target touched yet, one temporary per file.
	for i := 0; i < n; i += 2 {
		if content(t, path(i)) != "old" {
			t.Fatalf("%s replaced before Commit", path(i))
		}
	}
	if _, err := os.Stat(path(1)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("new file created before Commit")
	}
	if got := len(temps(t, dir)); got != n {
		t.Fatalf("%d temporaries, want %d", got, n)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got := content(t, path(i)); got != string(bytes.Repeat([]byte{byte(i)}, 1000+i)) {
			t.Fatalf("%s: %d bytes", path(i), len(got))
		}
	}
	noTemps(t, dir)
	checkErr(t, b.Stage(path(0), nil, 0o644), path(0), "batch already committed")
	if err := b.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
}

// TestBatchSameTarget: one target staged twice, under any spelling, is refused.
func TestBatchSameTarget(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "d/a", "old")
	symlink(t, "d/a", "la")
	symlink(t, "d", "dl")
	b := NewBatch()
	if err := b.Stage("d/a", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/a", "./d/a", "d/../d/a", filepath.Join(dir, "d/a"), "la", "dl/a"} {
		checkErr(t, b.Stage(p, []byte("2"), 0o644), p, "the same file is already staged as d/a")
	}
	// A new file, twice.
	if err := b.Stage("d/new", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkErr(t, b.Stage("./d/new", []byte("2"), 0o644), "./d/new", "already staged as d/new")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if content(t, "d/a") != "1" || content(t, "d/new") != "1" {
		t.Fatal("wrong contents")
	}
	noTemps(t, dir)
}

func TestBatchAbort(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "old")
	b := NewBatch()
	for _, n := range []string{"a", "b", "c"} {
		if err := b.Stage(filepath.Join(dir, n), []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.Abort()
	noTemps(t, dir)
	if content(t, filepath.Join(dir, "a")) != "old" {
		t.Fatal("Abort touched a target")
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err == nil {
		t.Fatal("Abort created a target")
	}
	if err := b.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
}

// TestBatchRenameFailure: a target that became a directory after staging fails, named; the
// others are still written; nothing is left behind.
func TestBatchRenameFailure(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	b := NewBatch()
	for _, n := range []string{"a", "b", "c"} {
		if err := b.Stage(p(n), []byte("new "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, p("b/inside"), "b is now a directory")
	err := b.Commit()
	checkErr(t, err, p("b"), "is a directory, not a regular file")
	if strings.Contains(err.Error(), p("a")+":") || strings.Contains(err.Error(), p("c")+":") {
		t.Fatalf("error names files that were written: %v", err)
	}
	if content(t, p("a")) != "new a" || content(t, p("c")) != "new c" || content(t, p("b/inside")) != "b is now a directory" {
		t.Fatal("wrong contents")
	}
	noTemps(t, dir)
}

func TestMkdirAll(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "c")
	if err := MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Fatalf("%s not created: %v", p, err)
	}
	if err := MkdirAll(p, 0o755); err != nil {
		t.Fatalf("existing directory: %v", err)
	}
	writeFile(t, filepath.Join(dir, "file"), "x")
	checkErr(t, MkdirAll(filepath.Join(dir, "file", "sub"), 0o755), filepath.Join(dir, "file"), "is a regular file, not a directory")
}

// TestStageUnchanged: a target staged with StageUnchanged is replaced at Commit only while it
// is the file it was (or still absent), or already holds the staged bytes; one rewritten in
// place, or put there, since is left as it now is, and the error names it and says it changed.
func TestStageUnchanged(t *testing.T) {
	dir := t.TempDir()
	kept, appeared, same, fresh := filepath.Join(dir, "kept"), filepath.Join(dir, "appeared"), filepath.Join(dir, "same"), filepath.Join(dir, "fresh")
	for _, p := range []string{kept, same} {
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat := func(p string) fs.FileInfo {
		fi, err := os.Stat(p)
		if err != nil {
			return nil
		}
		return fi
	}
	b := NewBatch()
	for _, p := range []string{kept, appeared, same, fresh} {
		if err := b.StageUnchanged(p, []byte("new"), 0o644, stat(p)); err != nil {
			t.Fatal(err)
		}
	}
	// Rewritten in place (same inode, other size), put there, and written with the result.
	if err := os.WriteFile(kept, []byte("user edit"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(appeared, []byte("someone's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(same, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.Commit()
	for p, want := range map[string]string{kept: "user edit", appeared: "someone's", same: "new", fresh: "new"} {
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("%s holds %q, want %q", p, got, want)
		}
		placed, ferr := Placed(err, p)
		if changed := p == kept || p == appeared; changed != !placed || changed && (ferr == nil || !strings.Contains(ferr.Error(), p) || !strings.Contains(ferr.Error(), "changed")) {
			t.Errorf("%s: placed %v, error %v", p, placed, ferr)
		}
	}
	noTemps(t, dir)
}
