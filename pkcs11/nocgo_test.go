//go:build !cgo || !(linux || darwin)

package pkcs11

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenWithoutCgo(t *testing.T) {
	_, err := Open("pkcs11:object=k?pin-value=1234&module-path=/m.so", Options{})
	if !errors.Is(err, ErrNoCgo) || strings.Contains(err.Error(), "1234") {
		t.Fatalf("Open without cgo: %v", err)
	}
}
