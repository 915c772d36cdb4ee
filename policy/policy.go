// Package policy chooses the scheme, per program, that sign and migrate sign for: a YAML file
// of rules over skeleton object names and paths, and the precedence rule that combines it with
// an explicit target (Resolve).
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
)

// Policy chooses a Target per program. Its file format (YAML):
//
//	default:                 # optional; raw when absent
//	  scheme: raw
//	rules:                   # first matching rule wins; matches must agree
//	  - name: minimal        # skeleton object name (glob: *, ?, [...])
//	    scheme: legacy
//	    generation: v2
//	  - path: "vendor/**/*.skel.h"   # path glob; ** spans directories; no '/': the base
//	                                 # name; relative: any tail of the path; /abs: whole path
//	    scheme: chain
//
// Every rule has exactly one of name and path. Unknown keys, unknown schemes or generations, a
// generation the scheme does not offer, and two rules with the same selector but different targets are
// errors naming the line. Schemes are those registered with compat, so a policy may name a
// scheme of any strategy the program imports. A program matched by rules with different targets is an error naming
// both rules' lines.
type Policy struct {
	File    string
	Default compat.Target
	Rules   []Rule
}

// Rule is one policy rule.
type Rule struct {
	Line   int
	Name   string // glob over the skeleton's object name
	Path   string // glob over the file path
	Target compat.Target
	re     *regexp.Regexp // compiled from pat by ParsePolicy
	pat    string
}

// LoadPolicy reads a policy file.
func LoadPolicy(file string) (*Policy, error) {
	src, err := fsio.ReadFile(file, fsio.PolicyLimit)
	if err != nil {
		return nil, err
	}
	return ParsePolicy(file, src)
}

// PolicyError is an error in a policy file.
type PolicyError struct {
	File   string
	Line   int
	Reason string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// ParsePolicy parses a policy; file names it in errors.
func ParsePolicy(file string, src []byte) (*Policy, error) {
	p := &Policy{File: file, Default: compat.Target{Scheme: compat.Raw}}
	perr := func(line int, format string, args ...any) error {
		return &PolicyError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return p, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, perr(root.Line, "a policy is a mapping with the keys default and rules")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "default":
			t, sel, err := target(v, perr, false)
			if err != nil {
				return nil, err
			}
			if len(sel) > 0 {
				return nil, perr(v.Line, "default takes no name or path")
			}
			p.Default = t
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return nil, perr(v.Line, "rules is a list")
			}
			for _, rn := range v.Content {
				t, sel, err := target(rn, perr, true)
				if err != nil {
					return nil, err
				}
				r := Rule{Line: rn.Line, Target: t, Name: sel["name"], Path: sel["path"]}
				pat := r.Name
				if r.Path != "" {
					pat = r.Path
				}
				r.pat = pat
				if r.re, err = globRegexp(pat); err != nil {
					return nil, perr(rn.Line, "bad glob %q: %v", pat, err)
				}
				for _, o := range p.Rules {
					if o.Name == r.Name && o.Path == r.Path && o.Target != r.Target {
						return nil, perr(rn.Line, "conflicts with the rule at line %d: same selector, %s vs %s", o.Line, r.Target, o.Target)
					}
				}
				p.Rules = append(p.Rules, r)
			}
		default:
			return nil, perr(k.Line, "unknown key %q (known: default, rules)", k.Value)
		}
	}
	return p, nil
}

// target decodes a mapping of scheme/generation (and, for rules, name or path).
func target(n *yaml.Node, perr func(int, string, ...any) error, rule bool) (compat.Target, map[string]string, error) {
	var t compat.Target
	sel := map[string]string{}
	schemeLine, genLine := 0, 0
	if n.Kind != yaml.MappingNode {
		return t, nil, perr(n.Line, "expected a mapping with scheme (and generation)")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return t, nil, perr(v.Line, "%s takes a single value", k.Value)
		}
		switch k.Value {
		case "scheme":
			if _, err := compat.Lookup(compat.Scheme(v.Value)); err != nil {
				return t, nil, perr(v.Line, "%v", err)
			}
			t.Scheme = compat.Scheme(v.Value)
			schemeLine = v.Line
		case "generation":
			g, err := compat.ParseGeneration(v.Value)
			if err != nil || g == compat.NoGeneration {
				return t, nil, perr(v.Line, "unknown generation %q", v.Value)
			}
			t.Generation = g
			genLine = v.Line
		case "name", "path":
			if !rule {
				return t, nil, perr(k.Line, "unknown key %q here", k.Value)
			}
			sel[k.Value] = v.Value
		default:
			return t, nil, perr(k.Line, "unknown key %q (known: %s)", k.Value, map[bool]string{true: "name, path, scheme, generation", false: "scheme, generation"}[rule])
		}
	}
	if t.Scheme == "" {
		return t, nil, perr(n.Line, "scheme is required")
	}
	if t.Generation != compat.NoGeneration {
		if _, err := t.Validate(); err != nil {
			return t, nil, perr(genLine, "%v", err)
		}
	}
	_ = schemeLine
	if rule && len(sel) != 1 {
		return t, nil, perr(n.Line, "a rule needs exactly one of name and path")
	}
	return t, sel, nil
}

