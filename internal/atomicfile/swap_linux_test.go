package atomicfile

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBatchMethodFollowsTheTemporary: the durability method and the file system whose one
// flush covers a temporary are those of the file system the temporary is actually on. A
// directory link switched, mid-batch, from a journaled ext4 (batched) to one without a
// journal (per-file fsync) must not leave the second file batched under the first file
// system's flush: that flush would not write its inode, and its rename could survive a
// power loss naming an inode never written.
func TestBatchMethodFollowsTheTemporary(t *testing.T) {
	journaled, bare, b := stagedThroughLink(t)
	defer b.Abort()
	if err := os.Remove("out"); err != nil {
		t.Fatal(err)
	}
	symlink(t, bare, "out")
	if err := b.Stage("out/b", []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	var jst unix.Stat_t
	if err := unix.Stat(journaled, &jst); err != nil {
		t.Fatal(err)
	}
	for _, s := range b.staged {
		var st unix.Stat_t
		if err := unix.Fstat(int(s.f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		want := st.Dev == jst.Dev // only the journaled ext4 takes the batched form
		if s.batched != want {
			t.Errorf("%s (temporary on device %d): batched=%v, its file system says %v", s.path, st.Dev, s.batched, want)
		}
		if s.batched && s.fs != fsID(st.Dev) {
			t.Errorf("%s: covered by the flush of device %d, but its temporary is on device %d", s.path, s.fs, st.Dev)
		}
	}
}

// TestBatchFlushOnItsFileSystem: the one flush of a file system is made there; when the
// directory it is made in now leads to another file system, it is refused (and Commit
// fsyncs that file system's temporaries one by one instead), leaving nothing behind.
func TestBatchFlushOnItsFileSystem(t *testing.T) {
	_, bare, b := stagedThroughLink(t)
	defer b.Abort()
	if !b.staged[0].batched {
		t.Fatal("out/a on journaled ext4 not batched")
	}
	id := b.staged[0].fs
	if err := flushFS("out", id); err != nil {
		t.Fatalf("flush on its own file system: %v", err)
	}
	os.Remove("out")
	symlink(t, bare, "out")
	if err := flushFS("out", id); !errors.Is(err, errFlushElsewhere) {
		t.Fatalf("flush through a link now leading to another file system: %v, want errFlushElsewhere", err)
	}
	noTemps(t, bare)
	if errs := flushFileSystems(b.staged); errors.Join(errs...) != nil {
		t.Fatalf("flushFileSystems falling back to fsync: %v", errs)
	}
}

// stagedThroughLink mounts a journaled ext4 and one without a journal, links out to the
// first (in a new working directory) and returns them with a batch holding out/a, staged
// under the automatic durability method.
func stagedThroughLink(t *testing.T) (journaled, bare string, b *Batch) {
	t.Helper()
	t.Setenv(methodEnv, "")
	journaled = loopExt4(t)
	bare = loopExt4(t, "-O", "^has_journal")
	t.Chdir(t.TempDir())
	symlink(t, journaled, "out")
	b = NewBatch()
	if err := b.Stage("out/a", []byte("1"), 0o644); err != nil {
		b.Abort()
		t.Fatal(err)
	}
	return journaled, bare, b
}
