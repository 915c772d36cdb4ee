package oracle

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/oracle/bpf"
	"github.com/bpfsig/bpfsig/internal/oracle/wire"
)

func TestEncodeBatch(t *testing.T) {
	cases := []Case{
		{Name: "u", Content: []byte("c"), Signature: []byte("s"), Certs: [][]byte{{1, 2}}},
		{Name: "e", Content: []byte("c"), Signature: []byte("s"), Certs: [][]byte{{9}}, Keyring: EmptyKeyring},
		{Name: "b", Keyring: BuiltinKeyring},
		{Name: "s", Keyring: SecondaryKeyring},
		{Name: "p", Keyring: PlatformKeyring},
		{Name: "m", Keyring: MissingKeyring},
	}
	nonce, raw, err := encodeBatch(cases)
	if err != nil {
		t.Fatal(err)
	}
	var b wire.Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.Nonce != nonce || len(nonce) != 16 || len(b.Cases) != len(cases) {
		t.Fatalf("batch %+v nonce %q", b, nonce)
	}
	want := []wire.Case{
		{Content: []byte("c"), Signature: []byte("s"), Certs: [][]byte{{1, 2}}, Keyring: wire.KeyringUser},
		{Content: []byte("c"), Signature: []byte("s"), Keyring: wire.KeyringUser},
		{Keyring: wire.KeyringSystem, SystemID: 0},
		{Keyring: wire.KeyringSystem, SystemID: 1},
		{Keyring: wire.KeyringSystem, SystemID: 2},
		{Keyring: wire.KeyringMissing},
	}
	for i, w := range want {
		g := b.Cases[i]
		if !bytes.Equal(g.Content, w.Content) || !bytes.Equal(g.Signature, w.Signature) || g.Keyring != w.Keyring ||
			g.SystemID != w.SystemID || len(g.Certs) != len(w.Certs) {
			t.Errorf("case %d = %+v, want %+v", i, g, w)
		}
	}
	n2, _, _ := encodeBatch(cases)
	if n2 == nonce {
		t.Error("nonce repeated")
	}
}

func TestEncodeBatchLimits(t *testing.T) {
	for _, c := range []Case{
		{Name: "content", Content: make([]byte, MaxContent+1)},
		{Name: "sig", Signature: make([]byte, MaxSignature+1)},
		{Name: "kind", Keyring: KeyringKind(99)},
	} {
		if _, _, err := encodeBatch([]Case{c}); err == nil || !strings.Contains(err.Error(), c.Name) {
			t.Errorf("encodeBatch(%s) = %v, want an error naming the case", c.Name, err)
		}
	}
	if _, _, err := encodeBatch([]Case{{Content: make([]byte, MaxContent), Signature: make([]byte, MaxSignature)}}); err != nil {
		t.Errorf("maximal case refused: %v", err)
	}
}

