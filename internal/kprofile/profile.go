package kprofile

import (
	"fmt"
	"sort"

	"github.com/bpfsig/bpfsig/compat"
)

// Kind says what a row does when its predicate holds.
type Kind uint8

const (
	// Reject ends the load at the row's stage with its errno (or, at the run stage, with the
	// loader's retval).
	Reject Kind = iota
	// Hook is security_bpf_prog_load: it records what the LSM knows and the verdict fields,
	// and lets the load proceed.
	Hook
)

// Scope says what a row's predicate ranges over.
type Scope uint8

const (
	// ScopeLoad rows are evaluated once.
	ScopeLoad Scope = iota
	// ScopeEachEntry rows are evaluated per fd_array entry. A run of consecutive
	// ScopeEachEntry rows forms a block that the kernel walks entry by entry: all of the
	// block's rows for fd_array[0], then all for fd_array[1], and so on, so that the first
	// failing entry decides, as the kernel's loop over fd_array does.
	ScopeEachEntry
)

// Rule is one row of a profile's table.
type Rule struct {
	// ID names the row in results and tests ("mainline/fold-frozen").
	ID    string
	Stage compat.Stage
	Kind  Kind
	Scope Scope
	// When is the row's predicate; i is the fd_array index for ScopeEachEntry rows, -1
	// otherwise. A nil When always holds.
	When func(l *Load, i int) bool
	// Errno is the rejection's errno (stages before run); ErrnoOf, when set, computes it from
	// the facts instead (the PKCS#7 row passes the caller's verification result through).
	Errno   Errno
	ErrnoOf func(l *Load) Errno
	// Retval is the loader's return value of a run-stage rejection.
	Retval int32
	// Knows and Records give a Hook row's LSM knowledge and verdict fields (Records may be
	// nil: the kernel records none).
	Knows   func(l *Load) compat.LSMKnowledge
	Records func(l *Load) *Record
	// Reason states the rule in one sentence.
	Reason string
	// Source cites the tree, path and function the row is taken from; Subtest the
	// signed_loader.c subtest(s) that pin it. Inferred, when set, says what of the row no
	// source pins.
	Source   string
	Subtest  string
	Inferred string
}

// Profile is a kernel's signed-load behaviour as one ordered table of rules.
type Profile struct {
	Name string
	// Summary says which kernel the profile is, and which source revision it follows.
	Summary string
	// MaxSignatureSize is the largest signature_size the kernel accepts.
	MaxSignatureSize uint32
	// Rules is the table, evaluated in order; the first rejecting row decides.
	Rules []Rule

	folds   func(l *Load) []int
	content func(insn []byte, maps [][]byte) []byte
	// hashesListed: the kernel hashes the listed signature maps itself, which caches
	// map->sha (the chain series).
	hashesListed bool
}

// Load is the state a profile's predicates read: the facts and what the procedure and the
// profile derive from them.
type Load struct {
	*Facts
	Profile *Profile
	// Cnt is the fd_array_cnt the kernel sees.
	Cnt uint32
	// HashRequested: the host's procedure asks BPF_OBJ_GET_INFO_BY_FD for fd_array[0]'s hash.
	HashRequested bool
}

// Map returns fd_array[i], or a zero (failing) map when i is out of range.
func (l *Load) Map(i int) Object {
	if i < 0 || i >= len(l.FdArray) {
		return Object{Kind: KindBadFD}
	}
	return l.FdArray[i]
}

// Scanned reports whether fd_array[i] is resolved up front (i < fd_array_cnt).
func (l *Load) Scanned(i int) bool { return i >= 0 && uint64(i) < uint64(l.Cnt) && i < len(l.FdArray) }

// Folded returns the fd_array indices whose values the profile's signature covers, in the
// order they are concatenated.
func (l *Load) Folded() []int { return l.Profile.folds(l) }

// MapSHA reports whether the metadata map's map->sha holds its hash when the loader runs.
func (l *Load) MapSHA() bool { return l.Profile.mapSHA(l) }

func (p *Profile) mapSHA(l *Load) bool {
	if l.HashRequested {
		return true
	}
	if p.hashesListed && l.Signed {
		for _, i := range l.SignatureMaps {
			if i == 0 {
				return true
			}
		}
	}
	return false
}

func newLoad(p *Profile, f *Facts) *Load {
	l := &Load{Facts: f, Profile: p}
	switch {
	case f.FdArrayCnt != nil:
		l.Cnt = *f.FdArrayCnt
	case f.Procedure == ProcMainline && f.Signed:
		l.Cnt = uint32(len(f.FdArray))
	}
	switch f.Procedure {
	case Proc618:
		l.HashRequested = !f.SkipHashRequest && len(f.FdArray) > 0
	case ProcChain:
		l.HashRequested = !f.SkipHashRequest && len(f.FdArray) > 0 && !(f.Signed && len(f.SignatureMaps) > 0)
	}
	return l
}

