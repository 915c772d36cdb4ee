package loader

import "testing"

// Every slot of a check template has a role to name in errors.
func TestCheckRoles(t *testing.T) {
	for _, g := range []Generation{GenV1, GenV2} {
		roles := checkRoles(g)
		if len(roles) != checkLen(g) {
			t.Fatalf("%s: %d roles for %d slots", g, len(roles), checkLen(g))
		}
		seen := map[string]bool{}
		for i, r := range roles {
			if r == "" || seen[r] {
				t.Fatalf("%s: role %d %q empty or repeated", g, i, r)
			}
			seen[r] = true
		}
	}
}
