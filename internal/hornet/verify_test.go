package hornet

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"github.com/bpfsig/bpfsig/compat"
	"math/big"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig/internal/cms"
)

// otherCert is a certificate for a key that did not sign anything here.
func otherCert(t *testing.T) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "not the signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{1, 2, 3}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signValue signs insn with a Hornet attribute whose value is exactly v (for malformed ones).
func signValue(t *testing.T, key crypto.Signer, cert *x509.Certificate, insn, v []byte) []byte {
	t.Helper()
	sig, err := cms.SignWithAttributes(insn, key, cert, cms.SignOptions{SignerID: cms.IssuerSerial},
		[]cms.Attribute{{RawType: oidContents, Values: [][]byte{v}}})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestTamper: each scenario gives the verdict Hornet v7's code gives (hornet_lsm.c, cited per
// row), and the error the BPF core's own signature check (6.18's bpf_prog_verify_signature,
// run before security_bpf_prog_load) gives for the same load.
func TestTamper(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	trust := []*x509.Certificate{cert}
	insn, data := goldenInsn(t), goldenMap(t, "map0") // a real lskel loader and its opts_data
	maps := []Map{{0, data}}
	sig, err := Sign(insn, maps, key, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gensig := readFile(t, "testdata/gen_sig/one-map.p7b") // the real tool's output, same inputs
	noMaps, err := Sign(insn, nil, key, cert, SignOptions{AllowNoMaps: true})
	if err != nil {
		t.Fatal(err)
	}
	twoMaps, err := Sign(insn, []Map{{0, data}, {1, make([]byte, 8)}}, key, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unpadded := data[:len(data)-3]
	unpaddedSig, err := Sign(insn, []Map{{0, unpadded}}, key, cert, SignOptions{AllowUnpadded: true})
	if err != nil {
		t.Fatal(err)
	}
	bpftool, err := cms.Sign(insn, key, cert, cms.SignOptions{}) // -noattr, SKID: what bpftool -S writes
	if err != nil {
		t.Fatal(err)
	}
	attrsOnly, err := cms.Sign(insn, key, cert, cms.SignOptions{SignerID: cms.IssuerSerial, SignedAttributes: true})
	if err != nil {
		t.Fatal(err)
	}
	skips := make([][]byte, 63)
	for i := range skips {
		skips[i] = mapDER([]byte{byte(i)}, nil)
	}
	h := MapHash(data)
	frozen := []FD{{Value: data}}

	type row struct {
		name  string
		load  Load
		trust []*x509.Certificate
		want  Verdict
		core  error // errno of the core check, nil for success
		cite  string
	}
	rows := []row{
		{"intact", LoadOf(insn, maps, sig), trust, OK, nil, "hornet_verify_hashes: every entry matched → LSM_INT_VERDICT_OK"},
		{"intact, gen_sig's own output", LoadOf(insn, maps, gensig), trust, OK, nil, "as intact"},
		{"unsigned", LoadOf(insn, maps, nil), trust, Unsigned, nil, "if (!attr->signature) → UNSIGNED"},
		{"signature_size 0", LoadOf(insn, maps, []byte{}), trust, BadSig, compat.EBADMSG, "if (!attr->signature_size) → BADSIG"},
		{"truncated signature", LoadOf(insn, maps, sig[:len(sig)-1]), trust, BadSig, compat.EBADMSG, "pkcs7_parse_message IS_ERR → BADSIG"},
		{"signature cut in half", LoadOf(insn, maps, sig[:len(sig)/2]), trust, BadSig, compat.EBADMSG, "pkcs7_parse_message IS_ERR → BADSIG"},
		{"garbage signature, unknown keyring", Load{Insn: insn, Signature: []byte("not pkcs7"), FDArray: frozen, UnknownKeyring: true}, trust, BadSig, compat.EBADMSG, "parse comes before the keyring lookup → BADSIG"},
		{"unknown keyring", Load{Insn: insn, Signature: sig, FDArray: frozen, UnknownKeyring: true}, trust, UnknownKey, nil, "lookup_user_key IS_ERR → UNKNOWNKEY (the core says EINVAL here; modelled trust only)"},
		{"flip insn byte", LoadOf(flip(insn, 100), maps, sig), trust, BadSig, compat.EKEYREJECTED, "verify_pkcs7_message_sig: messageDigest mismatch → BADSIG"},
		{"flip signature value byte", LoadOf(insn, maps, flip(sig, len(sig)-10)), trust, BadSig, compat.EKEYREJECTED, "verify_pkcs7_message_sig: RSA check fails → BADSIG"},
		{"flip Hornet attribute hash byte", LoadOf(insn, maps, flip(sig, bytes.Index(sig, h[:])+5)), trust, BadSig, compat.EKEYREJECTED, "the attribute is signed: verify_pkcs7_message_sig fails → BADSIG"},
		{"wrong key in keyring", LoadOf(insn, maps, sig), []*x509.Certificate{otherCert(t)}, BadSig, compat.ENOKEY, "verify_pkcs7_message_sig: ENOKEY → BADSIG, not UNKNOWNKEY"},
		{"empty keyring", LoadOf(insn, maps, sig), nil, BadSig, compat.ENOKEY, "verify_pkcs7_message_sig: ENOKEY → BADSIG"},
		{"bpftool -noattr signature", LoadOf(insn, maps, bpftool), trust, PartialSig, nil, "pkcs7_get_authattr: no authattrs → -ENODATA → PARTIALSIG"},
		{"signed attributes, no Hornet one", LoadOf(insn, maps, attrsOnly), trust, PartialSig, nil, "pkcs7_get_authattr → -ENODATA → PARTIALSIG"},
		{"flip map byte", LoadOf(insn, []Map{{0, flip(data, 7)}}, sig), trust, Unexpected, nil, "memcmp(hash, signed) != 0 → UNEXPECTED"},
		{"map dropped from fd_array", LoadOf(insn, nil, sig), trust, Fault, nil, "fd_array[0] unreadable / fd_empty → FAULT"},
		{"map not frozen", Load{Insn: insn, Signature: sig, FDArray: []FD{{Value: data, Unfrozen: true}}}, trust, Fault, nil, "!READ_ONCE(map->frozen) → FAULT"},
		{"fd is not a map", Load{Insn: insn, Signature: sig, FDArray: []FD{{NotMap: true}}}, trust, Fault, nil, "f_op != &bpf_map_fops → FAULT"},
		{"map type without hash op", Load{Insn: insn, Signature: sig, FDArray: []FD{{Value: data, NoHash: true}}}, trust, Fault, nil, "!map->ops->map_get_hash → FAULT"},
		{"extra map, not listed", LoadOf(insn, []Map{{0, data}, {1, []byte("unsigned")}}, sig), trust, OK, nil, "only listed entries are checked at load"},
		{"signature lists a map the loader lacks", LoadOf(insn, maps, twoMaps), trust, Fault, nil, "fd_array[1] past the loader's array → FAULT"},
		{"first entry decides: fd_array[0] mismatches, [1] absent", Load{Insn: insn, Signature: twoMaps, FDArray: []FD{{Value: flip(data, 0)}}}, trust, Unexpected, nil, "entries in encoding order: index 0 mismatches first → UNEXPECTED"},
		{"no maps signed (gen_sig without --add)", LoadOf(insn, maps, noMaps), trust, BadSig, nil, "empty SET OF Map: the mandatory Map match overruns → BADSIG"},
		{"gen_sig without --add, its own output", LoadOf(insn, maps, readFile(t, "testdata/gen_sig/no-maps.p7b")), trust, BadSig, nil, "as above"},
		{"value not padded to 8", LoadOf(insn, []Map{{0, unpadded}}, unpaddedSig), trust, Unexpected, nil, "gen_sig hashes the file, array_map_get_hash the padded element → UNEXPECTED"},
		{"skip entry, tampered map", LoadOf(insn, []Map{{0, flip(data, 1)}}, signValue(t, key, cert, insn, value(mapDER([]byte{0}, nil)))), trust, OK, nil, "zero-length sha: skips[i] → not checked"},
		{"63 skip entries", LoadOf(insn, nil, signValue(t, key, cert, insn, value(skips...))), trust, OK, nil, "hash_count 63 < MAX_USED_MAPS"},
		{"64 entries", LoadOf(insn, nil, signValue(t, key, cert, insn, value(append(skips, mapDER([]byte{63}, nil))...))), trust, BadSig, nil, "hornet_next_map: ++hash_count >= 64 → decoder fails → BADSIG"},
		{"index as two octets", LoadOf(insn, maps, signValue(t, key, cert, insn, value(mapDER([]byte{0, 0x80}, h[:])))), trust, BadSig, nil, "hornet_map_index: vlen != 1 → BADSIG"},
		{"hash of 31 bytes", LoadOf(insn, maps, signValue(t, key, cert, insn, value(mapDER([]byte{0}, h[:31])))), trust, BadSig, nil, "hornet_map_hash: vlen not 0 or 32 → BADSIG"},
		{"value is the bare SET", LoadOf(insn, maps, signValue(t, key, cert, insn, tlv(0x31, mapDER([]byte{0}, h[:])))), trust, BadSig, nil, "contents start with SEQUENCE, HornetData wants SET → BADSIG"},
		{"negative index -1", LoadOf(insn, maps, signValue(t, key, cert, insn, value(mapDER([]byte{0xff}, h[:])))), trust, Fault, nil, "*(u8 *)value = 255: fd_array[255] → FAULT"},
		{"unsorted entries", LoadOf(insn, []Map{{0, data}, {1, make([]byte, 8)}}, signValue(t, key, cert, insn, value(mapDER([]byte{1}, func() []byte { x := MapHash(make([]byte, 8)); return x[:] }()), mapDER([]byte{0}, h[:])))), trust, OK, nil, "the decoder does not check SET OF order"},
	}
	// A Hornet attribute with two values: pkcs7_aa_note_attr keeps the last in encoding order.
	twoValues := func(vals ...[]byte) []byte {
		sig, err := cms.SignWithAttributes(insn, key, cert, cms.SignOptions{SignerID: cms.IssuerSerial},
			[]cms.Attribute{{RawType: oidContents, Values: vals}})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	rows = append(rows,
		row{"two values, the last valid", LoadOf(insn, maps, twoValues([]byte{0x05, 0x00}, value(mapDER([]byte{0}, h[:])))), trust, OK, nil, "pkcs7_aa_note_attr: the last value wins"},
		row{"two values, the last an empty SET", LoadOf(insn, maps, twoValues(value(mapDER([]byte{0}, h[:])), []byte{0x31, 0x00})), trust, BadSig, nil, "last value's contents are empty: asn1_ber_decoder data overrun → BADSIG"},
	)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			res := Check(r.load, r.trust)
			if res.Verdict != r.want {
				t.Fatalf("verdict %v (%s: %v), want %v — %s", res.Verdict, res.Reason, res.Err, r.want, r.cite)
			}
			if res.Reason == "" {
				t.Fatal("no reason")
			}
			if Verify(r.load.Insn, nil, r.load.Signature, r.trust) == None {
				t.Fatal("Verify returned NONE")
			}
			core := CoreCheck(r.load, r.trust)
			switch {
			case r.core == nil && core != nil:
				t.Fatalf("core check: %v, want success", core)
			case r.core != nil && !errors.Is(core, r.core):
				t.Fatalf("core check: %v, want %v", core, r.core)
			}
		})
	}
}

// Verify is Check over LoadOf.
func TestVerifyWrapper(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	insn, data := goldenInsn(t), goldenMap(t, "map0")
	sig, err := Sign(insn, []Map{{0, data}}, key, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trust := []*x509.Certificate{cert}
	for _, c := range []struct {
		maps []Map
		want Verdict
	}{
		{[]Map{{0, data}}, OK},
		{[]Map{{0, flip(data, 3)}}, Unexpected},
		{nil, Fault},
		{[]Map{{2, data}}, Fault},
	} {
		if got := Verify(insn, c.maps, sig, trust); got != c.want {
			t.Errorf("maps %v: %v, want %v", len(c.maps), got, c.want)
		}
	}
	if got := Verify(insn, nil, nil, trust); got != Unsigned {
		t.Errorf("unsigned: %v", got)
	}
}

func TestVerdictNames(t *testing.T) {
	want := []string{"NONE", "OK", "UNSIGNED", "PARTIALSIG", "UNKNOWNKEY", "UNEXPECTED", "FAULT", "BADSIG"}
	for i, w := range want {
		if Verdict(i).String() != w || Verdict(i).KernelName() != "LSM_INT_VERDICT_"+w {
			t.Errorf("Verdict(%d) = %s / %s", i, Verdict(i), Verdict(i).KernelName())
		}
	}
	if BadSig != 7 || OK != 1 {
		t.Error("kernel values changed")
	}
	if Verdict(8).String() != "Verdict(8)" {
		t.Error(Verdict(8).String())
	}
}

func TestInspect(t *testing.T) {
	info, err := Inspect(readFile(t, "testdata/gen_sig/three-maps.p7b"))
	if err != nil {
		t.Fatal(err)
	}
	if info.EntriesErr != nil || len(info.Entries) != 3 {
		t.Fatalf("entries %v, %v", info.Entries, info.EntriesErr)
	}
	for i, idx := range []int64{0, 2, 5} { // DER order
		if info.Entries[i].Index != idx {
			t.Fatalf("entries %v", info.Entries)
		}
	}
	if m := MapHash(goldenMap(t, "map5")); !bytes.Equal(info.Entries[2].Hash, m[:]) {
		t.Fatal("map5 hash")
	}
	if info.SigningTime.IsZero() || info.SigningTime.Year() != 2026 {
		t.Fatalf("signing time %v", info.SigningTime)
	}
	bpftool, err := cms.Sign([]byte("x"), testKey(t), testCert(t), cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(bpftool); !errors.Is(err, ErrNotHornet) {
		t.Fatalf("bpftool signature: %v", err)
	}
	if IsHornet(bpftool) || IsHornet([]byte{0x30}) || !IsHornet(readFile(t, "testdata/gen_sig/no-maps.p7b")) {
		t.Fatal("IsHornet")
	}
}

// TestRunCheck: Hornet's BPF_PROG_RUN recheck (hornet_check_prog_maps).
func TestRunCheck(t *testing.T) {
	key, cert := testKey(t), testCert(t)
	trust := []*x509.Certificate{cert}
	insn, data := goldenInsn(t), goldenMap(t, "map0")
	h := MapHash(data)
	sign := func(v []byte) []byte { return signValue(t, key, cert, insn, v) }
	one, err := Sign(insn, []Map{{0, data}}, key, cert, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	none, err := Sign(insn, nil, key, cert, SignOptions{AllowNoMaps: true})
	if err != nil {
		t.Fatal(err)
	}
	loader := []FD{{Value: data}}
	other := FD{Value: []byte("another map, frozen")}
	for _, c := range []struct {
		name    string
		sig     []byte
		fds     []FD
		used    []FD
		verdict Verdict
		denied  bool
		cite    string
	}{
		{"intact", one, loader, loader, OK, false, "every used map found, covered == signed_hash_count"},
		{"no maps signed", none, loader, loader, BadSig, false, "nothing recorded: !signed_hash_count → 0"},
		{"only a skip entry", sign(value(mapDER([]byte{0}, nil))), loader, loader, OK, false, "skipped entries are not recorded"},
		{"index listed twice", sign(value(mapDER([]byte{0}, h[:]), mapDER([]byte{0}, h[:]))), loader, loader, OK, true, "2 recorded hashes, 1 covered map → -EPERM"},
		{"unsigned used map, frozen", one, loader, []FD{{Value: data}, other}, OK, true, "used map hash not found → -EPERM"},
		{"unsigned used map, not frozen", one, loader, []FD{{Value: data}, {Value: other.Value, Unfrozen: true}}, OK, false, "!frozen → skipped"},
		{"unsigned load", nil, loader, loader, Unsigned, false, "nothing recorded"},
		{"load UNEXPECTED after a match", sign(value(mapDER([]byte{0}, h[:]), mapDER([]byte{1}, make([]byte, 32)))), []FD{{Value: data}, other}, loader, Unexpected, false, "entry 0 was recorded before entry 1 failed; if the policy LSM let the load through, 1 recorded hash and 1 covered map allow the run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := Check(Load{Insn: insn, Signature: c.sig, FDArray: c.fds}, trust)
			if res.Verdict != c.verdict {
				t.Fatalf("load verdict %v (%s), want %v", res.Verdict, res.Reason, c.verdict)
			}
			err := RunCheck(c.used, res)
			if denied := errors.Is(err, ErrRunDenied); denied != c.denied {
				t.Fatalf("RunCheck: %v, want denied=%v — %s", err, c.denied, c.cite)
			}
		})
	}
}
