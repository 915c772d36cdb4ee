package bpfsys

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kerrno"
)

// Keyring ids a signed BPF_PROG_LOAD can name (kernel.md, Documentation/bpf/signing.rst).
const (
	KeyringBuiltin   int32 = 0  // the builtin trusted keys
	KeyringSecondary int32 = 1  // VERIFY_USE_SECONDARY_KEYRING: secondary + builtin
	KeyringPlatform  int32 = 2  // VERIFY_USE_PLATFORM_KEYRING
	KeySpecSession   int32 = -3 // KEY_SPEC_SESSION_KEYRING
	KeySpecUser      int32 = -4 // KEY_SPEC_USER_KEYRING
	KeySpecBPF       int32 = -9 // KEY_SPEC_BPF_KEYRING, the .bpf keyring of the later mainline revision
)

// Paths the keyring probe reads; variables so tests can point them elsewhere.
var (
	procKeysPath        = "/proc/keys"
	keyringUnsealedPath = "/sys/module/bpf/parameters/keyring_unsealed"
)

// SystemKeyring is a kernel keyring found in /proc/keys.
type SystemKeyring struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Serial  string `json:"serial,omitempty"` // hex, as /proc/keys prints it
	// Keys is what /proc/keys says of its content: "empty" or the number of links.
	Keys string `json:"keys,omitempty"`
}

// KeyringID is what the running kernel does with one keyring_id in a signed load.
type KeyringID struct {
	ID   int32  `json:"id"`
	Name string `json:"name"`
	// Resolves is true when the kernel found a keyring for the id, false when it refused the
	// id (EINVAL from the keyring lookup), nil when this kernel does not tell (see Detail).
	Resolves *bool  `json:"resolves"`
	Errno    string `json:"errno"` // the signed load's errno
	Detail   string `json:"detail"`
}

// KeyringReport lists the keyring facts of the running kernel.
type KeyringReport struct {
	// System lists .builtin_trusted_keys, .secondary_trusted_keys, .platform and .bpf as
	// /proc/keys shows them to this process.
	System []SystemKeyring `json:"system"`
	// BPFKeyring: a .bpf keyring exists (the mainline revision with KEY_SPEC_BPF_KEYRING).
	BPFKeyring ProbeItem `json:"bpf_keyring"`
	// KeyringUnsealed is /sys/module/bpf/parameters/keyring_unsealed (the .bpf keyring stays
	// open for keys only when it is Y/1); OK when the file exists.
	KeyringUnsealed ProbeItem `json:"keyring_unsealed"`
	// IDs says which keyring ids resolve, found by a signed load of a one-instruction program
	// with a garbage signature per id: the kernel looks the keyring up before it examines the
	// signature, so EINVAL means the id resolved to nothing.
	IDs []KeyringID `json:"ids"`
	// LookupFirst: a keyring serial that certainly does not exist got EINVAL, so this kernel
	// does look keyrings up before the signature check and the Resolves answers are real.
	LookupFirst bool `json:"lookup_before_signature"`
}

var systemKeyrings = []string{".builtin_trusted_keys", ".secondary_trusted_keys", ".platform", ".bpf"}

// ProbeKeyrings gathers the keyring facts. It needs bpf(2) for the id answers; without it
// the ids are reported as undecided.
func ProbeKeyrings() *KeyringReport {
	loadMu.Lock()
	defer loadMu.Unlock()
	return probeKeyrings()
}

