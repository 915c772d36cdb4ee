package oracle

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// cpioWriter writes an initramfs in the "newc" cpio format (magic 070701) the kernel unpacks
// into its rootfs: per entry a 110-byte ASCII header of 13 eight-digit hex fields, the NUL-terminated
// name padded to a multiple of 4, then the data padded to a multiple of 4; a "TRAILER!!!" entry ends
// the archive. Names are relative ("init", "dev/console"). Entries are owned by root with mtime 0.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	off int64
	err error
}

// Mode bits of cpio entries (as in struct stat).
const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioChar = 0o020000
)

var errCpioName = errors.New("cpio: invalid entry name")

func newCpioWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w} }

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, cpioDir|perm&0o7777, 2, 0, 0, nil)
}

// File adds a regular file.
func (c *cpioWriter) File(name string, perm uint32, data []byte) error {
	return c.entry(name, cpioReg|perm&0o7777, 1, 0, 0, data)
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) error {
	return c.entry(name, cpioChar|perm&0o7777, 1, major, minor, nil)
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	c.ino = 0 // the trailer has inode 0
	return c.write("TRAILER!!!", 0, 1, 0, 0, nil)
}

func (c *cpioWriter) entry(name string, mode, nlink, rmajor, rminor uint32, data []byte) error {
	if c.err != nil {
		return c.err
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") || name == "TRAILER!!!" {
		c.err = fmt.Errorf("%w: %q", errCpioName, name)
		return c.err
	}
	c.ino++
	return c.write(name, mode, nlink, rmajor, rminor, data)
}

func (c *cpioWriter) write(name string, mode, nlink, rmajor, rminor uint32, data []byte) error {
	if uint64(len(data)) > 0xffffffff {
		c.err = fmt.Errorf("cpio: %s: file too large", name)
		return c.err
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+4)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	c.put(buf)
	c.put(data)
	c.put(make([]byte, pad4(len(data))))
	return c.err
}

func (c *cpioWriter) put(b []byte) {
	if c.err != nil || len(b) == 0 {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

func pad4(n int) int { return (4 - n%4) % 4 }
