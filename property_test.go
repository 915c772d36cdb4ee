package bpfsig_test

import (
	"bytes"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
)

// TestDeleteAnyLine: deleting any one line of a signed header either leaves a skeleton that
// still verifies as exactly what it was (same scheme, same blobs) or is rejected — by the
// parser or by verification — and is never reported as a different, valid state.
func TestDeleteAnyLine(t *testing.T) {
	trust := front.Trust(t)
	for _, name := range []string{"legacy-v1", "legacy-v2", "chain", "raw"} {
		src := testfix.Bytes(t, name)
		orig, err := bpfsig.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(src, []byte("\n"))
		same, rejected := 0, 0
		for i := range lines {
			mut := append(bytes.Join(lines[:i:i], nil), bytes.Join(lines[i+1:], nil)...)
			sk, err := bpfsig.Parse(name, mut)
			if err != nil {
				rejected++
				continue
			}
			v := bpfsig.Verify(sk, trust)
			if !v.OK() {
				rejected++
				continue
			}
			if sk.Scheme() != orig.Scheme() || sk.Generation() != orig.Generation() ||
				!bytes.Equal(sk.Insn(), orig.Insn()) || !bytes.Equal(sk.Data(), orig.Data()) || !bytes.Equal(sk.Sig(), orig.Sig()) {
				t.Fatalf("%s without line %d (%q) verifies as a different skeleton: %s %s", name, i+1, lines[i], sk.Scheme(), sk.Generation())
			}
			same++
		}
		t.Logf("%s: %d lines; deleting one: %d rejected, %d still the same verified skeleton", name, len(lines), rejected, same)
		if rejected == 0 {
			t.Errorf("%s: no deletion was rejected", name)
		}
	}
}