func TestDecodeResults(t *testing.T) {
	cases := []Case{{Name: "a"}, {Name: "b"}}
	ok := func(rs ...wire.Result) string {
		var s strings.Builder
		s.WriteString("boot noise\n" + wire.MarkBegin + "N\n")
		for _, r := range rs {
			s.WriteString(wire.FormatResult(r))
		}
		s.WriteString(wire.MarkEnd + "N 2\n")
		return s.String()
	}
	r0 := wire.Result{Index: 0, Status: bpf.StatusVerified, Errno: 0}
	r1 := wire.Result{Index: 1, Status: bpf.StatusVerified, Ret: -int32(compat.EKEYREJECTED), Errno: int(compat.EKEYREJECTED), Detail: "d"}
	got, err := decodeResults([]byte(ok(r0, r1)), "N", cases)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{Name: "a"}, {Name: "b", Errno: compat.EKEYREJECTED, Detail: "d"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if s := got[1].String(); s != "b: EKEYREJECTED (d)" {
		t.Errorf("String() = %q", s)
	}

	bad := map[string]string{
		"missing result": ok(r0),
		"wrong index":    ok(r1, r0),
		"guest plumbing": ok(r0, wire.Result{Index: 1, Detail: "map update: boom"}),
		"errno range":    ok(r0, wire.Result{Index: 1, Status: bpf.StatusVerified, Errno: 5000}),
		"no end":         "BPFSIG-ORACLE-BEGIN N\n" + wire.FormatResult(r0) + wire.FormatResult(r1),
		"fatal":          wire.MarkFatal + "attach LSM program: EPERM\n",
		"wrong nonce":    strings.ReplaceAll(ok(r0, r1), " N", " M"),
		"malformed":      ok(r0) + wire.MarkResult + "{\n",
	}
	for n, out := range bad {
		if _, err := decodeResults([]byte(out), "N", cases); !errors.Is(err, ErrGuest) {
			t.Errorf("%s: err = %v, want ErrGuest", n, err)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BPFSIG_ORACLE_CACHE", dir)
	t.Setenv("BPFSIG_ORACLE_KERNEL", "")
	t.Setenv("BPFSIG_QEMU", filepath.Join(dir, "no-qemu"))
	_, err := Find()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Find() = %v, want ErrUnavailable", err)
	}
	for _, want := range []string{"no-qemu", filepath.Join(dir, "vmlinuz"), "make oracle-deps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	qemu := filepath.Join(dir, "qemu")
	os.WriteFile(qemu, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "vmlinuz"), []byte("kernel"), 0o644)
	t.Setenv("BPFSIG_QEMU", qemu)
	vm, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if vm.QEMU != qemu || vm.Kernel != filepath.Join(dir, "vmlinuz") {
		t.Errorf("Find() = %+v", vm)
	}
}

func TestKeyringKindString(t *testing.T) {
	for k, want := range map[KeyringKind]string{UserKeyring: "user", EmptyKeyring: "empty", BuiltinKeyring: "builtin",
		SecondaryKeyring: "secondary", PlatformKeyring: "platform", MissingKeyring: "missing", 42: "KeyringKind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

// TestSelftestFixtureCopies checks the embedded copies against the project's fixtures.
func TestSelftestFixtureCopies(t *testing.T) {
	for _, n := range []string{"legacy-v2", "raw", "chain"} {
		for _, ext := range []string{"insn", "data", "sig"} {
			compareCopy(t, n+"."+ext, filepath.Join(fixtureRoot, "blobs", n+"."+ext))
		}
	}
	compareCopy(t, "test-rsa2048.crt.der", filepath.Join(fixtureRoot, "keys", "test-rsa2048.crt.der"))
	compareCopy(t, "other-rsa2048.crt.der", filepath.Join("testdata", "keys", "other-rsa2048.crt.der"))
	compareCopy(t, "p256.crt.der", filepath.Join("testdata", "keys", "p256.crt.der"))
}

func compareCopy(t *testing.T, embedded, path string) {
	t.Helper()
	a, err := selftestFS.ReadFile("testdata/selftest/" + embedded)
	if err != nil {
		t.Fatal(err)
	}
	if b := readFixture(t, path); !bytes.Equal(a, b) {
		t.Errorf("testdata/selftest/%s differs from %s: rerun testdata/gen.sh", embedded, path)
	}
}

func TestSelftestCases(t *testing.T) {
	cases, want, err := SelftestCases()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 15 || len(want) != len(cases) {
		t.Fatalf("%d cases / %d answers, want 15 (docs/spec.md §6)", len(cases), len(want))
	}
	if cases[9].Name != "SignerInfo algorithm rewritten to sha256WithRSAEncryption" ||
		bytes.Count(cases[9].Signature, oidSHA256WithRSA) != 1 || bytes.Contains(cases[9].Signature, oidRSAEncryption) {
		t.Errorf("rewritten-algorithm case is wrong")
	}
	if len(cases[4].Signature) != 200 {
		t.Errorf("truncated case has %d bytes", len(cases[4].Signature))
	}
	if cases[3].Keyring != EmptyKeyring {
		t.Errorf("empty-keyring case uses %v", cases[3].Keyring)
	}
	rows := []SelftestRow{{Vector: "v", Want: compat.ENOKEY, Got: compat.ENOKEY}, {Vector: "w", Want: 0, Got: compat.EBADMSG, Detail: "x"}}
	if !rows[0].OK() || rows[1].OK() || !strings.HasPrefix(rows[1].String(), "FAIL") || !strings.Contains(rows[1].String(), "EBADMSG (x)") {
		t.Errorf("row rendering: %q / %q", rows[0], rows[1])
	}
}
