package fsverity_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/fsverity"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

func fsverityTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("fsverity")
	if err != nil {
		t.Skip("fsverity (fsverity-utils) not installed: apt-get install fsverity")
	}
	return p
}

func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>9 + 7)
	}
	return b
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// paramArgs returns fsverity's options for p.
func paramArgs(p fsverity.Params) []string {
	var a []string
	if p.Algorithm != 0 {
		a = append(a, "--hash-alg="+p.Algorithm.String())
	}
	if p.BlockSize != 0 {
		a = append(a, "--block-size="+strconv.Itoa(p.BlockSize))
	}
	if p.Salt != nil {
		a = append(a, "--salt="+hex.EncodeToString(p.Salt))
	}
	return a
}

// TestDigestMatchesFsverity compares our digest line with `fsverity digest` over file sizes
// around block and tree-level boundaries, block sizes, salts and both hashes.
func TestDigestMatchesFsverity(t *testing.T) {
	tool := fsverityTool(t)
	dir := t.TempDir()
	var files []string
	for _, n := range []int{0, 1, 4095, 4096, 4097, 128 * 4096, 128*4096 + 1, 1<<20 + 1} {
		files = append(files, writeFile(t, dir, "f"+strconv.Itoa(n), content(n)))
	}
	if _, err := os.Stat("/bin/ls"); err == nil {
		files = append(files, "/bin/ls")
	}
	salt32 := bytes.Repeat([]byte{0xa5}, 32)
	params := []fsverity.Params{
		{},
		{Algorithm: fsverity.SHA512},
		{BlockSize: 1024},
		{BlockSize: 65536},
		{BlockSize: 64}, // two SHA-256 hashes per block: a deep tree
		{Algorithm: fsverity.SHA512, BlockSize: 128},
		{Salt: []byte{0}},
		{Salt: salt32},
		{Algorithm: fsverity.SHA512, BlockSize: 2048, Salt: []byte("salt")},
		{Algorithm: fsverity.SHA512, Salt: bytes.Repeat([]byte{1}, 32)},
	}
	checked := 0
	for _, p := range params {
		args := append([]string{"digest"}, paramArgs(p)...)
		args = append(args, files...)
		out, err := exec.Command(tool, args...).Output()
		if err != nil {
			t.Fatalf("fsverity %v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != len(files) {
			t.Fatalf("fsverity printed %d lines for %d files", len(lines), len(files))
		}
		for i, f := range files {
			d, err := fsverity.DigestFile(f, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.String() + " " + f; got != lines[i] {
				t.Errorf("params %+v:\n got  %s\n want %s", p, got, lines[i])
			}
			checked++
		}
	}
	t.Logf("%d digests equal to fsverity's", checked)
}

func TestParams(t *testing.T) {
	for _, c := range []struct {
		p  fsverity.Params
		ok bool
	}{
		{fsverity.Params{}, true},
		{fsverity.Params{BlockSize: 64}, true},
		{fsverity.Params{BlockSize: 32}, false},
		{fsverity.Params{Algorithm: fsverity.SHA512, BlockSize: 64}, false},
		{fsverity.Params{BlockSize: 3000}, false},
		{fsverity.Params{BlockSize: -4096}, false},
		{fsverity.Params{BlockSize: fsverity.MaxBlockSize * 2}, false},
		{fsverity.Params{Algorithm: 3}, false},
		{fsverity.Params{Salt: make([]byte, 32)}, true},
		{fsverity.Params{Salt: make([]byte, 33)}, false},
	} {
		_, err := fsverity.Compute(bytes.NewReader(nil), 0, c.p)
		if (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.p, err)
		}
	}
	// A reader shorter than the declared size is an error, at every cut.
	b := content(9000)
	for _, cut := range []int{0, 1, 4095, 4096, 8999} {
		if _, err := fsverity.Compute(bytes.NewReader(b[:cut]), int64(len(b)), fsverity.Params{}); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reader cut at %d: %v", cut, err)
		}
	}
	for _, s := range []string{"sha256:" + strings.Repeat("00", 32), "sha512:" + strings.Repeat("ab", 64)} {
		d, err := fsverity.ParseFileDigest(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseFileDigest(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "sha256", "sha256:00", "md5:" + strings.Repeat("00", 16), "sha512:" + strings.Repeat("00", 32), "sha256:" + strings.Repeat("zz", 32)} {
		if _, err := fsverity.ParseFileDigest(s); err == nil {
			t.Errorf("ParseFileDigest(%q) accepted", s)
		}
	}
}

func TestFormatted(t *testing.T) {
	d := &fsverity.FileDigest{Algorithm: fsverity.SHA256, Digest: bytes.Repeat([]byte{0xee}, 32)}
	want := append([]byte("FSVerity\x01\x00\x20\x00"), d.Digest...)
	if got := d.Formatted(); !bytes.Equal(got, want) {
		t.Fatalf("formatted digest %x, want %x", got, want)
	}
}

// TestSignMatchesFsverity compares our signatures with `fsverity sign` byte for byte.
func TestSignMatchesFsverity(t *testing.T) {
	tool := fsverityTool(t)
	s := testfix.Signer(t)
	dir := t.TempDir()
	for _, n := range []int{0, 1, 4097} {
		f := writeFile(t, dir, "f"+strconv.Itoa(n), content(n))
		for _, p := range []fsverity.Params{{}, {Algorithm: fsverity.SHA512}, {BlockSize: 1024, Salt: []byte{1, 2, 3}}} {
			sigPath := filepath.Join(dir, "sig")
			args := append([]string{"sign", f, sigPath, "--key=" + testfix.KeyPath, "--cert=" + testfix.CertPath}, paramArgs(p)...)
			if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
				t.Fatalf("fsverity %v: %v\n%s", args, err, out)
			}
			want, err := os.ReadFile(sigPath)
			if err != nil {
				t.Fatal(err)
			}
			d, err := fsverity.DigestFile(f, p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("size %d params %+v: signature differs from fsverity sign (%d vs %d bytes)", n, p, len(got), len(want))
			}
			if _, err := fsverity.Verify(d, want, testfix.Certs(t)); err != nil {
				t.Errorf("size %d params %+v: fsverity's signature: %v", n, p, err)
			}
		}
	}
}

func TestVerifyErrnos(t *testing.T) {
	s := testfix.Signer(t)
	d, err := fsverity.Compute(bytes.NewReader(content(5000)), 5000, fsverity.Params{})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trust := testfix.Certs(t)
	who, err := fsverity.Verify(d, sig, trust)
	if err != nil || !strings.HasPrefix(who.ID, "issuer:CN=bpfsig fixture RSA-2048") || who.Digest != "sha256" {
		t.Fatalf("good signature: %+v, %v", who, err)
	}
	skid, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{SubjectKeyID: true})
	if err != nil {
		t.Fatal(err)
	}
	if who, err := fsverity.Verify(d, skid, trust); err != nil || !strings.HasPrefix(who.ID, "skid:") {
		t.Errorf("SKID form: %+v, %v", who, err)
	}
	other, _ := fsverity.Compute(bytes.NewReader(content(5001)), 5001, fsverity.Params{})
	d512, _ := fsverity.Compute(bytes.NewReader(content(5000)), 5000, fsverity.Params{Algorithm: fsverity.SHA512})
	flipped := bytes.Clone(sig)
	flipped[len(flipped)-1] ^= 1
	stranger := testfix.P256Signer(t)
	strangerSig, err := fsverity.Sign(d, stranger.Key, stranger.Cert, fsverity.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		d     *fsverity.FileDigest
		sig   []byte
		trust int
		errno compat.Errno
	}{
		{"other file", other, sig, 1, compat.EKEYREJECTED},
		{"same file, sha512 digest", d512, sig, 1, compat.EKEYREJECTED},
		{"signature flipped", d, flipped, 1, compat.EKEYREJECTED},
		{"unknown signer", d, strangerSig, 1, compat.ENOKEY},
		{"empty keyring", d, sig, 0, compat.ENOKEY},
		{"empty signature", d, nil, 1, compat.EBADMSG},
		{"truncated signature", d, sig[:len(sig)/2], 1, compat.EBADMSG},
	} {
		_, err := fsverity.Verify(c.d, c.sig, trust[:c.trust])
		if !errors.Is(err, c.errno) {
			t.Errorf("%s: %v, want %v", c.name, err, c.errno)
		}
	}
	// Bytes after the ContentInfo are ignored by the kernel's decoder (an xattr read into a
	// fixed buffer, as the selftest gate does, carries zeros after the blob).
	if _, err := fsverity.Verify(d, append(bytes.Clone(sig), make([]byte, 1024-len(sig))...), trust); err != nil {
		t.Errorf("zero-padded signature: %v", err)
	}
}

