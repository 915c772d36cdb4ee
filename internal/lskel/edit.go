package lskel

import (
	"bytes"
	"slices"
	"strconv"
)

// splice replaces src[start:end] with text. Splices given to apply must not
// overlap; insertions at the same offset keep their order.
type splice struct {
	start, end int
	text       []byte
}

// apply rewrites the source and re-indexes it. The edits this package makes
// always produce a parseable header; should one not, f is left unchanged and
// the error is kept in editErr.
func (f *File) apply(sp []splice) {
	if len(sp) == 0 {
		return
	}
	slices.SortStableFunc(sp, func(a, b splice) int { return a.start - b.start })
	n := len(f.src)
	for _, s := range sp {
		n += len(s.text) - (s.end - s.start)
	}
	out := make([]byte, 0, n)
	pos := 0
	for _, s := range sp {
		out = append(out, f.src[pos:s.start]...)
		out = append(out, s.text...)
		pos = s.end
	}
	out = append(out, f.src[pos:]...)
	g, err := Parse(f.filename, out)
	if err != nil {
		f.editErr = err
		return
	}
	pending := f.pendingMaps
	*f = *g
	f.pendingMaps = pending
}

// SetInsn replaces the contents of opts_insn with b, escaped and wrapped as
// bpftool writes it. The signature is not touched.
func (f *File) SetInsn(b []byte) { f.setBlob(BlobInsn, b) }

// SetData replaces the contents of opts_data with b.
func (f *File) SetData(b []byte) { f.setBlob(BlobData, b) }

func (f *File) setBlob(name string, b []byte) {
	if l := f.blobs[name]; l != nil {
		f.apply([]splice{f.bodySplice(l, b)})
	}
}

func (f *File) bodySplice(l *literal, b []byte) splice {
	eol := f.eolOfLine(l.rm.start)
	body := make([]byte, 0, literalBodySize(b, eol))
	return splice{l.open, l.close, appendLiteralBody(body, b, eol)}
}

// SetSignature makes f a signed skeleton carrying sig (opts_sig) and
// exclHash (opts_excl_hash).
//
// On a signed File it replaces the two literals' contents. On an unsigned
// File it adds `__s32 keyring_id;` after the links member of struct NAME, the
// opts_sig and opts_excl_hash literals right after opts_insn, and the five
// opts.signature, opts.signature_sz, opts.excl_prog_hash,
// opts.excl_prog_hash_sz and opts.keyring_id assignments before
// `opts.ctx = ...`, plus the hash-chain lines if SetSignatureMaps was called
// before. New lines copy the indentation, line ending and cast style of the
// opts_insn literal and the opts.insns / opts.insns_sz assignments.
func (f *File) SetSignature(sig, exclHash []byte) {
	if s, e := f.blobs[BlobSig], f.blobs[BlobExclHash]; s != nil && e != nil {
		f.apply([]splice{f.bodySplice(s, sig), f.bodySplice(e, exclHash)})
		return
	}
	insn := f.blobs[BlobInsn]
	var sp []splice

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
		sp = append(sp, splice{st.anchor, st.anchor, text})
	}

	lits := f.afterLinePrefix(insn.after)
	lits = f.appendBlobDecl(lits, BlobSig, sig)
	lits = f.appendBlobDecl(lits, BlobExclHash, exclHash)
	if len(f.pendingMaps) > 0 {
		lits = f.appendChainDecl(lits, f.pendingMaps)
	}

	var lines []byte
	for _, fld := range signingFields {
		lines = f.appendSigningLine(lines, fld)
	}
	if len(f.pendingMaps) > 0 {
		lines = f.appendChainLines(lines, len(f.pendingMaps))
	}

	if at := f.signingAnchor(insn); at >= 0 {
		sp = append(sp, splice{insn.after, insn.after, lits}, splice{at, at, lines})
	} else {
		sp = append(sp, splice{insn.after, insn.after, append(lits, lines...)})
	}
	f.apply(sp)
	if f.editErr == nil {
		f.pendingMaps = nil
	}
}

// signingAnchor returns the offset the signing assignments go before: the
// `opts.ctx =` line, else the first other opts. assignment after opts_insn,
// or -1 (then they follow the literals).
func (f *File) signingAnchor(insn *literal) int {
	if o := f.opts[optCtx]; o != nil && o.rm.start >= insn.after {
		return o.rm.start
	}
	for _, o := range f.optSeq {
		if o.rm.start >= insn.after && !isOwnedField(o.field) {
			return o.rm.start
		}
	}
	return -1
}

// RemoveSignature makes f an unsigned skeleton: it removes the keyring_id
// field, the opts_sig and opts_excl_hash literals, the five signing
// assignments and the hash-chain literal and assignments.
func (f *File) RemoveSignature() {
	f.pendingMaps = nil
	var sp []splice
	if f.st != nil && f.st.keyring != nil {
		sp = append(sp, splice{f.st.keyring.start, f.st.keyring.end, nil})
	}
	for _, n := range []string{BlobSig, BlobExclHash} {
		if l := f.blobs[n]; l != nil {
			sp = append(sp, splice{l.rm.start, l.rm.end, nil})
		}
	}
	for _, fld := range signingFields {
		if o := f.opts[fld]; o != nil {
			sp = append(sp, splice{o.rm.start, o.rm.end, nil})
		}
	}
	sp = append(sp, f.chainRemoval()...)
	f.apply(sp)
}

