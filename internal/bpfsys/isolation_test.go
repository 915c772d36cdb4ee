package bpfsys

import (
	"encoding/binary"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTamperedBlobClosesHostFD: the legacy loaders' error path closes the map descriptors
// stored at the start of the metadata blob (cleanup slots 16-33: ld_imm64 map_value(0)+0/4/8,
// ldx, jsle, sys_close). A tampered blob naming a host descriptor makes the loader close it
// although the check refuses the blob. Load must report the close and the caller's descriptor
// must survive (the procedure runs with a private copy of the descriptor table).
func TestTamperedBlobClosesHostFD(t *testing.T) {
	requireBPF(t)
	for _, name := range []string{"legacy-v1", "legacy-v2"} {
		for _, slot := range []int{0, 4, 8} {
			t.Run(name+"/slot"+fmtSlot(slot), func(t *testing.T) {
				var p [2]int
				if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
					t.Fatal(err)
				}
				defer unix.Close(p[0])
				defer unix.Close(p[1])
				s := fixtureSpec(t, name, Legacy)
				s.Data = append([]byte(nil), s.Data...)
				binary.LittleEndian.PutUint32(s.Data[slot:], uint32(p[0]))
				res, err := Load(s)
				if err != nil {
					t.Fatal(err)
				}
				if res.Retval == nil || *res.Retval != -22 {
					t.Fatalf("retval %v, want -22", retvalOf(res))
				}
				logResult(t, res)
				if !slices.Contains(res.ClosedFDs, p[0]) {
					t.Errorf("ClosedFDs = %v, want it to list the pipe's fd %d", res.ClosedFDs, p[0])
				}
				if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != nil {
					t.Errorf("caller's fd %d after Load: %v", p[0], err)
				}
			})
		}
	}
}

func TestIntactLoadClosesNothing(t *testing.T) {
	requireBPF(t)
	for _, name := range []string{"legacy-v1", "legacy-v2", "unsigned"} {
		res, err := Load(fixtureSpec(t, name, Legacy))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.ClosedFDs) != 0 {
			t.Errorf("%s: ClosedFDs = %v, want none", name, res.ClosedFDs)
		}
	}
	s := fixtureSpec(t, "legacy-v2", Legacy)
	s.Data = flip(s.Data, 200) // refused, but the fd slots are intact
	res, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ClosedFDs) != 0 {
		t.Errorf("flipped byte 200: ClosedFDs = %v, want none", res.ClosedFDs)
	}
}

func fmtSlot(i int) string { return string(rune('0' + i/4)) }
