package kerrno

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
)

func TestNames(t *testing.T) {
	tests := []struct {
		e    compat.Errno
		name string
		val  int
	}{
		{compat.EKEYREJECTED, "EKEYREJECTED", 129}, {compat.EBADMSG, "EBADMSG", 74}, {compat.ENOKEY, "ENOKEY", 126},
		{compat.ENOPKG, "ENOPKG", 65}, {compat.EOPNOTSUPP, "EOPNOTSUPP", 95}, {compat.E2BIG, "E2BIG", 7},
		{compat.EACCES, "EACCES", 13}, {compat.EPERM, "EPERM", 1}, {compat.EINVAL, "EINVAL", 22}, {0, "", 0},
	}
	for _, tt := range tests {
		if got := NameOf(tt.e); got != tt.name {
			t.Errorf("NameOf(%d) = %q, want %q", tt.e, got, tt.name)
		}
		if int(tt.e) != tt.val {
			t.Errorf("%s = %d, Linux says %d", tt.name, tt.e, tt.val)
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
		if !errors.Is(wrapped, tt.e) {
			t.Errorf("errors.Is(wrapped, %s) is false", tt.name)
		}
	}
	if Name(nil) != "" || Name(fmt.Errorf("plain")) != "" {
		t.Error("an error without an errno has a name")
	}
	if _, ok := Parse("ENOTANERRNO"); ok {
		t.Error("Parse accepted a made-up name")
	}
	if e, ok := Parse("ENOTSUP"); !ok || e != compat.EOPNOTSUPP {
		t.Error("ENOTSUP is not EOPNOTSUPP")
	}
	if compat.Errno(999).Name() != "errno 999" {
		t.Error("unmodelled errno not named by number")
	}
}
