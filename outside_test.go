package bpfsig_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestOutsideProgram builds and runs examples/outside, a program in its own module that uses
// bpfsig's public packages only (the go tool refuses an internal import across modules), and
// checks that every step of the CLI's work it performs on the fixtures passed.
func TestOutsideProgram(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not in PATH: cannot build the outside program")
	}
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "run", ".", repo)
	cmd.Dir = filepath.Join(repo, "examples", "outside")
	// Its own module: no workspace, no network (the dependencies are the root module's, in
	// the module cache), no GOFLAGS meant for this module.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		hint := ""
		if strings.Contains(text, "go.sum") || strings.Contains(text, "go.mod") {
			hint = "\n(the root module's dependencies changed: cd examples/outside && cp ../../go.sum . && go mod tidy)"
		}
		t.Fatalf("go run examples/outside: %v\n%s%s", err, text, hint)
	}
	if strings.Contains(text, "FAIL") || !strings.HasSuffix(text, "all checks passed\n") {
		t.Fatalf("outside program reports failures:\n%s", text)
	}
	want := []string{
		"inspect unsigned", "inspect legacy-v1", "inspect legacy-v2", "inspect raw", "inspect chain",
		"disasm legacy-v2", "signature raw",
		"verify legacy-v1", "verify legacy-v2", "verify raw", "verify chain", "verify unsigned",
		"verify --kernel 6.18 legacy-v2", "verify --kernel 6.18 raw",
		"sign raw", "sign legacy", "sign chain", "sign hornet",
		"compare as-is legacy-v2", "compare kernels legacy-v2", "compare tamper legacy-v2",
		"migrate with policy", "tbs + attach", "walk tree", "tbs + attach tree", "keygen", "restrict-to",
		"mapvalue", "fsverity digest", "fsverity sign + verify",
	}
	if runtime.GOOS == "linux" && os.Geteuid() == 0 {
		want = append(want, "probe")
		if strings.Contains(text, " usable true ") {
			want = append(want, "load unsigned", "compare --live")
		}
	}
	if os.Getenv("BPFSIG_ORACLE") == "1" {
		want = append(want, "oracle") // verify --oracle vm, from outside
	}
	for _, w := range want {
		if !strings.Contains(text, "\nok   "+w+": ") && !strings.HasPrefix(text, "ok   "+w+": ") {
			t.Errorf("no passing %q check in:\n%s", w, text)
		}
	}
	for _, w := range []string{
		"migrate with policy: 2 migrated: legacy-v1→legacy v2 legacy-v2→raw",
		"restrict-to: delegated key kept and verifies; stray refused (ENOKEY)",
		"compare as-is legacy-v2: legacy=OK chain=OK raw=rejected at admission EKEYREJECTED",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
	// The digest agrees with fsverity-utils' own tool where it is installed.
	if fv, err := exec.LookPath("fsverity"); err == nil {
		ref, err := exec.Command(fv, "digest", filepath.Join(repo, "testdata", "minimal", "raw.skel.h")).Output()
		if err != nil {
			t.Fatalf("fsverity digest: %v", err)
		}
		digest, _, _ := strings.Cut(string(ref), " ")
		if !strings.Contains(text, "ok   fsverity digest: "+digest+"\n") {
			t.Errorf("fsverity digest says %s; outside program:\n%s", digest, text)
		}
	} else {
		t.Log("fsverity (Debian fsverity) not installed: digest not cross-checked")
	}
}
