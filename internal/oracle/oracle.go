// Package oracle uses a real Linux kernel, booted in a throwaway qemu VM, as the judge of PKCS#7
// signatures: the kernel's own bpf_verify_pkcs7_signature (the routine a signed BPF_PROG_LOAD uses)
// decides each case, so the project's CMS model (internal/cms) can be checked against it.
//
// The VM runs Debian's 6.12 kernel (CONFIG_SYSTEM_DATA_VERIFICATION=y, BPF LSM) with a static Go
// /init (internal/oracle/guest) that attaches a sleepable LSM program (internal/oracle/bpf) and
// reports one result per case on the serial console. One boot serves a whole batch of cases.
// scripts/oracle-deps.sh (make oracle-deps) installs qemu and caches the kernel.
package oracle

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/oracle/bpf"
	"github.com/bpfsig/bpfsig/internal/oracle/wire"
)

// KeyringKind selects the keyring a case is verified against.
type KeyringKind int

const (
	// UserKeyring is a fresh keyring holding the case's Certs (looked up with bpf_lookup_user_key).
	UserKeyring KeyringKind = iota
	// EmptyKeyring is a fresh keyring with no keys; Certs are ignored.
	EmptyKeyring
	// BuiltinKeyring is the kernel's builtin trusted keyring (keyring_id 0, bpf_lookup_system_key(0)).
	BuiltinKeyring
	// SecondaryKeyring is the secondary trusted keyring (keyring_id 1).
	SecondaryKeyring
	// PlatformKeyring is the platform keyring (keyring_id 2).
	PlatformKeyring
	// MissingKeyring is a key serial that resolves to nothing: the bpf(2) signed-load path answers
	// EINVAL, and so does the oracle.
	MissingKeyring
)

func (k KeyringKind) String() string {
	switch k {
	case UserKeyring:
		return "user"
	case EmptyKeyring:
		return "empty"
	case BuiltinKeyring:
		return "builtin"
	case SecondaryKeyring:
		return "secondary"
	case PlatformKeyring:
		return "platform"
	case MissingKeyring:
		return "missing"
	}
	return fmt.Sprintf("KeyringKind(%d)", int(k))
}

// Case is one verification request: does Signature (DER CMS, detached) verify Content against
// the keyring?
type Case struct {
	Name      string
	Content   []byte
	Signature []byte
	Certs     [][]byte // DER X.509 certificates put into a UserKeyring
	Keyring   KeyringKind
}

// Result is the kernel's answer for one case: Errno is 0 when the signature verified, else the
// error bpf_verify_pkcs7_signature returned (EBADMSG, ENOPKG, ENOKEY, EKEYREJECTED, ...).
// Detail carries what else the guest noticed (a certificate the kernel refused to add, a failed
// keyring lookup).
type Result struct {
	Name   string
	Errno  compat.Errno
	Detail string
}

func (r Result) String() string {
	v := "0"
	if r.Errno != 0 {
		v = kerrno.NameOf(r.Errno)
	}
	if r.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", r.Name, v, r.Detail)
	}
	return r.Name + ": " + v
}

// Stats describes one VM run.
type Stats struct {
	Cases        int
	Boot         time.Duration // qemu start to qemu exit (boot, all cases, power-off)
	ConsoleBytes int
	KVM          bool
}

// Limits of a case: the request map holds at most this many bytes of content and signature.
const (
	MaxContent   = bpf.ContentMax - 1
	MaxSignature = bpf.SigMax - 1
)

// ErrUnavailable reports that the oracle cannot run on this machine (qemu or the kernel missing).
var ErrUnavailable = errors.New("oracle: unavailable")

// ErrGuest reports that the guest did not deliver a complete, consistent set of results.
var ErrGuest = errors.New("oracle: guest failed")

// VM is a qemu invocation that boots Kernel with the oracle guest as /init.
type VM struct {
	QEMU    string        // path of qemu-system-x86_64
	Kernel  string        // path of the 6.12 vmlinuz
	Timeout time.Duration // whole-run limit; 0 means 90 s plus 200 ms per case
	// GuestInit is a prebuilt static guest binary; empty means build internal/oracle/guest with
	// the go tool from this source tree (once per process).
	GuestInit string
	// Stderr, if set, receives qemu's console output as it runs.
	Stderr io.Writer
	// QEMUArgs are appended to qemu's command line; Append to the kernel's.
	QEMUArgs []string
	Append   string
}

