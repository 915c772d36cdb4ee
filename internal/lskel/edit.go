package lskel

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// splice replaces src[start:end] with text. Splices given to apply must not
// overlap; insertions at the same offset keep their order.
type splice struct {
	start, end int
	text       []byte

	// What the splice changes, for File.rebuild.
	kind spliceKind
	line int     // spLines, spMember: the line of src that starts at start
	data []byte  // spBody: the literal's new bytes
	eol  string  // spBody: the line ending its text is written with
	idx  []int32 // spChainInit: the new indices
	// known names the literals spLines text declares and their bytes.
	knownName [2]string
	knownData [2][]byte

	at int // set by applySplices: the offset of text in the result
}

// spliceKind says what a splice changes.
type spliceKind uint8

const (
	spOther     spliceKind = iota // unknown to rebuild: Edit parses the result
	spBody                        // a literal's text between its quotes
	spRemove                      // removes the whole lines of one recorded construct
	spLines                       // inserts whole lines into NAME__load
	spMember                      // inserts a member line into struct NAME
	spChainDim                    // the size between opts_signature_maps' brackets
	spChainInit                   // the indices between opts_signature_maps' braces
	spRHS                         // the right-hand side of an opts. assignment
)

// Edit is a set of changes that File.Edit applies to a header in one
// splice set. A nil slice leaves its part of the header as it is; a non-nil
// empty slice sets an empty blob.
type Edit struct {
	// Insn and Data replace the contents of opts_insn and opts_data,
	// escaped and wrapped as bpftool writes them.
	Insn, Data []byte

	// Signature and ExclHash, given together, make the result a signed
	// skeleton carrying them as opts_sig and opts_excl_hash. On a signed
	// header they replace the two literals' contents; on an unsigned one
	// they add the `__s32 keyring_id;` field after the links member of
	// struct NAME, the opts_sig and opts_excl_hash literals right after
	// opts_insn, and the five opts.signature, opts.signature_sz,
	// opts.excl_prog_hash, opts.excl_prog_hash_sz and opts.keyring_id
	// assignments before `opts.ctx = ...`. New lines copy the indentation,
	// line ending and cast style of the opts_insn literal and the
	// opts.insns / opts.insns_sz assignments.
	Signature, ExclHash []byte

	// RemoveSignature makes the result unsigned: it removes the keyring_id
	// field, the opts_sig and opts_excl_hash literals, the five signing
	// assignments and the hash-chain lines. It cannot be combined with
	// Signature or with non-empty SignatureMaps.
	RemoveSignature bool

	// With SetSignatureMaps, SignatureMaps replaces the hash-chain map
	// indices: the `static const int opts_signature_maps[N] ... = {...};`
	// literal after opts_excl_hash and the opts.signature_maps and
	// opts.signature_maps_sz assignments after opts.keyring_id, written as
	// chain.skel.h has them. Empty SignatureMaps removes them. Non-empty
	// indices need a signed result.
	SignatureMaps    []int32
	SetSignatureMaps bool
}

// EditError reports an Edit that cannot be applied to a header.
type EditError struct {
	File   string // file name given to Parse
	Reason string
	Err    error // the parse error of a result that does not parse, else nil
}

