package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBatchSafeRule is the rule that chooses the batched form, file system by file system.
func TestBatchSafeRule(t *testing.T) {
	const ordered = "rw\nbsddf\ndelalloc\ndata=ordered\nbarrier\n"
	for _, tc := range []struct {
		name        string
		magic       int64
		task, opts  string
		readable    bool
		want        bool
		wantReadExt bool
	}{
		{"xfs", unix.XFS_SUPER_MAGIC, "", "", false, true, false},
		{"ext4 journaled", unix.EXT4_SUPER_MAGIC, "712\n", ordered, true, true, true},
		{"ext4 journaled, task in another pid namespace", unix.EXT4_SUPER_MAGIC, "0\n", ordered, true, true, true},
		{"ext4 data=writeback", unix.EXT4_SUPER_MAGIC, "712\n", "rw\ndata=writeback\n", true, true, true},
		{"ext4 without a journal", unix.EXT4_SUPER_MAGIC, "<none>\n", "rw\ndelalloc\n", true, false, true},
		{"ext4 data=journal", unix.EXT4_SUPER_MAGIC, "712\n", "rw\ndata=journal\n", true, false, true},
		{"ext4 empty journal_task", unix.EXT4_SUPER_MAGIC, "", ordered, true, false, true},
		{"ext4 state unreadable", unix.EXT4_SUPER_MAGIC, "", "", false, false, true},
		{"btrfs", unix.BTRFS_SUPER_MAGIC, "", "", false, false, false},
		{"tmpfs", unix.TMPFS_MAGIC, "", "", false, false, false},
		{"nfs", unix.NFS_SUPER_MAGIC, "", "", false, false, false},
		{"unknown", 0x12345678, "", "", false, false, false},
	} {
		read := false
		got := batchSafe(tc.magic, func() ([]byte, []byte, bool) {
			read = true
			return []byte(tc.task), []byte(tc.opts), tc.readable
		})
		if got != tc.want || read != tc.wantReadExt {
			t.Errorf("%s: batchSafe = %v (ext4 state read: %v), want %v (%v)", tc.name, got, read, tc.want, tc.wantReadExt)
		}
	}
}

// TestSyncMethodHere checks the choice on the file systems this machine has: tmpfs at
// /dev/shm and the test's temporary directory, against what the kernel says of them.
func TestSyncMethodHere(t *testing.T) {
	t.Setenv(methodEnv, "")
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		if got := SyncMethod("/dev/shm"); got != "fsync" {
			t.Errorf("tmpfs /dev/shm: %s, want fsync", got)
		}
	} else {
		t.Log("no tmpfs at /dev/shm: not checked there")
	}
	dir := t.TempDir()
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	got := SyncMethod(dir)
	switch st.Type {
	case unix.XFS_SUPER_MAGIC:
		if got != "batch" {
			t.Errorf("XFS %s: %s, want batch", dir, got)
		}
	case unix.EXT4_SUPER_MAGIC:
		var s unix.Stat_t
		if err := unix.Stat(dir, &s); err != nil {
			t.Fatal(err)
		}
		task, _, ok := ext4State(uint64(s.Dev))
		t.Logf("ext4 %s: journal_task %q (readable %v): %s", dir, bytes.TrimSpace(task), ok, got)
		if noJournal := ok && bytes.HasPrefix(task, []byte("<none>")); noJournal && got != "fsync" {
			t.Errorf("ext4 without a journal: %s, want fsync", got)
		}
		if !ok && got != "fsync" {
			t.Errorf("ext4 whose state cannot be read: %s, want fsync", got)
		}
	default:
		t.Logf("%s is on file system %#x: %s", dir, st.Type, got)
	}
	for env, want := range map[string]string{"fsync": "fsync", "batch": "batch"} {
		t.Setenv(methodEnv, env)
		if got := SyncMethod(dir); got != want {
			t.Errorf("%s=%s: %s, want %s", methodEnv, env, got, want)
		}
	}
}

