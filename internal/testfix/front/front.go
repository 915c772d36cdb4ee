// Package front gives tests the bundled fixtures through the front door (package bpfsig). It
// is apart from testfix so that packages below the front door can use testfix in their own
// tests without an import cycle.
package front

import (
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// Skeleton opens fixture skeleton name through the front door.
func Skeleton(tb testing.TB, name string) *bpfsig.Skeleton {
	tb.Helper()
	sk, err := bpfsig.Open(testfix.SkelPath(name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := sk.LoaderError(); err != nil {
		tb.Fatal(err)
	}
	return sk
}

// Trust returns a trust set of the fixture certificate.
func Trust(tb testing.TB) *bpfsig.Trust { return bpfsig.NewTrust(testfix.Cert(tb)) }
