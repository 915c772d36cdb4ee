package bpfsys

import (
	"slices"
	"testing"
	"time"
)

type snapshot struct {
	fds         map[int]bool
	progs, maps []uint32
	keys        map[int32]string
}

func snap(t *testing.T) snapshot {
	t.Helper()
	progs, e := objectIDs(cmdProgGetNextID)
	if e != 0 {
		t.Fatalf("BPF_PROG_GET_NEXT_ID: %v", e)
	}
	maps, e := objectIDs(cmdMapGetNextID)
	if e != 0 {
		t.Fatalf("BPF_MAP_GET_NEXT_ID: %v", e)
	}
	return snapshot{fds: openFDs(), progs: progs, maps: maps, keys: procKeys(t)}
}

func newIDs(before, after []uint32) []uint32 {
	var n []uint32
	for _, id := range after {
		if !slices.Contains(before, id) {
			n = append(n, id)
		}
	}
	return n
}

// TestNoLeaks runs every kind of load, the probe and a keyring, and checks that no descriptor,
// BPF program, BPF map or key is left (IDs by BPF_{PROG,MAP}_GET_NEXT_ID, keys by /proc/keys).
func TestNoLeaks(t *testing.T) {
	requireBPF(t)
	// Warm up: let cilium/ebpf run its feature probes and the runtime open what it keeps open.
	if _, err := Load(fixtureSpec(t, "legacy-v2", Legacy)); err != nil {
		t.Fatal(err)
	}
	Probe()
	before := snap(t)

	var ours []Object
	run := func(s LoadSpec) {
		res, err := Load(s)
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, res.Created...)
		ours = append(ours, res.Loader...)
	}
	for _, name := range []string{"legacy-v1", "legacy-v2", "unsigned", "chain"} {
		run(fixtureSpec(t, name, Legacy))
		s := fixtureSpec(t, name, Legacy)
		s.Data = flip(s.Data, 7)
		run(s)
		s = fixtureSpec(t, name, Legacy)
		s.NoExclusive = true
		run(s)
		s = fixtureSpec(t, name, Legacy)
		s.NoFreeze = true
		run(s)
	}
	s0 := fixtureSpec(t, "legacy-v2", Legacy)
	s0.Data = append([]byte(nil), s0.Data...)
	s0.Data[0] = 3 // the loader's error path closes "fd 3" (in the private table)
	run(s0)
	run(fixtureSpec(t, "raw", Raw))
	one := uint32(1)
	s := fixtureSpec(t, "raw", Raw)
	s.FdArrayCnt = &one
	run(s)
	s = fixtureSpec(t, "chain", Chain)
	s.Signature, s.SignatureMaps = blob(t, "chain.sig"), []int32{0}
	run(s)
	ring, err := NewKeyring([][]byte{blob(t, "../keys/test-rsa2048.crt.der")})
	if err != nil {
		t.Fatal(err)
	}
	s = fixtureSpec(t, "legacy-v2", Legacy)
	s.Signature, s.KeyringID = blob(t, "legacy-v2.sig"), ring.ID
	run(s)
	if err := ring.Close(); err != nil {
		t.Fatal(err)
	}
	Probe()

	if len(ours) < 20 {
		t.Fatalf("only %d objects reported created; the scenarios did not run", len(ours))
	}
	// Objects are freed asynchronously (RCU, workqueues): poll.
	deadline := time.Now().Add(5 * time.Second)
	for {
		after := snap(t)
		var fds []int
		for fd := range after.fds {
			if !before.fds[fd] {
				fds = append(fds, fd)
			}
		}
		progs, maps := newIDs(before.progs, after.progs), newIDs(before.maps, after.maps)
		var keys []string
		for id, l := range after.keys {
			if _, ok := before.keys[id]; !ok {
				keys = append(keys, l)
			}
		}
		var alive []Object
		for _, o := range ours {
			if o.Kind == "prog" && slices.Contains(after.progs, o.ID) || o.Kind == "map" && slices.Contains(after.maps, o.ID) {
				alive = append(alive, o)
			}
		}
		if len(fds)+len(progs)+len(maps)+len(keys)+len(alive) == 0 {
			t.Logf("%d objects created and released; no fd, id or key left", len(ours))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: fds %v, prog ids %v, map ids %v, keys %q, our objects %+v", fds, progs, maps, keys, alive)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
