package atomicfile

import (
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
	t.Setenv(methodEnv, "")
	journaled := loopExt4(t)
	bare := loopExt4(t, "-O", "^has_journal")
	t.Chdir(t.TempDir())
	symlink(t, journaled, "out")

	b := NewBatch()
	defer b.Abort()
	if err := b.Stage("out/a", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
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
