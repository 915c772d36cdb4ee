package oracle

import (
	"context"
	"errors"
	"testing"

	ioracle "github.com/bpfsig/bpfsig/internal/oracle"
)

// Each public keyring kind maps to the internal kind of the same name and meaning.
func TestKeyringKinds(t *testing.T) {
	want := map[KeyringKind]string{UserKeyring: "user", EmptyKeyring: "empty", BuiltinKeyring: "builtin", SecondaryKeyring: "secondary", PlatformKeyring: "platform", MissingKeyring: "missing"}
	if len(kinds) != len(want) {
		t.Fatalf("%d kinds mapped, want %d", len(kinds), len(want))
	}
	for k, name := range want {
		if k.String() != name || kinds[k].String() != name {
			t.Errorf("kind %d: %q maps to %q, want %q", int(k), k.String(), kinds[k].String(), name)
		}
	}
	if s := KeyringKind(99).String(); s != "KeyringKind(99)" {
		t.Errorf("unknown kind prints %q", s)
	}
}

func TestVerifyRefusesUnknownKind(t *testing.T) {
	vm := &VM{QEMU: "/nonexistent", Kernel: "/nonexistent"}
	if _, _, err := vm.Verify(context.Background(), []Case{{Name: "x", Keyring: 42}}); err == nil {
		t.Fatal("unknown keyring kind accepted")
	}
}

func TestFindNamesWhatIsMissing(t *testing.T) {
	t.Setenv("BPFSIG_QEMU", "/nonexistent/qemu")
	t.Setenv("BPFSIG_ORACLE_KERNEL", "/nonexistent/vmlinuz")
	_, err := Find()
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ioracle.ErrUnavailable) {
		t.Fatalf("Find: %v, want ErrUnavailable", err)
	}
}
