//go:build linux || darwin

package twophase_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/testfix"
	"github.com/bpfsig/bpfsig/twophase"
)

// within fails the test instead of hanging it when f does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// TestManifestNamesAdv: names that are not one clean relative path inside the directory are
// refused, whatever spelling reaches outside or aliases another entry.
func TestManifestNamesAdv(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, name := range []string{"a/./b", "a//b", "./a", "a/", "a/..", "a/../b", "..", ".", "/", "//a", `a\..\b`, "../../etc/passwd", "/etc/passwd"} {
		m := map[string]any{"version": 1, "entries": []map[string]any{{"name": name, "source": "s", "tbs": name + ".tbs",
			"source_sha256": h, "tbs_sha256": h, "tbs_size": 1, "scheme": "raw"}}}
		if _, err := twophase.LoadManifest(writeManifest(t, t.TempDir(), m)); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	// One name twice, for two targets: which entry would hold is not the manifest's to decide.
	m := map[string]any{"version": 1, "entries": []map[string]any{
		{"name": "a", "source": "s", "tbs": "a.tbs", "source_sha256": h, "tbs_sha256": h, "tbs_size": 1, "scheme": "raw"},
		{"name": "a", "source": "t", "tbs": "a.tbs", "source_sha256": h, "tbs_sha256": h, "tbs_size": 1, "scheme": "legacy"},
	}}
	if _, err := twophase.LoadManifest(writeManifest(t, t.TempDir(), m)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("the same name twice with different targets: %v", err)
	}
	for _, body := range []string{"", "{}", `{"version":1}` + "\n" + `{"version":1}`, `{"version":1,"entries":[{}]}`, "[]", "null"} {
		dir := t.TempDir()
		p := filepath.Join(dir, twophase.ManifestName)
		os.WriteFile(p, []byte(body), 0o644)
		if m, err := twophase.LoadManifest(p); err == nil && len(m.Entries) > 0 {
			t.Errorf("manifest %q: accepted with entries %+v", body, m.Entries)
		}
	}
}

// TestManifestFilesAdv: a manifest that is huge, a FIFO or a directory fails at once.
func TestManifestFilesAdv(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{huge, fifo, dir} {
		within(t, 10*time.Second, "LoadManifest("+p+")", func() {
			if _, err := twophase.LoadManifest(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("manifest %s: %v", p, err)
			}
		})
	}
}

// treeAdv writes a.skel.h and b.skel.h (legacy-v1) under src, their TBS and manifest for raw under tbs, and
// a good signature for each as NAME.sig; it returns src and the TBS directory.
func treeAdv(t *testing.T) (string, string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	for _, n := range []string{"a", "b"} {
		os.WriteFile(filepath.Join(src, n+".skel.h"), testfix.Bytes(t, "legacy-v1"), 0o644) // host-override blocks: keeping them changes the TBS
	}
	tbs := filepath.Join(t.TempDir(), "tbs")
	if _, _, err := twophase.WriteTree([]string{src}, tbs, twophase.TreeOptions{Target: bpfsig.Target{Scheme: compat.Raw}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		sk, err := bpfsig.Open(filepath.Join(src, n+".skel.h"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := bpfsig.Prepare(sk, bpfsig.Target{Scheme: compat.Raw})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := p.Sign(testfix.Signer(t))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(tbs, n+".skel.h.sig"), signed.Sig(), 0o644)
	}
	return src, tbs
}

// TestAttachTreeHostileSignaturesAdv: a signature that is a FIFO, a link to a device or a huge
// file refuses that skeleton at once; the other one is attached.
func TestAttachTreeHostileSignaturesAdv(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(p string) error
		msg  string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "FIFO"},
		{"device", func(p string) error { return os.Symlink("/dev/zero", p) }, "character device"},
		{"huge", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(1 << 30)
		}, "larger than"},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o644) }, "empty"},
		{"pem junk", func(p string) error {
			return os.WriteFile(p, []byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\ntrailing"), 0o644)
		}, "after the PEM block"},
		{"both names", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(strings.TrimSuffix(p, ".sig")+".tbs.p7s", b, 0o644)
		}, "remove one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, tbs := treeAdv(t)
			sig := filepath.Join(tbs, "a.skel.h.sig")
			if tc.name != "both names" {
				os.Remove(sig)
			}
			if err := tc.make(sig); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			var res []*twophase.FileResult
			var err error
			within(t, 10*time.Second, "AttachTree", func() {
				res, err = twophase.AttachTree([]string{src}, twophase.AttachTreeOptions{Sigs: tbs, Cert: testfix.Cert(t), Out: out})
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				switch r.Name {
				case "a.skel.h":
					if r.Outcome == twophase.Written || !strings.Contains(r.Reason, tc.msg) {
						t.Errorf("a: %s: %s (want a refusal saying %q)", r.Outcome, r.Reason, tc.msg)
					}
					if _, err := os.Lstat(filepath.Join(out, "a.skel.h")); err == nil {
						t.Error("a refused skeleton was written")
					}
				case "b.skel.h":
					if r.Outcome != twophase.Written {
						t.Errorf("b: %s: %s", r.Outcome, r.Reason)
					}
				}
			}
		})
	}
}

// TestAttachTreeEditedManifestAdv: a manifest edited after phase one — another scheme, host
// overrides kept, another source hash — cannot get a signature attached to other bytes.
func TestAttachTreeEditedManifestAdv(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(e map[string]any)
		msg  string
	}{
		{"scheme", func(e map[string]any) { e["scheme"] = "legacy"; e["generation"] = "v2" }, "other TBS bytes"},
		{"keep overrides", func(e map[string]any) { e["keep_host_overrides"] = true }, "other TBS bytes"},
		{"source hash", func(e map[string]any) { e["source_sha256"] = strings.Repeat("00", 32) }, "changed since"},
		{"name", func(e map[string]any) { e["name"] = "c.skel.h"; e["tbs"] = "c.skel.h.tbs" }, "no entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, tbs := treeAdv(t)
			mf := filepath.Join(tbs, twophase.ManifestName)
			b, err := os.ReadFile(mf)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, e := range m["entries"].([]any) {
				if e.(map[string]any)["name"] == "a.skel.h" {
					tc.edit(e.(map[string]any))
				}
			}
			b, _ = json.Marshal(m)
			os.WriteFile(mf, b, 0o644)
			out := filepath.Join(t.TempDir(), "out")
			res, err := twophase.AttachTree([]string{src}, twophase.AttachTreeOptions{Sigs: tbs, Cert: testfix.Cert(t), Out: out})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Name == "a.skel.h" && (r.Outcome == twophase.Written || !strings.Contains(r.Reason, tc.msg)) {
					t.Errorf("a: %s: %s (want %q)", r.Outcome, r.Reason, tc.msg)
				}
			}
			if _, err := os.Lstat(filepath.Join(out, "a.skel.h")); err == nil {
				t.Error("a skeleton under an edited manifest entry was written")
			}
		})
	}
}
