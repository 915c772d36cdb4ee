package twophase_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/twophase"
)

func TestParseSignature(t *testing.T) {
	der, err := cms.Sign([]byte("x"), testfix.Signer(t).Key, testfix.Cert(t), cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	rawRSA := bytes.Repeat([]byte{0x30}, 256) // a bare signature that happens to start like DER
	cases := []struct {
		name   string
		in     []byte
		format twophase.Format
		want   twophase.Format
		bytes  []byte
		err    string
	}{
		{"empty", nil, twophase.Auto, 0, nil, "empty"},
		{"too large", make([]byte, twophase.MaxSignatureFile+1), twophase.Auto, 0, nil, "exceeds"},
		{"der auto", der, twophase.Auto, twophase.CMS, der, ""},
		{"der cms", der, twophase.CMS, twophase.CMS, der, ""},
		{"der raw is taken raw", der, twophase.Raw, twophase.Raw, der, ""},
		{"pem PKCS7", pemOf("PKCS7", der), twophase.Auto, twophase.CMS, der, ""},
		{"pem CMS", pemOf("CMS", der), twophase.CMS, twophase.CMS, der, ""},
		{"pem leading space", append([]byte("\n "), pemOf("PKCS7", der)...), twophase.Auto, twophase.CMS, der, ""},
		{"pem wrong type", pemOf("CERTIFICATE", der), twophase.Auto, 0, nil, "not PKCS7"},
		{"pem trailing data", append(pemOf("PKCS7", der), "junk"...), twophase.Auto, 0, nil, "after the PEM"},
		{"pem two blocks", append(pemOf("PKCS7", der), pemOf("PKCS7", der)...), twophase.Auto, 0, nil, "after the PEM"},
		{"pem malformed", []byte("-----BEGIN PKCS7-----\nnot base64"), twophase.Auto, 0, nil, "malformed PEM"},
		{"pem as raw", pemOf("PKCS7", der), twophase.Raw, 0, nil, "PEM"},
		{"raw auto", rawRSA, twophase.Auto, twophase.Raw, rawRSA, ""},
		{"raw short", []byte{0x30}, twophase.Auto, twophase.Raw, []byte{0x30}, ""},
		{"unknown format", der, twophase.Format(9), 0, nil, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := twophase.ParseSignature(c.in, c.format)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Format != c.want || !bytes.Equal(s.Bytes, c.bytes) {
				t.Fatalf("got %v %d bytes, want %v %d bytes", s.Format, len(s.Bytes), c.want, len(c.bytes))
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]twophase.Format{"": twophase.Auto, "auto": twophase.Auto, "CMS": twophase.CMS, "pkcs7": twophase.CMS, " raw ": twophase.Raw} {
		if got, err := twophase.ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := twophase.ParseFormat("der"); err == nil {
		t.Error("ParseFormat(der) accepted")
	}
}

// TestAttachNeedsContentSignature: a scheme whose signer covers signed attributes (hornet)
// cannot take a bare signature over the content; a CMS made by bpfsig is still accepted.
func TestAttachRawNeedsPlainProfile(t *testing.T) {
	sk, err := bpfsig.Open(testfix.SkelPath("raw"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpfsig.Prepare(sk, bpfsig.Target{Scheme: "hornet"})
	if err != nil {
		t.Skipf("hornet not registered: %v", err)
	}
	s := testfix.Signer(t)
	_, err = twophase.AttachVerified(p, &twophase.Signature{Format: twophase.Raw, Bytes: make([]byte, 256)}, s.Cert, twophase.Options{})
	if err == nil || !strings.Contains(err.Error(), "signed attributes") {
		t.Fatalf("error %v, want the signed-attributes refusal", err)
	}
	signed, err := p.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := twophase.AttachVerified(p, &twophase.Signature{Format: twophase.CMS, Bytes: signed.Sig()}, s.Cert, twophase.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Skeleton.Bytes(), signed.Bytes()) || !got.Kept {
		t.Fatalf("hornet CMS: identical %v, kept %v", bytes.Equal(got.Skeleton.Bytes(), signed.Bytes()), got.Kept)
	}
	if _, err := twophase.AttachVerified(p, &twophase.Signature{Format: twophase.CMS, Bytes: signed.Sig()}, s.Cert, twophase.Options{Normalize: true}); err == nil {
		t.Fatal("--normalize re-encoded a CMS with signed attributes")
	}
}

func TestAttachArguments(t *testing.T) {
	sk, _ := bpfsig.Open(testfix.SkelPath("raw"))
	p, _ := bpfsig.Prepare(sk, bpfsig.Target{})
	sig := &twophase.Signature{Format: twophase.CMS, Bytes: []byte{0x30, 0}}
	if _, err := twophase.AttachVerified(nil, sig, testfix.Cert(t), twophase.Options{}); err == nil {
		t.Error("nil prepared accepted")
	}
	if _, err := twophase.AttachVerified(p, nil, testfix.Cert(t), twophase.Options{}); err == nil {
		t.Error("nil signature accepted")
	}
	if _, err := twophase.AttachVerified(p, sig, nil, twophase.Options{}); err == nil {
		t.Error("nil certificate accepted")
	}
	if _, err := twophase.AttachVerified(p, sig, testfix.Cert(t), twophase.Options{}); !errors.Is(err, compat.EBADMSG) {
		t.Errorf("malformed CMS: %v, want EBADMSG", err)
	}
	if _, err := twophase.AttachVerified(p, &twophase.Signature{Format: twophase.Auto, Bytes: sig.Bytes}, testfix.Cert(t), twophase.Options{}); err == nil {
		t.Error("an undecided format accepted")
	}
}

func writeManifest(t *testing.T, dir string, m any) string {
	t.Helper()
	b, _ := json.Marshal(m)
	p := filepath.Join(dir, twophase.ManifestName)
	os.WriteFile(p, b, 0o644)
	return p
}

func TestLoadManifest(t *testing.T) {
	h := strings.Repeat("ab", 32)
	good := func() map[string]any {
		return map[string]any{"version": 1, "entries": []map[string]any{{"name": "d/a.skel.h", "source": "src/d/a.skel.h", "tbs": "d/a.skel.h.tbs",
			"source_sha256": h, "tbs_sha256": h, "tbs_size": 3, "scheme": "legacy", "generation": "v2"}}}
	}
	entry := func(m map[string]any) map[string]any { return m["entries"].([]map[string]any)[0] }
	cases := []struct {
		name string
		edit func(m map[string]any)
		err  string
	}{
		{"good", func(map[string]any) {}, ""},
		{"version", func(m map[string]any) { m["version"] = 2 }, "version 2"},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }, "unknown field"},
		{"absolute name", func(m map[string]any) { entry(m)["name"] = "/etc/a"; entry(m)["tbs"] = "/etc/a.tbs" }, "clean relative"},
		{"dotdot name", func(m map[string]any) { entry(m)["name"] = "../a"; entry(m)["tbs"] = "../a.tbs" }, "clean relative"},
		{"inner dotdot", func(m map[string]any) { entry(m)["name"] = "d/../../a"; entry(m)["tbs"] = "d/../../a.tbs" }, "clean relative"},
		{"backslash", func(m map[string]any) { entry(m)["name"] = `d\a`; entry(m)["tbs"] = `d\a.tbs` }, "clean relative"},
		{"empty name", func(m map[string]any) { entry(m)["name"] = ""; entry(m)["tbs"] = ".tbs" }, "clean relative"},
		{"tbs elsewhere", func(m map[string]any) { entry(m)["tbs"] = "other.tbs" }, "is not"},
		{"short hash", func(m map[string]any) { entry(m)["tbs_sha256"] = "abcd" }, "SHA-256"},
		{"bad hex", func(m map[string]any) { entry(m)["source_sha256"] = strings.Repeat("zz", 32) }, "SHA-256"},
		{"unknown scheme", func(m map[string]any) { entry(m)["scheme"] = "nope" }, "nope"},
		{"bad generation", func(m map[string]any) { entry(m)["generation"] = "v9" }, "v9"},
		{"duplicate", func(m map[string]any) {
			m["entries"] = append(m["entries"].([]map[string]any), entry(m))
		}, "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.edit(m)
			_, err := twophase.LoadManifest(writeManifest(t, t.TempDir(), m))
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
		})
	}
}

// copyTree copies the fixtures into a source tree: NAME.skel.h at the top and under sub/.
func copyTree(t *testing.T, names ...string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	for i, n := range names {
		d := src
		if i%2 == 1 {
			d = filepath.Join(src, "sub")
		}
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, n+".skel.h"), testfix.Bytes(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// TestTree: tbs --out, sign-file over each .tbs, attach --sigs: the outputs are what bpfsig
// sign writes; a source edited in between, a missing signature, a signature for another
// skeleton and a target changed since are refused, and nothing is written for them.
func TestTree(t *testing.T) {
	needSignFile(t)
	src := copyTree(t, "legacy-v1", "legacy-v2", "chain", "unsigned")
	tbsDir := filepath.Join(t.TempDir(), "tbs")
	o := twophase.TreeOptions{Target: bpfsig.Target{Scheme: compat.Legacy}}
	m, res, err := twophase.WriteTree([]string{src}, tbsDir, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 4 || len(res) != 4 {
		t.Fatalf("%d entries, %d results", len(m.Entries), len(res))
	}
	for _, e := range m.Entries {
		tbs := readFile(t, filepath.Join(tbsDir, filepath.FromSlash(e.TBS)))
		sk, _ := bpfsig.Open(e.Source)
		p, _ := bpfsig.Prepare(sk, bpfsig.Target{Scheme: compat.Legacy})
		if !bytes.Equal(tbs, p.Content()) || e.Scheme != "legacy" || e.Generation != "v2" || e.TBSSize != len(tbs) {
			t.Fatalf("entry %+v does not describe its TBS", e)
		}
		runTool(t, signFile, "-dk", "sha256", testfix.KeyPath, testfix.CertPath, filepath.Join(tbsDir, filepath.FromSlash(e.TBS)))
	}
	// One signature under the .sig name, the others as sign-file left them.
	first := filepath.Join(tbsDir, filepath.FromSlash(m.Entries[0].Name))
	if err := os.Rename(first+".tbs.p7s", first+".sig"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	ao := twophase.AttachTreeOptions{Sigs: tbsDir, Cert: testfix.Cert(t), Out: out}
	res, err = twophase.AttachTree([]string{src}, ao)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != twophase.Written {
			t.Fatalf("%s: %s: %s", r.Source, r.Outcome, r.Reason)
		}
		sk, _ := bpfsig.Open(r.Source)
		direct, _ := bpfsig.Sign(sk, testfix.Signer(t), bpfsig.Target{Scheme: compat.Legacy})
		if !bytes.Equal(readFile(t, r.Output), direct.Bytes()) {
			t.Fatalf("%s: differs from bpfsig sign", r.Output)
		}
	}

	// Refusals, each leaving its output unwritten.
	chain := filepath.Join(src, "sub", "legacy-v2.skel.h")
	b := readFile(t, chain)
	os.WriteFile(chain, append(b, '\n'), 0o644)
	// (the fixtures are one program: a signature over other bytes is needed)
	otherTBS := filepath.Join(t.TempDir(), "other.tbs")
	os.WriteFile(otherTBS, []byte("other bytes"), 0o644)
	runTool(t, signFile, "-dk", "sha256", testfix.KeyPath, testfix.CertPath, otherTBS)
	os.WriteFile(filepath.Join(tbsDir, "legacy-v1.skel.h.sig"), readFile(t, otherTBS+".p7s"), 0o644)
	os.Remove(filepath.Join(tbsDir, "chain.skel.h.sig"))
	out2 := filepath.Join(t.TempDir(), "out")
	ao.Out = out2
	res, err = twophase.AttachTree([]string{src}, ao)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"chain.skel.h":         "no signature",
		"legacy-v1.skel.h":     "both",
		"sub/legacy-v2.skel.h": "changed since",
		"sub/unsigned.skel.h":  "",
	}
	for _, r := range res {
		w, ok := want[r.Name]
		if !ok {
			t.Fatalf("unexpected %s", r.Name)
		}
		if w == "" {
			if r.Outcome != twophase.Written {
				t.Errorf("%s: %s: %s", r.Name, r.Outcome, r.Reason)
			}
			continue
		}
		if r.Outcome != twophase.Refused || !strings.Contains(r.Reason, w) || r.Output != "" {
			t.Errorf("%s: %s %q (output %q), want refused for %q", r.Name, r.Outcome, r.Reason, r.Output, w)
		}
		if _, err := os.Stat(filepath.Join(out2, filepath.FromSlash(r.Name))); err == nil {
			t.Errorf("%s written though refused", r.Name)
		}
	}
	// The wrong signature alone (no alias): rejected by the kernel's check.
	os.Remove(filepath.Join(tbsDir, "legacy-v1.skel.h.tbs.p7s"))
	ao.Out = filepath.Join(t.TempDir(), "out")
	res, _ = twophase.AttachTree([]string{filepath.Join(src, "legacy-v1.skel.h")}, ao)
	if len(res) != 1 || res[0].Outcome != twophase.Refused || !strings.Contains(res[0].Reason, "signature rejected") {
		t.Fatalf("signature of another skeleton: %+v", res[0])
	}
	// A target asked for now that is not the manifest's.
	os.WriteFile(chain, b, 0o644)
	ao.TreeOptions = twophase.TreeOptions{Target: bpfsig.Target{Scheme: compat.Raw}}
	res, _ = twophase.AttachTree([]string{src}, ao)
	for _, r := range res {
		if r.Outcome != twophase.Refused || (r.Name != "chain.skel.h" && !strings.Contains(r.Reason, "made for legacy")) {
			t.Fatalf("changed target: %+v", r)
		}
	}
}

func TestWriteTreeRefusesOutputInSource(t *testing.T) {
	src := copyTree(t, "raw")
	if _, _, err := twophase.WriteTree([]string{src}, filepath.Join(src, "tbs"), twophase.TreeOptions{}); err == nil {
		t.Fatal("a TBS directory inside the source tree accepted")
	}
}

// TestWriteTreeNeedsDirectory: an empty output directory is an error, not the working
// directory by default (a program that forgot the option must not scatter .tbs files).
func TestWriteTreeNeedsDirectory(t *testing.T) {
	src := copyTree(t, "raw")
	t.Chdir(t.TempDir())
	if _, _, err := twophase.WriteTree([]string{src}, "", twophase.TreeOptions{}); err == nil || !strings.Contains(err.Error(), "no output directory") {
		t.Fatalf("WriteTree with no directory: %v", err)
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("the working directory got %d entries", len(ents))
	}
}

// TestRefuseNil: Refuse(nil) is nil, as wrapping no error is no error; it was an error whose
// Error method dereferenced nil.
func TestRefuseNil(t *testing.T) {
	if err := twophase.Refuse(nil); err != nil {
		t.Fatalf("Refuse(nil) = %#v", err)
	}
	if err := twophase.Refuse(errors.New("x")); err == nil || err.Error() != "x" {
		t.Fatalf("Refuse(x) = %v", err)
	}
}
