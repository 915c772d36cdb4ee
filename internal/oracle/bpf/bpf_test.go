package bpf

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cilium/ebpf"
)

func TestRequestRoundTrip(t *testing.T) {
	in := Request{TGID: 1, Cmd: 11, Seq: 7, DoneSeq: 6, KeyringMode: KeyringSystem, Keyring: -3,
		Status: StatusVerified, Ret: -129, Content: []byte("content"), Sig: []byte{0x30, 0x82}}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != ValueSize {
		t.Fatalf("len %d, want %d", len(b), ValueSize)
	}
	var out Request
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out.TGID != in.TGID || out.Cmd != in.Cmd || out.Seq != in.Seq || out.DoneSeq != in.DoneSeq ||
		out.KeyringMode != in.KeyringMode || out.Keyring != in.Keyring || out.Status != in.Status ||
		out.Ret != in.Ret || !bytes.Equal(out.Content, in.Content) || !bytes.Equal(out.Sig, in.Sig) {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
}

func TestRequestTooLong(t *testing.T) {
	for _, r := range []Request{{Content: make([]byte, ContentMax)}, {Sig: make([]byte, SigMax)}} {
		if _, err := r.MarshalBinary(); !errors.Is(err, ErrTooLong) {
			t.Errorf("MarshalBinary(len %d/%d) = %v, want ErrTooLong", len(r.Content), len(r.Sig), err)
		}
	}
	if err := new(Request).UnmarshalBinary(make([]byte, 3)); err == nil {
		t.Error("UnmarshalBinary(short) succeeded")
	}
}

// TestObject checks that the committed object parses and matches the Go mirror of its layout.
func TestObject(t *testing.T) {
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(Object))
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Programs[ProgramName]
	if p == nil {
		t.Fatalf("program %q missing", ProgramName)
	}
	if p.Type != ebpf.LSM || p.AttachTo != "bpf" {
		t.Errorf("program type %v attach %q, want LSM on bpf", p.Type, p.AttachTo)
	}
	m := spec.Maps[MapName]
	if m == nil {
		t.Fatalf("map %q missing", MapName)
	}
	if m.Type != ebpf.Array || m.ValueSize != ValueSize || m.MaxEntries != 1 {
		t.Errorf("map %v value %d entries %d, want Array %d 1", m.Type, m.ValueSize, m.MaxEntries, ValueSize)
	}
}
