//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// TestKernelFlagsAdv: kernel profile and procedure flags a careless user gets wrong are usage
// errors (exit 2), never a silently different run.
func TestKernelFlagsAdv(t *testing.T) {
	raw := fx("raw")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"verify empty kernel", []string{"verify", "--cert", cert, "--kernel", "", raw}, 2, "empty kernel profile"},
		{"verify comma", []string{"verify", "--cert", cert, "--kernel", ",", raw}, 2, "unknown kernel profile"},
		{"verify list", []string{"verify", "--cert", cert, "--kernel", "mainline,6.18", raw}, 2, "unknown kernel profile"},
		{"verify unknown", []string{"verify", "--cert", cert, "--kernel", "5.4", raw}, 2, "unknown kernel profile"},
		{"verify procedure alone", []string{"verify", "--cert", cert, "--procedure", "mainline", raw}, 2, "goes with --kernel"},
		{"verify empty procedure", []string{"verify", "--cert", cert, "--kernel", "mainline", "--procedure", "", raw}, 2, "empty procedure"},
		{"verify unknown procedure", []string{"verify", "--cert", cert, "--kernel", "mainline", "--procedure", "6.19", raw}, 2, "6.19"},
		{"compare comma", []string{"compare", "--cert", cert, "--kernel", ",", raw}, 2, "unknown kernel profile"},
		{"compare trailing comma", []string{"compare", "--cert", cert, "--kernel", "mainline,", raw}, 2, "unknown kernel profile"},
		{"compare empty", []string{"compare", "--cert", cert, "--kernel", "", raw}, 2, "empty list"},
		{"compare twice", []string{"compare", "--cert", cert, "--kernel", "mainline,6.18,mainline", raw}, 2, "twice"},
		{"compare twice spaced", []string{"compare", "--cert", cert, "--kernel", "mainline, mainline", raw}, 2, "twice"},
		{"compare tamper with kernel", []string{"compare", "--tamper", "intact", "--key", key, "--cert", cert, "--kernel", "mainline", fx("unsigned")}, 2, "--kernel goes without --tamper"},
		{"compare tamper with bad kernel", []string{"compare", "--tamper", "intact", "--key", key, "--cert", cert, "--kernel", "nope", fx("unsigned")}, 2, "--kernel"},
		{"verify unsigned on mainline", []string{"verify", "--cert", cert, "--kernel", "mainline", fx("unsigned")}, 1, "not signed"},
		{"verify raw on 6.18", []string{"verify", "--cert", cert, "--kernel", "6.18", raw}, 1, ""},
		{"verify raw on mainline", []string{"verify", "--cert", cert, "--kernel", "mainline", raw}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(out+errs, tt.msg) {
				t.Errorf("output does not say %q:\n%s%s", tt.msg, out, errs)
			}
			if tt.code == 2 && out != "" {
				t.Errorf("a usage error printed on stdout: %s", out)
			}
		})
	}
}

// TestVerifyKernelJSONAdv: verify --kernel --json carries the profile, the procedure, and for
// a rejection the rule and source that decided.
func TestVerifyKernelJSONAdv(t *testing.T) {
	for _, tt := range []struct {
		skel, profile, proc string
		ok                  bool
	}{
		{"raw", "mainline", "", true},
		{"raw", "6.18", "", false},
		{"legacy-v2", "mainline", "6.18", false},
		{"legacy-v2", "mainline", "mainline", false},
		{"chain", "chain", "", true},
	} {
		args := []string{"verify", "--json", "--cert", cert, "--kernel", tt.profile}
		if tt.proc != "" {
			args = append(args, "--procedure", tt.proc)
		}
		code, out, errs := runCLI(t, append(args, fx(tt.skel))...)
		if (code == 0) != tt.ok {
			t.Fatalf("%s on %s: exit %d: %s%s", tt.skel, tt.profile, code, out, errs)
		}
		var v []map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
			t.Fatalf("%s on %s: %v: %s", tt.skel, tt.profile, err, out)
		}
		r := v[0]
		verdict, _ := r["verdict"].(map[string]any)
		if verdict == nil {
			verdict = r
		}
		want := tt.proc
		if want == "" {
			want = string(bpfsig.HostProcedure(mustOpenAdv(t, fx(tt.skel))))
		}
		if verdict["profile"] != tt.profile || verdict["procedure"] != want {
			t.Errorf("%s on %s: JSON profile %v procedure %v, want %s %s: %s", tt.skel, tt.profile, verdict["profile"], verdict["procedure"], tt.profile, want, out)
		}
		if r["ok"] != tt.ok {
			t.Errorf("%s on %s: ok %v", tt.skel, tt.profile, r["ok"])
		}
		if !tt.ok && (verdict["rule"] == nil || verdict["source"] == nil) {
			t.Errorf("%s on %s: a rejection without rule/source: %s", tt.skel, tt.profile, out)
		}
	}
}

