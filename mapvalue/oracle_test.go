package mapvalue_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/oracle"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/mapvalue"
)

// TestOraclePKCS7 asks a real kernel (internal/oracle: bpf_verify_pkcs7_signature, which
// calls verify_pkcs7_signature with VERIFYING_UNSPECIFIED_SIGNATURE, as
// bpf_map_verify_value_sig does) to judge the PKCS#7 part of signed map values, and
// compares its errno with Verify's. The structural checks before it are Sassu's patch's own
// code, which no released kernel runs; they are covered by TestVerifyErrnos.
func TestOraclePKCS7(t *testing.T) {
	if os.Getenv("BPFSIG_ORACLE") != "1" {
		t.Skip("kernel oracle VM tests are off: set BPFSIG_ORACLE=1; they need `make oracle-deps`")
	}
	vm, err := oracle.Find()
	if err != nil {
		t.Fatalf("BPFSIG_ORACLE=1 but: %v", err)
	}
	s := testfix.Signer(t)
	other := testfix.P256Signer(t)
	var values [][]byte
	var names []string
	add := func(name string, v []byte) { names = append(names, name); values = append(values, v) }
	for _, n := range []int{1, 100, 4096} {
		for _, form := range []mapvalue.SignerID{mapvalue.IssuerSerial, mapvalue.SubjectKeyID} {
			v, err := mapvalue.Sign(payload(n), s.Key, s.Cert, mapvalue.SignOptions{SignerID: form, ValueSize: 8192})
			if err != nil {
				t.Fatal(err)
			}
			add("size "+itoa(n)+" "+form.String(), v)
			w := bytes.Clone(v)
			w[4] ^= 1
			add("size "+itoa(n)+" "+form.String()+" data flipped", w)
		}
	}
	v, _ := mapvalue.Sign(payload(50), other.Key, other.Cert, mapvalue.SignOptions{SignerID: mapvalue.SubjectKeyID})
	add("unknown signer", v)
	good, _ := mapvalue.Sign(payload(50), s.Key, s.Cert, mapvalue.SignOptions{})
	p, _ := mapvalue.Parse(good)
	big := append(bytes.Clone(p.Signature), make([]byte, 9000)...)
	add("PKCS#7 with 9000 trailing bytes", withInfo(p.Data, big, goodInfo(len(big))))
	trunc := p.Signature[:len(p.Signature)-10]
	add("PKCS#7 truncated", withInfo(p.Data, trunc, goodInfo(len(trunc))))
	flipSig := bytes.Clone(p.Signature)
	flipSig[len(flipSig)-1] ^= 1
	add("signature value flipped", withInfo(p.Data, flipSig, goodInfo(len(flipSig))))

	trust := testfix.Certs(t)
	var cases []oracle.Case
	var want []string
	for i, v := range values {
		pv, err := mapvalue.Parse(v)
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		cases = append(cases, oracle.Case{Name: names[i], Content: pv.Data, Signature: pv.Signature, Certs: [][]byte{s.Cert.Raw}})
		_, err = mapvalue.Verify(v, trust)
		want = append(want, kerrno.Name(err))
	}
	res, err := vm.Run(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i, r := range res {
		got := kerrno.NameOf(r.Errno)
		if got != want[i] {
			t.Errorf("%s: kernel %q, model %q (%s)", names[i], got, want[i], r.Detail)
			continue
		}
		agree++
	}
	t.Logf("%d map-value PKCS#7 cases: kernel and model agree on %d", len(res), agree)
}
