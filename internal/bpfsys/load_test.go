package bpfsys

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const blobDir = "../../testdata/blobs"

// fixtureCtxSize is sizeof the skeleton prefix of testdata/minimal: ctx header, 3 maps, 1 prog.
const fixtureCtxSize = 24 + 3*16 + 1*4

func blob(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(blobDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureSpec(t testing.TB, name string, proc Procedure) LoadSpec {
	return LoadSpec{
		Name:      name,
		Insn:      blob(t, name+".insn"),
		Data:      blob(t, name+".data"),
		Procedure: proc,
		CtxSize:   fixtureCtxSize,
	}
}

var (
	bpfOnce   bool
	bpfReason string
)

// requireBPF skips the test unless the process can really use bpf(2): it tries to create a map
// and to load and run a syscall program.
func requireBPF(t testing.TB) {
	t.Helper()
	if !bpfOnce {
		bpfOnce = true
		switch {
		case os.Geteuid() != 0:
			bpfReason = "not root: bpf(2) needs CAP_BPF and CAP_PERFMON"
		default:
			if it := probeSyscallProg(); !it.OK {
				bpfReason = "bpf(2) unusable: " + it.Detail
			}
		}
	}
	if bpfReason != "" {
		t.Skip(bpfReason)
	}
}

func TestProcedureString(t *testing.T) {
	for p, want := range map[Procedure]string{Legacy: "legacy", Chain: "chain", Raw: "raw", Procedure(9): "Procedure(9)"} {
		if got := p.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(p), got, want)
		}
	}
}

func TestLoadMisuse(t *testing.T) {
	good := LoadSpec{Name: "x", Insn: make([]byte, 16), Data: []byte{1}, CtxSize: 76}
	tests := []struct {
		name string
		mod  func(*LoadSpec)
	}{
		{"procedure", func(s *LoadSpec) { s.Procedure = 7 }},
		{"no insn", func(s *LoadSpec) { s.Insn = nil }},
		{"odd insn", func(s *LoadSpec) { s.Insn = make([]byte, 12) }},
		{"no data", func(s *LoadSpec) { s.Data = nil }},
		{"small ctx", func(s *LoadSpec) { s.CtxSize = 20 }},
		{"unaligned ctx", func(s *LoadSpec) { s.CtxSize = 77 }},
		{"sigmaps on legacy", func(s *LoadSpec) { s.SignatureMaps = []int32{0} }},
		{"empty signature", func(s *LoadSpec) { s.Signature = []byte{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.mod(&s)
			res, err := Load(s)
			if err == nil || res != nil {
				t.Fatalf("Load = %v, %v; want misuse error", res, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}

// TestLoadFixtures runs the real loaders of testdata/blobs against the live kernel.
func TestLoadFixtures(t *testing.T) {
	requireBPF(t)
	tests := []struct {
		name  string
		spec  func(t *testing.T) LoadSpec
		check func(t *testing.T, r *LoadResult)
	}{
		{"legacy-v1 intact", func(t *testing.T) LoadSpec { return fixtureSpec(t, "legacy-v1", Legacy) }, wantCreatedAll},
		{"legacy-v2 intact", func(t *testing.T) LoadSpec { return fixtureSpec(t, "legacy-v2", Legacy) }, wantCreatedAll},
		{"legacy-v1 flipped data", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v1", Legacy)
			s.Data = flip(s.Data, 100)
			return s
		}, wantRetval(-22)},
		{"legacy-v2 flipped data", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.Data = flip(s.Data, len(s.Data)-1)
			return s
		}, wantRetval(-22)},
		{"legacy-v2 not exclusive", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.NoExclusive = true
			return s
		}, wantRetval(-22)},
		{"legacy-v1 not exclusive (CVE-2026-80675)", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v1", Legacy)
			s.NoExclusive = true
			return s
		}, wantCreatedAll},
		{"legacy-v2 no hash request", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.NoHashRequest = true
			return s
		}, wantRetval(-22)},
		{"legacy-v1 no hash request", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v1", Legacy)
			s.NoHashRequest = true
			return s
		}, wantRetval(-22)},
		{"legacy-v2 not frozen", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.NoFreeze = true
			return s
		}, wantStageErrno(StageMapHash, unix.EPERM)},
		{"legacy-v2 wrong excl hash", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.ExclHash = blob(t, "legacy-v1.excl")
			return s
		}, wantAll(wantStageErrno(StageProgLoad, unix.EACCES), wantLog("excl_prog_hash"))},
		{"legacy-v2 fd_array_cnt 1", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			one := uint32(1)
			s.FdArrayCnt = &one
			return s
		}, wantAll(wantStageErrno(StageProgLoad, unix.EACCES), wantLog("excl_prog_hash"))},
		{"unsigned loader", func(t *testing.T) LoadSpec { return fixtureSpec(t, "unsigned", Legacy) }, wantCreatedAll},
		{"raw unsigned", func(t *testing.T) LoadSpec { return fixtureSpec(t, "raw", Raw) }, wantCreatedAll},
		{"raw unsigned fd_array_cnt 1", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "raw", Raw)
			one := uint32(1)
			s.FdArrayCnt = &one
			return s
		}, wantAll(wantStageErrno(StageProgLoad, unix.EACCES), wantLog("excl_prog_hash"))},
		{"excl hash of the wrong size", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.ExclHash = make([]byte, 20)
			return s
		}, wantStageErrno(StageMapCreate, unix.EINVAL)},
		{"chain procedure", func(t *testing.T) LoadSpec {
			s := fixtureSpec(t, "chain", Chain)
			s.Signature = blob(t, "chain.sig")
			s.SignatureMaps = []int32{0}
			return s
		}, wantStageErrno(StageProgLoad, unix.E2BIG)},
		{"chain without signature maps is legacy", func(t *testing.T) LoadSpec { return fixtureSpec(t, "chain", Chain) }, wantCreatedAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec(t)
			res, err := Load(spec)
			if err != nil {
				t.Fatal(err)
			}
			logResult(t, res)
			if h := res.Stage(StageMapHash); !h.Skipped && h.Errno == 0 {
				// The data blobs are multiples of 8 bytes: the map hash is SHA-256 of the blob.
				if want := sha256.Sum256(spec.Data); !bytes.Equal(res.MapHash, want[:]) {
					t.Errorf("map hash %x, want SHA-256(Data) %x", res.MapHash, want)
				}
			}
			tt.check(t, res)
			wantLoaderClosed(t, res)
		})
	}
}

