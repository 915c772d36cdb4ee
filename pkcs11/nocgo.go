//go:build !cgo || !(linux || darwin)

package pkcs11

import (
	"fmt"

	"github.com/bpfsig/bpfsig/internal/p11uri"
)

func openBackend(u *p11uri.URI, module, _ string, _ bool) (found, error) {
	return found{}, fmt.Errorf("%w (key %s, module %s)", ErrNoCgo, u, module)
}