// Choose returns the target the policy alone gives the skeleton at file whose object is called
// name: the matching rule's, else the default. See Resolve for combining it with flags.
func (p *Policy) Choose(file, name string) (compat.Target, error) {
	r, err := p.match(file, name)
	if err != nil {
		return compat.Target{}, err
	}
	if r == nil {
		return p.Default, nil
	}
	return r.Target, nil
}

// match returns the rule that matches, nil if none; rules that match with different targets
// are an error.
func (p *Policy) match(file, name string) (*Rule, error) {
	// Path rules judge the file the system opens: filepath.Clean alone would read
	// "l/../in/x" (l a link to d/sub) as in/x, another file than d/in/x.
	dir, base := filepath.Split(file)
	f := filepath.ToSlash(filepath.Clean(fsio.Join(dir, base)))
	var hit *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		re, err := r.regexp()
		if err != nil {
			return nil, fmt.Errorf("%s: rule %d (line %d): %w", p.File, i+1, r.Line, err)
		}
		if !r.matches(re, f, name) {
			continue
		}
		if hit == nil {
			hit = r
		} else if hit.Target != r.Target {
			return nil, fmt.Errorf("%s: rules at lines %d (%s) and %d (%s) both match %s", p.File, hit.Line, hit.Target, r.Line, r.Target, file)
		}
	}
	return hit, nil
}

// matches reports whether r matches the program called name in the file at f (cleaned, with
// slashes).
// regexp returns the rule's compiled glob: ParsePolicy's, or, for a Rule built or edited by the
// caller, one compiled now (the caller's Rule is not modified).
func (r *Rule) regexp() (*regexp.Regexp, error) {
	if (r.Name == "") == (r.Path == "") {
		return nil, errors.New("a rule has exactly one of name and path")
	}
	pat := r.Name
	if r.Path != "" {
		pat = r.Path
	}
	if r.re != nil && r.pat == pat {
		return r.re, nil
	}
	re, err := globRegexp(pat)
	if err != nil {
		return nil, fmt.Errorf("bad glob %q: %v", pat, err)
	}
	return re, nil
}

func (r *Rule) matches(re *regexp.Regexp, f, name string) bool {
	if r.Name != "" {
		return re.MatchString(name)
	}
	if !strings.Contains(r.Path, "/") {
		return re.MatchString(path.Base(f))
	}
	if strings.HasPrefix(r.Path, "/") {
		return re.MatchString(f)
	}
	// A relative pattern matches the path or any tail of it that starts at a directory.
	for {
		if re.MatchString(f) {
			return true
		}
		i := strings.IndexByte(f, '/')
		if i < 0 {
			return false
		}
		f = f[i+1:]
	}
}

// globRegexp compiles a glob: * and ? within a path element, ** across elements, [...] classes.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			b.WriteString(g[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Resolve returns the target for the program at file whose object is called name, from an
// explicit target (a --scheme/--generation given by the user; zero if none) and a policy (nil
// if none). The one precedence rule, for sign and migrate alike:
//
//   - a policy rule that matches the program decides; an explicit target that says otherwise
//     is an error naming the rule (the policy is the fleet's decision, the flag a default);
//   - otherwise the explicit target, if given, replaces the policy's default;
//   - otherwise the policy's default, else raw.
//
// The result is validated against the registry, its generation defaulted: an explicit
// generation the scheme does not offer (raw v1) is an error.
func Resolve(explicit compat.Target, p *Policy, file, name string) (compat.Target, error) {
	if explicit.Scheme == "" && explicit.Generation != compat.NoGeneration {
		return compat.Target{}, fmt.Errorf("generation %s given without a scheme", explicit.Generation)
	}
	t := compat.Target{Scheme: compat.Raw}
	var rule *Rule
	if p != nil {
		if p.Default != (compat.Target{}) { // a Policy built in Go with no default: raw, as a file without one
			t = p.Default
		}
		var err error
		if rule, err = p.match(file, name); err != nil {
			return compat.Target{}, err
		}
	}
	switch {
	case rule != nil:
		if explicit.Scheme != "" && !sameTarget(explicit, rule.Target) {
			return compat.Target{}, fmt.Errorf("%s: %s is %s by the rule at %s:%d, not %s", file, name, rule.Target, p.File, rule.Line, explicit)
		}
		t = rule.Target
	case explicit.Scheme != "":
		t = explicit
	}
	return t.Validate()
}

// sameTarget reports whether an explicit target agrees with a rule's: a generation left out on
// either side agrees with any.
func sameTarget(explicit, rule compat.Target) bool {
	if explicit.Scheme != rule.Scheme {
		return false
	}
	return explicit.Generation == compat.NoGeneration || rule.Generation == compat.NoGeneration || explicit.Generation == rule.Generation
}
