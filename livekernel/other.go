//go:build !linux

package livekernel

import (
	"crypto/x509"
	"fmt"
	"runtime"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
)

func notLinux(what string) error {
	return fmt.Errorf("%s on %s: %w", what, runtime.GOOS, ErrNotLinux)
}

// Probe needs Linux; here it returns an error wrapping ErrNotLinux.
func Probe() (*ProbeReport, error) { return nil, notLinux("probe") }

// Detect needs Linux; here it returns an error wrapping ErrNotLinux.
func Detect() (*Kernel, error) { return nil, notLinux("detect") }

// Load needs Linux; here it returns an error wrapping ErrNotLinux.
func Load(sk *bpfsig.Skeleton, opts LoadOptions) (*LoadResult, error) {
	return nil, notLinux("load " + sk.Path())
}

// Decide needs Linux; here it returns an error wrapping ErrNotLinux.
func Decide(k *Kernel, scenario, column string, c compare.Case, model *compat.Verdict) (Decision, error) {
	return Decision{Scenario: scenario, Column: column}, notLinux("decide")
}

// Keyring is a kernel keyring; it cannot be made here.
type Keyring struct{ ID int32 }

// NewKeyring needs Linux; here it returns an error wrapping ErrNotLinux.
func NewKeyring(certs []*x509.Certificate) (*Keyring, error) { return nil, notLinux("keyring") }

// Close does nothing.
func (k *Keyring) Close() error { return nil }
