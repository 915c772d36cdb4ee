package policy_test

import (
	"fmt"

	_ "github.com/bpfsig/bpfsig" // the built-in strategies
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/policy"
)

// A policy decides per program; an explicit --scheme fills in where no rule matches and may
// not contradict a rule that does.
func Example() {
	p, err := policy.ParsePolicy("fleet.yaml", []byte(`
default:
  scheme: raw
rules:
  - name: minimal
    scheme: legacy
    generation: v2
`))
	if err != nil {
		panic(err)
	}
	t, _ := policy.Resolve(compat.Target{}, p, "app/minimal.skel.h", "minimal")
	fmt.Println(t)
	t, _ = policy.Resolve(compat.Target{Scheme: compat.Chain}, p, "app/other.skel.h", "other")
	fmt.Println(t)
	_, err = policy.Resolve(compat.Target{Scheme: compat.Raw}, p, "app/minimal.skel.h", "minimal")
	fmt.Println(err)
	// Output:
	// legacy v2
	// chain
	// app/minimal.skel.h: minimal is legacy v2 by the rule at fleet.yaml:5, not raw
}
