// Package bpf holds the oracle's compiled BPF object (oracle.bpf.o, built from oracle.bpf.c with
// `make -C internal/oracle/bpf oracle.bpf.o`) and the Go mirror of its request map value
// (struct oracle_req in oracle.h).
package bpf

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
)

// Object is the ELF object of oracle.bpf.c: one sleepable LSM program "oracle_verify"
// (SEC("lsm.s/bpf")) and one array map "req" holding a single Request.
//
//go:embed oracle.bpf.o
var Object []byte

// Names of the program and map inside Object.
const (
	ProgramName = "oracle_verify"
	MapName     = "req"
)

// Limits of the request buffers (ORACLE_CONTENT_MAX, ORACLE_SIG_MAX). A length must be strictly
// smaller than its limit: the program masks lengths with limit-1.
const (
	ContentMax = 1 << 15
	SigMax     = 1 << 15
)

// Keyring modes (ORACLE_KEYRING_*).
const (
	KeyringUser   = 0 // bpf_lookup_user_key(Keyring, 0)
	KeyringSystem = 1 // bpf_lookup_system_key(Keyring)
)

// Status values written by the program (ORACLE_STATUS_*).
const (
	StatusIdle      = 0
	StatusVerified  = 1 // Ret is bpf_verify_pkcs7_signature's return value
	StatusNoKeyring = 2 // the key lookup returned NULL
	StatusBadLength = 3 // a length was out of range
	StatusDynptr    = 4 // bpf_dynptr_from_mem failed; Ret is its error
)

// headerSize is the size of the fixed fields before content[] in struct oracle_req.
const headerSize = 10 * 4

// ValueSize is sizeof(struct oracle_req).
const ValueSize = headerSize + ContentMax + SigMax

// Request is struct oracle_req.
type Request struct {
	TGID        uint32 // only bpf(2) calls from this process trigger the program
	Cmd         uint32 // ...and only this bpf(2) command
	Seq         uint32 // request number; the program echoes it into DoneSeq
	DoneSeq     uint32
	KeyringMode uint32 // KeyringUser or KeyringSystem
	Keyring     int32  // user key serial or system keyring id
	Status      uint32 // Status*, written by the program
	Ret         int32  // written by the program
	Content     []byte // at most ContentMax-1 bytes
	Sig         []byte // at most SigMax-1 bytes
}

// ErrTooLong reports a content or signature that does not fit the map value.
var ErrTooLong = errors.New("oracle: buffer too long for the request map")

// MarshalBinary encodes r as the map value (little-endian, as on x86-64).
func (r *Request) MarshalBinary() ([]byte, error) {
	if len(r.Content) >= ContentMax {
		return nil, fmt.Errorf("content of %d bytes (limit %d): %w", len(r.Content), ContentMax-1, ErrTooLong)
	}
	if len(r.Sig) >= SigMax {
		return nil, fmt.Errorf("signature of %d bytes (limit %d): %w", len(r.Sig), SigMax-1, ErrTooLong)
	}
	b := make([]byte, ValueSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], r.TGID)
	le.PutUint32(b[4:], r.Cmd)
	le.PutUint32(b[8:], r.Seq)
	le.PutUint32(b[12:], r.DoneSeq)
	le.PutUint32(b[16:], r.KeyringMode)
	le.PutUint32(b[20:], uint32(r.Keyring))
	le.PutUint32(b[24:], r.Status)
	le.PutUint32(b[28:], uint32(r.Ret))
	le.PutUint32(b[32:], uint32(len(r.Content)))
	le.PutUint32(b[36:], uint32(len(r.Sig)))
	copy(b[headerSize:], r.Content)
	copy(b[headerSize+ContentMax:], r.Sig)
	return b, nil
}

// UnmarshalBinary decodes a map value into r. Lengths larger than the buffers are an error.
func (r *Request) UnmarshalBinary(b []byte) error {
	if len(b) != ValueSize {
		return fmt.Errorf("oracle: map value of %d bytes, want %d", len(b), ValueSize)
	}
	le := binary.LittleEndian
	r.TGID = le.Uint32(b[0:])
	r.Cmd = le.Uint32(b[4:])
	r.Seq = le.Uint32(b[8:])
	r.DoneSeq = le.Uint32(b[12:])
	r.KeyringMode = le.Uint32(b[16:])
	r.Keyring = int32(le.Uint32(b[20:]))
	r.Status = le.Uint32(b[24:])
	r.Ret = int32(le.Uint32(b[28:]))
	cl, sl := le.Uint32(b[32:]), le.Uint32(b[36:])
	if cl >= ContentMax || sl >= SigMax {
		return fmt.Errorf("oracle: lengths %d/%d out of range: %w", cl, sl, ErrTooLong)
	}
	r.Content = append([]byte(nil), b[headerSize:headerSize+cl]...)
	r.Sig = append([]byte(nil), b[headerSize+ContentMax:headerSize+ContentMax+sl]...)
	return nil
}
