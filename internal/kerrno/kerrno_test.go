package kerrno

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNames(t *testing.T) {
	tests := []struct {
		e    unix.Errno
		name string
	}{
		{unix.EKEYREJECTED, "EKEYREJECTED"}, {unix.EBADMSG, "EBADMSG"}, {unix.ENOKEY, "ENOKEY"},
		{unix.ENOPKG, "ENOPKG"}, {unix.EOPNOTSUPP, "EOPNOTSUPP"}, {unix.E2BIG, "E2BIG"}, {0, ""},
	}
	for _, tt := range tests {
		if got := NameOf(tt.e); got != tt.name {
			t.Errorf("NameOf(%d) = %q, want %q", tt.e, got, tt.name)
		}
		if tt.e == 0 {
			continue
		}
		if e, ok := Parse(tt.name); !ok || e != tt.e {
			t.Errorf("Parse(%q) = %d, %v", tt.name, e, ok)
		}
		wrapped := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", tt.e))
		if got := Name(wrapped); got != tt.name {
			t.Errorf("Name(wrapped %s) = %q", tt.name, got)
		}
	}
	if Name(nil) != "" || Name(fmt.Errorf("plain")) != "" {
		t.Error("an error without an errno has a name")
	}
	if _, ok := Parse("ENOTANERRNO"); ok {
		t.Error("Parse accepted a made-up name")
	}
}
