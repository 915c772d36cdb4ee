// Package compat is bpfsig's contract: the public vocabulary every signing scheme speaks and
// the interface a scheme implements to plug into bpfsig.
//
// A scheme answers three questions about a light skeleton: which bytes are signed, how the
// metadata blob (opts_data) is vouched for, and at which stage of a load a bad skeleton is
// stopped. Each scheme is a [Strategy] in a package of its own (legacy, chain, raw, …) that
// calls [Register] when imported; detection ([Detect]), policies and comparisons ask the
// registry, so a new scheme needs no edit here. The module's root package imports every
// built-in strategy.
//
// The package holds only types, the registry and the errno vocabulary: parsing, conversion,
// the kernel models and presentation live elsewhere.
package compat

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scheme names a signing scheme.
type Scheme string

const (
	// Unsigned is a light skeleton without a signature. It is not a strategy.
	Unsigned Scheme = "unsigned"
	// Legacy is Linux 6.18's scheme: the loader is signed and checks SHA-256 of the metadata
	// itself when it runs.
	Legacy Scheme = "legacy"
	// Chain is the posted (never merged) hash-chain signature maps scheme.
	Chain Scheme = "chain"
	// Raw is the 2026 scheme: one signature over instructions ‖ metadata, checked at load time.
	Raw Scheme = "raw"
)

// Generation names a variant of a scheme's loader, such as the generation of the legacy
// metadata check block. The empty Generation means none (or the scheme's default, where a
// Target asks for one).
type Generation string

const (
	// NoGeneration is a loader without a check block, or "the scheme's default" in a Target.
	NoGeneration Generation = ""
	// V1 is the 28-slot legacy check block (libbpf ≤ 1.7): no exclusivity test.
	V1 Generation = "v1"
	// V2 is the 33-slot hardened legacy check block, which also tests map->excl.
	V2 Generation = "v2"
)

// String returns the generation's name, "" for NoGeneration (as the JSON field "generation"
// has always shown it).
func (g Generation) String() string { return string(g) }

// ParseGeneration accepts "v1", "v2" and "" or "none".
func ParseGeneration(s string) (Generation, error) {
	switch s {
	case "", "none":
		return NoGeneration, nil
	case "v1", "v2":
		return Generation(s), nil
	}
	return "", fmt.Errorf("unknown generation %q (known: v1, v2)", s)
}

// SignerIDForm is how a signature's SignerInfo names the signing certificate.
type SignerIDForm int

const (
	// SubjectKeyID names the certificate by its subjectKeyIdentifier, as bpftool does.
	SubjectKeyID SignerIDForm = iota
	// IssuerSerial names it by issuer and serial number, as scripts/sign-file does.
	IssuerSerial
)

// String returns "skid" or "issuer-serial", the spellings of --signer-id.
func (f SignerIDForm) String() string {
	switch f {
	case SubjectKeyID:
		return "skid"
	case IssuerSerial:
		return "issuer-serial"
	}
	return fmt.Sprintf("SignerIDForm(%d)", int(f))
}

// ParseSignerIDForm accepts "skid" (or "") and "issuer-serial".
func ParseSignerIDForm(s string) (SignerIDForm, error) {
	switch s {
	case "", "skid":
		return SubjectKeyID, nil
	case "issuer-serial":
		return IssuerSerial, nil
	}
	return 0, fmt.Errorf("unknown signer id form %q (known: skid, issuer-serial)", s)
}

// Target is the scheme, and for schemes with loader generations the generation, a program is to
// be signed for. A zero Generation asks for the scheme's default.
type Target struct {
	Scheme     Scheme
	Generation Generation
}

// String returns "raw", "legacy v2", ….
func (t Target) String() string {
	if t.Generation != NoGeneration {
		return string(t.Scheme) + " " + string(t.Generation)
	}
	return string(t.Scheme)
}

// Validate checks t against the registry: the scheme must be registered and the generation one
// it offers. It returns t with the default generation filled in.
func (t Target) Validate() (Target, error) {
	st, err := Lookup(t.Scheme)
	if err != nil {
		return Target{}, err
	}
	info := st.Info()
	if t.Generation == NoGeneration {
		t.Generation = info.DefaultGeneration
		return t, nil
	}
	for _, g := range info.Generations {
		if g == t.Generation {
			return t, nil
		}
	}
	if len(info.Generations) == 0 {
		return Target{}, fmt.Errorf("the %s scheme has no loader generations (asked for %s)", t.Scheme, t.Generation)
	}
	return Target{}, fmt.Errorf("the %s scheme has no generation %s (known: %s)", t.Scheme, t.Generation, joinGens(info.Generations))
}

