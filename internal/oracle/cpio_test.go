package oracle

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

type cpioEntry struct {
	name                               string
	ino, mode, nlink, size, rmaj, rmin uint32
	data                               []byte
}

// readNewc parses a newc archive independently of cpioWriter, checking the alignment rules.
func readNewc(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 {
			t.Fatalf("entry at unaligned offset %d", off)
		}
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		f := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d at %d: %v", i, off, err)
			}
			return uint32(v)
		}
		e := cpioEntry{ino: f(0), mode: f(1), nlink: f(4), size: f(6), rmaj: f(9), rmin: f(10)}
		if f(2) != 0 || f(3) != 0 || f(5) != 0 || f(12) != 0 {
			t.Fatalf("uid/gid/mtime/check not zero at %d", off)
		}
		nsz := int(f(11))
		name := b[off+110 : off+110+nsz]
		if name[nsz-1] != 0 {
			t.Fatalf("name not NUL-terminated at %d", off)
		}
		e.name = string(name[:nsz-1])
		off += 110 + nsz
		off += pad4(off)
		e.data = b[off : off+int(e.size)]
		off += int(e.size)
		off += pad4(off)
		out = append(out, e)
		if e.name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after trailer", len(b)-off)
			}
			return out
		}
	}
}

func tinyArchive(t *testing.T) []byte {
	var buf bytes.Buffer
	w := newCpioWriter(&buf)
	if err := w.Dir("dev", 0o755); err != nil {
		t.Fatal(err)
	}
	w.CharDev("dev/console", 0o600, 5, 1)
	w.File("init", 0o755, []byte("#!/bin/true\n"))
	w.File("a", 0o644, []byte("xyz")) // name and data lengths that need padding
	w.File("empty", 0o644, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCpioWriter(t *testing.T) {
	b := tinyArchive(t)
	got := readNewc(t, b)
	want := []cpioEntry{
		{name: "dev", ino: 1, mode: 0o040755, nlink: 2},
		{name: "dev/console", ino: 2, mode: 0o020600, nlink: 1, rmaj: 5, rmin: 1},
		{name: "init", ino: 3, mode: 0o100755, nlink: 1, size: 12, data: []byte("#!/bin/true\n")},
		{name: "a", ino: 4, mode: 0o100644, nlink: 1, size: 3, data: []byte("xyz")},
		{name: "empty", ino: 5, mode: 0o100644, nlink: 1},
		{name: "TRAILER!!!", nlink: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name || g.ino != w.ino || g.mode != w.mode || g.nlink != w.nlink || g.size != w.size ||
			g.rmaj != w.rmaj || g.rmin != w.rmin || !bytes.Equal(g.data, w.data) {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	golden := filepath.Join("testdata", "golden", "tiny.cpio")
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if g, err := os.ReadFile(golden); err != nil {
		t.Fatal(err)
	} else if !bytes.Equal(g, b) {
		t.Errorf("archive differs from %s (run with -update after checking)", golden)
	}
}

func TestCpioWriterErrors(t *testing.T) {
	for _, n := range []string{"", "/init", "a\x00b", "TRAILER!!!"} {
		w := newCpioWriter(&bytes.Buffer{})
		if err := w.File(n, 0o644, nil); !errors.Is(err, errCpioName) {
			t.Errorf("File(%q) = %v, want errCpioName", n, err)
		}
		if err := w.Close(); !errors.Is(err, errCpioName) {
			t.Errorf("Close after bad name = %v, want the sticky error", err)
		}
	}
	w := newCpioWriter(failWriter{})
	w.File("x", 0o644, []byte("1"))
	if err := w.Close(); err == nil {
		t.Error("write error not reported")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteInitramfs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "initrd")
	if err := writeInitramfs(p, []byte("ELF"), []byte(`{"nonce":"n"}`)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]cpioEntry{}
	for _, e := range readNewc(t, b) {
		names[e.name] = e
	}
	if e := names["init"]; e.mode != 0o100755 || string(e.data) != "ELF" {
		t.Errorf("init = %+v", e)
	}
	if e := names["dev/console"]; e.mode != 0o020600 || e.rmaj != 5 || e.rmin != 1 {
		t.Errorf("dev/console = %+v", e)
	}
	if e := names["cases.json"]; string(e.data) != `{"nonce":"n"}` {
		t.Errorf("cases.json = %+v", e)
	}
	for _, d := range []string{"dev", "proc", "sys"} {
		if names[d].mode != 0o040755 {
			t.Errorf("%s missing or not a directory", d)
		}
	}
}
