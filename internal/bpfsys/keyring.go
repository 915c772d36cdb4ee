package bpfsys

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Keyring is a fresh kernel keyring holding X.509 certificates as "asymmetric" keys, for the
// keyring_id of a signed BPF_PROG_LOAD. Close removes it and its keys.
//
// The keyring is linked into the caller's session keyring, resolved to its serial once (without
// creating one, so a process without a session keyring uses the user-session keyring). The
// process keyring is not used: Linux keeps it in the per-thread credentials, so in a Go program
// it is a different keyring on every OS thread.
type Keyring struct {
	// ID is the keyring's serial, the value to pass as keyring_id.
	ID int32

	mu     sync.Mutex
	parent int
	keys   []int
	closed bool
}

// keyringParent returns the serial of the keyring new keyrings are linked into.
func keyringParent() (int, error) {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err == nil {
		return id, nil
	}
	return unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
}

// NewKeyring creates a keyring with one asymmetric key per DER certificate (the kernel
// derives each key's description from the certificate). On any failure nothing is left behind.
func NewKeyring(certsDER [][]byte) (*Keyring, error) {
	parent, err := keyringParent()
	if err != nil {
		return nil, fmt.Errorf("bpfsys: find session keyring: %w", err)
	}
	id, err := unix.AddKey("keyring", "bpfsig", nil, parent)
	if err != nil {
		return nil, fmt.Errorf("bpfsys: create keyring: %w", err)
	}
	k := &Keyring{ID: int32(id), parent: parent}
	for i, der := range certsDER {
		if len(der) == 0 {
			k.Close()
			return nil, fmt.Errorf("bpfsys: certificate %d is empty", i)
		}
		kid, err := unix.AddKey("asymmetric", "", der, id)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("bpfsys: add certificate %d as asymmetric key: %w", i, err)
		}
		k.keys = append(k.keys, kid)
	}
	return k, nil
}

// Close invalidates the keys and the keyring (the kernel then unlinks and destroys them) and
// unlinks the keyring from its parent. Invalidation comes first: once unlinked, the keyring is
// no longer possessed and its default permissions would refuse the invalidation. It is safe to
// call Close more than once.
func (k *Keyring) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	var errs []error
	for _, kid := range k.keys {
		if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, kid, 0, 0, 0); err != nil && err != unix.ENOKEY {
			errs = append(errs, fmt.Errorf("bpfsys: invalidate key %d: %w", kid, err))
		}
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, int(k.ID), 0, 0, 0); err != nil && err != unix.ENOKEY {
		errs = append(errs, fmt.Errorf("bpfsys: invalidate keyring %d: %w", k.ID, err))
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, int(k.ID), k.parent, 0, 0); err != nil && err != unix.ENOKEY && err != unix.ENOENT {
		errs = append(errs, fmt.Errorf("bpfsys: unlink keyring %d: %w", k.ID, err))
	}
	return errors.Join(errs...)
}
