package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/migrate"
)

const signFile = "/usr/lib/linux-kbuild-6.1/scripts/sign-file"

// signTBS signs every .tbs under dir with sign-file (issuer+serial, as sign-file does by
// default), leaving NAME.tbs.p7s next to each.
func signTBS(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".tbs") {
			return err
		}
		if out, err := exec.Command(signFile, "-d", "sha256", testfix.KeyPath, testfix.CertPath, p).CombinedOutput(); err != nil {
			t.Fatalf("sign-file %s: %v\n%s", p, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTwoPhase: migrate --tbs-out, sign-file, migrate --sigs gives what a one-phase migrate
// writes, mirrored and in place (with backups); a skeleton changed in between is refused.
func TestTwoPhase(t *testing.T) {
	if _, err := os.Stat(signFile); err != nil {
		t.Skipf("%s not installed (Debian package linux-kbuild-6.1)", signFile)
	}
	files := map[string]string{"a.skel.h": "legacy-v1", "sub/b.skel.h": "chain", "sub/c.skel.h": "unsigned"}
	src := tree(t, files)
	trust := bpfsig.NewTrust(testfix.Cert(t))
	if _, err := migrate.RunTBS([]string{src}, t.TempDir(), migrate.Options{}); !errors.Is(err, migrate.ErrUsage) {
		t.Fatalf("phase one without trust: %v, want a usage error", err)
	}
	tbs := filepath.Join(t.TempDir(), "tbs")
	sum, err := migrate.RunTBS([]string{src}, tbs, migrate.Options{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Migrated != 2 || sum.Refused != 1 {
		t.Fatalf("phase one: %s", sum)
	}
	for _, r := range sum.Files {
		if strings.HasSuffix(r.Source, "c.skel.h") != (r.Outcome == migrate.Refused) {
			t.Fatalf("phase one: %s %s: %s", r.Source, r.Outcome, r.Reason)
		}
	}
	signTBS(t, tbs)

	// The one-phase result, for comparison.
	direct := filepath.Join(t.TempDir(), "direct")
	if _, err := migrate.Run(context.Background(), []string{src}, migrate.Options{Out: direct, Signer: &bpfsig.Signer{Key: testfix.Signer(t).Key, Cert: testfix.Cert(t), ID: bpfsig.IssuerSerial}, Trust: trust, Force: true}); err != nil {
		t.Fatal(err)
	}
	so := migrate.SignatureOptions{Sigs: tbs, Cert: testfix.Cert(t), SignerID: bpfsig.IssuerSerial}
	out := filepath.Join(t.TempDir(), "out")
	sum, err = migrate.RunAttach([]string{src}, so, migrate.Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Migrated != 2 || sum.Refused != 1 {
		t.Fatalf("phase two: %s", sum)
	}
	for _, rel := range []string{"a.skel.h", "sub/b.skel.h"} {
		got, _ := os.ReadFile(filepath.Join(out, rel))
		want, _ := os.ReadFile(filepath.Join(direct, rel))
		if len(got) == 0 || !bytes.Equal(got, want) {
			t.Fatalf("%s: two-phase result differs from migrate's", rel)
		}
	}
	if _, err := migrate.RunAttach([]string{src}, so, migrate.Options{Out: filepath.Join(src, "out")}); !errors.Is(err, migrate.ErrUsage) {
		t.Fatalf("--out inside the source: %v", err)
	}

	// In place: backups of the originals, results as migrate's; then a changed source.
	a := filepath.Join(src, "a.skel.h")
	orig, _ := os.ReadFile(a)
	sum, err = migrate.RunAttach([]string{src}, so, migrate.Options{InPlace: true})
	if err != nil || sum.Migrated != 2 {
		t.Fatalf("in place: %v %v", sum, err)
	}
	if b, _ := os.ReadFile(a + migrate.DefaultBackupSuffix); !bytes.Equal(b, orig) {
		t.Fatal("in place: no backup of the original")
	}
	if got, _ := os.ReadFile(a); !bytes.Equal(got, mustRead(t, filepath.Join(direct, "a.skel.h"))) {
		t.Fatal("in place: result differs from migrate's")
	}
	sum, err = migrate.RunAttach([]string{src}, so, migrate.Options{Out: filepath.Join(t.TempDir(), "again")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Files {
		if r.Outcome != migrate.Refused {
			t.Fatalf("%s after in-place: %s, want refused", r.Source, r.Outcome)
		}
		if !strings.HasSuffix(r.Source, "c.skel.h") && !strings.Contains(r.Reason, "changed since") {
			t.Fatalf("%s: %s", r.Source, r.Reason)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