// TestBatchBatched stages files from many goroutines into several directories in the batched
// form and checks that each was written back at Stage and that Commit puts every one in place
// complete, with its mode, leaving no temporary (nor the flush file) behind.
func TestBatchBatched(t *testing.T) {
	for _, method := range []string{"batch", "fsync"} {
		t.Run(method, func(t *testing.T) {
			t.Setenv(methodEnv, method)
			base := t.TempDir()
			var paths []string
			for i := range 60 {
				d := filepath.Join(base, fmt.Sprintf("d%d", i%3))
				os.MkdirAll(d, 0o755)
				paths = append(paths, filepath.Join(d, fmt.Sprintf("f%02d", i)))
			}
			b := NewBatch()
			var wg sync.WaitGroup
			for i, p := range paths {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := b.Stage(p, bytes.Repeat([]byte{byte(i)}, 5000+i), 0o640); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for _, s := range b.staged {
				if s.batched != (method == "batch") {
					t.Fatalf("%s: batched %v under %s", s.path, s.batched, method)
				}
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			for i, p := range paths {
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 5000+i)) {
					t.Fatalf("%s: %d bytes, %v", p, len(got), err)
				}
				if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
					t.Errorf("%s: mode %v", p, fi.Mode())
				}
			}
			filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
				if err == nil && strings.HasPrefix(fi.Name(), TempPrefix) {
					t.Errorf("left behind: %s", p)
				}
				return nil
			})
		})
	}
}

