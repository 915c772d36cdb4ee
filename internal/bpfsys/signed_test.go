package bpfsys

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// verifies reports whether the running kernel checks signatures, by trying (see Probe).
func verifies(t *testing.T) bool {
	t.Helper()
	it := probeSignatureVerification()
	t.Logf("signature_verification: ok=%v %s", it.OK, it.Detail)
	return it.OK
}

// TestSignedLoads makes signed loads with the fixtures' real signatures. On a kernel built
// without CONFIG_SYSTEM_DATA_VERIFICATION every one fails at prog_load with EOPNOTSUPP; on a
// verifying kernel the expectation is the verifier's answer (docs/spec.md §4, §5.5).
func TestSignedLoads(t *testing.T) {
	requireBPF(t)
	v := verifies(t)
	if !v && !strings.Contains(probeSignatureVerification().Detail, "CONFIG_SYSTEM_DATA_VERIFICATION") {
		t.Skip("signature fields unusable on this kernel")
	}
	ring, err := NewKeyring([][]byte{blob(t, "../keys/test-rsa2048.crt.der")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ring.Close(); err != nil {
			t.Error(err)
		}
		waitKeysGone(t, ring.ID)
	}()

	signed := func(name string, proc Procedure, keyring int32) LoadSpec {
		s := fixtureSpec(t, name, proc)
		s.Signature = blob(t, name+".sig")
		s.KeyringID = keyring
		return s
	}
	// unverifiable is the answer of a kernel that cannot verify; onVerifying that of one that can.
	tests := []struct {
		name        string
		spec        LoadSpec
		onVerifying unix.Errno // prog_load errno on a verifying kernel (0: loads and runs with 0)
	}{
		{"legacy-v2 builtin keyring", signed("legacy-v2", Legacy, 0), unix.ENOKEY},
		{"legacy-v2 test keyring", signed("legacy-v2", Legacy, ring.ID), 0},
		{"legacy-v1 test keyring", signed("legacy-v1", Legacy, ring.ID), 0},
		{"raw test keyring", signed("raw", Raw, ring.ID), 0},
		{"raw signature over insn only is legacy's", func() LoadSpec {
			s := signed("raw", Raw, ring.ID)
			s.Insn, s.Data = blob(t, "legacy-v2.insn"), blob(t, "legacy-v2.data")
			s.Signature = blob(t, "legacy-v2.sig")
			return s
		}(), unix.EKEYREJECTED},
		{"legacy-v2 flipped insn", func() LoadSpec {
			s := signed("legacy-v2", Legacy, ring.ID)
			s.Insn = flip(s.Insn, 8*40+4)
			return s
		}(), unix.EKEYREJECTED},
		{"legacy-v2 truncated signature", func() LoadSpec {
			s := signed("legacy-v2", Legacy, ring.ID)
			s.Signature = s.Signature[:200]
			return s
		}(), unix.EBADMSG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Load(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			logResult(t, res)
			load := res.Stage(StageProgLoad)
			switch {
			case !v:
				if load.Errno != unix.EOPNOTSUPP {
					t.Fatalf("prog_load errno = %v, want EOPNOTSUPP (kernel cannot verify)", load.Errno)
				}
			case tt.onVerifying == 0:
				wantCreatedAll(t, res)
			default:
				if load.Errno != tt.onVerifying {
					t.Fatalf("prog_load errno = %v, want %v", load.Errno, tt.onVerifying)
				}
			}
		})
	}
}

// TestSignedLoadChecksBeforeVerification covers the checks docs/spec.md §5.5 puts before the PKCS#7
// verification: signature size and keyring lookup (both EINVAL).
func TestSignedLoadChecksBeforeVerification(t *testing.T) {
	requireBPF(t)
	ring, err := NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	gone := ring.ID
	if err := ring.Close(); err != nil {
		t.Fatal(err)
	}
	waitKeysGone(t, gone)

	tests := []struct {
		name string
		mod  func(*LoadSpec)
		want unix.Errno
	}{
		{"signature over 8192 bytes", func(s *LoadSpec) { s.Signature = make([]byte, 8193) }, unix.EINVAL},
		{"keyring that no longer exists", func(s *LoadSpec) { s.KeyringID = gone }, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixtureSpec(t, "legacy-v2", Legacy)
			s.Signature = blob(t, "legacy-v2.sig")
			tt.mod(&s)
			res, err := Load(s)
			if err != nil {
				t.Fatal(err)
			}
			logResult(t, res)
			if got := res.Stage(StageProgLoad).Errno; got != tt.want {
				t.Fatalf("prog_load errno = %v, want %v", got, tt.want)
			}
		})
	}
}
