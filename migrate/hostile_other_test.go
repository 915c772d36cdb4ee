//go:build !unix

package migrate_test

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs here") }
