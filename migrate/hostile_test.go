package migrate_test

// Hostile inputs at the library level (issue 9): the rules of Plan and Run that the command
// line relies on, asked of the library directly.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/migrate"
)

// TestHostilePlanRefusals: the usage errors of Plan (errors.Is migrate.ErrUsage), each with
// nothing written and the source unchanged.
func TestHostilePlanRefusals(t *testing.T) {
	cases := []struct {
		name string
		srcs []string
		set  func(o *migrate.Options)
		want string
	}{
		{"out is the source's directory", []string{"dir/a.skel.h"}, func(o *migrate.Options) { o.Out = "dir" }, "is the input"},
		{"out is the tree", []string{"dir"}, func(o *migrate.Options) { o.Out = "./dir/" }, "inside, the source directory"},
		{"out below the tree", []string{"dir"}, func(o *migrate.Options) { o.Out = "dir/x/../new" }, "inside, the source directory"},
		{"out a link to the tree", []string{"dir"}, func(o *migrate.Options) { o.Out = "ldir" }, "inside, the source directory"},
		{"two sources, one target", []string{"dir/a.skel.h", "other/a.skel.h"}, func(o *migrate.Options) { o.Out = "out" }, "would both be written to"},
		{"backup suffix .skel.h", []string{"dir"}, func(o *migrate.Options) { o.Out = ""; o.InPlace = true; o.BackupSuffix = ".skel.h" }, "backup suffix"},
		{"report is the input", []string{"dir"}, func(o *migrate.Options) { o.Out = "out"; o.Report = "dir/a.skel.h" }, "--report"},
		{"report is the input by a link", []string{"dir"}, func(o *migrate.Options) { o.Out = "out"; o.Report = "ldir/a.skel.h" }, "--report"},
		{"report is a target to be", []string{"dir"}, func(o *migrate.Options) { o.Out = "out"; o.Report = "out/./a.skel.h" }, "--report"},
		{"report is a backup to be", []string{"dir"}, func(o *migrate.Options) { o.Out = ""; o.InPlace = true; o.Report = "dir/a.skel.h.orig" }, "--report"},
		{"neither out nor in place", []string{"dir"}, func(o *migrate.Options) { o.Out = "" }, "exactly one"},
		{"both out and in place", []string{"dir"}, func(o *migrate.Options) { o.InPlace = true }, "exactly one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			v1 := testfix.Bytes(t, "legacy-v1")
			for _, p := range []string{"dir/a.skel.h", "other/a.skel.h"} {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, v1, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.Symlink("dir", "ldir")
			o := opts(t)
			o.Out = "out"
			c.set(&o)
			_, err := migrate.Run(context.Background(), c.srcs, o)
			if !errors.Is(err, migrate.ErrUsage) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want a usage error saying %q", err, c.want)
			}
			if b, _ := os.ReadFile("dir/a.skel.h"); !bytes.Equal(b, v1) {
				t.Error("the source changed")
			}
			for _, p := range []string{"out", "dir/a.skel.h.orig", "dir/new"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s written", p)
				}
			}
		})
	}
}

