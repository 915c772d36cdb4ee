package bpfsys

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestProbe(t *testing.T) {
	requireBPF(t)
	r := Probe()
	t.Logf("\n%s", r)
	if r.Kernel != kernelRelease() || r.Kernel == "" {
		t.Errorf("Kernel = %q", r.Kernel)
	}
	for _, it := range r.Items() {
		if it.Item.Detail == "" {
			t.Errorf("%s: empty detail", it.Name)
		}
	}
	// requireBPF loaded and ran a syscall program, so these must hold.
	if !r.BPF.OK || !r.SyscallProg.OK {
		t.Errorf("bpf=%+v syscall_prog=%+v, want both OK", r.BPF, r.SyscallProg)
	}
	// The excl field can only read 1 if exclusive maps work.
	if r.MapExclField.OK && !r.ExclusiveMaps.OK {
		t.Error("map_excl_field OK without exclusive maps")
	}
	if !r.SignatureVerification.OK {
		d := r.SignatureVerification.Detail
		if !strings.Contains(d, "CONFIG_SYSTEM_DATA_VERIFICATION") && !strings.Contains(d, "E2BIG") && !strings.Contains(d, "EPERM") {
			t.Errorf("signature_verification detail %q does not say why", d)
		}
	}
	if r.SignatureVerification.OK && !r.SignatureFields.OK {
		t.Error("signature verification without signature fields")
	}
}

// TestProbeAgreesWithLoad checks the probe against what the fixture loaders do: the v2 check
// reads map->excl, the legacy check needs the hash request, the hash request needs a frozen map.
func TestProbeAgreesWithLoad(t *testing.T) {
	requireBPF(t)
	r := Probe()
	s := fixtureSpec(t, "legacy-v2", Legacy)
	s.NoFreeze = true
	res, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stage(StageMapHash).Errno == unix.EPERM; got != r.MapHashNeedsFrozen.OK {
		t.Errorf("unfrozen map_hash EPERM = %v, probe map_hash_needs_frozen = %v", got, r.MapHashNeedsFrozen.OK)
	}
	res, err = Load(fixtureSpec(t, "legacy-v2", Legacy))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != (r.MapExclField.OK && r.MapHash.OK) {
		t.Errorf("legacy-v2 load OK = %v, probe map_excl_field = %v, map_hash = %v", res.OK, r.MapExclField.OK, r.MapHash.OK)
	}
}

const childEnv = "BPFSYS_PROBE_CHILD"

// TestProbeUnprivileged re-runs the probe as user nobody: every item must fail and say EPERM.
func TestProbeUnprivileged(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		json.NewEncoder(os.Stdout).Encode(Probe())
		// The child runs outside the package directory: no fixture files, a synthetic spec.
		_, err := Load(LoadSpec{Name: "child", Insn: progReturn0, Data: probeValue, CtxSize: fixtureCtxSize})
		json.NewEncoder(os.Stdout).Encode(map[string]any{"err": fmt.Sprint(err), "unavailable": errors.Is(err, ErrUnavailable), "eperm": errors.Is(err, unix.EPERM)})
		return
	}
	requireRoot(t)
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	// The go test build directory is private to root: run a world-readable copy.
	dir, err := os.MkdirTemp("", "bpfsys-nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	copyExe := dir + "/bpfsys.test"
	if err := copyFile(exe, copyExe); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^TestProbeUnprivileged$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("child as nobody: %v\n%s%s", err, out, exit.Stderr)
	}
	if err != nil {
		t.Skipf("cannot run the test binary as nobody: %v", err)
	}
	var r ProbeReport
	line, rest, _ := strings.Cut(string(out), "\n")
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	var load struct {
		Err                string
		Unavailable, EPERM bool
	}
	line, _, _ = strings.Cut(rest, "\n")
	if err := json.Unmarshal([]byte(line), &load); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	t.Logf("Load as nobody: %s", load.Err)
	if !load.Unavailable || !load.EPERM {
		t.Errorf("Load as nobody: %+v, want an error wrapping ErrUnavailable and EPERM", load)
	}
	for _, it := range r.Items() {
		t.Logf("%s: %+v", it.Name, it.Item)
		if it.Item.OK || !strings.Contains(it.Item.Detail, "EPERM") {
			t.Errorf("%s = %+v as nobody, want a failure naming EPERM", it.Name, it.Item)
		}
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