func probeKeyrings() *KeyringReport {
	r := &KeyringReport{}
	found := map[string]SystemKeyring{}
	if b, err := os.ReadFile(procKeysPath); err == nil {
		for name, k := range parseProcKeys(b) {
			found[name] = k
		}
	}
	for _, n := range systemKeyrings {
		k, ok := found[n]
		if !ok {
			k = SystemKeyring{Name: n}
		}
		r.System = append(r.System, k)
	}
	if k := found[".bpf"]; k.Present {
		r.BPFKeyring = ProbeItem{OK: true, Detail: fmt.Sprintf(".bpf keyring %s (%s) in %s", k.Serial, k.Keys, procKeysPath)}
	} else {
		r.BPFKeyring = ProbeItem{Detail: "no .bpf keyring in " + procKeysPath + " (a kernel without the .bpf keyring revision, or not visible to this process)"}
	}
	if b, err := os.ReadFile(keyringUnsealedPath); err == nil {
		v := strings.TrimSpace(string(b))
		r.KeyringUnsealed = ProbeItem{OK: true, Detail: fmt.Sprintf("%s = %s", keyringUnsealedPath, v)}
	} else {
		r.KeyringUnsealed = ProbeItem{Detail: fmt.Sprintf("%s: %v", keyringUnsealedPath, unwrapPathErr(err))}
	}

	ids := []KeyringID{
		{ID: KeyringBuiltin, Name: "builtin"},
		{ID: KeyringSecondary, Name: "secondary"},
		{ID: KeyringPlatform, Name: "platform"},
		{ID: KeySpecBPF, Name: "KEY_SPEC_BPF_KEYRING"},
		{ID: KeySpecSession, Name: "KEY_SPEC_SESSION_KEYRING"},
		{ID: KeySpecUser, Name: "KEY_SPEC_USER_KEYRING"},
	}
	var fresh *Keyring
	if k, err := NewKeyring(nil); err == nil {
		fresh = k
		defer fresh.Close()
		ids = append(ids, KeyringID{ID: k.ID, Name: "a fresh user keyring"})
	}
	// A serial no keyring has: the control. Serials are positive; the lookup of a free one
	// fails with ENOKEY, which the kernel turns into EINVAL.
	control := freeSerial()
	e := signedProbe(control)
	r.LookupFirst = e == unix.EINVAL
	ids = append(ids, KeyringID{ID: control, Name: "a serial no key has (control)"})
	for _, id := range ids {
		e := signedProbe(id.ID)
		id.Errno = kerrno.NameOf(compat.Errno(e))
		switch {
		case e == unix.EPERM || e == unix.ENOSYS:
			id.Detail = "bpf(2) refused the probe load: " + kerrno.NameOf(compat.Errno(e))
		case !r.LookupFirst:
			id.Detail = fmt.Sprintf("signed load: %s; a serial no keyring has got %s too, so this kernel does not tell which ids resolve", id.Errno, kerrno.NameOf(compat.Errno(e)))
		case e == unix.EINVAL:
			f := false
			id.Resolves = &f
			id.Detail = "EINVAL from the keyring lookup: resolves to nothing"
		default:
			t := true
			id.Resolves = &t
			id.Detail = fmt.Sprintf("the kernel went past the keyring lookup (%s from the signature check)", id.Errno)
		}
		r.IDs = append(r.IDs, id)
	}
	return r
}

// signedProbe is a signed load of `r0 = 0; exit` with a garbage signature naming keyringID.
func signedProbe(keyringID int32) unix.Errno {
	fd, e := probeLoad{insns: progReturn0, mapFD: -1, signature: garbageSignature, keyringID: keyringID}.load()
	if e == 0 {
		unix.Close(fd)
	}
	return e
}

// freeSerial returns a positive key serial no key has now.
func freeSerial() int32 {
	for s := int32(0x7ffffff0); s > 0x7fff0000; s-- {
		if _, err := unix.KeyctlInt(unix.KEYCTL_DESCRIBE, int(s), 0, 0, 0); err == unix.ENOKEY {
			return s
		}
	}
	return 0x7ffffff0
}

// parseProcKeys reads the keyring lines of /proc/keys:
// "SERIAL FLAGS USAGE EXPY PERM UID GID TYPE DESCRIPTION: SUMMARY".
func parseProcKeys(b []byte) map[string]SystemKeyring {
	out := map[string]SystemKeyring{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[7] != "keyring" {
			continue
		}
		desc := strings.Join(f[8:], " ")
		name, summary, _ := strings.Cut(desc, ": ")
		name = strings.TrimSuffix(name, ":")
		out[name] = SystemKeyring{Name: name, Present: true, Serial: f[0], Keys: summary}
	}
	return out
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// String renders the report as probe prints it.
func (r *KeyringReport) String() string {
	var b strings.Builder
	b.WriteString("keyrings\n")
	for _, k := range r.System {
		if k.Present {
			fmt.Fprintf(&b, "  %-24s present (%s, %s)\n", k.Name, k.Serial, k.Keys)
		} else {
			fmt.Fprintf(&b, "  %-24s absent\n", k.Name)
		}
	}
	mark := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no "
	}
	fmt.Fprintf(&b, "  %-24s %s  %s\n", "bpf_keyring", mark(r.BPFKeyring.OK), r.BPFKeyring.Detail)
	fmt.Fprintf(&b, "  %-24s %s  %s\n", "keyring_unsealed", mark(r.KeyringUnsealed.OK), r.KeyringUnsealed.Detail)
	for _, id := range r.IDs {
		res := "?  "
		if id.Resolves != nil {
			res = mark(*id.Resolves)
		}
		fmt.Fprintf(&b, "  keyring_id %-11d %s  %s: %s\n", id.ID, res, id.Name, id.Detail)
	}
	return b.String()
}
