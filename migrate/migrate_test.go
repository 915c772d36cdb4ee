package migrate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/internal/testfix/front"
	"github.com/bpfsig/bpfsig/migrate"
	"github.com/bpfsig/bpfsig/policy"
)

// tree writes files (relative name → fixture name) under a new directory.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, fx := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, testfix.Bytes(t, fx), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// snapshot returns path → sha256 of every file under dir.
func snapshot(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func opts(t testing.TB) migrate.Options {
	return migrate.Options{Signer: testfix.Signer(t), Trust: front.Trust(t)}
}

func TestMigrateToRawIsByteIdentical(t *testing.T) {
	src := tree(t, map[string]string{"a/legacy-v1.skel.h": "legacy-v1", "b/c/legacy-v2.lskel.h": "legacy-v2", "chain.skel.h": "chain", "notes.txt": "raw"})
	before := snapshot(t, src)
	out := filepath.Join(t.TempDir(), "out")
	o := opts(t)
	o.Out = out
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK() || sum.Migrated != 3 {
		t.Fatalf("summary: %s", sum)
	}
	raw := testfix.Bytes(t, "raw")
	for _, rel := range []string{"a/legacy-v1.skel.h", "b/c/legacy-v2.lskel.h", "chain.skel.h"} {
		got, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, raw) {
			t.Errorf("%s: migrated file differs from raw.skel.h", rel)
		}
		fi, _ := os.Stat(filepath.Join(out, rel))
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, want the source's 0640", rel, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "notes.txt")); err == nil {
		t.Error("a file that is not a skeleton header was copied")
	}
	for _, r := range sum.Files {
		if r.Source == filepath.Join(src, "a/legacy-v1.skel.h") {
			if len(r.RemovedBlocks) != 6 || !strings.Contains(strings.Join(r.Warnings, " "), "behaviour change") {
				t.Errorf("legacy-v1 report: removed %v, warnings %v; want the check and 5 overrides, and a behaviour warning", r.RemovedBlocks, r.Warnings)
			}
		}
	}
	if after := snapshot(t, src); !equalSnap(before, after) {
		t.Fatal("the sources changed")
	}

	// A second run recognises everything and writes nothing.
	outBefore := snapshot(t, out)
	sum, err = migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.UpToDate != 3 || sum.Migrated != 0 || !sum.OK() {
		t.Fatalf("second run: %s", sum)
	}
	if !equalSnap(outBefore, snapshot(t, out)) {
		t.Fatal("the second run changed the output")
	}
}