// TestBatchFlushFailure: when the one flush of a file system fails (here its directory is
// gone), Commit fails naming the directory, and no target anywhere is touched.
func TestBatchFlushFailure(t *testing.T) {
	t.Setenv(methodEnv, "batch")
	base := t.TempDir()
	gone, kept := filepath.Join(base, "gone"), filepath.Join(base, "kept")
	os.Mkdir(gone, 0o755)
	os.Mkdir(kept, 0o755)
	keptFile := filepath.Join(kept, "f")
	os.WriteFile(keptFile, []byte("old"), 0o644)
	b := NewBatch()
	if err := b.Stage(filepath.Join(gone, "f"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Stage(keptFile, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	err := b.Commit()
	if err == nil || !strings.Contains(err.Error(), gone) || !strings.Contains(err.Error(), "2 file(s)") || strings.Contains(err.Error(), TempPrefix) {
		t.Fatalf("Commit: %v; want the failed flush naming %s and the 2 files, no temporary", err, gone)
	}
	if got, _ := os.ReadFile(keptFile); string(got) != "old" {
		t.Errorf("%s became %q after a failed commit", keptFile, got)
	}
	ents, _ := os.ReadDir(kept)
	if len(ents) != 1 {
		t.Errorf("%s holds %d entries after a failed commit, want only f", kept, len(ents))
	}
}

// TestBatchSyscalls counts, with strace, the durability calls a batch of 40 files in two
// directories makes: batched, one sync_file_range to start each file's writeback and one to
// wait for it, and fsyncs only for the one flush and the two directories; per file, 40
// fsyncs of files and the two of the directories, and no sync_file_range.
func TestBatchSyscalls(t *testing.T) {
	if os.Getenv("BPFSIG_ATOMICFILE_HELPER") == "syscalls" {
		b := NewBatch()
		for i := range 40 {
			if err := b.Stage(filepath.Join(os.Getenv("BPFSIG_DIR"), fmt.Sprintf("d%d", i%2), fmt.Sprint(i)), make([]byte, 8192), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		return
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (Debian package strace): the system calls are not counted")
	}
	for _, tc := range []struct {
		method       string
		fsyncs, sfrs int
	}{{"batch", 1 + 2, 2 * 40}, {"fsync", 40 + 2, 0}} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "d0"), 0o755)
		os.Mkdir(filepath.Join(dir, "d1"), 0o755)
		out := filepath.Join(t.TempDir(), "strace")
		cmd := exec.Command(strace, "-f", "-qq", "-o", out, "-e", "trace=fsync,fdatasync,sync_file_range,syncfs,sync", os.Args[0], "-test.run=^TestBatchSyscalls$")
		cmd.Env = append(os.Environ(), "BPFSIG_ATOMICFILE_HELPER=syscalls", "BPFSIG_DIR="+dir, methodEnv+"="+tc.method)
		if b, err := cmd.CombinedOutput(); err != nil {
			if strings.Contains(string(b), "ptrace") {
				t.Skipf("strace cannot trace here: %s", b)
			}
			t.Fatalf("%s: %v\n%s", tc.method, err, b)
		}
		tr, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, m := range regexp.MustCompile(`(?m)^(?:\d+ +)?(?:<\.\.\. )?(fsync|fdatasync|sync_file_range|syncfs|sync)[( ]`).FindAllStringSubmatch(string(tr), -1) {
			count[m[1]]++
		}
		// A call interrupted by another thread's line is printed twice (unfinished, resumed).
		count["fsync"] -= strings.Count(string(tr), "<... fsync resumed>")
		count["sync_file_range"] -= strings.Count(string(tr), "<... sync_file_range resumed>")
		if count["fsync"] != tc.fsyncs || count["sync_file_range"] != tc.sfrs || count["fdatasync"]+count["syncfs"]+count["sync"] != 0 {
			t.Errorf("%s: %v, want %d fsync and %d sync_file_range only", tc.method, count, tc.fsyncs, tc.sfrs)
		}
		t.Logf("%s: %s", tc.method, strconv.Quote(fmt.Sprint(count)))
	}
}

// loopExt4 makes and mounts a 64 MiB ext4 image for the test (mkfs.ext4 with extra options,
// mounted through a loop device), or skips saying why it cannot.
func loopExt4(t *testing.T, mkfsOpts ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts an ext4 image through a loop device")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skip("mkfs.ext4 is not installed (Debian package e2fsprogs)")
	}
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, append(append([]string{"-q", "-F"}, mkfsOpts...), img)...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount an ext4 image through a loop device (%v): %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestSyncMethodExt4 checks the choice on real ext4 file systems, with and without a journal,
// and that a batch committed on the journaled one takes the batched form and writes every
// file.
func TestSyncMethodExt4(t *testing.T) {
	t.Setenv(methodEnv, "")
	for _, tc := range []struct {
		name string
		opts []string
		want string
	}{
		{"journal", nil, "batch"},
		{"no journal", []string{"-O", "^has_journal"}, "fsync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := loopExt4(t, tc.opts...)
			if got := SyncMethod(dir); got != tc.want {
				t.Fatalf("ext4 (%s): %s, want %s", tc.name, got, tc.want)
			}
			b := NewBatch()
			for i := range 20 {
				if err := b.Stage(filepath.Join(dir, fmt.Sprint(i)), bytes.Repeat([]byte{byte(i)}, 10000), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range b.staged {
				if s.batched != (tc.want == "batch") {
					t.Fatalf("%s staged batched=%v on ext4 (%s)", s.path, s.batched, tc.name)
				}
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				if got, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(i))); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 10000)) {
					t.Fatalf("file %d: %d bytes, %v", i, len(got), err)
				}
			}
		})
	}
}

