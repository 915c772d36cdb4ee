package loader

import "fmt"

// Convert returns a new Loader: l with its check block removed (if it has one), its
// host-override blocks removed when dropOverrides, and a check of generation gen (GenNone for
// none) embedding hash inserted at S. All slot edits are made on one buffer, each fixing the
// jumps that cross it, and the result is decoded once to validate it. l is not modified.
//
// It is the one-pass form of RemoveCheck, RemoveOverrides and InsertCheck, with the same
// results byte for byte.
func (l *Loader) Convert(dropOverrides bool, gen Generation, hash [32]byte) (*Loader, error) {
	// l is a decoded loader: its bytes and layout are known good, so the edits skip their
	// input checks, and the result is validated once, by the decode at the end.
	out, second := l.raw, l.second
	var err error
	// The check sits at S, before every override block; all the blocks go in one pass.
	var spans []Span
	if l.check != nil {
		spans = append(spans, Span{l.check.Start, l.check.Len})
	}
	if dropOverrides {
		for _, b := range l.overrides {
			spans = append(spans, Span{b.Start, b.Len})
		}
	}
	if len(spans) > 0 {
		if out, err = removeSpans(out, second, spans); err != nil {
			return nil, fmt.Errorf("removing the check and override blocks: %w", err)
		}
		if second, err = layout(out); err != nil {
			return nil, fmt.Errorf("removing the check and override blocks: %w", err)
		}
	}
	if gen != GenNone {
		if checkLen(gen) == 0 {
			return nil, fmt.Errorf("loader: %w %s", ErrGeneration, gen)
		}
		blk := CheckBlock(gen, hash, l.bodyStart, cleanupLabel)
		if blk == nil {
			return nil, shapeErr(l.bodyStart, ErrOffsetRange, "check %s at slot %d: jumps to L do not fit s16", gen, l.bodyStart)
		}
		if out, err = insertSlots(out, second, l.bodyStart, blk); err != nil {
			return nil, fmt.Errorf("inserting a %s check block: %w", gen, err)
		}
	}
	if &out[0] == &l.raw[0] && len(out) == len(l.raw) {
		return l, nil // nothing changed; a Loader is immutable to its users
	}
	return DecodeShared(out) // out is a buffer the slot edits just built
}
