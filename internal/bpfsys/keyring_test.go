package bpfsys

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// procKeys returns the lines of /proc/keys by serial.
func procKeys(t testing.TB) map[int32]string {
	t.Helper()
	f, err := os.Open("/proc/keys")
	if err != nil {
		t.Skipf("no /proc/keys: %v", err)
	}
	defer f.Close()
	m := map[int32]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var serial uint32
		if _, err := fmt.Sscanf(sc.Text(), "%x", &serial); err == nil {
			m[int32(serial)] = sc.Text()
		}
	}
	return m
}

// waitKeysGone polls /proc/keys until none of ids is listed (the key garbage collector runs
// asynchronously after an invalidation).
func waitKeysGone(t testing.TB, ids ...int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys := procKeys(t)
		var left []string
		for _, id := range ids {
			if l, ok := keys[id]; ok {
				left = append(left, l)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys still listed in /proc/keys:\n%s", strings.Join(left, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
}

func TestNewKeyring(t *testing.T) {
	requireRoot(t)
	cert := blob(t, "../keys/test-rsa2048.crt.der")
	k, err := NewKeyring([][]byte{cert})
	if err != nil {
		t.Fatal(err)
	}
	keys := procKeys(t)
	ring, ok := keys[k.ID]
	if !ok || !strings.Contains(ring, " keyring ") || !strings.Contains(ring, "bpfsig: 1") {
		t.Errorf("keyring %d in /proc/keys = %q, want a keyring \"bpfsig\" with 1 key", k.ID, ring)
	}
	if len(k.keys) != 1 {
		t.Fatalf("keys = %v, want 1", k.keys)
	}
	key, ok := keys[int32(k.keys[0])]
	if !ok || !strings.Contains(key, " asymmetri") {
		t.Errorf("key %d in /proc/keys = %q, want an asymmetric key", k.keys[0], key)
	}
	t.Logf("keyring: %s", ring)
	t.Logf("key:     %s", key)
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitKeysGone(t, k.ID, int32(k.keys[0]))
}

func TestNewKeyringBadCert(t *testing.T) {
	requireRoot(t)
	before := procKeys(t)
	for name, certs := range map[string][][]byte{
		"garbage": {[]byte("not a certificate")},
		"empty":   {nil},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := NewKeyring(certs)
			if err == nil {
				k.Close()
				t.Fatal("NewKeyring accepted a bad certificate")
			}
			t.Log(err)
		})
	}
	// No "bpfsig" keyring may be left behind.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []string
		for id, l := range procKeys(t) {
			if _, old := before[id]; !old && strings.Contains(l, " keyring ") && strings.Contains(l, "bpfsig") {
				left = append(left, l)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyrings left behind: %q", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