// CacheDir is where scripts/oracle-deps.sh puts the kernel: $BPFSIG_ORACLE_CACHE, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/bpfsig/oracle.
func CacheDir() (string, error) {
	if d := os.Getenv("BPFSIG_ORACLE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "bpfsig", "oracle"), nil
}

const installHint = "run `make oracle-deps` (scripts/oracle-deps.sh)"

// Find locates qemu-system-x86_64 ($BPFSIG_QEMU or PATH) and the cached kernel
// ($BPFSIG_ORACLE_KERNEL or CacheDir()/vmlinuz). The error wraps ErrUnavailable and names what is
// missing and how to install it.
func Find() (*VM, error) {
	var missing []string
	qemu := os.Getenv("BPFSIG_QEMU")
	if qemu == "" {
		p, err := exec.LookPath("qemu-system-x86_64")
		if err != nil {
			missing = append(missing, "qemu-system-x86_64 not found in PATH (Debian package qemu-system-x86)")
		}
		qemu = p
	} else if _, err := os.Stat(qemu); err != nil {
		missing = append(missing, fmt.Sprintf("BPFSIG_QEMU=%s: %v", qemu, err))
	}
	kernel := os.Getenv("BPFSIG_ORACLE_KERNEL")
	if kernel == "" {
		dir, err := CacheDir()
		if err != nil {
			return nil, fmt.Errorf("%w: kernel cache dir: %v; %s", ErrUnavailable, err, installHint)
		}
		kernel = filepath.Join(dir, "vmlinuz")
	}
	if fi, err := os.Stat(kernel); err != nil || fi.Size() == 0 {
		missing = append(missing, fmt.Sprintf("kernel %s missing (Debian linux-image-6.12.*+deb12-amd64-unsigned, unpacked, not installed)", kernel))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s; %s", ErrUnavailable, strings.Join(missing, "; "), installHint)
	}
	return &VM{QEMU: qemu, Kernel: kernel}, nil
}

// Run boots the VM once and has the kernel judge every case, returning one Result per case in
// order. It fails (ErrGuest) unless the guest reports exactly one result for each case.
func (vm *VM) Run(ctx context.Context, cases []Case) ([]Result, error) {
	res, _, err := vm.RunStats(ctx, cases)
	return res, err
}

// RunStats is Run that also reports timing.
func (vm *VM) RunStats(ctx context.Context, cases []Case) ([]Result, Stats, error) {
	st := Stats{Cases: len(cases)}
	nonce, batch, err := encodeBatch(cases)
	if err != nil {
		return nil, st, err
	}
	guest := vm.GuestInit
	if guest == "" {
		if guest, err = buildGuest(ctx); err != nil {
			return nil, st, err
		}
	}
	initBin, err := os.ReadFile(guest)
	if err != nil {
		return nil, st, fmt.Errorf("oracle: guest: %w", err)
	}
	tmp, err := os.MkdirTemp("", "bpfsig-oracle-")
	if err != nil {
		return nil, st, err
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initrd.cpio")
	if err := writeInitramfs(initrd, initBin, batch); err != nil {
		return nil, st, err
	}

	timeout := vm.Timeout
	if timeout == 0 {
		timeout = 90*time.Second + time.Duration(len(cases))*200*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"-m", "1024", "-nographic", "-no-reboot",
		"-kernel", vm.Kernel, "-initrd", initrd,
		"-append", strings.TrimSpace("console=ttyS0 quiet panic=-1 " + vm.Append)}
	args = append(args, vm.QEMUArgs...)
	if useKVM() {
		args = append([]string{"-accel", "kvm", "-cpu", "host"}, args...)
		st.KVM = true
	}
	cmd := exec.CommandContext(ctx, vm.QEMU, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if vm.Stderr != nil {
		cmd.Stdout = io.MultiWriter(&out, vm.Stderr)
	}
	cmd.Stderr = cmd.Stdout
	cmd.Stdin = nil
	start := time.Now()
	runErr := cmd.Run()
	st.Boot = time.Since(start)
	st.ConsoleBytes = out.Len()
	if ctx.Err() != nil {
		return nil, st, fmt.Errorf("%w: VM did not finish within %v: %v; console tail:\n%s", ErrGuest, timeout, ctx.Err(), tail(out.Bytes()))
	}
	if runErr != nil {
		return nil, st, fmt.Errorf("%w: %s: %v; console tail:\n%s", ErrGuest, vm.QEMU, runErr, tail(out.Bytes()))
	}
	results, err := decodeResults(out.Bytes(), nonce, cases)
	return results, st, err
}

// encodeBatch renders the cases as the guest's /cases.json with a fresh nonce.
func encodeBatch(cases []Case) (string, []byte, error) {
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return "", nil, err
	}
	nonce := hex.EncodeToString(nb[:])
	b := wire.Batch{Nonce: nonce, Cases: make([]wire.Case, len(cases))}
	for i, c := range cases {
		if len(c.Content) > MaxContent {
			return "", nil, fmt.Errorf("oracle: case %q: content of %d bytes exceeds %d", c.Name, len(c.Content), MaxContent)
		}
		if len(c.Signature) > MaxSignature {
			return "", nil, fmt.Errorf("oracle: case %q: signature of %d bytes exceeds %d", c.Name, len(c.Signature), MaxSignature)
		}
		w := wire.Case{Content: c.Content, Signature: c.Signature}
		switch c.Keyring {
		case UserKeyring:
			w.Keyring, w.Certs = wire.KeyringUser, c.Certs
		case EmptyKeyring:
			w.Keyring = wire.KeyringUser
		case BuiltinKeyring, SecondaryKeyring, PlatformKeyring:
			w.Keyring, w.SystemID = wire.KeyringSystem, int32(c.Keyring-BuiltinKeyring)
		case MissingKeyring:
			w.Keyring = wire.KeyringMissing
		default:
			return "", nil, fmt.Errorf("oracle: case %q: unknown keyring kind %v", c.Name, c.Keyring)
		}
		b.Cases[i] = w
	}
	j, err := json.Marshal(b)
	return nonce, j, err
}

// decodeResults matches the guest's console output to the cases.
func decodeResults(console []byte, nonce string, cases []Case) ([]Result, error) {
	c, err := wire.ParseConsole(bytes.NewReader(console), nonce)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGuest, err)
	}
	if len(c.Fatal) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrGuest, strings.Join(c.Fatal, "; "))
	}
	if !c.Begun || !c.Ended {
		return nil, fmt.Errorf("%w: incomplete output (begin %v, end %v, %d results); console tail:\n%s",
			ErrGuest, c.Begun, c.Ended, len(c.Results), tail(console))
	}
	if c.Count != len(cases) || len(c.Results) != len(cases) {
		return nil, fmt.Errorf("%w: %d results (guest counted %d) for %d cases", ErrGuest, len(c.Results), c.Count, len(cases))
	}
	out := make([]Result, len(cases))
	for i, r := range c.Results {
		if r.Index != i {
			return nil, fmt.Errorf("%w: result %d has index %d", ErrGuest, i, r.Index)
		}
		if r.Status == bpf.StatusIdle {
			return nil, fmt.Errorf("%w: case %q: %s", ErrGuest, cases[i].Name, r.Detail)
		}
		if r.Errno < 0 || r.Errno > 4095 {
			return nil, fmt.Errorf("%w: case %q: errno %d out of range", ErrGuest, cases[i].Name, r.Errno)
		}
		out[i] = Result{Name: cases[i].Name, Errno: compat.Errno(r.Errno), Detail: r.Detail}
	}
	return out, nil
}

