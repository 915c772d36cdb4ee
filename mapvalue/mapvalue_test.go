package mapvalue_test

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/mapvalue"
)

// signFile finds the kernel's scripts/sign-file from Debian's linux-kbuild-* packages.
func signFile(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BPFSIG_SIGN_FILE"); p != "" {
		return p
	}
	m, _ := filepath.Glob("/usr/lib/linux-kbuild-*/scripts/sign-file")
	if len(m) == 0 {
		t.Skip("scripts/sign-file not installed (apt-get install linux-kbuild-6.1)")
	}
	return m[len(m)-1]
}

// payload returns n deterministic bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + 1)
	}
	return b
}

// TestSignMatchesSignFile checks that the part after the length word is byte for byte what
// sign-file appends, for both signer-id forms, several data sizes and digests.
func TestSignMatchesSignFile(t *testing.T) {
	tool := signFile(t)
	s := testfix.Signer(t)
	dir := t.TempDir()
	compared := 0
	defer func() { t.Logf("%d values byte-identical to sign-file's output", compared) }()
	for _, size := range []int{1, 2, 31, 64, 1000, 4096, 65537} {
		for _, form := range []mapvalue.SignerID{mapvalue.IssuerSerial, mapvalue.SubjectKeyID} {
			for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
				data := payload(size)
				in := filepath.Join(dir, "data")
				out := filepath.Join(dir, "data.signed")
				if err := os.WriteFile(in, data, 0o600); err != nil {
					t.Fatal(err)
				}
				args := []string{}
				if form == mapvalue.SubjectKeyID {
					args = append(args, "-k")
				}
				hn := map[crypto.Hash]string{crypto.SHA256: "sha256", crypto.SHA384: "sha384", crypto.SHA512: "sha512"}[h]
				args = append(args, hn, testfix.KeyPath, testfix.CertPath, in, out)
				if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
					t.Fatalf("sign-file %v: %v\n%s", args, err, msg)
				}
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				got, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{SignerID: form, Digest: h})
				if err != nil {
					t.Fatal(err)
				}
				if n := binary.BigEndian.Uint32(got); int(n) != len(want) {
					t.Errorf("size %d %v %s: length word %d, sign-file output is %d bytes", size, form, hn, n, len(want))
				}
				if !bytes.Equal(got[4:], want) {
					t.Errorf("size %d %v %s: value differs from sign-file's output (%d vs %d bytes)", size, form, hn, len(got)-4, len(want))
				} else {
					compared++
				}
				r, err := mapvalue.Verify(got, testfix.Certs(t))
				if err != nil {
					t.Fatalf("size %d %v: %v", size, form, err)
				}
				if r.VerifiedLen != size || r.SignerID != form || r.Digest != hn {
					t.Errorf("size %d %v %s: result %+v", size, form, hn, r)
				}
			}
		}
	}
}

func TestSignPaddingAndUnverified(t *testing.T) {
	s := testfix.Signer(t)
	data := []byte("policy v1")
	unv := []byte("not signed")
	v, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{Unverified: unv, ValueSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1024 {
		t.Fatalf("value is %d bytes, want 1024", len(v))
	}
	r, err := mapvalue.Verify(v, testfix.Certs(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Value.Data, data) || !bytes.HasPrefix(r.Value.Unverified, unv) {
		t.Fatalf("parts: data %q unverified %q", r.Value.Data, r.Value.Unverified[:len(unv)])
	}
	if r.Value.UnverifiedOffset() != 4+int(r.Value.Length) {
		t.Errorf("unverified offset %d, want 4+N = %d", r.Value.UnverifiedOffset(), 4+r.Value.Length)
	}
	if rest := r.Value.Unverified[len(unv):]; !bytes.Equal(rest, make([]byte, len(rest))) {
		t.Error("padding is not zero")
	}
	// The unverified part is not covered: changing it keeps the value valid.
	for i := r.Value.UnverifiedOffset(); i < len(v); i += 97 {
		w := bytes.Clone(v)
		w[i] ^= 0xff
		if _, err := mapvalue.Verify(w, testfix.Certs(t)); err != nil {
			t.Errorf("flipping unverified byte %d: %v", i, err)
		}
	}
	// Too small a value size is refused.
	need := len(data) + 4 + len(r.Value.Signature) + 12 + 28 + len(unv)
	if _, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{Unverified: unv, ValueSize: need - 1}); err == nil {
		t.Error("value size one byte short was accepted")
	}
	if v, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{Unverified: unv, ValueSize: need}); err != nil || len(v) != need {
		t.Errorf("exact value size: %d bytes, %v", len(v), err)
	}
	if _, err := mapvalue.Sign(nil, s.Key, s.Cert, mapvalue.SignOptions{}); err == nil {
		t.Error("empty data was signed; the kernel rejects it")
	}
	if _, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{ValueSize: mapvalue.MaxValueSize + 1}); err == nil {
		t.Error("value size above the array map limit was accepted")
	}
}

