package bpfsys

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseProcKeys(t *testing.T) {
	const keys = `06b43d0e I------     1 perm 1f030000     0     0 keyring   .dns_resolver: empty
27db19e8 I------     1 perm 1f0b0000     0     0 keyring   .builtin_trusted_keys: 1
2dc3a70c I--Q---     1 perm 1f3f0000     0 65534 keyring   _uid_ses.0: 1
1aaaaaaa I------     1 perm 1f0b0000     0     0 keyring   .bpf: empty
3bbbbbbb I--Q---     1 perm 3f010000     0     0 asymmetric bpfsig: X509.rsa 1234abcd []
short line
`
	got := parseProcKeys([]byte(keys))
	for name, want := range map[string]SystemKeyring{
		".builtin_trusted_keys": {Name: ".builtin_trusted_keys", Present: true, Serial: "27db19e8", Keys: "1"},
		".bpf":                  {Name: ".bpf", Present: true, Serial: "1aaaaaaa", Keys: "empty"},
		"_uid_ses.0":            {Name: "_uid_ses.0", Present: true, Serial: "2dc3a70c", Keys: "1"},
	} {
		if got[name] != want {
			t.Errorf("%s: %+v, want %+v", name, got[name], want)
		}
	}
	if _, ok := got["bpfsig"]; ok || len(got) != 4 {
		t.Errorf("parsed %d keyrings (%v); want the 4 keyrings, no keys", len(got), got)
	}
}

// TestProbeKeyringsFiles: the .bpf keyring and keyring_unsealed facts come from the files.
func TestProbeKeyringsFiles(t *testing.T) {
	dir := t.TempDir()
	oldKeys, oldParam := procKeysPath, keyringUnsealedPath
	defer func() { procKeysPath, keyringUnsealedPath = oldKeys, oldParam }()
	procKeysPath = filepath.Join(dir, "keys")
	keyringUnsealedPath = filepath.Join(dir, "keyring_unsealed")
	os.WriteFile(procKeysPath, []byte("1aaaaaaa I------     1 perm 1f0b0000     0     0 keyring   .bpf: 2\n"), 0o644)
	os.WriteFile(keyringUnsealedPath, []byte("Y\n"), 0o644)
	r := probeKeyrings()
	if !r.BPFKeyring.OK || !r.KeyringUnsealed.OK || r.KeyringUnsealed.Detail != keyringUnsealedPath+" = Y" {
		t.Errorf("with the files: %+v %+v", r.BPFKeyring, r.KeyringUnsealed)
	}
	os.Remove(keyringUnsealedPath)
	os.WriteFile(procKeysPath, nil, 0o644)
	r = probeKeyrings()
	if r.BPFKeyring.OK || r.KeyringUnsealed.OK {
		t.Errorf("without: %+v %+v", r.BPFKeyring, r.KeyringUnsealed)
	}
	for _, k := range r.System {
		if k.Present {
			t.Errorf("%s present in an empty /proc/keys", k.Name)
		}
	}
}

// TestProbeKeyringsLive: on the running kernel (root), the fresh keyring made for the probe
// resolves whenever the kernel tells at all, and a keyring-less id answer is consistent.
func TestProbeKeyringsLive(t *testing.T) {
	requireBPF(t)
	r := ProbeKeyrings()
	t.Logf("\n%s", r)
	var fresh *KeyringID
	for i := range r.IDs {
		if r.IDs[i].Name == "a fresh user keyring" {
			fresh = &r.IDs[i]
		}
	}
	if fresh == nil {
		t.Fatal("no fresh keyring probed")
	}
	if r.LookupFirst && (fresh.Resolves == nil || !*fresh.Resolves) {
		t.Errorf("fresh keyring %+v does not resolve although the kernel looks keyrings up first", fresh)
	}
	if !r.LookupFirst && fresh.Resolves != nil {
		t.Errorf("%+v decided without a control", fresh)
	}
}
