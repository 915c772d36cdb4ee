package bpfsig_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
)

// ParseSignature describes each fixture's signature as Inspect does, and a signature cut
// short anywhere is refused with the parser's errno (EBADMSG).
func TestParseSignatureAgreesWithInspect(t *testing.T) {
	files, _ := filepath.Glob("testdata/minimal/*.skel.h")
	signed := 0
	for _, f := range files {
		sk, err := bpfsig.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if !sk.Signed() {
			continue
		}
		signed++
		ref := sk.Inspect().SignerInfo
		si, err := bpfsig.ParseSignature(sk.Sig())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if si.IDForm.String() != ref.IDForm || strings.TrimPrefix(si.Signer, "skid:") != ref.ID || si.Algorithm != ref.Algorithm || si.Digest != ref.Digest {
			t.Errorf("%s: ParseSignature %+v, Inspect %+v", f, si, ref)
		}
		sig := sk.Sig()
		for n := 0; n < len(sig); n++ {
			_, err := bpfsig.ParseSignature(sig[:n])
			if e, ok := bpfsig.ErrnoOf(err); err == nil || !ok || e != compat.EBADMSG {
				t.Fatalf("%s: signature cut to %d bytes: %v (errno %v %v)", f, n, err, e, ok)
			}
		}
	}
	if signed < 4 {
		t.Fatalf("%d signed fixtures, want 4", signed)
	}
}

func TestDisasmAndAtomicWrite(t *testing.T) {
	sk, err := bpfsig.Open("testdata/minimal/legacy-v2.skel.h")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sk.Disasm(&b); err != nil {
		t.Fatal(err)
	}
	// One line per instruction slot at least (labels add lines).
	if n := strings.Count(b.String(), "\n"); n < len(sk.Insn())/8/2 {
		t.Errorf("disassembly has %d lines for %d slots:\n%s", n, len(sk.Insn())/8, b.String())
	}
	p := filepath.Join(t.TempDir(), "x.tbs")
	if err := bpfsig.WriteFileAtomic(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "abc" {
		t.Errorf("read back %q, %v", got, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if _, ok := bpfsig.ErrnoOf(nil); ok {
		t.Error("ErrnoOf(nil) reports an errno")
	}
}
