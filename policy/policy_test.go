package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/policy"

	_ "github.com/bpfsig/bpfsig/chain"
	_ "github.com/bpfsig/bpfsig/legacy"
	_ "github.com/bpfsig/bpfsig/raw"
)

const examplePolicy = `# bpfsig policy
default:
  scheme: raw
rules:
  - name: minimal
    scheme: legacy
    generation: v2
  - path: "vendor/**/*.skel.h"
    scheme: chain
  - path: "*.lskel.h"
    scheme: legacy
    generation: v1
`

func TestPolicyChoose(t *testing.T) {
	p, err := policy.ParsePolicy("p.yaml", []byte(examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, name string
		want       compat.Target
	}{
		{"x/minimal.skel.h", "minimal", compat.Target{Scheme: compat.Legacy, Generation: compat.V2}},
		{"/src/vendor/a/b/foo.skel.h", "foo", compat.Target{Scheme: compat.Chain}},
		{"vendor/foo.skel.h", "foo", compat.Target{Scheme: compat.Chain}},
		{"deep/dir/bar.lskel.h", "bar", compat.Target{Scheme: compat.Legacy, Generation: compat.V1}},
		{"other/foo.skel.h", "foo", compat.Target{Scheme: compat.Raw}},
	}
	for _, tt := range tests {
		got, err := p.Choose(tt.file, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Choose(%s, %s) = %v, %v; want %v", tt.file, tt.name, got, err, tt.want)
		}
	}
	// minimal under vendor/ matches two rules with different targets.
	if _, err := p.Choose("vendor/minimal.skel.h", "minimal"); err == nil {
		t.Error("a program matched by conflicting rules was given a target")
	}
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
	}{
		{"unknown top key", "default:\n  scheme: raw\nrulez: []\n", 3},
		{"unknown rule key", "rules:\n  - name: a\n    scheme: raw\n    colour: red\n", 4},
		{"unknown scheme", "rules:\n  - name: a\n    scheme: nosuch\n", 3},
		{"unknown generation", "rules:\n  - name: a\n    scheme: legacy\n    generation: v3\n", 4},
		{"generation for raw", "default:\n  scheme: raw\n  generation: v2\n", 3},
		{"no selector", "rules:\n  - scheme: raw\n", 2},
		{"two selectors", "rules:\n  - name: a\n    path: b\n    scheme: raw\n", 2},
		{"no scheme", "rules:\n  - name: a\n", 2},
		{"conflicting rules", "rules:\n  - name: a\n    scheme: raw\n  - name: a\n    scheme: chain\n", 4},
		{"selector in default", "default:\n  name: a\n  scheme: raw\n", 2},
	}
	for _, tt := range tests {
		_, err := policy.ParsePolicy("p.yaml", []byte(tt.src))
		var pe *policy.PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a *PolicyError", tt.name, err)
			continue
		}
		if pe.Line != tt.line {
			t.Errorf("%s: line %d, want %d (%v)", tt.name, pe.Line, tt.line, err)
		}
	}
}

