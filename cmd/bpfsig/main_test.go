package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/internal/testfix"
)

// runCLI runs the command in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"bpfsig"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

var (
	key  = testfix.KeyPath
	cert = testfix.CertPath
)

func fx(name string) string { return testfix.SkelPath(name) }

func TestInspectJSON(t *testing.T) {
	code, out, errs := runCLI(t, "inspect", "--json", fx("unsigned"), fx("legacy-v1"), fx("legacy-v2"), fx("raw"), fx("chain"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var reps []map[string]any
	if err := json.Unmarshal([]byte(out), &reps); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		scheme, gen string
		overrides   int
	}{
		{"unsigned", "", 5}, {"legacy", "v1", 5}, {"legacy", "v2", 0}, {"raw", "", 0}, {"chain", "v1", 5},
	}
	keys := []string{"file", "scheme", "generation", "insn_bytes", "data_bytes", "insn_sha256", "data_sha256",
		"embedded_hash", "metadata_hash_ok", "excl_hash_ok", "override_blocks", "signer", "error"}
	for i, r := range reps {
		for _, k := range keys {
			if _, ok := r[k]; !ok {
				t.Errorf("report %d lacks key %q", i, k)
			}
		}
		if r["scheme"] != want[i].scheme || r["generation"] != want[i].gen || len(r["override_blocks"].([]any)) != want[i].overrides {
			t.Errorf("report %d: scheme %v generation %v overrides %d; want %+v", i, r["scheme"], r["generation"], len(r["override_blocks"].([]any)), want[i])
		}
		if r["data_sha256"] != "d681abceb7e7b0cc8895b78543ffa090c34c3fce53cb66c5a69fb13a41462735" {
			t.Errorf("report %d: data_sha256 %v", i, r["data_sha256"])
		}
	}
	if s := reps[1]["signer"].(map[string]any); s["id_form"] != "skid" || s["algorithm"] != "rsa" || s["digest"] != "sha256" {
		t.Errorf("legacy-v1 signer: %v", s)
	}
}

func TestInspectDisasmMarksBlocks(t *testing.T) {
	code, out, _ := runCLI(t, "inspect", "--disasm", fx("legacy-v1"))
	if code != 0 || !strings.Contains(out, "check v1 begin") || !strings.Contains(out, "max_entries") {
		t.Fatalf("exit %d; disassembly lacks block markers:\n%s", code, out)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stage  string
		errno  string
		retval float64
	}{
		{"all fixtures", []string{fx("legacy-v1"), fx("legacy-v2"), fx("raw"), fx("chain")}, 0, "", "", 0},
		{"unsigned", []string{fx("unsigned")}, 1, "", "", 0},
		{"scheme mismatch", []string{"--scheme", "raw", fx("legacy-v2")}, 1, "", "", 0},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(t, append([]string{"verify", "--json", "--cert", cert}, tt.args...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d (%s%s)", tt.name, code, tt.code, out, errs)
		}
	}
	code, _, errs := runCLI(t, "verify", fx("raw"))
	if code != 2 || !strings.Contains(errs, "trust set") {
		t.Errorf("no trust: exit %d %q, want 2 and a usage message", code, errs)
	}
}

// tampered writes a copy of fixture name with f applied to its blobs.
func tampered(t *testing.T, name string, f func(insn, data, sig []byte) ([]byte, []byte, []byte)) string {
	a := testfix.Artifact(t, name)
	nf := a.File().Clone()
	// The Doc's blobs are shared views of the parsed header: f edits copies.
	insn, data, sig := f(bytes.Clone(a.Insn()), bytes.Clone(a.Data()), bytes.Clone(a.Sig()))
	nf.SetInsn(insn)
	nf.SetData(data)
	nf.SetSignature(sig, a.ExclHash())
	p := filepath.Join(t.TempDir(), name+".skel.h")
	if err := os.WriteFile(p, nf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyTampered(t *testing.T) {
	type res struct {
		OK     bool   `json:"ok"`
		Stage  string `json:"stage"`
		Errno  string `json:"errno"`
		Retval *int32 `json:"retval"`
		Reason string `json:"reason"`
	}
	tests := []struct {
		name, fixture string
		f             func(i, d, s []byte) ([]byte, []byte, []byte)
		stage, errno  string
		retval        int32
	}{
		{"flip insn", "legacy-v2", func(i, d, s []byte) ([]byte, []byte, []byte) { i[len(i)-1] ^= 1; return i, d, s }, "admission", "EKEYREJECTED", 0},
		{"flip data", "legacy-v2", func(i, d, s []byte) ([]byte, []byte, []byte) { d[7] ^= 1; return i, d, s }, "run", "", -22},
		{"flip data v1", "legacy-v1", func(i, d, s []byte) ([]byte, []byte, []byte) { d[3000] ^= 0x80; return i, d, s }, "run", "", -22},
		{"flip sig", "legacy-v2", func(i, d, s []byte) ([]byte, []byte, []byte) { s[len(s)-3] ^= 4; return i, d, s }, "admission", "EKEYREJECTED", 0},
		{"truncate sig", "legacy-v2", func(i, d, s []byte) ([]byte, []byte, []byte) { return i, d, s[:200] }, "admission", "EBADMSG", 0},
		{"raw flip data", "raw", func(i, d, s []byte) ([]byte, []byte, []byte) { d[7] ^= 1; return i, d, s }, "admission", "EKEYREJECTED", 0},
		{"garbage DER", "raw", func(i, d, s []byte) ([]byte, []byte, []byte) { return i, d, []byte("not a signature at all") }, "admission", "EBADMSG", 0},
	}
	for _, tt := range tests {
		p := tampered(t, tt.fixture, tt.f)
		code, out, errs := runCLI(t, "verify", "--json", "--cert", cert, p)
		var rs []res
		if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v %q %q", tt.name, err, out, errs)
		}
		r := rs[0]
		if code != 1 || r.OK || r.Stage != tt.stage || r.Errno != tt.errno || (tt.stage == "run" && (r.Retval == nil || *r.Retval != tt.retval)) {
			t.Errorf("%s: exit %d %+v, want stage %s errno %s retval %d", tt.name, code, r, tt.stage, tt.errno, tt.retval)
		}
	}
	// An unknown signer: the keyring holds another certificate.
	other := filepath.Join(t.TempDir(), "other.pem")
	writeOtherCert(t, other)
	code, out, _ := runCLI(t, "verify", "--json", "--cert", other, fx("legacy-v2"))
	if code != 1 || !strings.Contains(out, `"errno": "ENOKEY"`) {
		t.Errorf("unknown signer: exit %d %s", code, out)
	}
}

func TestVerifyBadInputFailsClosed(t *testing.T) {
	dir := t.TempDir()
	trunc := filepath.Join(dir, "trunc.skel.h")
	src := testfix.Bytes(t, "legacy-v2")
	os.WriteFile(trunc, src[:len(src)/2], 0o644)
	garbage := filepath.Join(dir, "garbage.skel.h")
	os.WriteFile(garbage, []byte("#include <stdio.h>\nint main(void) { return 0; }\n"), 0o644)
	for _, p := range []string{trunc, garbage, filepath.Join(dir, "missing.skel.h")} {
		code, out, errs := runCLI(t, "verify", "--cert", cert, p)
		if code != 1 || !strings.Contains(out+errs, p) {
			t.Errorf("%s: exit %d, output does not name the file: %q %q", p, code, out, errs)
		}
	}
}

func TestSignByteIdentityCLI(t *testing.T) {
	tests := []struct {
		from string
		args []string
		want string
	}{
		{"unsigned", []string{"--scheme", "legacy", "--generation", "v1"}, "legacy-v1"},
		{"unsigned", []string{"--scheme", "legacy", "--generation", "v2"}, "legacy-v2"},
		{"unsigned", []string{"--scheme", "raw"}, "raw"},
		{"legacy-v1", []string{"--scheme", "raw"}, "raw"},
		{"legacy-v2", []string{"--scheme", "raw"}, "raw"},
		{"legacy-v1", []string{"--scheme", "chain"}, "chain"},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "out.skel.h")
		args := append([]string{"sign", "--key", key, "--cert", cert, "-o", out}, tt.args...)
		code, _, errs := runCLI(t, append(args, fx(tt.from))...)
		if code != 0 {
			t.Fatalf("%s %v: exit %d: %s", tt.from, tt.args, code, errs)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, testfix.Bytes(t, tt.want)) {
			t.Errorf("%s %v: output differs from %s.skel.h", tt.from, tt.args, tt.want)
		}
	}
}

func TestSignUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sign", "--key", key, "--cert", cert, fx("unsigned")},                                                     // neither -o nor --in-place
		{"sign", "--key", key, "--cert", cert, "-o", "x", "--in-place", fx("unsigned")},                            // both
		{"sign", "--scheme", "raw", "--generation", "v2", "--key", key, "--cert", cert, "-o", "x", fx("unsigned")}, // generation for raw
		{"sign", "--scheme", "nosuch", "--key", key, "--cert", cert, "-o", "x", fx("unsigned")},
		{"sign", "--generation", "v1", "--key", key, "--cert", cert, "-o", "x", fx("unsigned")}, // generation without scheme
		{"sign", "--bogus-flag", fx("unsigned")},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestCompareTamperJSON(t *testing.T) {
	code, out, errs := runCLI(t, "compare", "--tamper", "all", "--key", key, "--cert", cert, "--json", fx("unsigned"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m struct {
		Scenarios []struct {
			Name    string `json:"name"`
			Results []struct {
				Scheme, Outcome, Stage, Errno, LSM string
				Retval                             *int32
				Late                               bool `json:"lsm_admitted_then_failed"`
			} `json:"results"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Scenarios) != 11 || len(m.Scenarios[0].Results) != 5 {
		t.Fatalf("%d scenarios", len(m.Scenarios))
	}
	fd := m.Scenarios[2]
	if fd.Name != "flip-data" || fd.Results[1].Stage != "run" || *fd.Results[1].Retval != -22 || !fd.Results[1].Late || fd.Results[3].Errno != "EKEYREJECTED" {
		t.Errorf("flip-data row: %+v", fd)
	}
}

// The tamper matrix, five signings wide, fits a 120-column terminal.
func TestCompareTextFitsIn120Columns(t *testing.T) {
	code, out, _ := runCLI(t, "compare", "--tamper", "all", "--key", key, "--cert", cert, fx("legacy-v1"))
	if code != 0 {
		t.Fatal(code)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(strings.TrimRight(l, " "))); n > 120 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

func TestMigrateCLI(t *testing.T) {
	src := t.TempDir()
	for _, n := range []string{"legacy-v1", "legacy-v2"} {
		os.WriteFile(filepath.Join(src, n+".skel.h"), testfix.Bytes(t, n), 0o644)
	}
	out := filepath.Join(t.TempDir(), "new")
	report := filepath.Join(t.TempDir(), "report.json")
	code, stdout, errs := runCLI(t, "migrate", src, "--out", out, "--key", key, "--cert", cert, "--trust", cert, "--report", report)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	if !strings.Contains(stdout, "2 migrated, 0 up to date, 0 refused, 0 failed") {
		t.Errorf("summary missing: %s", stdout)
	}
	var rep struct {
		Files []map[string]any `json:"files"`
	}
	b, _ := os.ReadFile(report)
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Files) != 2 {
		t.Fatalf("report: %v %s", err, b)
	}
	for _, k := range []string{"source", "target", "old_scheme", "old_generation", "new_scheme", "removed_blocks", "signer", "outcome"} {
		if _, ok := rep.Files[0][k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	code, stdout, _ = runCLI(t, "migrate", src, "--out", out, "--key", key, "--cert", cert)
	if code != 0 || !strings.Contains(stdout, "0 migrated, 2 up to date") {
		t.Errorf("second run: exit %d %s", code, stdout)
	}
}
