package compat_test

import (
	"errors"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/loader"
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
	p, err := compat.ParsePolicy("p.yaml", []byte(examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, name string
		want       compat.Target
	}{
		{"x/minimal.skel.h", "minimal", compat.Target{Scheme: compat.Legacy, Generation: loader.GenV2}},
		{"/src/vendor/a/b/foo.skel.h", "foo", compat.Target{Scheme: compat.Chain}},
		{"vendor/foo.skel.h", "foo", compat.Target{Scheme: compat.Chain}},
		{"deep/dir/bar.lskel.h", "bar", compat.Target{Scheme: compat.Legacy, Generation: loader.GenV1}},
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
		{"unknown scheme", "rules:\n  - name: a\n    scheme: hornet\n", 3},
		{"unknown generation", "rules:\n  - name: a\n    scheme: legacy\n    generation: v3\n", 4},
		{"generation for raw", "default:\n  scheme: raw\n  generation: v2\n", 2},
		{"no selector", "rules:\n  - scheme: raw\n", 2},
		{"two selectors", "rules:\n  - name: a\n    path: b\n    scheme: raw\n", 2},
		{"no scheme", "rules:\n  - name: a\n", 2},
		{"conflicting rules", "rules:\n  - name: a\n    scheme: raw\n  - name: a\n    scheme: chain\n", 4},
		{"selector in default", "default:\n  name: a\n  scheme: raw\n", 2},
	}
	for _, tt := range tests {
		_, err := compat.ParsePolicy("p.yaml", []byte(tt.src))
		var pe *compat.PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a *PolicyError", tt.name, err)
			continue
		}
		if pe.Line != tt.line {
			t.Errorf("%s: line %d, want %d (%v)", tt.name, pe.Line, tt.line, err)
		}
	}
}
