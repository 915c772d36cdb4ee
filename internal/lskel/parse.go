package lskel

import (
	"bytes"
	"strconv"
	"strings"
)

// Parse parses a light skeleton header. filename is used only in errors,
// which are *ParseError values naming the 1-based line and the reason.
//
// Parse makes one pass over src. It tracks brace depth (skipping comments,
// string and character literals and preprocessor lines) to know which
// function or struct a line belongs to, decodes the blob literals of
// NAME__load() and the data[] literals of the other functions, and records
// the `opts.` assignments of NAME__load() and the members of the skeleton
// struct. Everything else is kept verbatim.
func Parse(filename string, src []byte) (*File, error) {
	p := &parser{
		f: &File{
			filename: filename,
			src:      src,
			blobs:    make(map[string]*literal, 4),
			opts:     make(map[string]*optLine, 16),
		},
		src:  src,
		line: 1,
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type parser struct {
	f   *File
	src []byte
	pos int // offset of the current line
	// line is the 1-based number of the line at pos.
	line int

	depth     int
	inComment bool

	pendingFn  string
	pendingLn  int
	fn         string // function whose body we are in, "" if none
	fnLine     int
	cur        *structInfo // top-level struct whose body we are in
	structs    []*structInfo
	pendingIV  int // index+1 of an InitialValue still waiting for its map name
	loadFnSeen bool
}

func (p *parser) err(line int, format string, args ...any) error {
	return errorf(p.f.filename, line, format, args...)
}

func (p *parser) inLoad() bool { return strings.HasSuffix(p.fn, "__load") && len(p.fn) > len("__load") }

func (p *parser) run() error {
	src := p.src
	for p.pos < len(src) {
		start := p.pos
		end := len(src)
		next := len(src)
		if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
			end = start + i
			next = end + 1
		}
		content := bytes.TrimRight(src[start:end], "\r")
		t := trimLeft(content)
		indent := len(content) - len(t)

		if p.inComment || len(t) == 0 {
			// Not recognised, but braces after a closing `*/` still count.
			wasDepth := p.depth
			p.scanBraces(content)
			p.enterLeave(wasDepth, nil, start)
			p.advance(next)
			continue
		}
		if t[0] == '#' {
			p.advance(next)
			continue
		}

		// Blob literal declaration?
		if name, q, ok := charArrayDecl(t); ok {
			q += start + indent
			switch {
			case p.inLoad() && (name == BlobData || name == BlobInsn || name == BlobSig || name == BlobExclHash):
				if err := p.blob(name, start, q); err != nil {
					return err
				}
				continue
			case name == "data" && p.fn != "" && !p.inLoad():
				if err := p.blob(name, start, q); err != nil {
					return err
				}
				continue
			}
		}

		if p.inLoad() {
			if bytes.HasPrefix(t, []byte("opts.")) {
				if err := p.optAssign(t, start, start+indent, next); err != nil {
					return err
				}
			} else if bytes.Contains(t, []byte(chainLiteral+"[")) {
				if err := p.chainDecl(t, start, start+indent, next); err != nil {
					return err
				}
			}
		}
		if p.cur != nil {
			p.member(t, start, next)
		}
		if p.pendingIV > 0 && bytes.Contains(t, []byte("skel_prep_map_data")) {
			if m := skelMember(t); m != "" {
				p.f.initial[p.pendingIV-1].Map = m
				p.pendingIV = 0
			}
		}

		wasDepth := p.depth
		if wasDepth == 0 {
			p.header(t)
		}
		p.scanBraces(content)
		p.enterLeave(wasDepth, t, start)
		p.advance(next)
	}
	return nil
}

func (p *parser) advance(next int) {
	p.pos = next
	p.line++
}

// header notes, at brace depth 0, the name a following `{` would open: the
// identifier before the first `(` (a function), or `struct NAME {`.
func (p *parser) header(t []byte) {
	if i := bytes.IndexByte(t, '('); i >= 0 {
		if id := identBefore(t, i); id != "" {
			p.pendingFn, p.pendingLn = id, p.line
		}
	}
}

func (p *parser) enterLeave(wasDepth int, t []byte, lineStart int) {
	switch {
	case wasDepth == 0 && p.depth > 0:
		if bytes.HasPrefix(t, []byte("struct")) && !bytes.ContainsRune(t, '(') {
			name := string(identAt(trimLeft(t[len("struct"):])))
			p.cur = &structInfo{name: name, line: p.line, linksEnd: -1}
			p.structs = append(p.structs, p.cur)
			p.fn = ""
		} else {
			p.fn, p.fnLine = p.pendingFn, p.pendingLn
			if p.fn == "" {
				p.fnLine = p.line
			}
		}
		p.pendingFn = ""
	case wasDepth > 0 && p.depth == 0:
		if p.cur != nil && p.cur.anchor == 0 {
			// No ctx, maps, progs or links member: the field goes last.
			p.cur.anchor = lineStart
			p.cur.anchorBefore = true
		}
		p.fn, p.cur = "", nil
	}
}

// scanBraces updates brace depth and comment state for one line of ordinary
// C text, skipping comments and quoted literals.
func (p *parser) scanBraces(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if p.inComment {
			if c == '*' && i+1 < len(b) && b[i+1] == '/' {
				p.inComment = false
				i++
			}
			continue
		}
		switch c {
		case '/':
			if i+1 < len(b) {
				if b[i+1] == '/' {
					return
				}
				if b[i+1] == '*' {
					p.inComment = true
					i++
				}
			}
		case '"', '\'':
			for i++; i < len(b) && b[i] != c; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{':
			p.depth++
		case '}':
			if p.depth > 0 {
				p.depth--
			}
		}
	}
}

// blob decodes the literal whose declaration line starts at lineStart and
// whose opening quote is at q, then moves past its closing line.
func (p *parser) blob(name string, lineStart, q int) error {
	src := p.src
	declLine := p.line
	unterminated := func() error { return p.err(declLine, "unterminated %s literal", name) }

	closeQ := bytes.IndexByte(src[q+1:], '"')
	if closeQ < 0 {
		return unterminated()
	}
	data := make([]byte, 0, closeQ/2+1)
	line := declLine
	i := q + 1
	for {
		if i >= len(src) {
			return unterminated()
		}
		c := src[i]
		if c == '"' {
			break
		}
		if c == '\n' {
			return p.err(line, "unterminated %s literal (line break without \\ continuation)", name)
		}
		if c != '\\' {
			if c >= 0x20 && c < 0x7f {
				return p.err(line, "unescaped character %q in %s literal", rune(c), name)
			}
			return p.err(line, "unescaped byte 0x%02x in %s literal", c, name)
		}
		if i+1 >= len(src) {
			return unterminated()
		}
		switch src[i+1] {
		case '0':
			if i+2 < len(src) && isOctal(src[i+2]) {
				return p.err(line, "bad escape \"%s\" in %s literal", src[i:i+3], name)
			}
			data = append(data, 0)
			i += 2
		case 'x':
			j := i + 2
			for j < len(src) && j < i+5 && isHex(src[j]) {
				j++
			}
			if j-i != 4 {
				return p.err(line, "bad escape \"%s\" in %s literal", src[i:j], name)
			}
			data = append(data, unhex[src[i+2]]<<4|unhex[src[i+3]])
			i += 4
		case '\n':
			line++
			i += 2
		case '\r':
			if i+2 < len(src) && src[i+2] == '\n' {
				line++
				i += 3
				break
			}
			fallthrough
		default:
			if r := src[i+1]; r < 0x20 || r >= 0x7f {
				return p.err(line, "bad escape: backslash followed by byte 0x%02x in %s literal", r, name)
			}
			return p.err(line, "bad escape \"%s\" in %s literal", src[i:i+2], name)
		}
	}
	closePos := i
	i++
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i >= len(src) || src[i] != ';' {
		return p.err(line, "expected ';' after %s literal", name)
	}
	semi := i
	after := len(src)
	if k := bytes.IndexByte(src[i:], '\n'); k >= 0 {
		after = i + k + 1
	}
	// Text after the `;` is kept: a removal then stops at the `;`.
	end := after
	if rest := bytes.TrimRight(src[semi+1:after], " \t\r\n"); len(rest) > 0 {
		end = semi + 1
		p.scanBraces(rest)
	}
	l := &literal{name: name, line: declLine, rm: span{lineStart, end}, after: after, open: q + 1, close: closePos, data: data}
	if name == "data" {
		p.f.initial = append(p.f.initial, InitialValue{Data: data, Line: declLine})
		p.pendingIV = len(p.f.initial)
	} else {
		if prev := p.f.blobs[name]; prev != nil {
			return p.err(declLine, "duplicate %s literal (first at line %d)", name, prev.line)
		}
		p.f.blobs[name] = l
		p.noteLoad()
	}
	p.pos = after
	p.line = line + 1
	return nil
}

// noteLoad records the load function the first opts_* literal sits in.
func (p *parser) noteLoad() {
	if p.loadFnSeen {
		return
	}
	p.loadFnSeen = true
	p.f.loadFn = p.fn
	p.f.fnLine = p.fnLine
	p.f.name = strings.TrimSuffix(p.fn, "__load")
}

// optAssign records `opts.FIELD = RHS;` (t is the line without indentation,
// at offset tOff).
func (p *parser) optAssign(t []byte, lineStart, tOff, next int) error {
	rest := t[len("opts."):]
	field := identAt(rest)
	if len(field) == 0 {
		return nil
	}
	k := len("opts.") + len(field)
	for k < len(t) && (t[k] == ' ' || t[k] == '\t') {
		k++
	}
	if k >= len(t) || t[k] != '=' || (k+1 < len(t) && t[k+1] == '=') {
		return nil
	}
	k++
	for k < len(t) && (t[k] == ' ' || t[k] == '\t') {
		k++
	}
	semi := bytes.LastIndexByte(t, ';')
	if semi < k || len(bytes.TrimRight(t[semi+1:], " \t\r")) > 0 || !plainRHS(t[k:semi]) {
		return nil // not a simple one-line assignment: keep verbatim
	}
	o := &optLine{field: string(field), line: p.line, rm: span{lineStart, next}, rhs: span{tOff + k, tOff + semi}}
	if prev := p.f.opts[o.field]; prev != nil {
		if isOwnedField(o.field) {
			return p.err(p.line, "duplicate opts.%s assignment (first at line %d)", o.field, prev.line)
		}
	} else {
		p.f.opts[o.field] = o
	}
	p.f.optSeq = append(p.f.optSeq, o)
	return nil
}

func isOwnedField(f string) bool {
	switch f {
	case optSignature, optSignatureSz, optExclHash, optExclHashSz, optKeyringID, optSigMaps, optSigMapsSz:
		return true
	}
	return false
}

// chainDecl parses `static const int opts_signature_maps[N] ATTR = {a, b};`.
func (p *parser) chainDecl(t []byte, lineStart, tOff, next int) error {
	bad := func(why string) error {
		return p.err(p.line, "bad %s literal: %s", chainLiteral, why)
	}
	i := bytes.Index(t, []byte(chainLiteral+"["))
	if i < 0 || !hasWord(t[:i], "int") || !plainDeclPrefix(t[:i]) {
		return nil
	}
	if eq := bytes.IndexByte(t, '='); eq < i {
		return nil // a use, not the declaration
	} else if bytes.IndexAny(t[:eq], "{};\"'/#") >= 0 {
		return bad("unexpected text in declaration")
	}
	if p.f.chain != nil {
		return p.err(p.line, "duplicate %s literal (first at line %d)", chainLiteral, p.f.chain.line)
	}
	d0 := i + len(chainLiteral) + 1
	d1 := d0 + bytes.IndexByte(t[d0:], ']')
	if d1 < d0 {
		return bad("missing ']'")
	}
	eq := bytes.IndexByte(t[d1:], '=')
	if eq < 0 {
		return bad("missing initialiser")
	}
	b0 := bytes.IndexByte(t[d1:], '{')
	b1 := bytes.IndexByte(t[d1:], '}')
	if b0 < eq || b1 < b0 {
		return bad("missing {...} initialiser")
	}
	b0 += d1 + 1
	b1 += d1
	if rest := bytes.TrimLeft(t[b1+1:], " \t"); len(rest) == 0 || rest[0] != ';' {
		return bad("expected ';'")
	} else if len(bytes.TrimRight(rest[1:], " \t\r")) > 0 {
		return bad("unexpected text after ';'")
	}
	if bytes.ContainsAny(t[b0:b1], "{}") {
		return bad("nested braces")
	}
	var idx []int32
	for _, fld := range bytes.Split(t[b0:b1], []byte(",")) {
		fld = bytes.TrimSpace(fld)
		if len(fld) == 0 {
			continue
		}
		v, err := strconv.ParseInt(string(fld), 0, 32)
		if err != nil {
			return bad("element " + strconv.Quote(string(fld)) + " is not an int")
		}
		idx = append(idx, int32(v))
	}
	if dim := bytes.TrimSpace(t[d0:d1]); len(dim) > 0 {
		n, err := strconv.Atoi(string(dim))
		if err != nil || n != len(idx) {
			return bad("size [" + string(dim) + "] does not match " + strconv.Itoa(len(idx)) + " elements")
		}
	}
	if len(idx) == 0 {
		return bad("no elements")
	}
	p.f.chain = &chainLit{
		line: p.line,
		rm:   span{lineStart, next},
		dim:  span{tOff + d0, tOff + d1},
		init: span{tOff + b0, tOff + b1},
		idx:  idx,
	}
	return nil
}

// member records a line of a top-level struct body.
func (p *parser) member(t []byte, lineStart, next int) {
	s := p.cur
	fields := bytes.Fields(bytes.TrimRight(t, ";"))
	semi := len(t) > 0 && t[len(t)-1] == ';'
	switch {
	case semi && len(fields) == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_map_desc":
		s.maps = append(s.maps, string(fields[2]))
	case semi && len(fields) == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_prog_desc":
		s.progs = append(s.progs, string(fields[2]))
	case semi && p.depth == 1 && len(fields) == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_loader_ctx":
		s.hasCtx = true
		if s.linksEnd < 0 {
			s.anchor = next
		}
	case semi && p.depth == 2 && len(fields) >= 2 && string(fields[0]) == "}" && string(fields[len(fields)-1]) == "links":
		s.linksEnd = next
		s.anchor = next
	case semi && p.depth == 2 && len(fields) >= 2 && string(fields[0]) == "}" && s.linksEnd < 0 &&
		(string(fields[len(fields)-1]) == "maps" || string(fields[len(fields)-1]) == "progs"):
		s.anchor = next
	case semi && p.depth == 1 && len(fields) == 2 && string(fields[0]) == "__s32" && string(fields[1]) == keyringFieldName:
		if s.keyring == nil {
			s.keyring = &span{lineStart, next}
		}
	}
}

// finish checks the whole-file rules once every line has been seen.
func (p *parser) finish() error {
	f := p.f
	data, insn := f.blobs[BlobData], f.blobs[BlobInsn]
	if data == nil && insn == nil {
		return p.err(1, "not a light skeleton: no %s/%s literal in a NAME__load function", BlobInsn, BlobData)
	}
	if data == nil {
		return p.err(f.fnLine, "missing %s literal in %s", BlobData, f.loadFn)
	}
	if insn == nil {
		return p.err(f.fnLine, "missing %s literal in %s", BlobInsn, f.loadFn)
	}

	for _, s := range p.structs {
		if s.name == f.name {
			f.st = s
			break
		}
	}
	if f.st == nil {
		for _, s := range p.structs {
			if s.hasCtx {
				f.st = s
				break
			}
		}
	}

	sig, excl := f.blobs[BlobSig], f.blobs[BlobExclHash]
	switch {
	case sig != nil && excl == nil:
		return p.err(sig.line, "missing %s literal (%s at line %d)", BlobExclHash, BlobSig, sig.line)
	case sig == nil && excl != nil:
		return p.err(excl.line, "missing %s literal (%s at line %d)", BlobSig, BlobExclHash, excl.line)
	}
	var present, missing []string
	first := 0
	for _, fld := range signingFields {
		if o := f.opts[fld]; o != nil {
			present = append(present, fld)
			if first == 0 || o.line < first {
				first = o.line
			}
		} else {
			missing = append(missing, fld)
		}
	}
	lits := sig != nil
	switch {
	case len(present) > 0 && len(missing) > 0:
		return p.err(first, "inconsistent signing lines: opts.%s missing", strings.Join(missing, ", opts."))
	case lits && len(present) == 0:
		return p.err(sig.line, "inconsistent signing: %s/%s literals without opts.signature lines", BlobSig, BlobExclHash)
	case !lits && len(present) > 0:
		return p.err(first, "inconsistent signing: opts.signature lines without %s/%s literals", BlobSig, BlobExclHash)
	case lits && f.st != nil && f.st.keyring == nil:
		return p.err(f.opts[optKeyringID].line, "inconsistent signing: opts.keyring_id assigned but struct %s has no keyring_id field", f.st.name)
	}

	cm, cs := f.opts[optSigMaps], f.opts[optSigMapsSz]
	c := f.chain
	switch {
	case c == nil && cm == nil && cs == nil:
	case c == nil:
		return p.err(firstLine(cm, cs), "inconsistent hash chain: opts.signature_maps lines without %s literal", chainLiteral)
	case cm == nil || cs == nil:
		return p.err(c.line, "inconsistent hash chain: %s literal without opts.signature_maps and opts.signature_maps_sz lines", chainLiteral)
	case !lits:
		return p.err(c.line, "inconsistent hash chain: %s in an unsigned skeleton", chainLiteral)
	default:
		rhs := string(bytes.TrimSpace(p.src[cs.rhs.start:cs.rhs.end]))
		if n, err := strconv.Atoi(rhs); err == nil && n != len(c.idx) {
			return p.err(cs.line, "inconsistent hash chain: opts.signature_maps_sz = %d but %s has %d elements", n, chainLiteral, len(c.idx))
		}
	}
	return nil
}

func firstLine(a, b *optLine) int {
	switch {
	case a == nil:
		return b.line
	case b == nil || a.line < b.line:
		return a.line
	}
	return b.line
}

// charArrayDecl recognises `... char NAME[...] ... = "` and returns NAME and
// the offset of the opening quote in t.
func charArrayDecl(t []byte) (string, int, bool) {
	lb := bytes.IndexByte(t, '[')
	if lb < 0 {
		return "", 0, false
	}
	name := identBefore(t, lb)
	if name == "" || !hasWord(t[:lb-len(name)], "char") || !plainDeclPrefix(t[:lb]) {
		return "", 0, false
	}
	rb := bytes.IndexByte(t[lb:], ']')
	if rb < 0 {
		return "", 0, false
	}
	rb += lb
	eq := bytes.IndexByte(t[rb:], '=')
	if eq < 0 {
		return "", 0, false
	}
	q := rb + eq + 1
	for q < len(t) && (t[q] == ' ' || t[q] == '\t') {
		q++
	}
	if q >= len(t) || t[q] != '"' || bytes.IndexAny(t[:q], "{};\"'/#") >= 0 || bytes.Count(t[:q], []byte("=")) != 1 {
		return "", 0, false
	}
	return name, q, true
}

// plainDeclPrefix reports whether b can be the start of a declaration that
// begins its line: no statement or block punctuation, quotes or comments.
func plainDeclPrefix(b []byte) bool {
	return bytes.IndexAny(b, "{};=\"'/#") < 0
}

// plainRHS reports whether an assignment's right-hand side can be removed or
// copied without changing the structure around it.
func plainRHS(b []byte) bool {
	return bytes.IndexAny(b, "{};\"'") < 0 && !bytes.Contains(b, []byte("/*")) && !bytes.Contains(b, []byte("//"))
}

// hasWord reports whether w occurs in b as a whole identifier.
func hasWord(b []byte, w string) bool {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(w))
		if i < 0 {
			return false
		}
		i += off
		j := i + len(w)
		if (i == 0 || !isIdent(b[i-1])) && (j == len(b) || !isIdent(b[j])) {
			return true
		}
		off = j
	}
}

// skelMember returns MAP from a `skel->MAP = ...` line, or "".
func skelMember(t []byte) string {
	i := bytes.Index(t, []byte("skel->"))
	if i < 0 {
		return ""
	}
	id := identAt(t[i+len("skel->"):])
	rest := trimLeft(t[i+len("skel->")+len(id):])
	if len(id) == 0 || len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	return string(id)
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// identAt returns the identifier at the start of b.
func identAt(b []byte) []byte {
	i := 0
	for i < len(b) && isIdent(b[i]) {
		i++
	}
	if i > 0 && b[0] >= '0' && b[0] <= '9' {
		return nil
	}
	return b[:i]
}

// identBefore returns the identifier that ends, blanks aside, just before
// t[i].
func identBefore(t []byte, i int) string {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t') {
		j--
	}
	k := j
	for k > 0 && isIdent(t[k-1]) {
		k--
	}
	if k == j || t[k] >= '0' && t[k] <= '9' {
		return ""
	}
	return string(t[k:j])
}

func trimLeft(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[i:]
}
