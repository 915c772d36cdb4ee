//go:build linux

package kprofile

import (
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/testfix"
)

// junkSig is the selftests' "present-but-invalid signature": 64 bytes starting 30 42 13 37.
var junkSig = func() []byte {
	b := make([]byte, 64)
	copy(b, []byte{0x30, 0x42, 0x13, 0x37})
	return b
}()

// fixture holds the bytes of the project's real skeletons the contract tests sign with.
type fixture struct {
	rawInsn, rawData, rawSig []byte // raw.skel.h: signature over insn ‖ data
	legInsn, legData, legSig []byte // legacy-v2.skel.h: signature over insn, v2 check block
	legHashOK                bool   // the legacy-v2 check's embedded hash equals SHA-256(data)
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	raw, leg := testfix.Artifact(t, "raw"), testfix.Artifact(t, "legacy-v2")
	c := leg.Check()
	if c == nil {
		t.Fatal("legacy-v2 fixture has no check block")
	}
	return &fixture{
		rawInsn: raw.Insn(), rawData: raw.Data(), rawSig: raw.Sig(),
		legInsn: leg.Insn(), legData: leg.Data(), legSig: leg.Sig(),
		legHashOK: c.Hash == sha256.Sum256(leg.Data()),
	}
}

// verify runs the real PKCS#7 check (internal/cms) over content against the fixture
// certificate, and returns the kernel errno it gives.
func verify(t *testing.T, content, sig []byte) Errno {
	t.Helper()
	_, err := cms.Verify(content, sig, testfix.Certs(t))
	if err == nil {
		return 0
	}
	e, ok := kerrno.Of(err)
	if !ok {
		t.Fatalf("cms.Verify: %v carries no errno", err)
	}
	return Errno(e)
}

// errnoOf is verify against an explicit trust list (nil error → 0; an error without an
// errno → EBADMSG, as compat.Admit does).
func errnoOf(t *testing.T, content, sig []byte, trust []*x509.Certificate) Errno {
	t.Helper()
	_, err := cms.Verify(content, sig, trust)
	if err == nil {
		return 0
	}
	if e, ok := kerrno.Of(err); ok {
		return Errno(e)
	}
	return EBADMSG
}

// withCMS fills f.CMS the way a caller does: verify sig over the profile's signed content
// for insn and the values (by fd_array index) of the maps the profile folds.
func withCMS(t *testing.T, p *Profile, f Facts, insn []byte, values map[int][]byte, sig []byte) Facts {
	t.Helper()
	if !f.Signed {
		return f
	}
	var maps [][]byte
	for _, i := range p.Folded(f) {
		maps = append(maps, values[i])
	}
	f.CMS = verify(t, SignedContent(p, insn, maps), sig)
	return f
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0xff
	return out
}

func u32(v uint32) *uint32 { return &v }
func i32(v int32) *int32   { return &v }

// want is the expected Result of one load; zero fields are checked too.
type want struct {
	outcome  compat.Outcome
	stage    compat.Stage
	errno    Errno
	retval   *int32
	lsm      compat.LSMKnowledge
	admitted bool // lsm_admitted_then_failed
	record   *Record
	rule     string
}

func check(t *testing.T, got Result, w want) {
	t.Helper()
	if got.Outcome != w.outcome || got.Stage != w.stage || got.Errno != w.errno {
		t.Errorf("outcome %s stage %q errno %s, want %s %q %s (rule %s: %s)", got.Outcome, got.Stage, got.Errno, w.outcome, w.stage, w.errno, got.Rule, got.Reason)
	}
	switch {
	case (got.Retval == nil) != (w.retval == nil):
		t.Errorf("retval %v, want %v", ptr(got.Retval), ptr(w.retval))
	case got.Retval != nil && *got.Retval != *w.retval:
		t.Errorf("retval %d, want %d", *got.Retval, *w.retval)
	}
	if got.LSM != w.lsm || got.LSMAdmittedThenFailed != w.admitted {
		t.Errorf("lsm %q admitted-then-failed %t, want %q %t", got.LSM, got.LSMAdmittedThenFailed, w.lsm, w.admitted)
	}
	switch {
	case (got.Record == nil) != (w.record == nil):
		t.Errorf("record %+v, want %+v", got.Record, w.record)
	case got.Record != nil && *got.Record != *w.record:
		t.Errorf("record %+v, want %+v", *got.Record, *w.record)
	}
	if got.Rule != w.rule {
		t.Errorf("decided by %q, want %q", got.Rule, w.rule)
	}
}

func ptr(p *int32) any {
	if p == nil {
		return "none"
	}
	return *p
}
