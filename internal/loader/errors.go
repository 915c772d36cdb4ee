package loader

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that concerns a
// particular place in a loader is a *ShapeError wrapping exactly one of these;
// test with errors.Is.
var (
	// ErrShape means the bytes are not a loader program of the shape libbpf's
	// loader generator emits: length not a multiple of 8, a split ld_imm64,
	// a bad prologue, a jump that leaves the program, and so on.
	ErrShape = errors.New("not a well-formed loader program")

	// ErrMalformedCheck means the code at the body start S begins like a
	// metadata check (an ld_imm64 with src 5, map_by_idx) but does not match
	// the v1 or v2 check exactly.
	ErrMalformedCheck = errors.New("malformed metadata check")

	// ErrJumpIntoBlock means a jump outside a block that is being removed
	// targets a slot inside it other than its first slot.
	ErrJumpIntoBlock = errors.New("jump into the middle of a block")

	// ErrOffsetRange means a rewritten jump offset no longer fits its field
	// (s16 for off, s32 for imm).
	ErrOffsetRange = errors.New("jump offset out of range")

	// ErrNoCheck is returned by RemoveCheck when the loader has no check block.
	ErrNoCheck = errors.New("loader has no metadata check")

	// ErrCheckExists is returned by InsertCheck when the loader already has a
	// check block.
	ErrCheckExists = errors.New("loader already has a metadata check")

	// ErrGeneration is returned for a Generation that names no check shape.
	ErrGeneration = errors.New("unknown check generation")
)

// A ShapeError reports where and why a loader program (or a rewrite of one)
// was rejected. Slot is the 8-byte slot index the problem was found at; Err is
// one of the package's sentinel errors.
type ShapeError struct {
	Slot   int
	Reason string
	Err    error
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("loader: slot %d: %s", e.Slot, e.Reason)
}

func (e *ShapeError) Unwrap() error { return e.Err }

func shapeErr(slot int, sentinel error, format string, args ...any) error {
	return &ShapeError{Slot: slot, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}
