// Package oracle uses a real Linux kernel, booted in a throwaway qemu VM (Debian's 6.12 kernel),
// as the judge of PKCS#7 signatures: the kernel's own bpf_verify_pkcs7_signature decides each
// case. One boot serves a whole batch. `make oracle-deps` (scripts/oracle-deps.sh) installs qemu
// and caches the kernel; Find says what is missing.
//
// The guest's /init is built from the bpfsig module's source with the go tool on first use (set
// VM.GuestInit to a prebuilt one where no go tool is available).
package oracle

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bpfsig/bpfsig/compat"
	ioracle "github.com/bpfsig/bpfsig/internal/oracle"
)

// ErrUnavailable reports (wrapped) that the oracle cannot run here: qemu or the kernel missing.
var ErrUnavailable = ioracle.ErrUnavailable

// ErrGuest reports (wrapped) that the guest did not deliver one consistent result per case.
var ErrGuest = ioracle.ErrGuest

// Limits of a case: the guest's request map holds at most this many bytes.
const (
	MaxContent   = ioracle.MaxContent
	MaxSignature = ioracle.MaxSignature
)

// KeyringKind selects the keyring a case is verified against.
type KeyringKind int

const (
	// UserKeyring is a fresh keyring holding the case's Certs.
	UserKeyring KeyringKind = iota
	// EmptyKeyring is a fresh keyring with no keys; Certs are ignored.
	EmptyKeyring
	// BuiltinKeyring is the kernel's builtin trusted keyring (keyring_id 0).
	BuiltinKeyring
	// SecondaryKeyring is the secondary trusted keyring (keyring_id 1).
	SecondaryKeyring
	// PlatformKeyring is the platform keyring (keyring_id 2).
	PlatformKeyring
	// MissingKeyring is a serial that resolves to nothing (the signed-load path answers EINVAL).
	MissingKeyring
)

var kinds = map[KeyringKind]ioracle.KeyringKind{
	UserKeyring: ioracle.UserKeyring, EmptyKeyring: ioracle.EmptyKeyring, BuiltinKeyring: ioracle.BuiltinKeyring,
	SecondaryKeyring: ioracle.SecondaryKeyring, PlatformKeyring: ioracle.PlatformKeyring, MissingKeyring: ioracle.MissingKeyring,
}

// String is the kind's short name ("user", "empty", "builtin" …).
func (k KeyringKind) String() string {
	if ik, ok := kinds[k]; ok {
		return ik.String()
	}
	return fmt.Sprintf("KeyringKind(%d)", int(k))
}

// Case is one question: does Signature (detached DER PKCS#7) verify Content against the keyring?
type Case struct {
	Name      string
	Content   []byte
	Signature []byte
	Certs     [][]byte // DER certificates put into a UserKeyring
	Keyring   KeyringKind
}

// Result is the kernel's answer to one case: Errno 0 when the signature verified, else what
// bpf_verify_pkcs7_signature returned (EBADMSG, ENOPKG, ENOKEY, EKEYREJECTED …). Detail is what
// else the guest noticed (a certificate the kernel refused to add, a failed keyring lookup).
type Result struct {
	Name   string
	Errno  compat.Errno
	Detail string
}

// Stats describes one VM run.
type Stats struct {
	Cases        int
	Boot         time.Duration // qemu start to qemu exit
	ConsoleBytes int
	KVM          bool
}

// VM is a qemu invocation that boots Kernel with the oracle guest as /init.
type VM struct {
	QEMU    string        // path of qemu-system-x86_64
	Kernel  string        // path of the 6.12 vmlinuz
	Timeout time.Duration // whole-run limit; 0: 90 s plus 200 ms per case
	// GuestInit is a prebuilt static guest binary; "" builds it from the module source.
	GuestInit string
	// Stderr, if set, receives the VM's console as it runs.
	Stderr io.Writer
	// QEMUArgs are appended to qemu's command line; Append to the kernel's.
	QEMUArgs []string
	Append   string
}

// Find locates qemu-system-x86_64 ($BPFSIG_QEMU or PATH) and the cached kernel
// ($BPFSIG_ORACLE_KERNEL or the cache directory's vmlinuz). The error wraps ErrUnavailable and
// names what is missing and how to install it.
func Find() (*VM, error) {
	vm, err := ioracle.Find()
	if err != nil {
		return nil, err
	}
	return &VM{QEMU: vm.QEMU, Kernel: vm.Kernel, Timeout: vm.Timeout, GuestInit: vm.GuestInit, Stderr: vm.Stderr, QEMUArgs: vm.QEMUArgs, Append: vm.Append}, nil
}

func (vm *VM) internal() *ioracle.VM {
	return &ioracle.VM{QEMU: vm.QEMU, Kernel: vm.Kernel, Timeout: vm.Timeout, GuestInit: vm.GuestInit, Stderr: vm.Stderr, QEMUArgs: vm.QEMUArgs, Append: vm.Append}
}

// Verify boots the VM once and has the kernel judge every case, one Result per case in order.
// It fails (ErrGuest) unless the guest answers each case exactly once.
func (vm *VM) Verify(ctx context.Context, cases []Case) ([]Result, Stats, error) {
	in := make([]ioracle.Case, len(cases))
	for i, c := range cases {
		k, ok := kinds[c.Keyring]
		if !ok {
			return nil, Stats{}, fmt.Errorf("oracle: case %q: unknown keyring kind %d", c.Name, int(c.Keyring))
		}
		in[i] = ioracle.Case{Name: c.Name, Content: c.Content, Signature: c.Signature, Certs: c.Certs, Keyring: k}
	}
	res, st, err := vm.internal().RunStats(ctx, in)
	if err != nil {
		return nil, Stats(st), err
	}
	out := make([]Result, len(res))
	for i, r := range res {
		out[i] = Result(r)
	}
	return out, Stats(st), nil
}

// SelftestRow is one row of the selftest: the answer docs/spec.md §6 gives and the kernel's.
type SelftestRow struct {
	Vector string
	Want   compat.Errno
	Got    compat.Errno
	Detail string
}

// OK reports whether the kernel answered as expected.
func (r SelftestRow) OK() bool { return r.Want == r.Got }

// Selftest boots the VM once over the built-in answer table (legacy, raw, chain, ECDSA, signed
// attributes, signer id forms, tampered and malformed signatures) and returns each row. Rows
// that disagree are not an error; a VM that cannot run is.
func (vm *VM) Selftest(ctx context.Context) ([]SelftestRow, Stats, error) {
	rows, st, err := ioracle.SelftestStats(ctx, vm.internal())
	if err != nil {
		return nil, Stats(st), err
	}
	out := make([]SelftestRow, len(rows))
	for i, r := range rows {
		out[i] = SelftestRow(r)
	}
	return out, Stats(st), nil
}
