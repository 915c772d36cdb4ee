//go:build linux

// Command guest is the oracle VM's /init: a static Go program that asks the running kernel's
// bpf_verify_pkcs7_signature to judge every case in /cases.json, prints one marked result line per
// case on the console and powers the machine off. The host harness is package internal/oracle.
//
// For each case it builds the keyring (a fresh keyring holding the case's certificates as
// "asymmetric" keys, an empty one, a system keyring id, or a serial that resolves to nothing),
// writes (content, signature, keyring) into the LSM program's request map, makes one harmless
// bpf(2) call (BPF_PROG_GET_NEXT_ID) to trigger the program and reads the verdict back.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/oracle/bpf"
	"github.com/bpfsig/bpfsig/internal/oracle/wire"
)

// triggerCmd is the bpf(2) command whose LSM hook runs the verification: BPF_PROG_GET_NEXT_ID,
// which needs no fd and fails harmlessly with ENOENT past the last id.
const triggerCmd = unix.BPF_PROG_GET_NEXT_ID

func main() {
	runtime.LockOSThread()
	err := run()
	if err != nil {
		fmt.Printf("\n%s%v\n", wire.MarkFatal, err)
	}
	os.Stdout.Sync()
	unix.Sync()
	if os.Getpid() == 1 {
		// Give the serial port time to drain before the machine disappears.
		time.Sleep(100 * time.Millisecond)
		unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	if err != nil {
		os.Exit(1)
	}
}

func run() error {
	if os.Getpid() == 1 {
		mounts := []struct{ src, dst, fstype string }{
			{"proc", "/proc", "proc"},
			{"sysfs", "/sys", "sysfs"},
		}
		for _, m := range mounts {
			os.MkdirAll(m.dst, 0o755)
			if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
				return fmt.Errorf("mount %s: %w", m.dst, err)
			}
		}
		// Keep kernel messages off the console we report on.
		os.WriteFile("/proc/sys/kernel/printk", []byte("1 4 1 7"), 0)
	}
	raw, err := os.ReadFile(wire.CasesPath)
	if err != nil {
		return err
	}
	var batch wire.Batch
	if err := json.Unmarshal(raw, &batch); err != nil {
		return fmt.Errorf("parse %s: %w", wire.CasesPath, err)
	}
	raw = nil

	o, err := load()
	if err != nil {
		return err
	}
	defer o.close()

	w := os.Stdout
	fmt.Fprintf(w, "\n%s%s\n", wire.MarkBegin, batch.Nonce)
	for i, c := range batch.Cases {
		res := o.judge(c)
		res.Index = i
		w.WriteString(wire.FormatResult(res))
	}
	fmt.Fprintf(w, "%s%s %d\n", wire.MarkEnd, batch.Nonce, len(batch.Cases))
	return nil
}

type oracle struct {
	coll *ebpf.Collection
	m    *ebpf.Map
	l    link.Link
	seq  uint32
	tgid uint32
}

func load() (*oracle, error) {
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(bpf.Object))
	if err != nil {
		return nil, fmt.Errorf("parse BPF object: %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load BPF program: %+v", ve)
		}
		return nil, fmt.Errorf("load BPF program: %w", err)
	}
	l, err := link.AttachLSM(link.LSMOptions{Program: coll.Programs[bpf.ProgramName]})
	if err != nil {
		coll.Close()
		return nil, fmt.Errorf("attach LSM program: %w", err)
	}
	return &oracle{coll: coll, m: coll.Maps[bpf.MapName], l: l, tgid: uint32(os.Getpid())}, nil
}

func (o *oracle) close() {
	o.l.Close()
	o.coll.Close()
}

