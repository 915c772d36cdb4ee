package atomicfile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestBatchSameTargetDotDotAfterLink: ".." after a directory link leaves the directory the
// link leads to (as the kernel resolves it), not the one the spelling shows. "l/../x/a",
// with l a link to d/sub, is d/x/a: staged with d/x/a it is a duplicate, and it is not the
// unrelated x/a.
func TestBatchSameTargetDotDotAfterLink(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFile(t, "d/x/a", "old")
	writeFile(t, "x/a", "other")
	if err := os.MkdirAll("d/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "d/sub", "l")

	b := NewBatch()
	if err := b.Stage("d/x/a", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkErr(t, b.Stage("l/../x/a", []byte("2"), 0o644), "l/../x/a", "the same file is already staged as d/x/a")
	if err := b.Stage("x/a", []byte("3"), 0o644); err != nil {
		t.Fatalf("x/a is another file than d/x/a: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := content(t, "d/x/a"); got != "1" {
		t.Errorf("d/x/a = %q, want 1", got)
	}
	if got := content(t, "x/a"); got != "3" {
		t.Errorf("x/a = %q, want 3", got)
	}
	noTemps(t, ".")
}

// TestBatchSameTargetLinkSwappedIn: a directory replaced by a link while a batch is open
// is resolved as it is when each file is staged, never as it was for an earlier one: after
// s becomes a link to t, s/a and t/a are one target.
func TestBatchSameTargetLinkSwappedIn(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFile(t, "s/b", "old")
	writeFile(t, "t/a", "old")
	b := NewBatch()
	defer b.Abort()
	if err := b.Stage("s/b", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename("s", "s.old"); err != nil {
		t.Fatal(err)
	}
	symlink(t, "t", "s")
	if err := b.Stage("s/a", []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkErr(t, b.Stage("t/a", []byte("3"), 0o644), "t/a", "the same file is already staged as s/a")
}

// TestPlaced: Commit's error tells each file's fate. A target that became a directory after
// staging is the only file not placed; the others are placed with no error of their own.
// A batch whose data could not be made durable placed none.
func TestPlaced(t *testing.T) {
	t.Chdir(t.TempDir())
	b := NewBatch()
	for _, p := range []string{"d/a", "d/b", "e/c"} {
		writeFile(t, p, "old")
		if err := b.Stage(p, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove("d/b")
	os.Mkdir("d/b", 0o755)
	err := b.Commit()
	if err == nil {
		t.Fatal("Commit over a directory succeeded")
	}
	for _, tc := range []struct {
		path   string
		placed bool
		err    string
	}{{"d/a", true, ""}, {"d/b", false, "d/b: is a directory"}, {"e/c", true, ""}} {
		placed, ferr := Placed(err, tc.path)
		if placed != tc.placed || (ferr == nil) != (tc.err == "") || (ferr != nil && !strings.Contains(ferr.Error(), tc.err)) {
			t.Errorf("Placed(%s) = %v, %v; want %v, %q", tc.path, placed, ferr, tc.placed, tc.err)
		}
		if tc.placed && content(t, tc.path) != "new" {
			t.Errorf("%s placed but holds %q", tc.path, content(t, tc.path))
		}
	}
	if placed, ferr := Placed(nil, "d/a"); !placed || ferr != nil {
		t.Errorf("Placed(nil) = %v, %v", placed, ferr)
	}
	// A directory whose sync failed: its files are placed, with that error; others are not
	// concerned.
	ds := &DirSyncError{Dir: "d", Paths: []string{"d/a"}, Err: errors.New("sync directory d: input/output error")}
	joined := errors.Join(&NotPlacedError{Path: "d/b", Err: errors.New("writing d/b: is a directory")}, ds)
	for _, tc := range []struct {
		path   string
		placed bool
		err    error
	}{{"d/a", true, ds}, {"e/c", true, nil}} {
		if placed, ferr := Placed(joined, tc.path); placed != tc.placed || ferr != tc.err {
			t.Errorf("Placed(%s) after a failed directory sync = %v, %v; want %v, %v", tc.path, placed, ferr, tc.placed, tc.err)
		}
	}
	step1 := errors.New("writing d/a: input/output error")
	if placed, ferr := Placed(errors.Join(step1), "e/c"); placed || ferr == nil {
		t.Errorf("Placed after a failed step 1 = %v, %v; want not placed, the error", placed, ferr)
	}
}
