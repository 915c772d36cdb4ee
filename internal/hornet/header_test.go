package hornet

import (
	"bytes"
	"crypto/x509"
	"testing"

	"github.com/bpfsig/bpfsig/internal/lskel"
)

func TestWriteSigMatchesScript(t *testing.T) {
	src := readFile(t, "../../testdata/minimal/legacy-v2.skel.h")
	want := readFile(t, "testdata/gen_sig/legacy-v2.write-sig.skel.h")
	got, err := WriteSig(src, readFile(t, "testdata/gen_sig/one-map.p7b"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("WriteSig differs from write-sig.sh's output")
	}
}

func TestWriteSigRefuses(t *testing.T) {
	sig := []byte{0x30, 0x00}
	for name, h := range map[string]string{
		"unsigned header":   "static const char opts_insn[] = \"\\\n\\x01\";\n",
		"unterminated":      "\tstatic const char opts_sig[] = \"\\\n\\x30\\x00\"\n",
		"declaration alone": "\tstatic const char opts_sig[] = \"\\\n",
	} {
		if _, err := WriteSig([]byte(h), sig); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := WriteSig([]byte("\tstatic const char opts_sig[] = \"\\\n\\x30\";\n"), nil); err == nil {
		t.Error("empty signature accepted")
	}
}

// A write-sig.sh header reads back through internal/lskel: the same loader and metadata, the
// gen_sig signature, and Hornet's OK verdict for the skeleton's own load.
func TestWriteSigHeaderReadsBack(t *testing.T) {
	want := readFile(t, "testdata/gen_sig/one-map.p7b")
	f, err := lskel.Parse("legacy-v2.write-sig.skel.h", readFile(t, "testdata/gen_sig/legacy-v2.write-sig.skel.h"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Signed() || !bytes.Equal(f.Sig(), want) {
		t.Fatal("opts_sig does not read back as gen_sig's signature")
	}
	if !bytes.Equal(f.Insn(), goldenInsn(t)) || !bytes.Equal(f.Data(), goldenMap(t, "map0")) {
		t.Fatal("opts_insn / opts_data changed")
	}
	if !IsHornet(f.Sig()) {
		t.Fatal("not detected as Hornet")
	}
	if v := Verify(f.Insn(), []Map{{0, f.Data()}}, f.Sig(), []*x509.Certificate{testCert(t)}); v != OK {
		t.Fatalf("verdict %v", v)
	}
}
