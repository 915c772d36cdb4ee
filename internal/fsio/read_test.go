package fsio

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// within runs f and fails the test if it does not return in time: a regression that blocks
// (a FIFO opened without O_NONBLOCK, /dev/zero read to the end) must not hang the suite.
func within[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
		panic("unreachable")
	}
}

type readCase struct {
	name    string
	path    string
	limit   int64
	want    []byte // expected contents when ok
	wantErr error  // sentinel the error must match; nil: must succeed
	says    string // text the error must contain (besides the path)
}

// readImpls are the implementations every case runs against: readFile (on Unix the
// system-call one) and the os-based one, which must agree.
var readImpls = []struct {
	name string
	read func(path string, limit int64, lookFirst bool) ([]byte, error)
}{
	{"", readFile},
	{"/portable", func(path string, limit int64, lookFirst bool) ([]byte, error) {
		if limit < 0 {
			return readFile(path, limit, lookFirst)
		}
		return readPortable(path, limit, lookFirst)
	}},
}

func runReadCases(t *testing.T, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		for _, look := range []bool{true, false} {
			for _, impl := range readImpls {
				runReadCase(t, tc, look, impl.name, impl.read)
			}
			// The implementations agree to the byte, errors included.
			b1, err1 := readImpls[0].read(tc.path, tc.limit, look)
			b2, err2 := readImpls[1].read(tc.path, tc.limit, look)
			if !bytes.Equal(b1, b2) || errString(err1) != errString(err2) {
				t.Errorf("%s (look first %v): implementations differ: %d bytes, %v; %d bytes, %v", tc.name, look, len(b1), err1, len(b2), err2)
			}
		}
	}
}

func runReadCase(t *testing.T, tc readCase, look bool, implName string, readFile func(string, int64, bool) ([]byte, error)) {
	t.Helper()
	name := tc.name
	if !look {
		name += "/fstat-only"
	}
	name += implName
	t.Run(name, func(t *testing.T) {
		type res struct {
			b   []byte
			err error
		}
		start := time.Now()
		r := within(t, 5*time.Second, func() res {
			b, err := readFile(tc.path, tc.limit, look)
			return res{b, err}
		})
		if tc.wantErr == nil && tc.says == "" {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !bytes.Equal(r.b, tc.want) {
				t.Fatalf("read %d bytes, want %d", len(r.b), len(tc.want))
			}
			return
		}
		if r.err == nil {
			t.Fatalf("accepted (%d bytes)", len(r.b))
		}
		if r.b != nil {
			t.Fatal("returned data with the error")
		}
		if tc.wantErr != nil && !errors.Is(r.err, tc.wantErr) {
			t.Fatalf("%v: does not match %v", r.err, tc.wantErr)
		}
		if !strings.Contains(r.err.Error(), tc.path) || !strings.Contains(r.err.Error(), tc.says) {
			t.Fatalf("%q does not name %s and say %q", r.err, tc.path, tc.says)
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("took %v to fail", el)
		}
	})
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for n, b := range map[string][]byte{"f": data, "empty": nil, "one": []byte("x")} {
		if err := os.WriteFile(p(n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(p("dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "f", p("link"))
	symlink(t, "link", p("link2"))
	symlink(t, "nothing-here", p("dangling"))
	symlink(t, "dir", p("dirlink"))
	n := int64(len(data))
	runReadCases(t, []readCase{
		{name: "regular", path: p("f"), limit: n, want: data},
		{name: "regular under limit", path: p("f"), limit: n + 1, want: data},
		{name: "empty", path: p("empty"), limit: 0, want: []byte{}},
		{name: "one byte over", path: p("f"), limit: n - 1, wantErr: ErrTooLarge, says: "larger than the limit"},
		{name: "limit zero", path: p("one"), limit: 0, wantErr: ErrTooLarge, says: "1 bytes"},
		{name: "symlink to regular", path: p("link"), limit: n, want: data},
		{name: "symlink chain", path: p("link2"), limit: n, want: data},
		{name: "dangling symlink", path: p("dangling"), limit: n, wantErr: fs.ErrNotExist, says: "no such file"},
		{name: "missing", path: p("missing"), limit: n, wantErr: fs.ErrNotExist, says: "no such file"},
		{name: "directory", path: p("dir"), limit: n, wantErr: ErrNotRegular, says: "is a directory, not a regular file"},
		{name: "symlink to directory", path: p("dirlink"), limit: n, wantErr: ErrNotRegular, says: "is a directory"},
		{name: "negative limit", path: p("f"), limit: -1, says: "negative size limit"},
	})
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{SkeletonLimit, "128 MiB"}, {KeyLimit, "1 MiB"}, {3 << 10, "3 KiB"}, {1536, "1536 bytes"},
		{1000, "1000 bytes"}, {0, "0 bytes"}, {1<<20 + 1024, "1025 KiB"},
	} {
		if got := FormatSize(tc.n); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestKind(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0o644: "regular file", fs.ModeDir | 0o755: "directory", fs.ModeSymlink: "symbolic link",
		fs.ModeNamedPipe: "FIFO", fs.ModeSocket: "socket", fs.ModeDevice | fs.ModeCharDevice: "character device",
		fs.ModeDevice: "block device", fs.ModeIrregular: "irregular file",
	} {
		if got := Kind(m); got != want {
			t.Errorf("Kind(%v) = %q, want %q", m, got, want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symbolic links here: %v", err)
	}
}