func (e *EditError) Error() string {
	s := e.File + ": cannot edit: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *EditError) Unwrap() error { return e.Err }

// Edit returns a new File with all of e's changes applied. f is not
// modified. The changes are computed against f's source as one set of
// non-overlapping splices. The File returned is the one Parse returns for
// the result: it is built from f and the splices, reading only the lines
// the splices insert (see rebuild), and for the few edits that cannot be
// built that way by parsing the result. An edit whose result would not
// parse is an error (*EditError), never a partial change.
func (f *File) Edit(e Edit) (*File, error) {
	g, _, err := f.edit(e)
	return g, err
}

// edit is Edit; rebuilt reports that the result was built rather than
// parsed.
func (f *File) edit(e Edit) (g *File, rebuilt bool, err error) {
	sp, err := f.splices(&e)
	if err != nil {
		return nil, false, err
	}
	if len(sp) == 0 {
		return f.copy(), false, nil
	}
	out, err := applySplices(f.src, sp)
	if err != nil {
		return nil, false, &EditError{File: f.filename, Reason: err.Error()}
	}
	if g := f.rebuild(out, sp); g != nil {
		return g, true, nil
	}
	g, err = Parse(f.filename, out)
	if err != nil {
		return nil, false, &EditError{File: f.filename, Reason: "the edited header does not parse (a bug in package lskel)", Err: err}
	}
	return g, false, nil
}

func (f *File) editErrorf(format string, args ...any) error {
	return &EditError{File: f.filename, Reason: fmt.Sprintf(format, args...)}
}

// splices computes the splice set for e against f.src.
func (f *File) splices(e *Edit) ([]splice, error) {
	switch {
	case (e.Signature == nil) != (e.ExclHash == nil):
		return nil, f.editErrorf("Signature and ExclHash must be given together")
	case e.RemoveSignature && e.Signature != nil:
		return nil, f.editErrorf("RemoveSignature conflicts with Signature")
	case !e.SetSignatureMaps && len(e.SignatureMaps) > 0:
		return nil, f.editErrorf("SignatureMaps given without SetSignatureMaps")
	case e.SetSignatureMaps && len(e.SignatureMaps) > 0 && (e.RemoveSignature || e.Signature == nil && !f.Signed()):
		return nil, f.editErrorf("hash-chain map indices need a signed header")
	}
	sp := make([]splice, 0, 12)
	if e.Insn != nil {
		sp = append(sp, f.bodySplice(f.blobs[BlobInsn], e.Insn))
	}
	if e.Data != nil {
		sp = append(sp, f.bodySplice(f.blobs[BlobData], e.Data))
	}
	maps := e.SignatureMaps
	if !e.SetSignatureMaps {
		maps = nil
	}
	switch {
	case e.RemoveSignature:
		return f.appendRemoval(sp), nil
	case e.Signature != nil && !f.Signed():
		// The chain lines, if any, are written with the signing lines.
		return f.appendSigning(sp, e.Signature, e.ExclHash, maps), nil
	case e.Signature != nil:
		sp = append(sp, f.bodySplice(f.blobs[BlobSig], e.Signature), f.bodySplice(f.blobs[BlobExclHash], e.ExclHash))
	}
	if e.SetSignatureMaps {
		sp = f.appendChain(sp, maps)
	}
	return sp, nil
}

// applySplices returns src with the splices applied. They must not overlap;
// insertions at the same offset keep their order. An spBody splice without
// text has its literal body written straight into the result (no copy of
// its own), and its text is then set to that part of the result.
func applySplices(src []byte, sp []splice) ([]byte, error) {
	slices.SortStableFunc(sp, func(a, b splice) int { return a.start - b.start })
	n := len(src)
	pos := 0
	for _, s := range sp {
		if s.start < pos || s.end < s.start || s.end > len(src) {
			return nil, errors.New("overlapping changes (a bug in package lskel)")
		}
		pos = s.end
		if s.kind == spBody && s.text == nil {
			// The writer's bound: the result never outgrows its buffer.
			n += literalBodyBound(len(s.data), s.eol) - (s.end - s.start)
		} else {
			n += len(s.text) - (s.end - s.start)
		}
	}
	out := make([]byte, 0, n)
	pos = 0
	for i := range sp {
		s := &sp[i]
		out = append(out, src[pos:s.start]...)
		s.at = len(out)
		if s.kind == spBody && s.text == nil {
			out = appendLiteralBody(out, s.data, s.eol)
			s.text = out[s.at:len(out):len(out)]
		} else {
			out = append(out, s.text...)
		}
		pos = s.end
	}
	return append(out, src[pos:]...), nil
}

// copy returns a File sharing f's immutable parse state.
func (f *File) copy() *File {
	g := *f
	g.pendingMaps = slices.Clone(f.pendingMaps)
	g.editErr = nil
	return &g
}

// set makes f the result of e, or records the error in editErr (the
// setters' error report; Edit returns it instead).
func (f *File) set(e Edit) {
	g, err := f.Edit(e)
	if err != nil {
		f.editErr = err
		return
	}
	pending := f.pendingMaps
	*f = *g
	f.pendingMaps = pending
}

// nonNil returns b, or an empty non-nil slice for nil: the setters treat nil
// as empty contents.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// SetInsn replaces the contents of opts_insn with b, escaped and wrapped as
// bpftool writes it. The signature is not touched.
//
// The setters edit f in place and keep an error to themselves; prefer Edit.
func (f *File) SetInsn(b []byte) { f.set(Edit{Insn: nonNil(b)}) }

// SetData replaces the contents of opts_data with b.
func (f *File) SetData(b []byte) { f.set(Edit{Data: nonNil(b)}) }

func (f *File) bodySplice(l *literal, b []byte) splice {
	// The text is written by applySplices, into the result.
	return splice{start: l.open, end: l.close, kind: spBody, data: b, eol: f.eolOfLine(l.rm.start)}
}

// SetSignature makes f a signed skeleton carrying sig (opts_sig) and
// exclHash (opts_excl_hash), as Edit does with Signature and ExclHash, plus
// the hash-chain lines if SetSignatureMaps was called on the unsigned File
// before.
func (f *File) SetSignature(sig, exclHash []byte) {
	e := Edit{Signature: nonNil(sig), ExclHash: nonNil(exclHash)}
	if len(f.pendingMaps) > 0 {
		e.SignatureMaps, e.SetSignatureMaps = f.pendingMaps, true
	}
	f.set(e)
	if f.editErr == nil {
		f.pendingMaps = nil
	}
}

// appendSigning appends the splices that sign an unsigned header.
func (f *File) appendSigning(sp []splice, sig, exclHash []byte, maps []int32) []splice {
	insn := f.blobs[BlobInsn]
	if st := f.st; st != nil && st.keyring == nil && st.anchor > 0 {
		ls := lineStartBefore(f.src, st.anchor)
		text := f.afterLinePrefix(st.anchor)
		if st.anchorBefore {
			ls = st.anchor
			text = append(text, leadingBlanks(f.src[ls:])...)
			text = append(text, '\t')
		} else {
			text = append(text, leadingBlanks(f.src[ls:])...)
		}
		text = append(text, "__s32 "+keyringFieldName+";"...)
		text = append(text, f.eolOfLine(ls)...)
		sp = append(sp, splice{start: st.anchor, end: st.anchor, text: text, kind: spMember, line: st.anchorLine})
	}

	eol := f.eolOfLine(insn.rm.start)
	lits := make([]byte, 0, 2*(insn.open-insn.rm.start)+literalBodyBound(len(sig), eol)+literalBodyBound(len(exclHash), eol)+256)
	lits = append(lits, f.afterLinePrefix(insn.after)...)
	lits = f.appendBlobDecl(lits, BlobSig, sig)
	lits = f.appendBlobDecl(lits, BlobExclHash, exclHash)
	if len(maps) > 0 {
		lits = f.appendChainDecl(lits, maps)
	}

	var lines []byte
	for _, fld := range signingFields {
		lines = f.appendSigningLine(lines, fld)
	}
	if len(maps) > 0 {
		lines = f.appendChainLines(lines, len(maps))
	}

	known := [2][]byte{sig, exclHash}
	names := [2]string{BlobSig, BlobExclHash}
	if o := f.signingAnchor(insn); o != nil {
		return append(sp,
			splice{start: insn.after, end: insn.after, text: lits, kind: spLines, line: insn.endLine + 1, knownName: names, knownData: known},
			splice{start: o.rm.start, end: o.rm.start, text: lines, kind: spLines, line: o.line})
	}
	return append(sp, splice{start: insn.after, end: insn.after, text: append(lits, lines...), kind: spLines, line: insn.endLine + 1, knownName: names, knownData: known})
}

// signingAnchor returns the assignment line the signing assignments go
// before: the `opts.ctx =` line, else the first other opts. assignment after
// opts_insn, or nil (then they follow the literals).
func (f *File) signingAnchor(insn *literal) *optLine {
	if o := f.opts[optCtx]; o != nil && o.rm.start >= insn.after {
		return o
	}
	for _, o := range f.optSeq {
		if o.rm.start >= insn.after && !o.field.isOwned() {
			return o
		}
	}
	return nil
}

// RemoveSignature makes f an unsigned skeleton, as Edit does with
// RemoveSignature.
func (f *File) RemoveSignature() {
	f.pendingMaps = nil
	f.set(Edit{RemoveSignature: true})
}

func (f *File) appendRemoval(sp []splice) []splice {
	if f.st != nil && f.st.keyring != nil {
		sp = append(sp, splice{start: f.st.keyring.start, end: f.st.keyring.end, kind: spRemove})
	}
	for _, n := range []string{BlobSig, BlobExclHash} {
		if l := f.blobs[n]; l != nil {
			sp = append(sp, splice{start: l.rm.start, end: l.rm.end, kind: spRemove})
		}
	}
	for _, fld := range signingFields {
		if o := f.opts[fld]; o != nil {
			sp = append(sp, splice{start: o.rm.start, end: o.rm.end, kind: spRemove})
		}
	}
	return f.appendChainRemoval(sp)
}

func (f *File) appendChainRemoval(sp []splice) []splice {
	if c := f.chain; c != nil {
		sp = append(sp, splice{start: c.rm.start, end: c.rm.end, kind: spRemove})
	}
	for _, fld := range [...]optField{optSigMaps, optSigMapsSz} {
		if o := f.opts[fld]; o != nil {
			sp = append(sp, splice{start: o.rm.start, end: o.rm.end, kind: spRemove})
		}
	}
	return sp
}

// SetSignatureMaps sets the hash-chain map indices as Edit does with
// SetSignatureMaps. On an unsigned File the indices are kept and written by
// the next SetSignature.
func (f *File) SetSignatureMaps(idx []int32) {
	switch {
	case len(idx) == 0:
		f.pendingMaps = nil
		f.set(Edit{SetSignatureMaps: true})
	case !f.Signed():
		f.pendingMaps = slices.Clone(idx)
	default:
		f.set(Edit{SignatureMaps: idx, SetSignatureMaps: true})
	}
}

// appendChain appends the splices that make a signed header's hash-chain
// lines list idx (none if idx is empty).
func (f *File) appendChain(sp []splice, idx []int32) []splice {
	if len(idx) == 0 {
		return f.appendChainRemoval(sp)
	}
	n := strconv.Itoa(len(idx))
	if c := f.chain; c != nil {
		sp = append(sp,
			splice{start: c.dim.start, end: c.dim.end, text: []byte(n), kind: spChainDim},
			splice{start: c.init.start, end: c.init.end, text: appendInts(nil, idx), kind: spChainInit, idx: idx})
		if o := f.opts[optSigMapsSz]; o != nil {
			sp = append(sp, splice{start: o.rhs.start, end: o.rhs.end, text: []byte(n), kind: spRHS})
		}
		return sp
	}
	excl := f.blobs[BlobExclHash]
	lit := f.appendChainDecl(f.afterLinePrefix(excl.after), idx)
	at, atLine := -1, 0
	if o := f.opts[optKeyringID]; o != nil {
		at, atLine = o.rm.end, o.line+1
	} else {
		for _, o := range f.optSeq {
			if o.field.isOwned() && o.rm.end > at {
				at, atLine = o.rm.end, o.line+1
			}
		}
	}
	lines := f.appendChainLines(f.afterLinePrefix(at), len(idx))
	if at < 0 {
		return append(sp, splice{start: excl.after, end: excl.after, text: append(lit, lines...), kind: spLines, line: excl.endLine + 1})
	}
	return append(sp,
		splice{start: excl.after, end: excl.after, text: lit, kind: spLines, line: excl.endLine + 1},
		splice{start: at, end: at, text: lines, kind: spLines, line: atLine})
}

func appendInts(dst []byte, idx []int32) []byte {
	for i, v := range idx {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = strconv.AppendInt(dst, int64(v), 10)
	}
	return dst
}

// appendBlobDecl appends a complete literal declaration of name holding b,
// modelled on the opts_insn declaration.
func (f *File) appendBlobDecl(dst []byte, name string, b []byte) []byte {
	insn := f.blobs[BlobInsn]
	dst = append(dst, replaceWord(f.src[insn.rm.start:insn.open], BlobInsn, name)...)
	eol := f.eolOfLine(insn.rm.start)
	dst = appendLiteralBody(dst, b, eol)
	tail := f.src[insn.close:insn.rm.end]
	dst = append(dst, tail...)
	if len(tail) == 0 || tail[len(tail)-1] != '\n' {
		dst = append(dst, eol...)
	}
	return dst
}

// appendChainDecl appends `static const int opts_signature_maps[N] ATTR = {...};`,
// modelled on the opts_insn declaration line.
func (f *File) appendChainDecl(dst []byte, idx []int32) []byte {
	insn := f.blobs[BlobInsn]
	decl := f.src[insn.rm.start : insn.open-1] // without the opening quote
	lb := bytes.Index(decl, []byte(BlobInsn+"["))
	rb := -1
	if lb >= 0 {
		rb = bytes.IndexByte(decl[lb:], ']')
	}
	if rb < 0 { // unreachable: the declaration was recognised by these
		decl = []byte("\tstatic const char " + BlobInsn + "[] = ")
		lb = bytes.Index(decl, []byte(BlobInsn+"["))
		rb = bytes.IndexByte(decl[lb:], ']')
	}
	rb += lb
	dst = append(dst, replaceWord(decl[:lb], "char", "int")...)
	dst = append(dst, chainLiteral+"["...)
	dst = strconv.AppendInt(dst, int64(len(idx)), 10)
	dst = append(dst, decl[rb:]...)
	dst = append(dst, '{')
	dst = appendInts(dst, idx)
	dst = append(dst, "};"...)
	return append(dst, f.eolOfLine(insn.rm.start)...)
}

func (f *File) appendChainLines(dst []byte, n int) []byte {
	dst = f.appendPtrLine(dst, optSigMaps, chainLiteral)
	return f.appendValueLine(dst, optSigMapsSz, strconv.Itoa(n))
}

func (f *File) appendSigningLine(dst []byte, field optField) []byte {
	switch field {
	case optSignature:
		return f.appendPtrLine(dst, field, BlobSig)
	case optSignatureSz:
		return f.appendSizeLine(dst, field, BlobSig)
	case optExclHash:
		return f.appendPtrLine(dst, field, BlobExclHash)
	case optExclHashSz:
		return f.appendSizeLine(dst, field, BlobExclHash)
	}
	return f.appendValueLine(dst, optKeyringID, "skel->"+keyringFieldName)
}

// appendPtrLine appends `opts.FIELD = (void *)IDENT;` in the style of the
// opts.insns line.
func (f *File) appendPtrLine(dst []byte, field optField, ident string) []byte {
	return f.appendModelled(dst, optInsns, field, "(void *)"+BlobInsn, ident)
}

// appendSizeLine appends `opts.FIELD = sizeof(IDENT) - 1;` in the style of
// the opts.insns_sz line.
func (f *File) appendSizeLine(dst []byte, field optField, ident string) []byte {
	return f.appendModelled(dst, optInsnsSz, field, "sizeof("+BlobInsn+") - 1", ident)
}

// appendModelled copies the `opts.MODEL = RHS;` line with MODEL replaced by
// field and the identifier opts_insn in RHS replaced by ident.
func (f *File) appendModelled(dst []byte, model, field optField, defRHS, ident string) []byte {
	o := f.opts[model]
	if o == nil {
		return f.appendDefaultLine(dst, field, string(replaceWord([]byte(defRHS), BlobInsn, ident)))
	}
	line := f.src[o.rm.start:o.rm.end]
	fs := o.rm.start + len(leadingBlanks(line))
	dst = append(dst, f.src[o.rm.start:fs]...)
	dst = append(dst, "opts."...)
	dst = append(dst, field.String()...)
	fe := o.name.end
	dst = append(dst, f.src[fe:o.rhs.start]...)
	dst = append(dst, replaceWord(f.src[o.rhs.start:o.rhs.end], BlobInsn, ident)...)
	return f.appendLineTail(dst, o)
}

// appendValueLine appends `opts.FIELD = rhs;` with the spacing of the
// opts.insns line.
func (f *File) appendValueLine(dst []byte, field optField, rhs string) []byte {
	o := f.opts[optInsns]
	if o == nil {
		return f.appendDefaultLine(dst, field, rhs)
	}
	line := f.src[o.rm.start:o.rm.end]
	fs := o.rm.start + len(leadingBlanks(line))
	dst = append(dst, f.src[o.rm.start:fs]...)
	dst = append(dst, "opts."...)
	dst = append(dst, field.String()...)
	fe := o.name.end
	dst = append(dst, f.src[fe:o.rhs.start]...)
	dst = append(dst, rhs...)
	return f.appendLineTail(dst, o)
}

// appendLineTail appends what follows the model line's RHS (`;` and the line
// ending), adding a line ending if the model is the last, unterminated line.
func (f *File) appendLineTail(dst []byte, o *optLine) []byte {
	tail := f.src[o.rhs.end:o.rm.end]
	dst = append(dst, tail...)
	if len(tail) == 0 || tail[len(tail)-1] != '\n' {
		dst = append(dst, f.eolOfLine(o.rm.start)...)
	}
	return dst
}

func (f *File) appendDefaultLine(dst []byte, field optField, rhs string) []byte {
	insn := f.blobs[BlobInsn]
	dst = append(dst, leadingBlanks(f.src[insn.rm.start:])...)
	dst = append(dst, "opts."+field.String()+" = "+rhs+";"...)
	return append(dst, f.eolOfLine(insn.rm.start)...)
}

// afterLinePrefix returns the line ending to put before text inserted at off
// when off is the end of a last line that has none; otherwise nil.
func (f *File) afterLinePrefix(off int) []byte {
	if off > 0 && off == len(f.src) && f.src[off-1] != '\n' {
		return []byte(f.eolOfLine(lineStartBefore(f.src, off)))
	}
	return nil
}

// eolOfLine returns the line ending of the line containing off, or the
// file's first line ending if that line has none.
func (f *File) eolOfLine(off int) string {
	if i := bytes.IndexByte(f.src[off:], '\n'); i >= 0 {
		if i > 0 && f.src[off+i-1] == '\r' {
			return "\r\n"
		}
		return "\n"
	}
	if i := bytes.IndexByte(f.src, '\n'); i > 0 && f.src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// lineStartBefore returns the start of the line that ends just before off
// (off being the start of the following line) or that contains off.
func lineStartBefore(src []byte, off int) int {
	end := off
	if end > 0 && src[end-1] == '\n' {
		end--
	}
	return bytes.LastIndexByte(src[:end], '\n') + 1
}

func leadingBlanks(b []byte) []byte {
	return b[:len(b)-len(trimLeft(b))]
}

// replaceWord returns b with every whole-identifier occurrence of old
// replaced by new.
func replaceWord(b []byte, old, new string) []byte {
	out := make([]byte, 0, len(b)+len(new))
	for {
		i := bytes.Index(b, []byte(old))
		if i < 0 {
			return append(out, b...)
		}
		j := i + len(old)
		if (i == 0 || !isIdent(b[i-1])) && (j == len(b) || !isIdent(b[j])) {
			out = append(out, b[:i]...)
			out = append(out, new...)
		} else {
			out = append(out, b[:j]...)
		}
		b = b[j:]
	}
}
