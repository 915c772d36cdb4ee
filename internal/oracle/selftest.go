package oracle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"fmt"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/kerrno"
)

// selftestFS holds copies of the project fixtures (testdata/blobs, testdata/keys) and the
// openssl-made variants, all written by testdata/gen.sh. A unit test checks the copies against
// ../../testdata.
//
//go:embed testdata/selftest
var selftestFS embed.FS

// SelftestRow is one row of the table of docs/spec.md §6: the answer
// a 6.12 kernel is known to give (Want) and the answer this VM gave (Got).
type SelftestRow struct {
	Vector string
	Want   compat.Errno
	Got    compat.Errno
	Detail string
}

// OK reports whether the VM gave the known answer.
func (r SelftestRow) OK() bool { return r.Want == r.Got }

func (r SelftestRow) String() string {
	mark := "ok  "
	if !r.OK() {
		mark = "FAIL"
	}
	s := fmt.Sprintf("%s %-70s want %-12s got %s", mark, r.Vector, errnoText(r.Want), errnoText(r.Got))
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}

func errnoText(e compat.Errno) string {
	if e == 0 {
		return "0"
	}
	return kerrno.NameOf(e)
}

// oidRSAEncryption and oidSHA256WithRSA are DER OBJECT IDENTIFIERs (tag, length, value) of equal
// length, so one can replace the other in place.
var (
	oidRSAEncryption = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	oidSHA256WithRSA = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}
)

type selftestCase struct {
	Case
	want compat.Errno
}

// SelftestCases returns the cases behind docs/spec.md §6's table, with the kernel's known answers.
// The table's third row ("keyring holds a different certificate / is empty") is two cases.
func SelftestCases() ([]Case, []compat.Errno, error) {
	rd := func(name string) []byte {
		b, err := selftestFS.ReadFile("testdata/selftest/" + name)
		if err != nil {
			panic(err) // embedded at build time: cannot fail
		}
		return b
	}
	insn, sig := rd("legacy-v2.insn"), rd("legacy-v2.sig")
	cert := rd("test-rsa2048.crt.der")
	certs := [][]byte{cert}

	flipped := bytes.Clone(insn)
	flipped[len(flipped)/2] ^= 0x01

	rawContent := append(bytes.Clone(rd("raw.insn")), rd("raw.data")...)

	hi, hd := sha256.Sum256(rd("chain.insn")), sha256.Sum256(rd("chain.data"))
	root := sha256.Sum256(append(hi[:], hd[:]...))

	if bytes.Count(sig, oidRSAEncryption) != 1 {
		return nil, nil, fmt.Errorf("oracle: selftest: legacy-v2.sig does not hold exactly one rsaEncryption OID")
	}
	rewritten := bytes.Replace(sig, oidRSAEncryption, oidSHA256WithRSA, 1)

	cs := []selftestCase{
		{Case{Name: "legacy-v2 opts_sig over opts_insn", Content: insn, Signature: sig, Certs: certs}, 0},
		{Case{Name: "same, one instruction byte flipped", Content: flipped, Signature: sig, Certs: certs}, compat.EKEYREJECTED},
		{Case{Name: "same, keyring holds a different certificate", Content: insn, Signature: sig, Certs: [][]byte{rd("other-rsa2048.crt.der")}}, compat.ENOKEY},
		{Case{Name: "same, keyring is empty", Content: insn, Signature: sig, Keyring: EmptyKeyring}, compat.ENOKEY},
		{Case{Name: "signature truncated to 200 bytes", Content: insn, Signature: sig[:200], Certs: certs}, compat.EBADMSG},
		{Case{Name: "raw opts_sig over opts_insn || opts_data", Content: rawContent, Signature: rd("raw.sig"), Certs: certs}, 0},
		{Case{Name: "raw opts_sig over opts_insn only", Content: rd("raw.insn"), Signature: rd("raw.sig"), Certs: certs}, compat.EKEYREJECTED},
		{Case{Name: "chain opts_sig over H(H(insn) || H(data))", Content: root[:], Signature: rd("chain.sig"), Certs: certs}, 0},
		{Case{Name: "ECDSA P-256 legacy signature", Content: insn, Signature: rd("ecdsa-p256.sig"), Certs: [][]byte{rd("p256.crt.der")}}, 0},
		{Case{Name: "SignerInfo algorithm rewritten to sha256WithRSAEncryption", Content: insn, Signature: rewritten, Certs: certs}, compat.ENOPKG},
		{Case{Name: "openssl signature with signed attributes (contentType, signingTime, messageDigest)", Content: insn, Signature: rd("attrs.sig"), Certs: certs}, 0},
		{Case{Name: "issuer+serial signer id", Content: insn, Signature: rd("issuer-serial.sig"), Certs: certs}, 0},
		{Case{Name: "signer certificate embedded", Content: insn, Signature: rd("embedded-cert.sig"), Certs: certs}, 0},
		{Case{Name: "signed attributes including smimeCapabilities (openssl default)", Content: insn, Signature: rd("smimecap.sig"), Certs: certs}, compat.EKEYREJECTED},
		{Case{Name: "content embedded (not detached)", Content: insn, Signature: rd("nodetach.sig"), Certs: certs}, compat.EBADMSG},
	}
	cases := make([]Case, len(cs))
	want := make([]compat.Errno, len(cs))
	for i, c := range cs {
		cases[i], want[i] = c.Case, c.want
	}
	return cases, want, nil
}

// Selftest boots vm once over SelftestCases and returns each row's expected and actual answer.
// Rows that do not match are not an error; a VM that cannot run is.
func Selftest(ctx context.Context, vm *VM) ([]SelftestRow, error) {
	rows, _, err := SelftestStats(ctx, vm)
	return rows, err
}

// SelftestStats is Selftest that also reports the VM run's timing.
func SelftestStats(ctx context.Context, vm *VM) ([]SelftestRow, Stats, error) {
	cases, want, err := SelftestCases()
	if err != nil {
		return nil, Stats{}, err
	}
	res, st, err := vm.RunStats(ctx, cases)
	if err != nil {
		return nil, st, err
	}
	rows := make([]SelftestRow, len(cases))
	for i := range cases {
		rows[i] = SelftestRow{Vector: cases[i].Name, Want: want[i], Got: res[i].Errno, Detail: res[i].Detail}
	}
	return rows, st, nil
}
