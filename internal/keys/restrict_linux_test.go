//go:build linux

package keys

import (
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRestrictAgainstRunningKernel replays the rule table against the kernel this test runs on:
// per row a fresh keyring restricted with `asymmetric key_or_keyring:ROOT` (ROOT a key, or a
// keyring of keys when the row has several roots), then add_key(2) of the certificate. The
// kernel's answer must equal Restrict's. The rows use RSA keys (ECDSA needs CONFIG_CRYPTO_ECDSA,
// which not every kernel has); a kernel without asymmetric keys skips.
func TestRestrictAgainstRunningKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the keyring test")
	}
	// A process keyring lives in the credentials of the thread that made it: stay on that
	// thread, and do not start subtests (they run on other goroutines, hence other threads).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	parent, err := unix.AddKey("keyring", "bpfsig-restrict-test", nil, unix.KEY_SPEC_PROCESS_KEYRING)
	if err != nil {
		t.Skipf("cannot make a keyring (add_key: %v)", err)
	}
	defer unix.KeyctlInt(unix.KEYCTL_INVALIDATE, parent, 0, 0, 0)
	tests := restrictCases(t, rsaKey, ecKey)
	n := 0
	for i, tc := range tests {
		func() {
			roots, err := unix.AddKey("keyring", fmt.Sprintf("roots-%d", i), nil, parent)
			if errors.Is(err, unix.EDQUOT) {
				t.Skipf("key quota exhausted after %d rows (run as root for a larger quota)", n)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer unix.KeyctlInt(unix.KEYCTL_INVALIDATE, roots, 0, 0, 0)
			var rootIDs []int
			for _, r := range tc.roots {
				id, err := unix.AddKey("asymmetric", "", r.Raw, roots)
				if err != nil {
					if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOPKG) || errors.Is(err, unix.EBADMSG) || errors.Is(err, unix.ENOENT) {
						t.Logf("%s: skipped: this kernel cannot load the root certificate (%v)", tc.name, err)
						return
					}
					t.Fatalf("%s: add root: %v", tc.name, err)
				}
				rootIDs = append(rootIDs, id)
			}
			trusted := roots
			if len(rootIDs) == 1 {
				trusted = rootIDs[0]
			}
			ring, err := unix.AddKey("keyring", fmt.Sprintf("restricted-%d", i), nil, parent)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.KeyctlInt(unix.KEYCTL_INVALIDATE, ring, 0, 0, 0)
			if err := unix.KeyctlRestrictKeyring(ring, "asymmetric", fmt.Sprintf("key_or_keyring:%d", trusted)); err != nil {
				t.Skipf("keyctl restrict_keyring: %v (kernel without key restrictions)", err)
			}
			_, kerr := unix.AddKey("asymmetric", "", tc.cert.Raw, ring)
			var kernel int
			if kerr != nil {
				var e unix.Errno
				if !errors.As(kerr, &e) {
					t.Fatal(kerr)
				}
				kernel = int(e)
			}
			_, refused := Restrict([]*x509.Certificate{tc.cert}, tc.roots)
			model := 0
			if len(refused) == 1 {
				model = int(refused[0].Errno)
			}
			if kernel == int(unix.EINVAL) && model == int(ErrnoEKEYREJECTED) {
				// Kernels >= 6.13: an RSA signature by another key fails to decode (EINVAL).
				t.Logf("%s: kernel EINVAL for a failed signature check (Restrict: EKEYREJECTED)", tc.name)
				kernel = model
			}
			if kernel != model {
				t.Errorf("%s: kernel add_key: %v (%d), Restrict: %d", tc.name, kerr, kernel, model)
			}
			if model != int(tc.errno) {
				t.Errorf("%s: Restrict: %d, table says %d", tc.name, model, tc.errno)
			}
			n++
		}()
	}
	t.Logf("%d of %d rows compared with the running kernel", n, len(tests))
}
