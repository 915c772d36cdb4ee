// Package compat is bpfsig's shared contract: the signing-scheme strategy interface, the artifact
// (one light skeleton) and the staged verdict types, the scheme registry, and the cross-scheme
// comparison.
//
// A scheme answers three questions about a light skeleton: which bytes are signed, how the
// metadata blob (opts_data) is vouched for, and at which stage of a load a bad skeleton is stopped.
// The three strategies live in their own packages (legacy, chain, raw) and register themselves
// here; importing a strategy package for its side effect makes it available:
//
//	import _ "github.com/bpfsig/bpfsig/legacy"
package compat

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"sort"
	"sync"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/loader"
)

// Scheme names a signing scheme.
type Scheme string

const (
	// Unsigned is a light skeleton without a signature.
	Unsigned Scheme = "unsigned"
	// Legacy is Linux 6.18's scheme: the loader is signed and checks SHA-256 of the metadata
	// itself when it runs.
	Legacy Scheme = "legacy"
	// Chain is the posted (never merged) hash-chain signature maps scheme.
	Chain Scheme = "chain"
	// Raw is the 2026 scheme: one signature over instructions ‖ metadata, checked at load time.
	Raw Scheme = "raw"
)

// Signer is a private key with the certificate that names it.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	// CMS controls the signature's form; the zero value is bpftool's (SKID, SHA-256, no
	// attributes, no certificates).
	CMS cms.SignOptions
}

// SignOptions says how to convert a skeleton into a strategy's scheme.
type SignOptions struct {
	// Generation selects the check block for schemes whose loader carries one (legacy, chain).
	// GenNone means the scheme's default: v2 for legacy, and for chain the input's own
	// generation, else v1.
	Generation loader.Generation
	// KeepHostOverrides keeps the host-override blocks where the target scheme would drop them.
	// The values they let the host set are then outside the signature.
	KeepHostOverrides bool
}

// Strategy is one signing scheme. Implementations are stateless and safe for concurrent use.
type Strategy interface {
	// Scheme returns the scheme this strategy implements.
	Scheme() Scheme
	// Sign converts a (signed or unsigned, any scheme) skeleton into this scheme and signs it.
	// The input is not modified.
	Sign(a *Artifact, s *Signer, opts SignOptions) (*Artifact, error)
	// Verify judges a as a kernel of this scheme would, with this scheme's load procedure,
	// altered by cond. It never returns nil.
	Verify(a *Artifact, trust []*x509.Certificate, cond Conditions) *Verdict
	// Explain describes, for a, what this scheme signs, what it checks and when.
	Explain(a *Artifact) []string
	// SignedContent returns the bytes this scheme's signature over a covers, as the kernel
	// assembles them.
	SignedContent(a *Artifact) []byte
}

var (
	registryMu sync.RWMutex
	registry   = map[Scheme]Strategy{}
)

// Register makes a strategy available by its scheme name. It panics if called twice for the
// same scheme, like database/sql.Register: that is a programming error, not an input error.
func Register(s Strategy) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[s.Scheme()]; dup {
		panic("compat: Register called twice for scheme " + string(s.Scheme()))
	}
	registry[s.Scheme()] = s
}

// Lookup returns the strategy registered for scheme.
func Lookup(scheme Scheme) (Strategy, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[scheme]
	if !ok {
		return nil, fmt.Errorf("unknown scheme %q (known: %v)", scheme, schemesLocked())
	}
	return s, nil
}

// Schemes lists the registered schemes in a fixed order: legacy, chain, raw, then any others
// alphabetically.
func Schemes() []Scheme {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return schemesLocked()
}

func schemesLocked() []Scheme {
	rank := map[Scheme]int{Legacy: 0, Chain: 1, Raw: 2}
	out := make([]Scheme, 0, len(registry))
	for s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}
