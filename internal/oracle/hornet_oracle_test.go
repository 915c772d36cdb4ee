package oracle

import (
	"context"
	"github.com/bpfsig/bpfsig/compat"
	"os"
	"testing"

	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/hornet"
	"github.com/bpfsig/bpfsig/internal/keys"
)

// TestHornetSignatures: a real kernel's PKCS#7 code accepts Hornet (gen_sig) signatures, with
// their signed contentType, signingTime, messageDigest and Hornet attributes, as ordinary
// signatures over the instructions, and rejects them over anything else; an attribute type in
// a non-minimal encoding is ignored like any unknown one. The emulation (cms) agrees on each.
func TestHornetSignatures(t *testing.T) {
	vm := oracleVM(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const gs = "../hornet/testdata/gen_sig/"
	insn, data := read(gs+"insn.bin"), read(gs+"map0.bin")
	certs, err := keys.LoadCertificates("../../testdata/keys/test-rsa2048.crt.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.LoadSigner("../../testdata/keys/test-rsa2048.key.pem")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := hornet.Sign(insn, []hornet.Map{{Index: 0, Value: data}}, key, certs[0], hornet.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// An attribute type that is not minimal DER (arc 7 written 0x80 0x07): the kernel only looks
	// OIDs up as bytes, so it is an unknown attribute, not an error.
	odd, err := cms.SignWithAttributes(insn, key, certs[0], cms.SignOptions{SignerID: cms.IssuerSerial},
		[]cms.Attribute{{RawType: []byte{0x69, 0x80, 0x07}, Values: [][]byte{{0x05, 0x00}}}})
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte{}, insn...)
	flipped[9] ^= 1
	der := [][]byte{certs[0].Raw}
	cases := []Case{
		{Name: "gen_sig one map", Content: insn, Signature: read(gs + "one-map.p7b"), Certs: der},
		{Name: "gen_sig no maps", Content: insn, Signature: read(gs + "no-maps.p7b"), Certs: der},
		{Name: "gen_sig three maps", Content: insn, Signature: read(gs + "three-maps.p7b"), Certs: der},
		{Name: "bpfsig hornet.Sign", Content: insn, Signature: ours, Certs: der},
		{Name: "non-minimal attribute type", Content: insn, Signature: odd, Certs: der},
		{Name: "flipped insn", Content: flipped, Signature: ours, Certs: der},
		{Name: "empty keyring", Content: insn, Signature: ours, Keyring: EmptyKeyring},
	}
	want := []compat.Errno{0, 0, 0, 0, 0, compat.EKEYREJECTED, compat.ENOKEY}
	res, err := vm.Run(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		t.Log(r)
		if r.Errno != want[i] {
			t.Errorf("%s: kernel %v, want %v", r.Name, r.Errno, want[i])
		}
		// The emulation agrees.
		trust := certs
		if cases[i].Keyring == EmptyKeyring {
			trust = nil
		}
		core := hornet.CoreCheck(hornet.Load{Insn: cases[i].Content, Signature: cases[i].Signature}, trust)
		if (core == nil) != (want[i] == 0) {
			t.Errorf("%s: emulated core check %v, kernel %v", r.Name, core, r.Errno)
		}
	}
}