func joinGens(gs []Generation) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

// Signer is a private key with the certificate that names it. Key may be any crypto.Signer: a
// key in memory, a PKCS#11 token, a signing service.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	// ID is how the signature names the certificate; the zero value is bpftool's (SKID).
	ID SignerIDForm
}

// SignOptions adjust a conversion.
type SignOptions struct {
	// KeepHostOverrides keeps the host-override blocks where the target scheme would drop them.
	// The values they let the host set are then outside the signature.
	KeepHostOverrides bool
	// SigningTime, when set, asks for a signingTime signed attribute, for schemes whose
	// signatures carry signed attributes (Hornet's gen_sig always writes one). A scheme whose
	// kernel profile has no signed attributes refuses it.
	SigningTime time.Time
}

// Conditions are the ways a host's load procedure can deviate from the one its scheme
// prescribes. The zero value is the scheme's own, correct procedure.
type Conditions struct {
	// MapNotFrozen: the metadata map was not frozen before the program load.
	MapNotFrozen bool
	// MapNotExclusive: the metadata map was created without excl_prog_hash.
	MapNotExclusive bool
	// MapHashNotComputed: the host skipped the BPF_OBJ_GET_INFO_BY_FD hash request, so
	// map->sha is all zero (legacy load procedure).
	MapHashNotComputed bool
	// HostOverrides: the host sets map initial values (or max_entries) in the skeleton before
	// load, as a program does with skel->rodata.
	HostOverrides bool
}

// Artifact is one light skeleton as a strategy sees it. The built-in implementation comes from
// the root package (bpfsig.Parse); a strategy may rely on nothing but these methods. Slices
// returned are the artifact's own: do not modify them.
type Artifact interface {
	// Path names the artifact in messages; it need not exist on disk.
	Path() string
	// Name is the skeleton's object name (struct NAME).
	Name() string
	// Source is the header text.
	Source() []byte
	// Insn is the loader program (opts_insn); Data the metadata blob (opts_data).
	Insn() []byte
	Data() []byte
	// Sig is the DER signature (opts_sig) and ExclHash opts_excl_hash, nil when unsigned.
	Sig() []byte
	ExclHash() []byte
	// Signed reports whether the header carries signing material.
	Signed() bool
	// SignatureMaps returns the header's signature-map indices and whether the lines exist.
	SignatureMaps() ([]int32, bool)
	// CheckGeneration is the generation of the loader's metadata check block, NoGeneration
	// when there is none.
	CheckGeneration() Generation
	// HostOverrides is the number of host-override blocks in the loader.
	HostOverrides() int
	// LoaderError says why opts_insn is not a loader of a known shape, nil if it is.
	LoaderError() error
}

// Info describes a strategy to the rest of bpfsig.
type Info struct {
	Scheme Scheme
	// Summary is one line on what the scheme signs.
	Summary string
	// Generations are the loader generations Sign can produce (empty: the scheme has none);
	// DefaultGeneration is the one a Target without a generation gets.
	Generations       []Generation
	DefaultGeneration Generation
	// Compare lists the generations a comparison signs as columns of their own (legacy: v1 and
	// v2, which verdicts tell apart); empty means one column at the default.
	Compare []Generation
	// Procedure names the application's load procedure for the scheme's skeletons ("6.18":
	// libbpf's bpf_load_and_run as of 6.18; "mainline": libbpf with load-time verification;
	// "chain": the posted series), which the live kernel path runs and the kernel profiles
	// evaluate; "" when bpfsig has none.
	Procedure string
	// LSM names an LSM the scheme's kernel runs to judge it (Hornet's), "" for none: the live
	// path does not pass off the running kernel's answer as such a kernel's.
	LSM string
	// Order places the scheme in listings (lower first; ties alphabetical).
	Order int
	// Status is shown by inspect for artifacts of this scheme, e.g. "refused upstream".
	Status string
}

// Claim is a strategy's answer to "is this artifact yours?".
type Claim struct {
	// Specificity ranks competing claims: the most specific wins (a chain skeleton also has a
	// legacy check block; chain's claim is more specific). Equal top claims are an ambiguity.
	Specificity int
	// Evidence says what in the content made the claim.
	Evidence []string
}

// Pending is a skeleton converted for a target and waiting for its signature: the first phase
// of a two-phase signing, and what a migration compares with an existing target before it
// decides to sign.
type Pending interface {
	// Content is the exact bytes the signature must cover.
	Content() []byte
	// Insn and Data are the converted loader and its metadata.
	Insn() []byte
	Data() []byte
	// Target is what the skeleton was converted for, generation resolved.
	Target() Target
	// Sign signs Content with s as the scheme's signer does and returns the signed artifact.
	Sign(s *Signer) (Artifact, error)
	// Attach returns the signed artifact with sig (a detached DER PKCS#7 over Content, made
	// elsewhere) attached. It does not check the signature.
	Attach(sig []byte) (Artifact, error)
}