// build assembles be32 n ‖ body without any checks.
func build(n uint32, body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, n), body...)
}

// withInfo returns a value whose module_signature is ms, over data ‖ sig.
func withInfo(data, sig []byte, ms [12]byte) []byte {
	body := append(append(append(bytes.Clone(data), sig...), ms[:]...), mapvalue.Marker...)
	return build(uint32(len(body)), body)
}

func goodInfo(sigLen int) [12]byte {
	var ms [12]byte
	ms[2] = mapvalue.PKeyIDPKCS7
	binary.BigEndian.PutUint32(ms[8:], uint32(sigLen))
	return ms
}

type errCase struct {
	name  string
	value []byte
	errno compat.Errno
	check mapvalue.Check
}

// structuralCases covers every check of bpf_map_verify_value_sig before the PKCS#7 one.
func structuralCases(t *testing.T, good []byte) []errCase {
	v, err := mapvalue.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	data, sig := v.Data, v.Signature
	var cs []errCase
	// 1. Nothing after the length word.
	for n := 0; n <= 4; n++ {
		cs = append(cs, errCase{"short value " + itoa(n), good[:n], compat.ENOENT, mapvalue.CheckSize})
	}
	// 2. Length word beyond the value: every prefix of the good value that cuts into the
	// signed part.
	for cut := 5; cut < 4+int(v.Length); cut += 1 + cut/16 {
		cs = append(cs, errCase{"prefix " + itoa(cut), good[:cut], compat.EINVAL, mapvalue.CheckLength})
	}
	cs = append(cs, errCase{"length one past the end", build(v.Length+1, good[4:4+v.Length]), compat.EINVAL, mapvalue.CheckLength})
	cs = append(cs, errCase{"length 0xffffffff", build(0xffffffff, good[4:]), compat.EINVAL, mapvalue.CheckLength})
	// 3. Length too small for the marker, or not ending in it.
	for n := 0; n <= len(mapvalue.Marker); n++ {
		cs = append(cs, errCase{"length " + itoa(n), build(uint32(n), good[4:]), compat.ENOENT, mapvalue.CheckMarker})
	}
	for i := range len(mapvalue.Marker) {
		w := bytes.Clone(good)
		w[4+int(v.Length)-len(mapvalue.Marker)+i] ^= 0x20
		cs = append(cs, errCase{"marker byte " + itoa(i), w, compat.ENOENT, mapvalue.CheckMarker})
	}
	cs = append(cs, errCase{"length one short", build(v.Length-1, good[4:]), compat.ENOENT, mapvalue.CheckMarker})
	// 4. No room for module_signature and a byte of data.
	for k := 1; k <= mapvalue.ModuleSignatureSize; k++ {
		body := append(payload(k), mapvalue.Marker...)
		cs = append(cs, errCase{"signed part of " + itoa(k) + " before the marker", build(uint32(len(body)), body), compat.EBADMSG, mapvalue.CheckInfo})
	}
	// 5. mod_check_sig: sig_len must leave data.
	for _, extra := range []int{0, 1, 1000, 1 << 31} {
		ms := goodInfo(len(sig) + len(data) + extra)
		cs = append(cs, errCase{"sig_len covers data +" + itoa(extra), withInfo(data, sig, ms), compat.EBADMSG, mapvalue.CheckSigLen})
	}
	// sig_len check comes before id_type.
	{
		ms := goodInfo(len(sig) + len(data))
		ms[2] = 1
		cs = append(cs, errCase{"sig_len and id_type both bad", withInfo(data, sig, ms), compat.EBADMSG, mapvalue.CheckSigLen})
	}
	for id := range 256 {
		if id == mapvalue.PKeyIDPKCS7 {
			continue
		}
		ms := goodInfo(len(sig))
		ms[2] = byte(id)
		cs = append(cs, errCase{"id_type " + itoa(id), withInfo(data, sig, ms), compat.ENOPKG, mapvalue.CheckIDType})
	}
	// id_type comes before the zero fields.
	{
		ms := goodInfo(len(sig))
		ms[2], ms[0] = 0, 1
		cs = append(cs, errCase{"id_type and algo both bad", withInfo(data, sig, ms), compat.ENOPKG, mapvalue.CheckIDType})
	}
	for _, i := range []int{0, 1, 3, 4, 5, 6, 7} {
		for _, b := range []byte{1, 0x80, 0xff} {
			ms := goodInfo(len(sig))
			ms[i] = b
			cs = append(cs, errCase{"module_signature byte " + itoa(i) + "=" + itoa(int(b)), withInfo(data, sig, ms), compat.EBADMSG, mapvalue.CheckZeroField})
		}
	}
	return cs
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestVerifyErrnos(t *testing.T) {
	s := testfix.Signer(t)
	data := []byte("allowed: /usr/bin/loader\n")
	good, err := mapvalue.Sign(data, s.Key, s.Cert, mapvalue.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trust := testfix.Certs(t)
	v, _ := mapvalue.Parse(good)
	sigOff := v.SignatureOffset()
	cases := structuralCases(t, good)

	// 6. The PKCS#7 verdicts.
	flip := func(off int) []byte { w := bytes.Clone(good); w[off] ^= 1; return w }
	replace := func(old, new []byte) []byte {
		i := bytes.Index(good[sigOff:], old)
		if i < 0 || len(old) != len(new) {
			t.Fatalf("cannot find %x in the signature", old)
		}
		w := bytes.Clone(good)
		copy(w[sigOff+i:], new)
		return w
	}
	oidRSA := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	oidSHA256RSA := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}
	oidSignedData := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	oidData := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}
	other := testfix.P256Signer(t)
	otherSig, err := mapvalue.Sign(data, other.Key, other.Cert, mapvalue.SignOptions{SignerID: mapvalue.SubjectKeyID})
	if err != nil {
		t.Fatal(err)
	}
	garbage := withInfo(data, bytes.Repeat([]byte{0x30}, 40), goodInfo(40))
	shortSig := withInfo(data, v.Signature[:len(v.Signature)-1], goodInfo(len(v.Signature)-1))
	cases = append(cases,
		errCase{"data flipped", flip(4), compat.EKEYREJECTED, mapvalue.CheckPKCS7},
		errCase{"last data byte flipped", flip(sigOff - 1), compat.EKEYREJECTED, mapvalue.CheckPKCS7},
		errCase{"signature value flipped", flip(v.InfoOffset() - 1), compat.EKEYREJECTED, mapvalue.CheckPKCS7},
		errCase{"unknown signer", otherSig, compat.ENOKEY, mapvalue.CheckPKCS7},
		errCase{"PKCS#7 not DER", garbage, compat.EBADMSG, mapvalue.CheckPKCS7},
		errCase{"PKCS#7 truncated", shortSig, compat.EBADMSG, mapvalue.CheckPKCS7},
		errCase{"sha256WithRSAEncryption", replace(oidRSA, oidSHA256RSA), compat.ENOPKG, mapvalue.CheckPKCS7},
		errCase{"outer type not signedData", replace(oidSignedData, oidData), compat.EINVAL, mapvalue.CheckPKCS7},
	)
	for _, c := range cases {
		r, err := mapvalue.Verify(c.value, trust)
		if err == nil {
			t.Errorf("%s: accepted (verified %d bytes)", c.name, r.VerifiedLen)
			continue
		}
		if !errors.Is(err, c.errno) {
			t.Errorf("%s: %v (%s), want %s", c.name, err, kerrno.Name(err), kerrno.NameOf(c.errno))
		}
		var me *mapvalue.Error
		if !errors.As(err, &me) || me.Check != c.check {
			t.Errorf("%s: check %v, want %s (%v)", c.name, me, c.check, err)
		}
	}
	t.Logf("%d refusal cases", len(cases))
	if _, err := mapvalue.Verify(good, trust); err != nil {
		t.Fatalf("good value: %v", err)
	}
	// No 8192-byte limit as for BPF_PROG_LOAD: the kernel's PKCS#7 decoder ignores bytes after
	// the ContentInfo, so a blob padded past 8 KiB still verifies.
	big := append(bytes.Clone(v.Signature), make([]byte, 9000)...)
	if r, err := mapvalue.Verify(withInfo(data, big, goodInfo(len(big))), trust); err != nil || r.VerifiedLen != len(data) {
		t.Errorf("PKCS#7 blob of %d bytes: %v", len(big), err)
	}
	if _, err := mapvalue.Verify(good, nil); !errors.Is(err, compat.ENOKEY) {
		t.Errorf("empty keyring: %v, want ENOKEY", err)
	}
}

// TestParseEveryPrefix checks the length rule on every prefix of a padded value: ENOENT up
// to 4 bytes, EINVAL while the length word points past the end, accepted from 4+N on.
func TestParseEveryPrefix(t *testing.T) {
	s := testfix.Signer(t)
	good, err := mapvalue.Sign(payload(100), s.Key, s.Cert, mapvalue.SignOptions{ValueSize: 700})
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.BigEndian.Uint32(good))
	for l := 0; l <= len(good); l++ {
		_, err := mapvalue.Parse(good[:l])
		var want compat.Errno
		switch {
		case l <= 4:
			want = compat.ENOENT
		case l < 4+n:
			want = compat.EINVAL
		}
		if got, _ := kerrno.Of(err); got != want {
			t.Fatalf("prefix %d: %v, want %s", l, err, kerrno.NameOf(want))
		}
	}
}
