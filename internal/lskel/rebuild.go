package lskel

import (
	"bytes"
	"slices"
)

// rebuild returns the File that Parse(f.filename, out) returns, built from f
// and the splices that turned f.src into out (sorted, with their output
// offsets, by applySplices), or nil when the splices hold a change it does
// not build; Edit then parses out.
//
// The rule: a construct Parse recorded outside the splices means the same in
// out. Its offsets move by the length change of the splices before it and
// its line numbers by their change in line count; an offset at an insertion
// point stays before the inserted text if it ends something (a line end) and
// moves past it if it starts something (a line start). A construct an
// spRemove splice covers is gone. The constructs that spBody, spChainDim,
// spChainInit and spRHS rewrite are rebuilt from what Edit wrote, with the
// bytes Edit was given. Inserted lines (spLines, spMember) are read by the
// parser itself, started in the state Parse has at the insertion point:
// inside NAME__load, or at depth 1 in struct NAME, with nothing open. The
// signing checks are run again on the result; the other whole-file rules
// look at nothing an Edit changes.
//
// The edits it leaves to Parse are the ones whose result it cannot vouch
// for cheaply: removing a literal that has text after its `;` or a
// hash-chain literal line holding a quote, slash or backslash (what follows
// could lex differently), inserting after such a literal, inserting the
// keyring_id field where the struct's anchor line leaves something open, and
// any result the signing checks reject (so that the error is Parse's).
func (f *File) rebuild(out []byte, sp []splice) *File {
	m, ok := newShifter(f.src, sp)
	if !ok {
		return nil
	}
	var dataLen int
	for i := range sp {
		x := &sp[i]
		switch x.kind {
		case spBody:
			dataLen += len(x.data)
		case spLines:
			for _, l := range f.blobs {
				if l.after == x.start && l.rm.end != l.after {
					return nil // text after the `;`: the lexer state there is unknown
				}
			}
			dataLen += len(x.knownData[0]) + len(x.knownData[1])
		case spMember:
			if f.st == nil || !f.st.anchorClean || x.start != f.st.anchor {
				return nil
			}
		case spRemove:
			if c := f.chain; c != nil && c.rm == (span{x.start, x.end}) && anyOf(f.src[x.start:x.end], &lexStop) {
				return nil
			}
			for _, l := range f.blobs {
				if l.rm == (span{x.start, x.end}) && l.rm.end != l.after {
					return nil
				}
			}
		}
	}
	// One arena for the new literals' bytes: the File must not share the
	// Edit's slices, as a parsed File does not share its source.
	arena := make([]byte, 0, dataLen)
	clone := func(b []byte) []byte {
		n := len(arena)
		arena = append(arena, b...)
		return arena[n:len(arena):len(arena)]
	}

	s := new(rebuildStore)
	g := &s.File
	g.filename, g.src, g.name, g.loadFn = f.filename, out, f.name, f.loadFn
	var dl int
	g.fnOff, dl = m.at(f.fnOff, true)
	g.fnLine = f.fnLine + dl

	g.blobs = make(map[string]*literal, 4)
	nLit := 0
	for name, l := range f.blobs {
		if m.removed(l.rm) {
			continue
		}
		n := &s.lits[nLit]
		nLit++
		*n = *l
		n.rm.start, dl = m.at(l.rm.start, true)
		n.line = l.line + dl
		n.rm.end, _ = m.at(l.rm.end, false)
		n.after, _ = m.at(l.after, false)
		n.open, _ = m.at(l.open, false)
		if k := m.find(spBody, l.open); k >= 0 {
			n.close = n.open + len(sp[k].text)
			n.endLine = n.line + m.textNL[k]
			n.data = clone(sp[k].data)
		} else {
			n.close, dl = m.at(l.close, false)
			n.endLine = l.endLine + dl
		}
		g.blobs[name] = n
	}

	optBuf := s.opts[:0]
	if n := len(f.optSeq) + len(signingFields) + 2; n > len(s.opts) {
		optBuf = make([]optLine, 0, n)
	}
	g.optSeq = s.optPtrs[:0]
	for _, o := range f.optSeq {
		if m.removed(o.rm) {
			continue
		}
		optBuf = append(optBuf, *o)
		n := &optBuf[len(optBuf)-1]
		n.rm.start, dl = m.at(o.rm.start, true)
		n.line = o.line + dl
		n.rm.end, _ = m.at(o.rm.end, false)
		n.name.start, _ = m.at(o.name.start, false)
		n.name.end, _ = m.at(o.name.end, false)
		n.rhs, _ = m.value(spRHS, o.rhs)
		g.optSeq = append(g.optSeq, n)
	}
	g.indexOpts()

	if c := f.chain; c != nil && !m.removed(c.rm) {
		n := &s.chain
		*n = *c
		n.rm.start, dl = m.at(c.rm.start, true)
		n.line = c.line + dl
		n.rm.end, _ = m.at(c.rm.end, false)
		n.dim, _ = m.value(spChainDim, c.dim)
		var k int
		if n.init, k = m.value(spChainInit, c.init); k >= 0 {
			n.idx = slices.Clone(sp[k].idx)
		}
		g.chain = n
	}

	if st := f.st; st != nil {
		n := &s.st
		*n = *st
		n.lineOff, dl = m.at(st.lineOff, true)
		n.line = st.line + dl
		n.anchor, dl = m.at(st.anchor, st.anchorBefore)
		n.anchorLine = st.anchorLine + dl
		if st.linksEnd >= 0 {
			n.linksEnd, _ = m.at(st.linksEnd, false)
		}
		n.keyring = nil
		if k := st.keyring; k != nil && !m.removed(*k) {
			s.keyring.start, _ = m.at(k.start, true)
			s.keyring.end, _ = m.at(k.end, false)
			n.keyring = &s.keyring
		}
		g.st = n
	}

	if len(f.initial) > 0 {
		g.initial = make([]initialValue, len(f.initial))
		for i, iv := range f.initial {
			g.initial[i] = iv
			g.initial[i].off, dl = m.at(iv.off, true)
			g.initial[i].Line = iv.Line + dl
		}
	}

	// The inserted lines, read by a parser (allocated only when there are any: a parser is
	// 4 KB, and the sign path's edits insert no lines into a signed header).
	var p *parser
	lineShift := 0
	for i := range sp {
		x := &sp[i]
		if x.kind == spLines || x.kind == spMember {
			if p == nil {
				p = &parser{f: g, src: out, loadFnSeen: true}
			}
			p.pos, p.end, p.line = x.at, x.at+len(x.text), x.line+lineShift
			p.depth, p.load, p.cur = 1, x.kind == spLines, nil
			if x.kind == spMember {
				p.cur = g.st
			}
			p.knownName = x.knownName
			for k, b := range x.knownData {
				p.knownData[k] = nil
				if x.knownName[k] != "" {
					p.knownData[k] = clone(b)
				}
			}
			if err := p.run(); err != nil || p.pos != p.end || !p.clean() || p.depth != 1 {
				return nil
			}
		}
		lineShift += m.lineDelta[i]
	}
	slices.SortFunc(g.optSeq, func(a, b *optLine) int { return a.rm.start - b.rm.start })
	g.indexOpts()
	chk := parser{f: g, src: out}
	if chk.checkSigning() != nil {
		return nil // let Parse report it
	}
	return g
}