// TestHostileWalkOutcomes: what a tree holds besides skeletons reaches the summary with the
// right outcome: a file reached twice is a Duplicate (no failure), a link leaving the tree or
// a FIFO is Skipped (a failure), an empty directory is Failed.
func TestHostileWalkOutcomes(t *testing.T) {
	t.Chdir(t.TempDir())
	v1 := testfix.Bytes(t, "legacy-v1")
	os.MkdirAll("src/sub", 0o755)
	os.MkdirAll("elsewhere", 0o755)
	os.MkdirAll("empty/deeper", 0o755)
	os.WriteFile("src/a.skel.h", v1, 0o644)
	os.WriteFile("elsewhere/b.skel.h", v1, 0o644)
	os.WriteFile("empty/deeper/notes.txt", []byte("not a skeleton"), 0o644)
	os.Symlink("../a.skel.h", "src/sub/in.skel.h")
	os.Symlink("../elsewhere/b.skel.h", "src/out.skel.h")

	run := func(srcs ...string) *migrate.Summary {
		t.Helper()
		o := opts(t)
		o.Out = filepath.Join(t.TempDir(), "out")
		sum, err := migrate.Run(context.Background(), srcs, o)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	outcomes := func(s *migrate.Summary) map[string]migrate.Outcome {
		m := map[string]migrate.Outcome{}
		for _, r := range s.Files {
			m[r.Source] = r.Outcome
		}
		return m
	}

	// Duplicates only: OK.
	os.Rename("src/out.skel.h", "out.skel.h.aside")
	sum := run("src", "./src/a.skel.h", "./src")
	if !sum.OK() || sum.Migrated != 1 || sum.Duplicates != 3 {
		t.Errorf("duplicates: %s (OK %v), want 1 migrated, 3 duplicates, OK", sum, sum.OK())
	}
	want := map[string]migrate.Outcome{"src/a.skel.h": migrate.Migrated, "src/sub/in.skel.h": migrate.Duplicate, "./src/a.skel.h": migrate.Duplicate, "./src": migrate.Duplicate}
	for src, o := range want {
		if got := outcomes(sum)[src]; got != o {
			t.Errorf("%s: %s, want %s", src, got, o)
		}
	}
	if !strings.Contains(sum.String(), "3 duplicate(s) taken once") {
		t.Errorf("summary line: %s", sum)
	}

	// A link leaving the tree: Skipped, not OK.
	os.Rename("out.skel.h.aside", "src/out.skel.h")
	sum = run("src")
	if sum.OK() || sum.Skipped != 1 || outcomes(sum)["src/out.skel.h"] != migrate.Skipped {
		t.Errorf("link outside: %s", sum)
	}

	// A FIFO named like a skeleton: Skipped, never opened.
	if err := mkfifo("src/pipe.skel.h"); err == nil {
		sum = run("src")
		if sum.OK() || outcomes(sum)["src/pipe.skel.h"] != migrate.Skipped {
			t.Errorf("FIFO in the tree: %s", sum)
		}
		os.Remove("src/pipe.skel.h")
	}

	// A tree with no skeleton: Failed, naming it.
	sum = run("empty")
	if sum.OK() || sum.Failed != 1 || outcomes(sum)["empty"] != migrate.Failed {
		t.Errorf("empty tree: %s", sum)
	}
	if r := sum.Files[0]; !strings.Contains(r.Reason, "no light skeleton header") {
		t.Errorf("empty tree: reason %q", r.Reason)
	}
}

// TestHostileUpToDateIsTheWholeFile: a target is up to date only when it is byte for byte
// what the migration writes; another program with the same loader and metadata (a renamed
// object) is refused, an edited copy of the same program is replaced.
func TestHostileUpToDateIsTheWholeFile(t *testing.T) {
	raw := testfix.Bytes(t, "raw")
	for _, c := range []struct {
		name    string
		target  []byte
		outcome migrate.Outcome
	}{
		{"the result", raw, migrate.UpToDate},
		{"renamed object", bytes.ReplaceAll(raw, []byte("minimal"), []byte("maximal")), migrate.Refused},
		{"edited host-side value", mustRead(t, testfix.Path("broken", "raw-rodata-edited.skel.h")), migrate.Migrated},
		{"a comment added", append([]byte("/* mine */\n"), raw...), migrate.Migrated},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := tree(t, map[string]string{"a.skel.h": "legacy-v2"})
			out := t.TempDir()
			tgt := filepath.Join(out, "a.skel.h")
			if err := os.WriteFile(tgt, c.target, 0o644); err != nil {
				t.Fatal(err)
			}
			o := opts(t)
			o.Out = out
			sum, err := migrate.Run(context.Background(), []string{src}, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := sum.Files[0].Outcome; got != c.outcome {
				t.Fatalf("%s (%s), want %s", got, sum.Files[0].Reason, c.outcome)
			}
			after := mustRead(t, tgt)
			switch c.outcome {
			case migrate.Refused, migrate.UpToDate:
				if !bytes.Equal(after, c.target) {
					t.Error("the target changed")
				}
			case migrate.Migrated:
				if !bytes.Equal(after, raw) {
					t.Error("the target is not the migrated skeleton")
				}
			}
		})
	}
}

// TestHostilePrefixesLibrary: bpfsig.Parse rejects every strict prefix of every fixture
// header, at every byte offset, with an error naming the file and a line; migrate.One
// fails such a file (a spread of offsets) and writes nothing.
func TestHostilePrefixesLibrary(t *testing.T) {
	out := t.TempDir()
	for _, name := range testfix.Names {
		full := testfix.Bytes(t, name)
		path := name + ".skel.h"
		re := regexp.MustCompile("^" + regexp.QuoteMeta(path) + `:[0-9]+: `)
		var accepted []int
		for n := 0; n < len(full); n++ {
			_, err := bpfsig.Parse(path, full[:n])
			if err == nil {
				accepted = append(accepted, n)
				continue
			}
			if !re.MatchString(err.Error()) {
				t.Errorf("%s cut at %d: %q does not start with %s:LINE:", name, n, err, path)
			}
		}
		if len(accepted) > 0 {
			t.Errorf("%s (%d bytes): %d prefixes accepted: %s", name, len(full), len(accepted), ranges(accepted))
		}
		src := filepath.Join(t.TempDir(), path)
		for k := 0; k < 50; k++ {
			n := k * (len(full) - 1) / 49
			if err := os.WriteFile(src, full[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			o := opts(t)
			o.Out, o.Force = out, true
			r := migrate.One(migrate.Job{Source: src, Target: filepath.Join(out, path), Mode: 0o644}, &o)
			if r.Outcome != migrate.Failed || !strings.Contains(r.Reason, src+":") {
				t.Errorf("%s cut at %d: migrate.One %s (%s), want failed naming the file", name, n, r.Outcome, r.Reason)
			}
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("migrate.One wrote %d files from prefixes", len(ents))
	}
}

// ranges writes sorted offsets as "a-b, c, d-e".
func ranges(ns []int) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(ns[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ns[i], ns[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
