//go:build unix

package migrate_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bpfsig/bpfsig/migrate"
)

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }

// TestOutThroughLinkDotDot: --out l/../out, with l a link to d/sub, writes where the
// system resolves that name (d/out, as mkdir -p l/../out would create it), not where
// filepath.Join's lexical reading puts it (./out).
func TestOutThroughLinkDotDot(t *testing.T) {
	src := tree(t, map[string]string{"a/x.skel.h": "legacy-v1"})
	base := t.TempDir()
	d := filepath.Join(base, "d")
	if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(d, "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	o := opts(t)
	o.Out = "l/../out"
	sum, err := migrate.Run(context.Background(), []string{src}, o)
	if err != nil || sum.Migrated != 1 {
		t.Fatalf("%v %v", sum, err)
	}
	if _, err := os.Stat(filepath.Join(d, "out", "a", "x.skel.h")); err != nil {
		t.Errorf("d/out/a/x.skel.h: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(base, "out")); err == nil {
		t.Errorf("%s/out was written: the lexical reading of l/../out", base)
	}
}

// TestReportPathThroughLinkDotDot: CheckReportPath("l/../../d2/r.json"), l -> d/sub, checks
// base/d2, where the report will go, not ../d2, the lexical reading (which does not exist).
func TestReportPathThroughLinkDotDot(t *testing.T) {
	base := t.TempDir()
	d := filepath.Join(base, "d")
	for _, p := range []string{filepath.Join(d, "sub"), filepath.Join(base, "d2")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(d, "sub"), filepath.Join(base, "l")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	if _, err := os.Stat("../d2"); err == nil {
		t.Skip("../d2 exists: the lexical reading cannot be told apart")
	}
	if err := migrate.CheckReportPath("l/../../d2/r.json"); err != nil {
		t.Fatalf("CheckReportPath: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(base, "d2")); len(ents) != 0 {
		t.Errorf("d2 holds %d entries after the check: the probe was left", len(ents))
	}
}
