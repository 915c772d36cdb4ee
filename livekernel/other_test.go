//go:build !linux

package livekernel

import (
	"errors"
	"testing"

	"github.com/bpfsig/bpfsig/compare"
)

func TestNotLinux(t *testing.T) {
	if _, err := Probe(); !errors.Is(err, ErrNotLinux) {
		t.Errorf("Probe: %v", err)
	}
	if _, err := Detect(); !errors.Is(err, ErrNotLinux) {
		t.Errorf("Detect: %v", err)
	}
	if _, err := Decide(&Kernel{}, "s", "c", compare.Case{}, nil); !errors.Is(err, ErrNotLinux) {
		t.Errorf("Decide: %v", err)
	}
	if _, err := NewKeyring(nil); !errors.Is(err, ErrNotLinux) {
		t.Errorf("NewKeyring: %v", err)
	}
}
