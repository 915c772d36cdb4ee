package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/internal/keys"
)

// runKeygen runs `bpfsig keygen ARGS` in an app holding only that command (main.go wires it
// for real) and returns the exit code and output.
func runKeygen(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli.App{
		Name: "bpfsig", Writer: &out, ErrWriter: &errb,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   func(c *cli.Context, err error, _ bool) error { return cli.Exit(err.Error(), exitUsage) },
		Commands:       []*cli.Command{keygenCommand()},
	}
	err := app.Run(append([]string{"bpfsig", "keygen"}, args...))
	code := 0
	if err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		} else {
			code = exitUsage
		}
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

func TestKeygenCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	code, out, errs := runKeygen(t, "--algo", "p256", "--ca", "--subject", "fleet root", "--key-out", p("root.key"), "--cert-out", p("root.pem"))
	if code != 0 {
		t.Fatalf("root: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "self-signed, CA") {
		t.Errorf("output %q", out)
	}
	code, out, errs = runKeygen(t, "--algo", "rsa2048", "--issuer-key", p("root.key"), "--issuer-cert", p("root.pem"),
		"--key-out", p("leaf.key"), "--cert-out", p("leaf.der"), "--der", "--json")
	if code != 0 {
		t.Fatalf("delegated: exit %d: %s", code, errs)
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil || j["delegated"] != true || j["issuer"] != "CN=fleet root" {
		t.Fatalf("json %v %v", j, err)
	}
	leaf, err := keys.LoadCertificates(p("leaf.der"))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := keys.LoadCertificates(p("root.pem"))
	if kept, _ := keys.Restrict(leaf, root); len(kept) != 1 {
		t.Error("delegated certificate not linkable under the root")
	}
	if st, _ := os.Stat(p("leaf.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", st.Mode().Perm())
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"overwrite", []string{"--key-out", p("root.key"), "--cert-out", p("x.pem")}, exitFail, "file exists"},
		{"overwrite cert", []string{"--key-out", p("y.key"), "--cert-out", p("root.pem")}, exitFail, "file exists"},
		{"no outputs", []string{"--algo", "p256"}, exitUsage, "--key-out and --cert-out"},
		{"bad algo", []string{"--algo", "rsa1024", "--key-out", p("a"), "--cert-out", p("b")}, exitUsage, "unknown algorithm"},
		{"bad days", []string{"--days", "0", "--key-out", p("a"), "--cert-out", p("b")}, exitUsage, "--days"},
		{"issuer key alone", []string{"--issuer-key", p("root.key"), "--key-out", p("a"), "--cert-out", p("b")}, exitUsage, "go together"},
		{"delegated CA", []string{"--ca", "--issuer-key", p("root.key"), "--issuer-cert", p("root.pem"), "--key-out", p("a"), "--cert-out", p("b")}, exitUsage, "CA:FALSE"},
		{"issuer mismatch", []string{"--issuer-key", p("leaf.key"), "--issuer-cert", p("root.pem"), "--key-out", p("a"), "--cert-out", p("b")}, exitFail, "does not belong"},
		{"missing issuer key", []string{"--issuer-key", p("nope"), "--issuer-cert", p("root.pem"), "--key-out", p("a"), "--cert-out", p("b")}, exitFail, "nope"},
		{"bad pkcs11 issuer", []string{"--issuer-key", "pkcs11:object=x;object=y", "--issuer-cert", p("root.pem"), "--key-out", p("a"), "--cert-out", p("b")}, exitUsage, "more than once"},
		{"argument", []string{"extra"}, exitUsage, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runKeygen(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d %q, want %d %q", code, errs, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(p("a")); err == nil {
		t.Error("a failed keygen left a key file")
	}
}