func mustOpenAdv(t *testing.T, path string) *bpfsig.Skeleton {
	t.Helper()
	sk, err := bpfsig.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// detachedAdv writes a detached CMS over what src converts to for target, made in-process by
// the fixture key: what an HSM would return for the TBS bytes.
func detachedAdv(t *testing.T, src, sigPath string, target compat.Target) {
	t.Helper()
	p, err := bpfsig.Prepare(mustOpenAdv(t, src), target)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := p.Sign(testfix.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigPath, signed.Sig(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTwoPhaseOutputsAdv: tbs -o and attach -o never write over a file of the run (the input
// by any name, the signature, the certificate); attach run twice gives the same bytes.
func TestTwoPhaseOutputsAdv(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.skel.h")
	orig := testfix.Bytes(t, "legacy-v2")
	writeBytes(t, in, orig)
	crt := filepath.Join(dir, "c.pem")
	writeBytes(t, crt, readBytes(t, cert))
	sig := filepath.Join(dir, "a.sig")
	detachedAdv(t, in, sig, compat.Target{Scheme: compat.Raw})
	sigBytes := readBytes(t, sig)
	hard := filepath.Join(dir, "hard.skel.h")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft.skel.h")
	symlink(t, in, soft)
	dotted := filepath.Join(dir, ".", "a.skel.h")

	attach := func(args ...string) (int, string) {
		code, out, errs := runCLI(t, append([]string{"attach", "--scheme", "raw", "--cert", crt, "--sig", sig}, args...)...)
		return code, out + errs
	}
	for _, out := range []string{in, hard, soft, dotted} {
		if code, msg := attach("-o", out, in); code != 2 || !strings.Contains(msg, "--in-place") {
			t.Errorf("attach -o %s onto its input: exit %d: %s", out, code, msg)
		}
		if code, _, errs := runCLI(t, "tbs", "--scheme", "raw", "-o", out, in); code != 2 {
			t.Errorf("tbs -o %s onto its input: exit %d: %s", out, code, errs)
		}
	}
	if code, msg := attach("-o", sig, in); code != 2 || !strings.Contains(msg, "signature") {
		t.Errorf("attach -o onto the signature: exit %d: %s", code, msg)
	}
	if code, msg := attach("-o", crt, in); code != 2 || !strings.Contains(msg, "certificate") {
		t.Errorf("attach -o onto the certificate: exit %d: %s", code, msg)
	}
	if !bytes.Equal(readBytes(t, in), orig) || !bytes.Equal(readBytes(t, sig), sigBytes) {
		t.Fatal("a refused run changed the input or the signature")
	}

	// Attach is idempotent: the same output twice, and --in-place twice.
	out := filepath.Join(dir, "out.skel.h")
	if code, msg := attach("-o", out, in); code != 0 {
		t.Fatalf("attach: exit %d: %s", code, msg)
	}
	first := readBytes(t, out)
	if code, msg := attach("-o", out, in); code != 0 || !bytes.Equal(readBytes(t, out), first) {
		t.Fatalf("attach again: exit %d, same bytes %v: %s", code, bytes.Equal(readBytes(t, out), first), msg)
	}
	ip := filepath.Join(dir, "ip.skel.h")
	writeBytes(t, ip, orig)
	for i := 0; i < 2; i++ {
		if code, msg := attach("--in-place", ip); code != 0 {
			t.Fatalf("attach --in-place (run %d): exit %d: %s", i+1, code, msg)
		}
		if !bytes.Equal(readBytes(t, ip), first) {
			t.Fatalf("attach --in-place (run %d) differs from attach -o", i+1)
		}
	}
	if code, _, errs := runCLI(t, "verify", "--cert", crt, out); code != 0 {
		t.Fatalf("the attached skeleton does not verify: %s", errs)
	}
	// The TBS of one scheme attached under another: refused, nothing written.
	other := filepath.Join(dir, "other.skel.h")
	if code, msg := attach("--scheme", "legacy", "-o", other, in); code != 1 {
		t.Errorf("raw signature attached as legacy: exit %d: %s", code, msg)
	}
	if _, err := os.Lstat(other); err == nil {
		t.Error("a refused attach wrote its output")
	}
}

// TestSigningTimeFlagAdv: --signing-time given empty is a usage error; a time the kernel
// cannot decode (before 1970) fails and writes nothing; the first second of 1970 signs and
// verifies.
func TestSigningTimeFlagAdv(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		when string
		code int
	}{
		{"", 2},
		{"1969-12-31T23:59:59Z", 1},
		{"0001-01-02T00:00:00Z", 1},
		{"1970-01-01T01:00:00+01:00", 0},
		{"2026-02-29T00:00:00Z", 2},
		{"2026-01-01", 2},
	} {
		out := filepath.Join(dir, "h.skel.h")
		os.Remove(out)
		code, _, errs := runCLI(t, "sign", "--scheme", "hornet", "--key", key, "--cert", cert, "--signing-time", tt.when, "-o", out, fx("unsigned"))
		if code != tt.code {
			t.Errorf("--signing-time %q: exit %d, want %d: %s", tt.when, code, tt.code, errs)
			continue
		}
		_, err := os.Lstat(out)
		if (err == nil) != (tt.code == 0) {
			t.Errorf("--signing-time %q: output written %v", tt.when, err == nil)
		}
		if tt.code == 0 {
			if code, _, errs := runCLI(t, "verify", "--cert", cert, out); code != 0 {
				t.Errorf("--signing-time %q: does not verify: %s", tt.when, errs)
			}
		}
	}
}

// TestHornetSchemeFlagAdv: verify --scheme of another scheme on a Hornet file is an error that
// says the scheme does not fit (exit 1, JSON ok false); the right scheme passes.
func TestHornetSchemeFlagAdv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "h.skel.h")
	if code, _, errs := runCLI(t, "sign", "--scheme", "hornet", "--key", key, "--cert", cert, "-o", out, fx("unsigned")); code != 0 {
		t.Fatalf("sign: %s", errs)
	}
	for _, s := range []string{"raw", "legacy", "chain"} {
		code, so, se := runCLI(t, "verify", "--scheme", s, "--cert", cert, out)
		if code != 1 || !strings.Contains(so+se, "does not fit") {
			t.Errorf("--scheme %s on a Hornet file: exit %d: %s%s", s, code, so, se)
		}
		code, so, _ = runCLI(t, "verify", "--json", "--scheme", s, "--cert", cert, out)
		var v []map[string]any
		if err := json.Unmarshal([]byte(so), &v); code != 1 || err != nil || len(v) != 1 || v[0]["ok"] != false {
			t.Errorf("--scheme %s --json on a Hornet file: exit %d: %s", s, code, so)
		}
	}
	if code, _, errs := runCLI(t, "verify", "--scheme", "hornet", "--cert", cert, out); code != 0 {
		t.Errorf("--scheme hornet: %s", errs)
	}
}