// tempXattrDir returns the test's temporary directory if its filesystem has user xattrs.
func tempXattrDir(t *testing.T) string {
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(probe, "user.probe", []byte{1}, 0); err != nil {
		t.Skipf("temporary directory has no user xattrs: %v", err)
	}
	return dir
}

// tmpfsDir mounts a fresh tmpfs (root only; user xattrs on tmpfs need Linux 6.6).
func tmpfsDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("mounting tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, 0) })
	probe := filepath.Join(mnt, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(probe, "user.probe", []byte{1}, 0); err != nil {
		t.Skipf("tmpfs has no user xattrs on this kernel: %v", err)
	}
	return mnt
}

func TestXattrRoundTrip(t *testing.T) {
	for name, dir := range map[string]func(*testing.T) string{"tempdir": tempXattrDir, "tmpfs": tmpfsDir} {
		t.Run(name, func(t *testing.T) { xattrRoundTrip(t, dir(t)) })
	}
}

func xattrRoundTrip(t *testing.T, dir string) {
	s := testfix.Signer(t)
	f := writeFile(t, dir, "loader", content(70000))
	d, err := fsverity.DigestFile(f, fsverity.Params{})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsverity.ReadXattr(f, fsverity.DefaultXattr); !errors.Is(err, fsverity.ErrNoXattr) {
		t.Fatalf("unsigned file: %v, want ErrNoXattr", err)
	}
	if _, err := fsverity.CheckFile(f, fsverity.CheckOptions{Trust: testfix.Certs(t)}); !errors.Is(err, fsverity.ErrNoXattr) {
		t.Fatalf("CheckFile on an unsigned file: %v, want ErrNoXattr", err)
	}
	if err := fsverity.WriteXattr(f, fsverity.DefaultXattr, sig); err != nil {
		t.Fatal(err)
	}
	got, err := fsverity.ReadXattr(f, fsverity.DefaultXattr)
	if err != nil || !bytes.Equal(got, sig) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	fc, err := fsverity.CheckFile(f, fsverity.CheckOptions{Trust: testfix.Certs(t)})
	if err != nil {
		t.Fatal(err)
	}
	if fc.DigestSource != fsverity.SourceComputed || fc.SignatureSource != "xattr user.sig" || fc.Digest.String() != d.String() {
		t.Errorf("CheckFile: %+v", fc)
	}
	// Another attribute name, and a file changed after signing.
	if err := fsverity.WriteXattr(f, "user.bpf.sig", sig); err != nil {
		t.Fatal(err)
	}
	if _, err := fsverity.CheckFile(f, fsverity.CheckOptions{Trust: testfix.Certs(t), Xattr: "user.bpf.sig"}); err != nil {
		t.Errorf("user.bpf.sig: %v", err)
	}
	if err := os.WriteFile(f, content(70001), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fsverity.CheckFile(f, fsverity.CheckOptions{Trust: testfix.Certs(t)}); !errors.Is(err, compat.EKEYREJECTED) {
		t.Errorf("changed file: %v, want EKEYREJECTED", err)
	}
	if err := fsverity.WriteXattr(f, fsverity.DefaultXattr, make([]byte, fsverity.MaxXattrSize+1)); err == nil {
		t.Error("oversized xattr accepted")
	}
}

func TestMeasure(t *testing.T) {
	f := writeFile(t, t.TempDir(), "plain", content(10))
	if _, err := fsverity.Measure(f); !errors.Is(err, fsverity.ErrNotVerity) {
		t.Fatalf("plain file: %v, want ErrNotVerity", err)
	}
	vf := verityFile(t, content(12345))
	got, err := fsverity.Measure(vf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fsverity.DigestFile(vf, fsverity.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("kernel %s, computed %s", got, want)
	}
}

// verityFile returns a file with fs-verity enabled on a loop-mounted ext4 (root, loop
// devices, mkfs.ext4, the fsverity tool and CONFIG_FS_VERITY needed; skipped otherwise).
func verityFile(t *testing.T, b []byte) string {
	t.Helper()
	tool := fsverityTool(t)
	if os.Geteuid() != 0 {
		t.Skip("a loop-mounted ext4 with verity needs root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skip("mkfs.ext4 not installed")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "verity.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-O", "verity", "-b", "4096", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4 -O verity: %v: %s", err, out)
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("loop mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	f := writeFile(t, mnt, "loader", b)
	if out, err := exec.Command(tool, "enable", f).CombinedOutput(); err != nil {
		t.Skipf("fsverity enable (kernel without CONFIG_FS_VERITY?): %v: %s", err, strings.TrimSpace(string(out)))
	}
	return f
}