// judge runs one case. Failures of the guest's own plumbing are reported in Detail with Status 0.
func (o *oracle) judge(c wire.Case) wire.Result {
	req := bpf.Request{TGID: o.tgid, Cmd: uint32(triggerCmd), Content: c.Content, Sig: c.Signature}
	var detail string
	switch c.Keyring {
	case wire.KeyringUser, "":
		ring, d, err := makeKeyring(c.Certs)
		if err != nil {
			return wire.Result{Detail: err.Error()}
		}
		defer dropKeyring(ring)
		detail = d
		req.KeyringMode, req.Keyring = bpf.KeyringUser, int32(ring)
	case wire.KeyringSystem:
		req.KeyringMode, req.Keyring = bpf.KeyringSystem, c.SystemID
	case wire.KeyringMissing:
		// Serials are positive and allocated upwards from a random start; this one is never live.
		req.KeyringMode, req.Keyring = bpf.KeyringUser, 0x7ffffff0
	default:
		return wire.Result{Detail: fmt.Sprintf("unknown keyring mode %q", c.Keyring)}
	}

	o.seq++
	req.Seq, req.DoneSeq = o.seq, o.seq-1
	val, err := req.MarshalBinary()
	if err != nil {
		return wire.Result{Detail: err.Error()}
	}
	if err := o.m.Update(uint32(0), val, ebpf.UpdateAny); err != nil {
		return wire.Result{Detail: fmt.Sprintf("map update: %v", err)}
	}
	trigger()
	out := make([]byte, bpf.ValueSize)
	if err := o.m.Lookup(uint32(0), &out); err != nil {
		return wire.Result{Detail: fmt.Sprintf("map lookup: %v", err)}
	}
	var got bpf.Request
	if err := got.UnmarshalBinary(out); err != nil {
		return wire.Result{Detail: err.Error()}
	}
	if got.DoneSeq != o.seq {
		return wire.Result{Detail: fmt.Sprintf("program did not run (done_seq %d, seq %d)", got.DoneSeq, o.seq)}
	}
	res := wire.Result{Status: got.Status, Ret: got.Ret, Detail: detail}
	switch got.Status {
	case bpf.StatusVerified:
		if got.Ret < 0 {
			res.Errno = int(-got.Ret)
		} else if got.Ret > 0 {
			res.Detail = join(detail, fmt.Sprintf("kfunc returned %d", got.Ret))
		}
	case bpf.StatusNoKeyring:
		// The bpf(2) signed-load path answers EINVAL for a keyring id that resolves to nothing.
		res.Errno = int(unix.EINVAL)
		res.Detail = join(detail, "keyring lookup returned NULL")
	case bpf.StatusDynptr:
		res.Errno = int(-got.Ret)
		res.Detail = join(detail, "bpf_dynptr_from_mem failed")
	case bpf.StatusBadLength:
		res.Errno = int(unix.E2BIG)
		res.Detail = join(detail, "length out of range")
	default:
		res.Detail = join(detail, fmt.Sprintf("unexpected status %d", got.Status))
	}
	return res
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func trigger() {
	// union bpf_attr for BPF_PROG_GET_NEXT_ID: start_id (u32), next_id (u32), open_flags (u32).
	attr := [3]uint32{^uint32(0)}
	unix.Syscall(unix.SYS_BPF, uintptr(triggerCmd), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(&attr)
}

// makeKeyring creates a keyring linked into the process keyring and adds each certificate as an
// "asymmetric" key. A certificate the kernel refuses is skipped and noted in the detail string:
// the kernel's answer for the case is then the one it gives without that key.
func makeKeyring(certs [][]byte) (int, string, error) {
	ring, err := unix.AddKey("keyring", "bpfsig-oracle", nil, unix.KEY_SPEC_PROCESS_KEYRING)
	if err != nil {
		return 0, "", fmt.Errorf("add_key keyring: %w", err)
	}
	var detail string
	for i, der := range certs {
		if _, err := unix.AddKey("asymmetric", "", der, ring); err != nil {
			detail = join(detail, fmt.Sprintf("add_key asymmetric cert %d: %v", i, errnoName(err)))
		}
	}
	return ring, detail, nil
}

func dropKeyring(ring int) {
	unix.KeyctlInt(unix.KEYCTL_CLEAR, ring, 0, 0, 0)
	unix.KeyctlInt(unix.KEYCTL_INVALIDATE, ring, 0, 0, 0)
	unix.KeyctlInt(unix.KEYCTL_UNLINK, ring, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0)
}

func errnoName(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return err.Error()
}
