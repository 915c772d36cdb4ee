package kerrno

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/compat"
)

// On Linux the portable errno and the host's are interchangeable in errors.Is and Of.
func TestHostErrno(t *testing.T) {
	for _, e := range []unix.Errno{unix.EKEYREJECTED, unix.EBADMSG, unix.ENOKEY, unix.ENOPKG, unix.EOPNOTSUPP, unix.E2BIG, unix.EACCES, unix.EPERM, unix.EINVAL} {
		w := fmt.Errorf("x: %w", compat.Errno(e))
		if !errors.Is(w, e) {
			t.Errorf("errors.Is(compat %d, unix %s) is false", e, unix.ErrnoName(e))
		}
		if got, ok := Of(fmt.Errorf("y: %w", e)); !ok || int(got) != int(e) {
			t.Errorf("Of(unix %s) = %d, %v", unix.ErrnoName(e), got, ok)
		}
		if got := compat.Errno(e).Name(); got != unix.ErrnoName(e) && !(e == unix.EOPNOTSUPP && got == "EOPNOTSUPP") {
			t.Errorf("name of %d: %q, unix says %q", e, got, unix.ErrnoName(e))
		}
	}
}