// Evaluate runs the profile's table over f. The error is non-nil only for malformed facts.
func (p *Profile) Evaluate(f Facts) (Result, error) {
	if err := f.validate(); err != nil {
		return Result{}, err
	}
	l := newLoad(p, &f)
	res := Result{Profile: p.Name}
	rules := p.Rules
	for k := 0; k < len(rules); {
		if rules[k].Scope == ScopeEachEntry {
			end := k
			for end < len(rules) && rules[end].Scope == ScopeEachEntry {
				end++
			}
			for i := range l.FdArray {
				for _, r := range rules[k:end] {
					if r.When == nil || r.When(l, i) {
						if p.apply(&res, l, r, i) {
							return res, nil
						}
					}
				}
			}
			k = end
			continue
		}
		r := rules[k]
		if r.When == nil || r.When(l, -1) {
			if p.apply(&res, l, r, -1) {
				return res, nil
			}
		}
		k++
	}
	res.Outcome = compat.Accepted
	res.Reason = "accepted"
	if !f.SkipRun {
		var zero int32
		res.Retval = &zero
		res.Reason = "accepted: the loader ran and returned 0"
	}
	return res, nil
}

// apply performs row r; it reports whether the load ended.
func (p *Profile) apply(res *Result, l *Load, r Rule, i int) bool {
	switch r.Kind {
	case Hook:
		res.LSM = r.Knows(l)
		if r.Records != nil {
			res.Record = r.Records(l)
		}
		return false
	default:
		res.Outcome, res.Stage, res.Rule = compat.Rejected, r.Stage, r.ID
		res.Reason, res.Source, res.Subtest = r.Reason, r.Source, r.Subtest
		if i >= 0 {
			res.Reason = fmt.Sprintf("fd_array[%d]: %s", i, r.Reason)
		}
		if r.Stage == compat.StageRun {
			v := r.Retval
			res.Retval = &v
		} else if r.ErrnoOf != nil {
			res.Errno = r.ErrnoOf(l)
		} else {
			res.Errno = r.Errno
		}
		res.LSMAdmittedThenFailed = res.LSM != compat.LSMNotReached && (r.Stage == compat.StageVerifier || r.Stage == compat.StageRun)
		return true
	}
}

// Folded returns the fd_array indices whose values the profile's signature covers for f, in
// content order: nothing for 6.18, the entries scanned up front for mainline, the listed
// signature maps for chain. Pass their values to SignedContent.
func (p *Profile) Folded(f Facts) []int { return newLoad(p, &f).Folded() }

// SignedContent returns the bytes profile p's kernel verifies the signature over, for
// instructions insn and the values of the folded maps (Folded), in order.
//   - 6.18: insn (the metadata is vouched for by the loader's check block).
//   - mainline, mainline-bpf-keyring: insn ‖ maps[0] ‖ maps[1] ‖ … (raw bytes).
//   - chain: the 32-byte root H(H(insn) ‖ h) over the listed maps; insn when none is listed.
func SignedContent(p *Profile, insn []byte, maps [][]byte) []byte { return p.content(insn, maps) }

var registry = map[string]*Profile{}

func register(p *Profile) *Profile {
	if _, dup := registry[p.Name]; dup {
		panic("kprofile: duplicate profile " + p.Name)
	}
	registry[p.Name] = p
	return p
}

// Lookup returns the profile called name.
func Lookup(name string) (*Profile, error) {
	if p, ok := registry[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("kprofile: unknown kernel profile %q (known: %v)", name, Names())
}

// Names returns the profile names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Table renders the profile's rows, one per line in evaluation order: ID, stage, scope,
// errno (or retval), subtest, source, and what of the row is inferred.
func (p *Profile) Table() string {
	var b []byte
	b = fmt.Appendf(b, "profile %s: %s\n", p.Name, p.Summary)
	for k, r := range p.Rules {
		scope := ""
		if r.Scope == ScopeEachEntry {
			scope = " [each fd_array entry]"
		}
		var outcome string
		switch {
		case r.Kind == Hook:
			outcome = "hook"
		case r.Stage == compat.StageRun:
			outcome = fmt.Sprintf("retval %d", r.Retval)
		case r.ErrnoOf != nil:
			outcome = "errno of the PKCS#7 check"
		default:
			outcome = r.Errno.Name()
		}
		b = fmt.Appendf(b, "%2d. %-9s %-26s %s%s\n    rule:    %s\n    subtest: %s\n    source:  %s\n", k+1, r.Stage, outcome, r.ID, scope, r.Reason, r.Subtest, r.Source)
		if r.Inferred != "" {
			b = fmt.Appendf(b, "    inferred: %s\n", r.Inferred)
		}
	}
	return string(b)
}
