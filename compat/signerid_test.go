package compat

import "testing"

// Each signer-id form's spelling parses back to it; an unknown spelling is refused.
func TestSignerIDForm(t *testing.T) {
	for _, f := range []SignerIDForm{SubjectKeyID, IssuerSerial} {
		g, err := ParseSignerIDForm(f.String())
		if err != nil || g != f {
			t.Fatalf("%v: %v %v", f, g, err)
		}
	}
	if _, err := ParseSignerIDForm("x"); err == nil {
		t.Fatal("accepted x")
	}
}