func (f *File) chainRemoval() []splice {
	var sp []splice
	if c := f.chain; c != nil {
		sp = append(sp, splice{c.rm.start, c.rm.end, nil})
	}
	for _, fld := range []string{optSigMaps, optSigMapsSz} {
		if o := f.opts[fld]; o != nil {
			sp = append(sp, splice{o.rm.start, o.rm.end, nil})
		}
	}
	return sp
}

// SetSignatureMaps sets the hash-chain map indices: the
// `static const int opts_signature_maps[N] ... = {i0, i1, ...};` literal after
// opts_excl_hash and the opts.signature_maps and opts.signature_maps_sz
// assignments after opts.keyring_id, written as chain.skel.h has them. An
// empty idx removes them. On an unsigned File the indices are kept and
// written by the next SetSignature.
func (f *File) SetSignatureMaps(idx []int32) {
	if len(idx) == 0 {
		f.pendingMaps = nil
		f.apply(f.chainRemoval())
		return
	}
	excl := f.blobs[BlobExclHash]
	if excl == nil {
		f.pendingMaps = append([]int32(nil), idx...)
		return
	}
	n := strconv.Itoa(len(idx))
	if c := f.chain; c != nil {
		sp := []splice{
			{c.dim.start, c.dim.end, []byte(n)},
			{c.init.start, c.init.end, appendInts(nil, idx)},
		}
		if o := f.opts[optSigMapsSz]; o != nil {
			sp = append(sp, splice{o.rhs.start, o.rhs.end, []byte(n)})
		}
		f.apply(sp)
		return
	}
	lit := f.appendChainDecl(f.afterLinePrefix(excl.after), idx)
	sp := []splice{{excl.after, excl.after, lit}}
	at := -1
	if o := f.opts[optKeyringID]; o != nil {
		at = o.rm.end
	} else {
		for _, o := range f.optSeq {
			if isOwnedField(o.field) && o.rm.end > at {
				at = o.rm.end
			}
		}
	}
	lines := f.appendChainLines(f.afterLinePrefix(at), len(idx))
	if at < 0 {
		sp[0].text = append(sp[0].text, lines...)
	} else {
		sp = append(sp, splice{at, at, lines})
	}
	f.apply(sp)
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

func (f *File) appendSigningLine(dst []byte, field string) []byte {
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
func (f *File) appendPtrLine(dst []byte, field, ident string) []byte {
	return f.appendModelled(dst, optInsns, field, "(void *)"+BlobInsn, ident)
}

// appendSizeLine appends `opts.FIELD = sizeof(IDENT) - 1;` in the style of
// the opts.insns_sz line.
func (f *File) appendSizeLine(dst []byte, field, ident string) []byte {
	return f.appendModelled(dst, optInsnsSz, field, "sizeof("+BlobInsn+") - 1", ident)
}

// appendModelled copies the `opts.MODEL = RHS;` line with MODEL replaced by
// field and the identifier opts_insn in RHS replaced by ident.
func (f *File) appendModelled(dst []byte, model, field, defRHS, ident string) []byte {
	o := f.opts[model]
	if o == nil {
		return f.appendDefaultLine(dst, field, string(replaceWord([]byte(defRHS), BlobInsn, ident)))
	}
	line := f.src[o.rm.start:o.rm.end]
	fs := o.rm.start + len(leadingBlanks(line))
	fe := fs + len("opts.") + len(model)
	dst = append(dst, f.src[o.rm.start:fs]...)
	dst = append(dst, "opts."+field...)
	dst = append(dst, f.src[fe:o.rhs.start]...)
	dst = append(dst, replaceWord(f.src[o.rhs.start:o.rhs.end], BlobInsn, ident)...)
	return f.appendLineTail(dst, o)
}

// appendValueLine appends `opts.FIELD = rhs;` with the spacing of the
// opts.insns line.
func (f *File) appendValueLine(dst []byte, field, rhs string) []byte {
	o := f.opts[optInsns]
	if o == nil {
		return f.appendDefaultLine(dst, field, rhs)
	}
	line := f.src[o.rm.start:o.rm.end]
	fs := o.rm.start + len(leadingBlanks(line))
	fe := fs + len("opts.") + len(optInsns)
	dst = append(dst, f.src[o.rm.start:fs]...)
	dst = append(dst, "opts."+field...)
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

func (f *File) appendDefaultLine(dst []byte, field, rhs string) []byte {
	insn := f.blobs[BlobInsn]
	dst = append(dst, leadingBlanks(f.src[insn.rm.start:])...)
	dst = append(dst, "opts."+field+" = "+rhs+";"...)
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