// Strategy is one signing scheme. Implementations must be safe for concurrent use.
type Strategy interface {
	// Info describes the scheme.
	Info() Info
	// Detect reports whether a is this scheme's, from its content alone.
	Detect(a Artifact) (Claim, bool)
	// Convert converts a (signed or unsigned, any scheme) into t (t.Scheme is this scheme,
	// its Generation validated) without signing it; Pending.Sign signs. The input is not
	// modified.
	Convert(a Artifact, t Target, opts SignOptions) (Pending, error)
	// Verify judges a as a kernel of this scheme would, with this scheme's load procedure,
	// altered by cond. It never returns nil.
	Verify(a Artifact, trust []*x509.Certificate, cond Conditions) *Verdict
	// Explain describes, for a, what this scheme signs, what it checks and when.
	Explain(a Artifact) []string
	// SignedContent returns the bytes this scheme's signature over a covers, as the kernel
	// assembles them.
	SignedContent(a Artifact) []byte
}

var (
	registryMu sync.RWMutex
	registry   = map[Scheme]Strategy{}
	// ordered holds the registered strategies in Schemes order, rebuilt by Register: detection
	// asks every strategy of every artifact, so the order is not recomputed each time.
	ordered []Strategy
)

// Register makes a strategy available by its scheme name. It panics if called twice for the
// same scheme or for Unsigned, like database/sql.Register: that is a programming error.
func Register(s Strategy) {
	sc := s.Info().Scheme
	registryMu.Lock()
	defer registryMu.Unlock()
	if sc == "" || sc == Unsigned {
		panic("compat: Register of a strategy without a scheme name")
	}
	if _, dup := registry[sc]; dup {
		panic("compat: Register called twice for scheme " + string(sc))
	}
	registry[sc] = s
	ordered = ordered[:0:0]
	for _, sc := range schemesLocked() {
		ordered = append(ordered, registry[sc])
	}
}

// Lookup returns the strategy registered for scheme.
func Lookup(scheme Scheme) (Strategy, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[scheme]
	if !ok {
		return nil, fmt.Errorf("unknown scheme %q (known: %s)", scheme, joinSchemes(schemesLocked()))
	}
	return s, nil
}

// Schemes lists the registered schemes by Info.Order, then name.
func Schemes() []Scheme {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return schemesLocked()
}

// Strategies lists the registered strategies in Schemes order.
func Strategies() []Strategy {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return append([]Strategy(nil), ordered...)
}

func schemesLocked() []Scheme {
	out := make([]Scheme, 0, len(registry))
	for s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		oi, oj := registry[out[i]].Info().Order, registry[out[j]].Info().Order
		if oi != oj {
			return oi < oj
		}
		return out[i] < out[j]
	})
	return out
}

func joinSchemes(ss []Scheme) string {
	s := make([]string, len(ss))
	for i, x := range ss {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// Detection is the scheme an artifact's content has, with the evidence for it.
type Detection struct {
	Scheme     Scheme
	Generation Generation
	Evidence   []string
}

// Detect names the scheme of a's content by asking every registered strategy. It looks only at
// the content, never at file names, and verifies nothing. An unsigned artifact is Unsigned; a
// signed one that no strategy claims, or that two strategies claim equally, is an error.
func Detect(a Artifact) (Detection, error) {
	d := Detection{Generation: a.CheckGeneration()}
	if !a.Signed() {
		d.Scheme = Unsigned
		d.Evidence = []string{"no opts_sig literal and no opts.signature lines"}
		return d, nil
	}
	best, tie := -1, Scheme("")
	registryMu.RLock()
	sts := ordered
	registryMu.RUnlock()
	for _, st := range sts {
		c, ok := st.Detect(a)
		if !ok {
			continue
		}
		switch {
		case c.Specificity > best:
			best, tie = c.Specificity, ""
			d.Scheme, d.Evidence = st.Info().Scheme, c.Evidence
		case c.Specificity == best:
			tie = st.Info().Scheme
		}
	}
	switch {
	case best < 0:
		return d, fmt.Errorf("%s: signed, but no registered scheme (%s) recognises it", a.Path(), joinSchemes(Schemes()))
	case tie != "":
		return d, fmt.Errorf("%s: ambiguous: both %s and %s claim it", a.Path(), d.Scheme, tie)
	}
	return d, nil
}