func equalSnap(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestMigrateRefusesTamperedAndGoesOn(t *testing.T) {
	src := tree(t, map[string]string{"good.skel.h": "legacy-v2", "bad.skel.h": "legacy-v1", "plain.skel.h": "unsigned"})
	// Flip one metadata byte of bad.skel.h: its loader's embedded hash no longer matches.
	a := testfix.Artifact(t, "legacy-v1")
	f := a.File().Clone()
	d := f.Data()
	d[100] ^= 0x40
	f.SetData(d)
	if err := os.WriteFile(filepath.Join(src, "bad.skel.h"), f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	o := opts(t)
	o.Out = out
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Migrated != 1 || sum.Refused != 2 || sum.OK() {
		t.Fatalf("summary: %s", sum)
	}
	for _, r := range sum.Files {
		switch filepath.Base(r.Source) {
		case "bad.skel.h":
			if r.Outcome != migrate.Refused || !strings.Contains(r.Reason, "run") || !strings.Contains(r.Reason, "-22") {
				t.Errorf("bad: %s %q, want refused at run with retval -22", r.Outcome, r.Reason)
			}
			if _, err := os.Stat(filepath.Join(out, "bad.skel.h")); err == nil {
				t.Error("a refused file was written")
			}
		case "plain.skel.h":
			if r.Outcome != migrate.Refused {
				t.Errorf("unsigned input: %s, want refused", r.Outcome)
			}
		}
	}
	// --force re-signs it, loudly.
	o.Force = true
	sum, err = migrate.Run(context.Background(), []string{filepath.Join(src, "bad.skel.h")}, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := sum.Files[0]; r.Outcome != migrate.Migrated || !r.Forced || len(r.Warnings) == 0 {
		t.Fatalf("forced: %+v", r)
	}
}

func TestMigrateWrongTrustIsRefused(t *testing.T) {
	src := tree(t, map[string]string{"x.skel.h": "legacy-v2"})
	o := opts(t)
	o.Out = t.TempDir()
	o.Trust = bpfsig.NewTrust(testfix.P256Signer(t).Cert)
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := sum.Files[0]; r.Outcome != migrate.Refused || !strings.Contains(r.Reason, "ENOKEY") {
		t.Fatalf("old signer not trusted: %s %q, want refused with ENOKEY", r.Outcome, r.Reason)
	}
}

func TestMigrateInPlaceKeepsBackup(t *testing.T) {
	src := tree(t, map[string]string{"x.skel.h": "legacy-v1"})
	p := filepath.Join(src, "x.skel.h")
	orig, _ := os.ReadFile(p)
	o := opts(t)
	o.InPlace = true
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil || sum.Migrated != 1 {
		t.Fatalf("%v %v", sum, err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, testfix.Bytes(t, "raw")) {
		t.Fatal("in-place result differs from raw.skel.h")
	}
	if got, _ := os.ReadFile(p + ".orig"); !bytes.Equal(got, orig) {
		t.Fatal("backup differs from the original")
	}
	// Re-running in place: up to date, the backup untouched, no backup of the backup.
	sum, err = migrate.Run(context.Background(), []string{src}, o)
	if err != nil || sum.UpToDate != 1 || sum.Migrated != 0 {
		t.Fatalf("second in-place run: %v %v", sum, err)
	}
	if got, _ := os.ReadFile(p + ".orig"); !bytes.Equal(got, orig) {
		t.Fatal("backup changed on the second run")
	}
	ents, _ := os.ReadDir(src)
	if len(ents) != 2 {
		t.Fatalf("%d files in the directory, want the skeleton and its backup", len(ents))
	}
}

func TestMigrateDryRunWritesNothing(t *testing.T) {
	src := tree(t, map[string]string{"x.skel.h": "legacy-v2"})
	out := filepath.Join(t.TempDir(), "out")
	o := opts(t)
	o.Out, o.DryRun = out, true
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil || sum.Migrated != 1 || !sum.Files[0].DryRun {
		t.Fatalf("%v %v", sum, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("dry run created the output directory")
	}
}

func TestMigrateFailFast(t *testing.T) {
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		files[n+".skel.h"] = "unsigned" // every one refused
	}
	src := tree(t, files)
	o := opts(t)
	o.Out, o.FailFast, o.Jobs = t.TempDir(), true, 1
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Refused != 1 || sum.Skipped != 5 {
		t.Fatalf("fail-fast: %s, want 1 refused and 5 skipped", sum)
	}
}

func TestMigratePolicyAndKeepOverrides(t *testing.T) {
	src := tree(t, map[string]string{"keep/x.skel.h": "legacy-v1", "other/y.skel.h": "legacy-v1"})
	pol, err := policy.ParsePolicy("p.yaml", []byte("default:\n  scheme: raw\nrules:\n  - path: \"keep/*.skel.h\"\n    scheme: chain\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	o := opts(t)
	o.Out, o.Policy = out, pol
	sum, err := migrate.Run(context.Background(), []string{filepath.Join(src, "keep"), filepath.Join(src, "other")}, o)
	if err != nil || !sum.OK() {
		t.Fatalf("%v %v", sum, err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "x.skel.h")); !bytes.Equal(got, testfix.Bytes(t, "chain")) {
		t.Error("policy rule for keep/ did not give chain.skel.h")
	}
	if got, _ := os.ReadFile(filepath.Join(out, "y.skel.h")); !bytes.Equal(got, testfix.Bytes(t, "raw")) {
		t.Error("default rule did not give raw.skel.h")
	}

	o = opts(t)
	o.Out, o.KeepHostOverrides = t.TempDir(), true
	sum, err = migrate.Run(context.Background(), []string{filepath.Join(src, "other")}, o)
	if err != nil || !sum.OK() {
		t.Fatalf("%v %v", sum, err)
	}
	r := sum.Files[0]
	if len(r.KeptOverrides) != 5 || !strings.Contains(strings.Join(r.Warnings, " "), "outside the signature") {
		t.Fatalf("keep-host-overrides: kept %v, warnings %v", r.KeptOverrides, r.Warnings)
	}
}

func TestPlanRejectsCollisions(t *testing.T) {
	a := tree(t, map[string]string{"x.skel.h": "legacy-v1"})
	b := tree(t, map[string]string{"x.skel.h": "legacy-v2"})
	o := opts(t)
	o.Out = t.TempDir()
	if _, err := migrate.Run(context.Background(), []string{a, b}, o); err == nil || !strings.Contains(err.Error(), "both be written") {
		t.Fatalf("colliding targets: err = %v", err)
	}
}

// TestMigrateReportsPlatforms: a legacy file migrated to raw loads on mainline kernels with a
// rebuilt application and stops loading on 6.18 with the old one; the report says so per file.
func TestMigrateReportsPlatforms(t *testing.T) {
	src := tree(t, map[string]string{"a.skel.h": "legacy-v2"})
	o := opts(t)
	o.Out, o.KernelMatrix = t.TempDir(), true
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil || sum.Migrated != 1 {
		t.Fatalf("%v %v", err, sum)
	}
	r := sum.Files[0]
	has := func(ps []migrate.Platform, proc, kernel string) bool {
		for _, p := range ps {
			if p.Procedure == proc && p.Kernel == kernel {
				return true
			}
		}
		return false
	}
	if !has(r.LoadsOn, "mainline", "mainline") || has(r.LoadsOn, "6.18", "6.18") {
		t.Errorf("loads on %v", r.LoadsOn)
	}
	if !has(r.StopsLoadingOn, "6.18", "6.18") || has(r.StopsLoadingOn, "mainline", "mainline") {
		t.Errorf("stops loading on %v", r.StopsLoadingOn)
	}
	if !has(r.StartsLoadingOn, "mainline", "mainline") {
		t.Errorf("starts loading on %v", r.StartsLoadingOn)
	}
}

// TestNilOptions: a nil *Options is the zero Options (an error saying what is missing), not a
// nil pointer dereference.
func TestNilOptions(t *testing.T) {
	if _, _, err := migrate.Plan([]string{"x.skel.h"}, nil); err == nil {
		t.Error("Plan with nil options: no error")
	}
	if r := migrate.One(migrate.Job{Source: "/nonexistent/x.skel.h"}, nil); r == nil || r.Reason == "" || r.Outcome == migrate.Migrated {
		t.Errorf("One with nil options = %+v, want a failed result", r)
	}
}
