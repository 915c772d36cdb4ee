//go:build !unix

package atomicfile

import "errors"

func mkfifo(p string) error { return errors.New("no FIFOs in the file namespace here") }
