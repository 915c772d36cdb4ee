package compat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/bpfsig/bpfsig/internal/loader"
)

// CompareAsIs judges a, unchanged, on a kernel of every registered scheme with that scheme's
// load procedure: the compatibility matrix of one artifact.
func CompareAsIs(a *Artifact, trust []*x509.Certificate) ([]*Verdict, error) {
	var out []*Verdict
	for _, sc := range Schemes() {
		st, err := Lookup(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, st.Verify(a, trust, Conditions{}))
	}
	return out, nil
}

// Column is one signing of the program in a tamper matrix.
type Column struct {
	Name       string            `json:"name"` // "legacy-v1", "legacy-v2", "chain", "raw"
	Scheme     Scheme            `json:"scheme"`
	Generation loader.Generation `json:"-"`
}

// Columns are the signings a tamper matrix compares: both legacy generations, chain, raw.
var Columns = []Column{
	{"legacy-v1", Legacy, loader.GenV1},
	{"legacy-v2", Legacy, loader.GenV2},
	{"chain", Chain, loader.GenNone},
	{"raw", Raw, loader.GenNone},
}

// Case is one scenario applied to one signed artifact: what the kernel is handed.
type Case struct {
	Artifact *Artifact
	Trust    []*x509.Certificate
	Cond     Conditions
	// Kernel is the scheme of the kernel that judges, normally the column's own.
	Kernel Scheme
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
		return edit(c, func(ins, data, sig []byte) ([]byte, []byte, []byte) { ins[len(ins)-1] ^= 1; return ins, data, sig })
	}},
	{"flip-data", "one bit of opts_data flipped (its first byte)", func(c Case) (Case, error) {
		return edit(c, func(ins, data, sig []byte) ([]byte, []byte, []byte) { data[0] ^= 1; return ins, data, sig })
	}},
	{"flip-sig", "one bit of the signature value flipped (last byte of opts_sig)", func(c Case) (Case, error) {
		return edit(c, func(ins, data, sig []byte) ([]byte, []byte, []byte) { sig[len(sig)-1] ^= 1; return ins, data, sig })
	}},
	{"truncate-sig", "opts_sig truncated to 200 bytes", func(c Case) (Case, error) {
		return edit(c, func(ins, data, sig []byte) ([]byte, []byte, []byte) { return ins, data, sig[:min(200, len(sig))] })
	}},
	{"unknown-signer", "the keyring holds a different certificate", func(c Case) (Case, error) {
		other, err := otherCert()
		c.Trust = []*x509.Certificate{other}
		return c, err
	}},
	{"map-not-frozen", "the host does not freeze the metadata map", func(c Case) (Case, error) { c.Cond.MapNotFrozen = true; return c, nil }},
	{"map-not-exclusive", "the metadata map is created without excl_prog_hash", func(c Case) (Case, error) { c.Cond.MapNotExclusive = true; return c, nil }},
	{"map-hash-not-computed", "the host skips the map hash request (GET_INFO_BY_FD)", func(c Case) (Case, error) { c.Cond.MapHashNotComputed = true; return c, nil }},
	{"host-overrides-data", "the host changes a global's initial value before load", func(c Case) (Case, error) { c.Cond.HostOverrides = true; return c, nil }},
	{"old-signature-on-raw-kernel", "the skeleton, as signed, loaded on a raw-bytes kernel", func(c Case) (Case, error) { c.Kernel = Raw; return c, nil }},
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

// Cell is one scenario under one signing.
type Cell struct {
	Column  Column
	Verdict *Verdict
}

// Row is one scenario across the columns.
type Row struct {
	Scenario Scenario
	Cells    []Cell
}

// Signed holds the program signed under each column's scheme.
type Signed map[string]*Artifact

// SignAll signs a under every column of cols.
func SignAll(a *Artifact, s *Signer, cols []Column) (Signed, error) {
	out := Signed{}
	for _, col := range cols {
		st, err := Lookup(col.Scheme)
		if err != nil {
			return nil, err
		}
		sa, err := st.Sign(a, s, SignOptions{Generation: col.Generation})
		if err != nil {
			return nil, fmt.Errorf("signing as %s: %w", col.Name, err)
		}
		out[col.Name] = sa
	}
	return out, nil
}

// Prepare returns the case scenario sc makes of the column's signed artifact.
func Prepare(signed Signed, col Column, sc Scenario, trust []*x509.Certificate) (Case, error) {
	return sc.Apply(Case{Artifact: signed[col.Name], Trust: trust, Kernel: col.Scheme})
}

// Judge returns the verdict of the case's kernel.
func (c Case) Judge() (*Verdict, error) {
	st, err := Lookup(c.Kernel)
	if err != nil {
		return nil, err
	}
	return st.Verify(c.Artifact, c.Trust, c.Cond), nil
}

// CompareTamper signs a under every column, applies every scenario in scs, and judges each case.
func CompareTamper(a *Artifact, s *Signer, scs []Scenario, cols []Column) ([]Row, error) {
	signed, err := SignAll(a, s, cols)
	if err != nil {
		return nil, err
	}
	trust := []*x509.Certificate{s.Cert}
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
			row.Cells = append(row.Cells, Cell{Column: col, Verdict: v})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// edit returns c with its artifact's blobs changed by f (which gets copies).
func edit(c Case, f func(insn, data, sig []byte) ([]byte, []byte, []byte)) (Case, error) {
	a := c.Artifact
	insn, data, sig := f(a.Insn(), a.Data(), a.Sig())
	nf := a.File.Clone()
	nf.SetInsn(insn)
	nf.SetData(data)
	if sig != nil {
		nf.SetSignature(sig, a.ExclHash())
	}
	c.Artifact = FromFile(a.Path, nf)
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
