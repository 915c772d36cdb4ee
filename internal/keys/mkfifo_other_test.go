//go:build !unix

package keys

import "errors"

func mkfifo(p string) error { return errors.New("no FIFOs in the file namespace here") }