// TestResolve pins the one precedence rule sign and migrate share.
func TestResolve(t *testing.T) {
	p, err := policy.ParsePolicy("p.yaml", []byte(examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	leg := compat.Target{Scheme: compat.Legacy}
	tests := []struct {
		name       string
		explicit   compat.Target
		pol        *policy.Policy
		file, prog string
		want       compat.Target
		err        bool
	}{
		{"nothing: raw", compat.Target{}, nil, "a.skel.h", "a", compat.Target{Scheme: compat.Raw}, false},
		{"explicit legacy defaults to v2", leg, nil, "a.skel.h", "a", compat.Target{Scheme: compat.Legacy, Generation: compat.V2}, false},
		{"explicit chain keeps input generation", compat.Target{Scheme: compat.Chain}, nil, "a.skel.h", "a", compat.Target{Scheme: compat.Chain}, false},
		{"raw v1 is an error", compat.Target{Scheme: compat.Raw, Generation: compat.V1}, nil, "a.skel.h", "a", compat.Target{}, true},
		{"generation without scheme", compat.Target{Generation: compat.V1}, nil, "a.skel.h", "a", compat.Target{}, true},
		{"unknown scheme", compat.Target{Scheme: "nosuch"}, nil, "a.skel.h", "a", compat.Target{}, true},
		{"policy default", compat.Target{}, p, "other/x.skel.h", "x", compat.Target{Scheme: compat.Raw}, false},
		{"explicit replaces the default", leg, p, "other/x.skel.h", "x", compat.Target{Scheme: compat.Legacy, Generation: compat.V2}, false},
		{"rule decides", compat.Target{}, p, "x/minimal.skel.h", "minimal", compat.Target{Scheme: compat.Legacy, Generation: compat.V2}, false},
		{"explicit agreeing with the rule", leg, p, "x/minimal.skel.h", "minimal", compat.Target{Scheme: compat.Legacy, Generation: compat.V2}, false},
		{"explicit contradicting the rule", compat.Target{Scheme: compat.Raw}, p, "x/minimal.skel.h", "minimal", compat.Target{}, true},
		{"explicit generation contradicting the rule", compat.Target{Scheme: compat.Legacy, Generation: compat.V1}, p, "x/minimal.skel.h", "minimal", compat.Target{}, true},
		{"conflicting rules", compat.Target{}, p, "vendor/minimal.skel.h", "minimal", compat.Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Resolve(tt.explicit, tt.pol, tt.file, tt.prog)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("Resolve = %v, %v; want %v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestPolicyPathThroughLinkDotDot: a path rule is matched against the file the system opens.
// With l a link to d/sub, l/../in/x.skel.h is d/in/x.skel.h; filepath.Clean reads it as
// in/x.skel.h, another file, and a rule for d/in (or one for ./in) chose for the wrong one.
func TestPolicyPathThroughLinkDotDot(t *testing.T) {
	base := t.TempDir()
	for _, p := range []string{"d/sub", "d/in", "in"} {
		if err := os.MkdirAll(filepath.Join(base, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(base, "d", "sub"), filepath.Join(base, "l")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	t.Chdir(base)
	p, err := policy.ParsePolicy("p.yaml", []byte(`default:
  scheme: raw
rules:
  - path: "d/in/*.skel.h"
    scheme: legacy
    generation: v2
`))
	if err != nil {
		t.Fatal(err)
	}
	want := compat.Target{Scheme: compat.Legacy, Generation: compat.V2}
	for _, f := range []string{"d/in/x.skel.h", "l/../in/x.skel.h", base + "/l/../in/x.skel.h", "./l/../in/x.skel.h"} {
		if got, err := p.Choose(f, "x"); err != nil || got != want {
			t.Errorf("Choose(%s) = %v, %v; want %v (the file is d/in/x.skel.h)", f, got, err, want)
		}
	}
	if got, err := p.Choose("in/x.skel.h", "x"); err != nil || got.Scheme != compat.Raw {
		t.Errorf("Choose(in/x.skel.h) = %v, %v; want raw", got, err)
	}
}

// TestPolicyBuiltInGo: a Policy whose rules a program builds (or edits) instead of parsing is
// matched by the rules' own fields; a rule that names neither or both selectors is an error.
func TestPolicyBuiltInGo(t *testing.T) {
	leg := compat.Target{Scheme: compat.Legacy, Generation: compat.V2}
	built := &policy.Policy{File: "built", Rules: []policy.Rule{{Name: "mini*", Target: leg}, {Path: "vendor/*.skel.h", Target: leg}}}
	for _, c := range []struct{ file, name string }{{"x/minimal.skel.h", "minimal"}, {"a/vendor/y.skel.h", "y"}} {
		if got, err := policy.Resolve(compat.Target{}, built, c.file, c.name); err != nil || got != leg {
			t.Errorf("built policy, %s: Resolve = %v, %v; want %v", c.file, got, err, leg)
		}
	}
	if got, err := policy.Resolve(compat.Target{}, built, "x/other.skel.h", "other"); err != nil || got.Scheme != compat.Raw {
		t.Errorf("built policy, no match: Resolve = %v, %v; want raw", got, err)
	}
	for _, bad := range []policy.Rule{{}, {Name: "a", Path: "b"}, {Name: "[", Target: leg}} {
		p := &policy.Policy{File: "built", Rules: []policy.Rule{bad}}
		if got, err := policy.Resolve(compat.Target{}, p, "x/a.skel.h", "a"); err == nil {
			t.Errorf("rule %+v: Resolve = %v, want an error", bad, got)
		}
	}
	// A parsed rule edited afterwards matches as edited.
	p, err := policy.ParsePolicy("p.yaml", []byte("rules:\n  - name: minimal\n    scheme: legacy\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.Rules[0].Name = "other"
	if got, _ := p.Choose("x/minimal.skel.h", "minimal"); got.Scheme == compat.Legacy {
		t.Errorf("rule renamed to %q still matched minimal", p.Rules[0].Name)
	}
}