// rebuildStore holds a rebuilt File and the constructs it points to, in one
// allocation.
type rebuildStore struct {
	File
	lits    [4]literal
	opts    [16]optLine
	optPtrs [16]*optLine
	chain   chainLit
	st      structInfo
	keyring span
}

// indexOpts sets f.opts from f.optSeq as Parse does: the first assignment
// of each field.
func (f *File) indexOpts() {
	f.opts = [numOptFields]*optLine{}
	for _, o := range f.optSeq {
		if o.field != optOther && f.opts[o.field] == nil {
			f.opts[o.field] = o
		}
	}
}

// lexStop holds the bytes that can open a comment, a literal or a
// continuation: a line without them lexes the same wherever it stands.
var lexStop = newByteSet("/\"'\\")

// maxSplices bounds the splices of one Edit (at most twelve today).
const maxSplices = 16

// shifter maps offsets and lines of a source to the result of splices.
type shifter struct {
	sp        []splice
	delta     [maxSplices]int // length change
	lineDelta [maxSplices]int // line-count change
	textNL    [maxSplices]int // line breaks in the text
}

func newShifter(src []byte, sp []splice) (*shifter, bool) {
	if len(sp) > maxSplices {
		return nil, false
	}
	m := &shifter{sp: sp}
	for i, x := range sp {
		if x.kind == spOther {
			return nil, false
		}
		m.delta[i] = len(x.text) - (x.end - x.start)
		m.textNL[i] = bytes.Count(x.text, []byte("\n"))
		m.lineDelta[i] = m.textNL[i]
		if x.end > x.start {
			m.lineDelta[i] -= bytes.Count(src[x.start:x.end], []byte("\n"))
		}
	}
	return m, true
}

// at maps offset x and returns it with the change in line number of the
// line it is on. At an insertion point, x moves past the inserted text only
// if right is set (x starts something rather than ends it).
func (m *shifter) at(x int, right bool) (int, int) {
	off, dl := x, 0
	for i, s := range m.sp {
		if x > s.end || x == s.end && (s.start < s.end || right) {
			off += m.delta[i]
			dl += m.lineDelta[i]
		}
	}
	return off, dl
}

// removed reports whether an spRemove splice removes exactly r.
func (m *shifter) removed(r span) bool {
	for _, s := range m.sp {
		if s.kind == spRemove && s.start == r.start && s.end == r.end {
			return true
		}
	}
	return false
}

// value maps v, a span that a splice of kind k may rewrite (a value between delimiters), into
// the output: its new text's extent when such a splice starts at it, else v shifted. It
// returns that splice's index, or -1.
func (m *shifter) value(k spliceKind, v span) (span, int) {
	var n span
	n.start, _ = m.at(v.start, false)
	if i := m.find(k, v.start); i >= 0 {
		n.end = n.start + len(m.sp[i].text)
		return n, i
	}
	n.end, _ = m.at(v.end, false)
	return n, -1
}

// find returns the index of the splice of kind k starting at start, or -1.
func (m *shifter) find(k spliceKind, start int) int {
	for i, s := range m.sp {
		if s.kind == k && s.start == start {
			return i
		}
	}
	return -1
}
