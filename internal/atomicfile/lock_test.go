//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCleanup: leftovers nobody holds are removed; a temporary a live batch holds, and
// everything that is not a regular prefixed file, is left alone.
func TestCleanup(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeFile(t, p(TempPrefix+"x.skel.h-111"), "leftover of a killed run")
	writeFile(t, p(TempPrefix+"y.skel.h-222"), "another")
	writeFile(t, p("x.skel.h"), "a target")
	writeFile(t, p("bpfsig-tmp-not-quite"), "other name")
	writeFile(t, p(TempPrefix+"dir/inside"), "a directory with the prefix")
	symlink(t, "x.skel.h", p(TempPrefix+"link"))
	if err := mkfifo(p(TempPrefix + "fifo")); err != nil {
		t.Fatal(err)
	}
	b := NewBatch()
	if err := b.Stage(p("x.skel.h"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	held := temps(t, dir)
	removed, err := Cleanup(dir)
	if err != nil || removed != 2 {
		t.Fatalf("Cleanup = %d, %v; want 2", removed, err)
	}
	for _, n := range []string{"x.skel.h", "bpfsig-tmp-not-quite", TempPrefix + "dir/inside", TempPrefix + "link", TempPrefix + "fifo"} {
		if _, err := os.Lstat(p(n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
	for _, n := range []string{TempPrefix + "x.skel.h-111", TempPrefix + "y.skel.h-222"} {
		if _, err := os.Lstat(p(n)); err == nil {
			t.Errorf("leftover %s kept", n)
		}
	}
	// The live batch's temporary survived and commits.
	var live string
	for _, h := range held {
		if strings.HasPrefix(filepath.Base(h), TempPrefix+"x.skel.h-") && !strings.HasSuffix(h, "-111") {
			live = h
		}
	}
	if _, err := os.Stat(live); live == "" || err != nil {
		t.Fatalf("the live temporary %q was removed", live)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if content(t, p("x.skel.h")) != "new" {
		t.Fatal("commit after Cleanup lost the data")
	}
	if _, err := Cleanup(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing directory: %v", err)
	}
}

// TestCleanupOtherProcess: a temporary held by another live process is kept; once that
// process is killed (SIGKILL: no chance to clean up), it is a leftover and is removed, and
// the target it was to replace is intact.
func TestCleanupOtherProcess(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "x.skel.h")
	writeFile(t, target, "old")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldTemporary$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_TARGET="+target)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make(chan string, 1)
	go func() { s, _ := bufio.NewReader(out).ReadString('\n'); line <- s }()
	select {
	case s := <-line:
		if s != "staged\n" {
			t.Fatalf("helper said %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("helper did not stage in 10s")
	}
	if n := len(temps(t, dir)); n != 1 {
		t.Fatalf("%d temporaries, want the helper's one", n)
	}
	if removed, err := Cleanup(dir); err != nil || removed != 0 {
		t.Fatalf("Cleanup with the writer alive = %d, %v", removed, err)
	}
	if n := len(temps(t, dir)); n != 1 {
		t.Fatal("the live writer's temporary was removed")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if removed, err := Cleanup(dir); err != nil || removed != 1 {
		t.Fatalf("Cleanup after the writer died = %d, %v", removed, err)
	}
	noTemps(t, dir)
	if content(t, target) != "old" {
		t.Fatal("the target changed")
	}
}

// TestHelperHoldTemporary is the other process of TestCleanupOtherProcess.
func TestHelperHoldTemporary(t *testing.T) {
	target := os.Getenv("ATOMICFILE_HELPER_TARGET")
	if target == "" {
		t.Skip("helper process for TestCleanupOtherProcess")
	}
	b := NewBatch()
	if err := b.Stage(target, []byte("never committed"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("staged\n")
	time.Sleep(time.Minute)
}

// TestCreateLockedRace: a Cleanup looping against a writer creating temporaries never takes
// one from the writer: createLocked returns a temporary that is still in the directory and
// locked (another lock on it fails), and the directory lock keeps Cleanup from ever
// removing one between its creation and its lock.
func TestCreateLockedRace(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		total := 0
		for {
			select {
			case <-stop:
				done <- total
				return
			default:
				n, _ := Cleanup(dir)
				total += n
			}
		}
	}()
	for i := range 300 {
		f, err := createLocked(dir, "f")
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		li, err := os.Lstat(f.Name())
		if err != nil || !os.SameFile(fi, li) {
			t.Fatalf("round %d: the temporary was taken away", i)
		}
		g, err := os.Open(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := tryLock(g); err != errHeld {
			t.Fatalf("round %d: temporary not locked (%v)", i, err)
		}
		g.Close()
		os.Remove(f.Name())
		f.Close()
	}
	close(stop)
	if n := <-done; n != 0 {
		t.Fatalf("cleanup removed %d temporaries a writer had created but not yet locked", n)
	}
	noTemps(t, dir)
}

// TestCleanupResolvesLinks: Cleanup("l/..") with l a link to d/sub cleans d, the directory
// the kernel resolves that name to, and leaves the working directory (the lexical reading of
// the name) alone.
func TestCleanupResolvesLinks(t *testing.T) {
	base := t.TempDir()
	d := filepath.Join(base, "d")
	if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(d, "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	left := TempPrefix + "x.skel.h-1"
	for _, p := range []string{filepath.Join(d, left), filepath.Join(base, left)} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(base)
	for _, dir := range []string{"l/..", "l/../"} {
		n, err := Cleanup(dir)
		if err != nil {
			t.Fatalf("Cleanup(%q): %v", dir, err)
		}
		if _, err := os.Lstat(filepath.Join(d, left)); !os.IsNotExist(err) {
			t.Errorf("Cleanup(%q) = %d: the leftover in d is still there (%v)", dir, n, err)
		}
		if _, err := os.Lstat(filepath.Join(base, left)); err != nil {
			t.Errorf("Cleanup(%q) removed %s, which is not in the directory named: %v", dir, left, err)
		}
		if err := os.WriteFile(filepath.Join(d, left), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
