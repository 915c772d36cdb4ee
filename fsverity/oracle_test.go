package fsverity_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bpfsig/bpfsig/fsverity"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/oracle"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// TestOracleSignatures asks a real kernel (internal/oracle: the bpf_verify_pkcs7_signature
// kfunc a BPF LSM gate calls, VERIFYING_UNSPECIFIED_SIGNATURE like fs-verity's built-in
// signatures) to judge fsverity_formatted_digest signatures, ours and `fsverity sign`'s,
// and compares its errno with Verify's.
func TestOracleSignatures(t *testing.T) {
	if os.Getenv("BPFSIG_ORACLE") != "1" {
		t.Skip("kernel oracle VM tests are off: set BPFSIG_ORACLE=1; they need `make oracle-deps`")
	}
	vm, err := oracle.Find()
	if err != nil {
		t.Fatalf("BPFSIG_ORACLE=1 but: %v", err)
	}
	s := testfix.Signer(t)
	stranger := testfix.P256Signer(t)
	_, haveTool := exec.LookPath("fsverity")
	dir := t.TempDir()
	type tc struct {
		name string
		d    *fsverity.FileDigest
		sig  []byte
	}
	var cs []tc
	for _, n := range []int{0, 4097, 1 << 20} {
		for _, p := range []fsverity.Params{{}, {Algorithm: fsverity.SHA512}} {
			d, err := fsverity.Compute(bytes.NewReader(content(n)), int64(n), p)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			name := strconv.Itoa(n) + " " + d.Algorithm.String()
			cs = append(cs, tc{name, d, sig})
			other := &fsverity.FileDigest{Algorithm: d.Algorithm, Digest: bytes.Clone(d.Digest)}
			other.Digest[0] ^= 1
			cs = append(cs, tc{name + " other digest", other, sig})
			if haveTool == nil {
				f := writeFile(t, dir, "f", content(n))
				out := filepath.Join(dir, "sig")
				args := append([]string{"sign", f, out, "--key=" + testfix.KeyPath, "--cert=" + testfix.CertPath}, paramArgs(p)...)
				if msg, err := exec.Command("fsverity", args...).CombinedOutput(); err != nil {
					t.Fatalf("fsverity sign: %v %s", err, msg)
				}
				ref, _ := os.ReadFile(out)
				cs = append(cs, tc{name + " fsverity sign", d, ref})
			}
		}
	}
	d := cs[0].d
	ss, err := fsverity.Sign(d, stranger.Key, stranger.Cert, fsverity.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	skid, err := fsverity.Sign(d, s.Key, s.Cert, fsverity.SignOptions{SubjectKeyID: true})
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, tc{"unknown signer", d, ss}, tc{"skid signer", d, skid},
		tc{"zero-padded to 1024 as the selftest gate reads it", d, append(bytes.Clone(cs[0].sig), make([]byte, 1024-len(cs[0].sig))...)},
		tc{"truncated", d, cs[0].sig[:len(cs[0].sig)-1]})

	var cases []oracle.Case
	var want []string
	for _, c := range cs {
		cases = append(cases, oracle.Case{Name: c.name, Content: c.d.Formatted(), Signature: c.sig, Certs: [][]byte{s.Cert.Raw}})
		_, err := fsverity.Verify(c.d, c.sig, testfix.Certs(t))
		want = append(want, kerrno.Name(err))
	}
	res, err := vm.Run(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i, r := range res {
		if got := kerrno.NameOf(r.Errno); got != want[i] {
			t.Errorf("%s: kernel %q, model %q (%s)", cs[i].name, got, want[i], r.Detail)
			continue
		}
		agree++
	}
	t.Logf("%d fs-verity signature cases: kernel and model agree on %d", len(res), agree)
}
