package bpfsys

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// openFDs returns the calling thread's open descriptors (from /proc/thread-self/fd, which is
// the thread's own table after unshare(CLONE_FILES)).
func openFDs() map[int]bool {
	fds := map[int]bool{}
	dir, err := os.Open("/proc/thread-self/fd")
	if err != nil {
		return fds
	}
	defer dir.Close()
	self := int(dir.Fd()) // the listing's own descriptor is not one of the caller's
	names, _ := dir.Readdirnames(-1)
	for _, name := range names {
		if n, err := strconv.Atoi(name); err == nil && n != self {
			fds[n] = true
		}
	}
	return fds
}

// fdKind returns "bpf-map", "bpf-prog", ... for an anonymous-inode BPF descriptor, else "".
func fdKind(fd int) string {
	l, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return ""
	}
	if k, ok := strings.CutPrefix(l, "anon_inode:"); ok {
		return k
	}
	return ""
}

// closedSince returns the descriptors of before that are no longer open, in order.
func closedSince(before map[int]bool) []int {
	now := openFDs()
	var closed []int
	for fd := range before {
		if !now[fd] {
			closed = append(closed, fd)
		}
	}
	sort.Ints(closed)
	return closed
}

// inPrivateFDTable runs fn on a dedicated OS thread whose descriptor table is a private copy
// of the process's (unshare(CLONE_FILES)), then lets that thread exit.
//
// A loader program runs with the caller's descriptor table: it creates its objects there and,
// on its error path, closes descriptors it reads from the metadata blob — which a tampered blob
// chooses. Isolated this way, such closes hit only the copy, and everything created in the
// table is closed when the thread exits even if nobody closed it. fn must close every
// cilium/ebpf object it opens explicitly (a finalizer on another thread would close the wrong
// descriptor).
func inPrivateFDTable(fn func()) error {
	errc := make(chan error, 1)
	go func() {
		// No UnlockOSThread: the goroutine exits locked, so the runtime terminates the thread
		// and its descriptor table with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FILES); err != nil {
			errc <- err
			return
		}
		fn()
		errc <- nil
	}()
	return <-errc
}