// TestBatchSyncsResolvedDirectory: a target spelled "l/../x", with l a link to d/sub, is
// renamed into d (as the kernel resolves the spelling), so d is the directory fsynced and
// the one the flush file is made in, both methods; never ".", which the spelling shows.
func TestBatchSyncsResolvedDirectory(t *testing.T) {
	if os.Getenv("BPFSIG_ATOMICFILE_HELPER") == "resolved" {
		if err := os.Chdir(os.Getenv("BPFSIG_DIR")); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile("l/../x", []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, method := range []string{"batch", "fsync"} {
		dir, d := linkDotDotTree(t)
		tr := tracedRun(t, "TestBatchSyncsResolvedDirectory", "trace=fsync,openat", "BPFSIG_ATOMICFILE_HELPER=resolved", "BPFSIG_DIR="+dir, methodEnv+"="+method)
		if got := content(t, filepath.Join(d, "x")); got != "new" {
			t.Fatalf("%s: d/x = %q", method, got)
		}
		var synced []string
		for _, m := range regexp.MustCompile(`fsync\(\d+<([^>]*)>`).FindAllStringSubmatch(string(tr), -1) {
			if fi, err := os.Stat(m[1]); err == nil && fi.IsDir() {
				synced = append(synced, m[1])
			}
		}
		if len(synced) != 1 || synced[0] != d {
			t.Errorf("%s: directories fsynced %q, want only %s", method, synced, d)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 2 {
			t.Errorf("%s: %s holds %d entries, want only d and l (no flush file made there)", method, dir, len(ents))
		}
		if regexp.MustCompile(`openat\(AT_FDCWD[^,]*, "\./` + regexp.QuoteMeta(TempPrefix)).Match(tr) {
			t.Errorf("%s: a temporary was made in the working directory", method)
		}
	}
}

// TestMkdirAllSyncsResolvedParents: MkdirAll("l/../new/sub"), with l a link to d/sub, creates
// d/new/sub as the kernel resolves the name, and fsyncs the parents it created them in (d and
// d/new), not those of the lexically cleaned spelling (the working directory and new).
func TestMkdirAllSyncsResolvedParents(t *testing.T) {
	if os.Getenv("BPFSIG_ATOMICFILE_HELPER") == "mkdir" {
		if err := os.Chdir(os.Getenv("BPFSIG_DIR")); err != nil {
			t.Fatal(err)
		}
		if err := MkdirAll("l/../new/sub/", 0o755); err != nil {
			t.Fatal(err)
		}
		return
	}
	dir, d := linkDotDotTree(t)
	tr := tracedRun(t, "TestMkdirAllSyncsResolvedParents", "trace=fsync", "BPFSIG_ATOMICFILE_HELPER=mkdir", "BPFSIG_DIR="+dir)
	if fi, err := os.Stat(filepath.Join(d, "new", "sub")); err != nil || !fi.IsDir() {
		t.Fatalf("d/new/sub: %v %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "new")); err == nil {
		t.Fatalf("%s/new was created: the cleaned spelling", dir)
	}
	var synced []string
	for _, m := range regexp.MustCompile(`fsync\(\d+<([^>]*)>`).FindAllStringSubmatch(string(tr), -1) {
		synced = append(synced, m[1])
	}
	slices.Sort(synced)
	if want := []string{d, filepath.Join(d, "new")}; !slices.Equal(synced, want) {
		t.Errorf("directories fsynced %q, want %q", synced, want)
	}
}

// linkDotDotTree makes dir/d/sub and the link dir/l -> dir/d/sub, so that "l/.." names d
// for the kernel and "." for filepath.Clean.
func linkDotDotTree(t *testing.T) (dir, d string) {
	t.Helper()
	dir = t.TempDir()
	d = filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(d, "sub"), filepath.Join(dir, "l"))
	return dir, d
}

// tracedRun runs this test binary's test name under strace -y (file descriptors shown with
// their paths) with the filter trace and the environment env, and returns the trace; it
// skips t where strace is missing or cannot trace.
func tracedRun(t *testing.T, name, trace string, env ...string) []byte {
	t.Helper()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (Debian package strace): the system calls are not seen")
	}
	out := filepath.Join(t.TempDir(), "strace")
	cmd := exec.Command(strace, "-f", "-qq", "-y", "-o", out, "-e", trace, os.Args[0], "-test.run=^"+name+"$")
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(b), "ptrace") {
			t.Skipf("strace cannot trace here: %s", b)
		}
		t.Fatalf("%s: %v\n%s", strings.Join(env, " "), err, b)
	}
	tr, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
