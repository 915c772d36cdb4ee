// Package compare sets the verdicts of different kernels side by side: how a kernel of every
// registered scheme treats one skeleton as it is (AsIs), and how each scheme's kernel treats
// the program signed under every scheme and then tampered with (Tamper) — including where each
// stops the tampered skeleton: before the LSM hook, or only when the loader runs.
//
// Columns and kernels come from the registry: a strategy registered by any package appears
// here without a change to this package.
package compare

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/skel"
)

// AsIs judges sk, unchanged, on a kernel of every registered scheme with that scheme's load
// procedure: the compatibility matrix of one artifact.
func AsIs(sk *bpfsig.Skeleton, trust *bpfsig.Trust) ([]*compat.Verdict, error) {
	var out []*compat.Verdict
	for _, sc := range compat.Schemes() {
		v, err := bpfsig.Judge(sk, sc, trust, compat.Conditions{})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Column is one signing of the program in a tamper matrix.
type Column struct {
	Name   string        `json:"name"` // "legacy-v1", "legacy-v2", "chain", "raw"
	Target compat.Target `json:"-"`
}

// Columns returns the signings a tamper matrix compares: one per registered scheme, or one per
// generation in its Info.Compare (legacy: v1 and v2).
func Columns() []Column {
	var out []Column
	for _, st := range compat.Strategies() {
		info := st.Info()
		if len(info.Compare) == 0 {
			out = append(out, Column{Name: string(info.Scheme), Target: compat.Target{Scheme: info.Scheme}})
			continue
		}
		for _, g := range info.Compare {
			out = append(out, Column{Name: string(info.Scheme) + "-" + string(g), Target: compat.Target{Scheme: info.Scheme, Generation: g}})
		}
	}
	return out
}

// Case is one scenario applied to one signed skeleton: what the kernel is handed.
type Case struct {
	Skeleton *bpfsig.Skeleton
	Trust    *bpfsig.Trust
	Cond     compat.Conditions
	// Kernel is the scheme of the kernel that judges, normally the column's own.
	Kernel compat.Scheme
	// NotApplicable, when set, says why the scenario cannot be applied to this skeleton (for
	// example: opts_data is empty, there is no byte to flip). Such a case is not judged.
	NotApplicable string
}

// Scenario is a way a skeleton or its load can go wrong (or not).
type Scenario struct {
	Name string
	// Doc says what the scenario does, in one line.
	Doc string
	// Apply turns the intact case into the scenario's case. It must not modify its input.
	Apply func(c Case) (Case, error)
}

// Scenarios are the tamper scenarios of `bpfsig compare --tamper`, in display order.
var Scenarios = []Scenario{
	{"intact", "the signed skeleton, loaded as its scheme prescribes", func(c Case) (Case, error) { return c, nil }},
	{"flip-insn", "one bit of opts_insn flipped (its last byte)", func(c Case) (Case, error) {
		return edit(c, func(b *blobs) string {
			if len(b.insn) == 0 {
				return "opts_insn is empty: there is no bit to flip"
			}
			b.insn[len(b.insn)-1] ^= 1
			return ""
		})
	}},
	{"flip-data", "one bit of opts_data flipped (its first byte)", func(c Case) (Case, error) {
		return edit(c, func(b *blobs) string {
			if len(b.data) == 0 {
				return "opts_data is empty: there is no bit to flip"
			}
			b.data[0] ^= 1
			return ""
		})
	}},
	{"flip-sig", "one bit of the signature value flipped (last byte of opts_sig)", func(c Case) (Case, error) {
		return edit(c, func(b *blobs) string {
			if len(b.sig) == 0 {
				return "opts_sig is empty: there is no bit to flip"
			}
			b.sig[len(b.sig)-1] ^= 1
			return ""
		})
	}},
	{"truncate-sig", "opts_sig truncated to 200 bytes", func(c Case) (Case, error) {
		return edit(c, func(b *blobs) string {
			if len(b.sig) <= 200 {
				return fmt.Sprintf("opts_sig has %d bytes: nothing to cut at 200", len(b.sig))
			}
			b.sig = b.sig[:200]
			return ""
		})
	}},
	{"unknown-signer", "the keyring holds a different certificate", func(c Case) (Case, error) {
		other, err := otherCert()
		c.Trust = bpfsig.NewTrust(other)
		return c, err
	}},
	{"map-not-frozen", "the host does not freeze the metadata map", func(c Case) (Case, error) { c.Cond.MapNotFrozen = true; return c, nil }},
	{"map-not-exclusive", "the metadata map is created without excl_prog_hash", func(c Case) (Case, error) { c.Cond.MapNotExclusive = true; return c, nil }},
	{"map-hash-not-computed", "the host skips the map hash request (GET_INFO_BY_FD)", func(c Case) (Case, error) { c.Cond.MapHashNotComputed = true; return c, nil }},
	{"host-overrides-data", "the host changes a global's initial value before load", func(c Case) (Case, error) { c.Cond.HostOverrides = true; return c, nil }},
	{"old-signature-on-raw-kernel", "the skeleton, as signed, loaded on a raw-bytes kernel", func(c Case) (Case, error) { c.Kernel = compat.Raw; return c, nil }},
}

// LookupScenario returns the scenario called name.
func LookupScenario(name string) (Scenario, error) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q", name)
}

// Cell is one scenario under one signing. Verdict is nil when the scenario does not apply.
type Cell struct {
	Column        Column
	Verdict       *compat.Verdict
	NotApplicable string
	// Case is what was judged, for callers that also run it elsewhere (a live kernel).
	Case Case
}

// Row is one scenario across the columns.
type Row struct {
	Scenario Scenario
	Cells    []Cell
}

// Signed holds the program signed under each column's target, by column name.
type Signed map[string]*bpfsig.Skeleton

// SignAll signs sk under every column of cols.
func SignAll(sk *bpfsig.Skeleton, s *bpfsig.Signer, cols []Column) (Signed, error) {
	out := Signed{}
	for _, col := range cols {
		signed, err := bpfsig.Sign(sk, s, col.Target)
		if err != nil {
			return nil, fmt.Errorf("signing as %s: %w", col.Name, err)
		}
		out[col.Name] = signed
	}
	return out, nil
}

// Prepare returns the case scenario sc makes of the column's signed skeleton.
func Prepare(signed Signed, col Column, sc Scenario, trust *bpfsig.Trust) (Case, error) {
	return sc.Apply(Case{Skeleton: signed[col.Name], Trust: trust, Kernel: col.Target.Scheme})
}

// Judge returns the verdict of the case's kernel (nil when the case does not apply).
func (c Case) Judge() (*compat.Verdict, error) {
	if c.NotApplicable != "" {
		return nil, nil
	}
	return bpfsig.Judge(c.Skeleton, c.Kernel, c.Trust, c.Cond)
}

// Tamper signs sk under every column, applies every scenario in scs, and judges each case.
func Tamper(sk *bpfsig.Skeleton, s *bpfsig.Signer, scs []Scenario, cols []Column) ([]Row, error) {
	signed, err := SignAll(sk, s, cols)
	if err != nil {
		return nil, err
	}
	trust := bpfsig.NewTrust(s.Cert)
	var rows []Row
	for _, sc := range scs {
		row := Row{Scenario: sc}
		for _, col := range cols {
			c, err := Prepare(signed, col, sc, trust)
			if err != nil {
				return nil, fmt.Errorf("scenario %s, %s: %w", sc.Name, col.Name, err)
			}
			v, err := c.Judge()
			if err != nil {
				return nil, err
			}
			row.Cells = append(row.Cells, Cell{Column: col, Verdict: v, NotApplicable: c.NotApplicable, Case: c})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type blobs struct{ insn, data, sig []byte }

// edit returns c with its skeleton's blobs changed by f, which gets copies and returns why the
// edit does not apply ("" when it does).
func edit(c Case, f func(b *blobs) string) (Case, error) {
	d, err := skel.Of(c.Skeleton.Artifact())
	if err != nil {
		return c, err
	}
	b := &blobs{insn: slices.Clone(d.Insn()), data: slices.Clone(d.Data()), sig: slices.Clone(d.Sig())}
	if why := f(b); why != "" {
		c.NotApplicable = why
		return c, nil
	}
	var sig []byte
	if d.Signed() {
		sig = b.sig
	}
	nd, err := d.Blobs(b.insn, b.data, sig)
	if err != nil {
		return c, err
	}
	sk, err := bpfsig.FromArtifact(nd)
	if err != nil {
		return c, err
	}
	c.Skeleton = sk
	return c, nil
}

// otherCert makes a throwaway self-signed certificate with a subject key identifier: a signer
// the kernel's keyring holds that is not the one that signed.
func otherCert() (*x509.Certificate, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	skid := sha1.Sum(pub)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bpfsig unknown signer"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).AddDate(100, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, SubjectKeyId: skid[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// KernelCell is one cell of the application × kernel matrix: sk loaded by an application
// running Procedure on a kernel of Profile.
type KernelCell struct {
	Procedure bpfsig.Procedure `json:"procedure"`
	Profile   string           `json:"profile"`
	Verdict   *compat.Verdict  `json:"verdict"`
}

// Loads reports whether the cell loads: accepted by every stage.
func (c KernelCell) Loads() bool { return c.Verdict.Outcome == compat.Accepted }

// Kernels judges sk, as it is, under every application procedure in procs and every kernel
// profile in profiles (nil: all of them): which build of the application loads it on which
// kernel.
func Kernels(sk *bpfsig.Skeleton, trust *bpfsig.Trust, profiles []string, procs []bpfsig.Procedure) ([]KernelCell, error) {
	if profiles == nil {
		profiles = bpfsig.KernelProfiles()
	}
	if procs == nil {
		procs = bpfsig.Procedures()
	}
	var out []KernelCell
	for _, proc := range procs {
		for _, p := range profiles {
			v, err := bpfsig.OnKernel(sk, p, proc, trust, compat.Conditions{})
			if err != nil {
				return nil, err
			}
			out = append(out, KernelCell{Procedure: proc, Profile: p, Verdict: v})
		}
	}
	return out, nil
}