// writeInitramfs writes the guest's root: /init, /cases.json, /dev/console (the kernel opens it
// for init's stdio; nothing creates it in an initramfs otherwise), and mount points.
func writeInitramfs(path string, initBin, batch []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := newCpioWriter(f)
	w.Dir("dev", 0o755)
	w.CharDev("dev/console", 0o600, 5, 1)
	w.Dir("proc", 0o755)
	w.Dir("sys", 0o755)
	w.File("init", 0o755, initBin)
	w.File(strings.TrimPrefix(wire.CasesPath, "/"), 0o644, batch)
	err = w.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var guestBuild struct {
	sync.Mutex
	path string
}

// buildGuest compiles internal/oracle/guest as a static linux/amd64 binary, once per process,
// into the user cache directory.
func buildGuest(ctx context.Context) (string, error) {
	guestBuild.Lock()
	defer guestBuild.Unlock()
	if guestBuild.path != "" {
		return guestBuild.path, nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("oracle: cannot locate the guest source; set VM.GuestInit")
	}
	src := filepath.Join(filepath.Dir(self), "guest")
	if _, err := os.Stat(filepath.Join(src, "main.go")); err != nil {
		return "", fmt.Errorf("oracle: guest source not found at %s (set VM.GuestInit): %w", src, err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := CacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "guest-init")
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("oracle: go build guest: %v: %s", err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	guestBuild.path = out
	return out, nil
}

// useKVM reports whether to ask qemu for KVM: only when BPFSIG_ORACLE_ACCEL=kvm, or =auto and
// /dev/kvm opens. The default is software emulation (TCG): nested KVM in CI sandboxes can be
// present yet unable to run the kernel.
func useKVM() bool {
	switch os.Getenv("BPFSIG_ORACLE_ACCEL") {
	case "kvm":
		return true
	case "auto":
	default:
		return false
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func tail(b []byte) string {
	const n = 3000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