func logResult(t *testing.T, r *LoadResult) {
	t.Helper()
	for _, s := range r.Stages {
		rv := ""
		if s.Retval != nil {
			rv = " retval=" + strconv.Itoa(int(*s.Retval))
		}
		t.Logf("  %-10s errno=%v skipped=%v%s", s.Stage, s.Errno, s.Skipped, rv)
		if s.Log != "" {
			t.Logf("  verifier log tail: %q", lastLine(s.Log))
		}
	}
	for _, o := range r.Created {
		t.Logf("  created %s %q %s id=%d", o.Kind, o.Name, o.Type, o.ID)
	}
	if len(r.ClosedFDs) > 0 {
		t.Logf("  loader closed host fds %v (private table copy)", r.ClosedFDs)
	}
}

func wantCreatedAll(t *testing.T, r *LoadResult) {
	t.Helper()
	if !r.OK || r.Retval == nil || *r.Retval != 0 {
		t.Fatalf("OK=%v errno=%v retval=%v, want a successful load", r.OK, r.Errno, r.Retval)
	}
	var maps, progs []string
	for _, o := range r.Created {
		if o.ID == 0 {
			t.Errorf("created %+v without an id", o)
		}
		switch o.Kind {
		case "map":
			maps = append(maps, o.Name)
		case "prog":
			progs = append(progs, o.Name)
		}
	}
	// The names the kernel stores: libbpf prefixes internal maps with the object name.
	wantMaps := []string{"counts", "minimal.rodata", "minimal.bss"}
	if len(maps) != 3 || len(progs) != 1 {
		t.Fatalf("created maps %q progs %q, want 3 maps and 1 program", maps, progs)
	}
	for i := range wantMaps {
		if maps[i] != wantMaps[i] {
			t.Errorf("map %d = %q, want %q", i, maps[i], wantMaps[i])
		}
	}
	if progs[0] != "handle_openat" {
		t.Errorf("program = %q, want handle_openat", progs[0])
	}
}

func wantRetval(rv int32) func(*testing.T, *LoadResult) {
	return func(t *testing.T, r *LoadResult) {
		t.Helper()
		if r.Errno != 0 || r.Retval == nil || *r.Retval != rv {
			t.Fatalf("errno=%v retval=%v, want the loader to run and return %d", r.Errno, r.Retval, rv)
		}
		if r.OK {
			t.Error("OK with a non-zero retval")
		}
		if len(r.Created) != 0 {
			t.Errorf("created %v after a failed run", r.Created)
		}
	}
}

func wantStageErrno(stage string, e unix.Errno) func(*testing.T, *LoadResult) {
	return func(t *testing.T, r *LoadResult) {
		t.Helper()
		s := r.Stage(stage)
		if s == nil || s.Errno != e {
			t.Fatalf("stage %s = %+v, want %v", stage, s, e)
		}
		if r.Errno != e || r.OK || r.Retval != nil {
			t.Errorf("result errno=%v ok=%v retval=%v, want %v and no run", r.Errno, r.OK, r.Retval, e)
		}
		after := false
		for _, st := range r.Stages {
			if after && !st.Skipped {
				t.Errorf("stage %s attempted after %s failed", st.Stage, stage)
			}
			after = after || st.Stage == stage
		}
	}
}

func wantAll(checks ...func(*testing.T, *LoadResult)) func(*testing.T, *LoadResult) {
	return func(t *testing.T, r *LoadResult) {
		t.Helper()
		for _, c := range checks {
			c(t, r)
		}
	}
}

// wantLog checks that the failing prog_load stage carries a verifier log mentioning sub.
func wantLog(sub string) func(*testing.T, *LoadResult) {
	return func(t *testing.T, r *LoadResult) {
		t.Helper()
		if s := r.Stage(StageProgLoad); s == nil || !strings.Contains(s.Log, sub) {
			t.Errorf("prog_load log does not mention %q: %+v", sub, s)
		}
	}
}

func wantLoaderClosed(t *testing.T, r *LoadResult) {
	t.Helper()
	if r.Stage(StageMapCreate).Errno != 0 {
		if len(r.Loader) != 0 {
			t.Errorf("loader objects %+v without a map", r.Loader)
		}
		return
	}
	if len(r.Loader) == 0 || r.Loader[0].Name != "__loader.map" || r.Loader[0].Type != "Array" {
		t.Errorf("loader objects = %+v, want __loader.map first", r.Loader)
	}
	if r.Stage(StageProgLoad).Errno == 0 && !r.Stage(StageProgLoad).Skipped {
		if len(r.Loader) != 2 || r.Loader[1].Name != "__loader_prog" && r.Loader[1].Name != "__loader.prog" {
			t.Errorf("loader objects = %+v, want the loader program second", r.Loader)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}
