package lskel

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
)

// Parse parses a light skeleton header. filename is used only in errors,
// which are *ParseError values naming the 1-based line and the reason.
//
// Parse makes one pass over src. A small C lexer, whose state carries from
// line to line, skips comments, string and character literals and
// backslash-newline continuations, and tracks brace nesting, the top-level
// declaration in progress and the preprocessor conditionals, so that it knows
// which function or struct a line belongs to and whether the file ends with
// everything closed. Parse decodes the blob literals of NAME__load() and the
// data[] literals of the other functions, and records the `opts.`
// assignments of NAME__load() and the members of the skeleton struct.
// Everything else is kept verbatim.
//
// A header is accepted only if it is complete: see the package
// documentation for the constructs it must have.
func Parse(filename string, src []byte) (*File, error) {
	p := &parser{src: src, end: len(src), line: 1}
	p.file = File{filename: filename, src: src, blobs: make(map[string]*literal, 4)}
	p.f = &p.file
	p.f.optSeq = p.optBuf[:0]
	p.structs = p.structPtrs[:0]
	if err := p.run(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.f, nil
}

// topKind says what a top-level brace opened.
type topKind uint8

const (
	topBlock topKind = iota
	topFunc
	topStruct
)

// cond is an open preprocessor conditional.
type cond struct {
	text span // `#ifndef NAME` (the directive line, trimmed)
	line int
}

type parser struct {
	f   *File
	src []byte
	end int // run stops at the first line starting at or after end
	pos int // offset of the current line
	// line is the 1-based number of the line at pos.
	line      int
	lineStart int
	lineT     span // the current line without indentation

	// Lexer state carried across lines.
	inComment   bool
	commentLine int
	inString    byte // quote of a string or character literal continued by backslash-newline
	stringLine  int
	lineComment bool // a // comment continued by backslash-newline
	cont        bool // the last line ended in a backslash-newline outside a literal
	inDirective bool // the current line continues a preprocessor directive
	lastLine0   bool // the current line is the last and has no line ending

	depth    int
	top      topKind
	topName  span // function name or struct tag
	topLine  int
	declLine int  // line where the top-level declaration in progress began, 0 if none
	pending  span // identifier before the last `(` seen at depth 0: the function a `{` opens
	pendLn   int
	fn       span // function whose body we are in, empty if none
	load     bool // fn is NAME__load
	fnLine   int
	fnDefs   []span // every function defined at top level
	fnBuf    [16]span

	conds      []cond
	condBuf    [8]cond
	directives int  // number of directives seen
	guard      span // include guard macro name
	guardLine  int
	guardOK    bool // the first two directives are `#ifndef G`, `#define G`

	cur        *structInfo // top-level struct whose body we are in
	structs    []*structInfo
	pendingIV  int // index+1 of an InitialValue still waiting for its map name
	loadFnSeen bool
	loadCall   bool // NAME__load() calls bpf_load_and_run

	// Backing stores that save allocations for the usual numbers of
	// assignments, literals and structs.
	optBuf     [16]*optLine
	optSlab    [16]optLine
	nOpt       int
	litSlab    [8]literal
	nLit       int
	structSlab [2]structInfo
	nStruct    int
	arena      []byte // backing store for decoded literals
	file       File   // what f points to (Parse): one allocation for both
	ivBuf      [4]initialValue
	structPtrs [2]*structInfo

	// knownName and knownData are literals whose bytes are known: Edit
	// sets them for the literals it writes, and blob takes the bytes
	// instead of decoding the text.
	knownName [2]string
	knownData [2][]byte
}

// knownIndex returns the index of name in knownName, or -1.
func (p *parser) knownIndex(name string) int {
	for k, n := range p.knownName {
		if n != "" && n == name {
			return k
		}
	}
	return -1
}

func (p *parser) err(line int, format string, args ...any) error {
	return errorf(p.f.filename, line, format, args...)
}

// isLoadFn reports whether the function name n is NAME__load.
func isLoadFn(n []byte) bool {
	return len(n) > len("__load") && bytes.HasSuffix(n, []byte("__load"))
}

func (p *parser) run() error {
	src := p.src
	p.fnDefs = p.fnBuf[:0]
	p.conds = p.condBuf[:0]
	for p.pos < p.end {
		start := p.pos
		end, next := len(src), len(src)
		// Inside a body, most lines hold no byte the lexer acts on: one
		// pass finds the line end and shows that.
		plain, bracket := false, false
		j := start
		if p.depth > 0 && !p.inComment && p.inString == 0 && !p.lineComment && !p.cont && !p.inDirective {
			for {
				// Eight bytes per test while none of them is a class byte.
				for j+8 <= len(src) && lineClass[src[j]]|lineClass[src[j+1]]|lineClass[src[j+2]]|lineClass[src[j+3]]|
					lineClass[src[j+4]]|lineClass[src[j+5]]|lineClass[src[j+6]]|lineClass[src[j+7]] == 0 {
					j += 8
				}
				for j < len(src) && lineClass[src[j]] == 0 {
					j++
				}
				if j < len(src) && src[j] == '[' {
					bracket = true
					j++
					continue
				}
				break
			}
			plain = j < len(src) && src[j] == '\n'
		}
		if plain {
			end, next = j, j+1
		} else if i := bytes.IndexByte(src[j:], '\n'); i >= 0 {
			end = j + i
			next = end + 1
		}
		content := src[start:end]
		for len(content) > 0 && content[len(content)-1] == '\r' {
			content = content[:len(content)-1]
		}
		p.lineStart = start
		p.lastLine0 = end == len(src)
		atStart := !p.inComment && p.inString == 0 && !p.lineComment && !p.cont
		if p.inDirective {
			// A continued directive: comments and literals still count.
			if err := p.scanLine(content, false); err != nil {
				return err
			}
			p.inDirective = p.cont
			p.cont = false
			p.advance(next)
			continue
		}
		t := trimLeft(content)
		indent := len(content) - len(t)
		p.lineT = span{start + indent, end}

		if !atStart || len(t) == 0 {
			if err := p.scanLine(content, true); err != nil {
				return err
			}
			p.advance(next)
			continue
		}
		if t[0] == '#' {
			if err := p.directive(t, start+indent); err != nil {
				return err
			}
			if err := p.scanLine(content, false); err != nil {
				return err
			}
			p.inDirective = p.cont
			p.cont = false
			p.advance(next)
			continue
		}

		if p.depth > 0 {
			// Blob literal declarations and the hash-chain literal have a
			// '[' (checked first: most lines have none).
			hasBracket := bracket || !plain && bytes.IndexByte(t, '[') >= 0
			if hasBracket {
				if name, q, ok := charArrayDecl(t); ok {
					q += start + indent
					switch {
					case p.load && (name == BlobData || name == BlobInsn || name == BlobSig || name == BlobExclHash):
						if err := p.blob(name, start, q); err != nil {
							return err
						}
						continue
					case name == "data" && p.fn.end > p.fn.start && !p.load:
						if err := p.blob(name, start, q); err != nil {
							return err
						}
						continue
					}
				}
			}
			if p.load {
				switch {
				case len(t) > 5 && t[0] == 'o' && bytes.HasPrefix(t, []byte("opts.")):
					if err := p.optAssign(t, start, start+indent, next); err != nil {
						return err
					}
				case hasBracket && bytes.Contains(t, []byte(chainLiteral+"[")):
					if err := p.chainDecl(t, start, start+indent, next); err != nil {
						return err
					}
				case !p.loadCall && bytes.Contains(t, []byte("bpf_load_and_run(")):
					p.loadCall = true
				}
			}
		}
		var anchored *structInfo
		if p.cur != nil && p.member(t, start, next) {
			anchored = p.cur
		}
		if p.pendingIV > 0 && bytes.Contains(t, []byte("skel_prep_map_data")) {
			if m := skelMember(t); m != "" {
				p.f.initial[p.pendingIV-1].Map = m
				p.pendingIV = 0
			}
		}
		if p.depth == 0 {
			p.header(t, start+indent)
		}
		if !plain {
			if err := p.scanLine(content, true); err != nil {
				return err
			}
		}
		if anchored != nil {
			anchored.anchorLine = p.line + 1
			anchored.anchorClean = p.clean() && p.depth == 1
		}
		p.advance(next)
	}
	return nil
}

// clean reports that no comment, literal, continuation or directive is
// open at the end of the current line.
func (p *parser) clean() bool {
	return !p.inComment && p.inString == 0 && !p.lineComment && !p.cont && !p.inDirective
}

func (p *parser) advance(next int) {
	p.pos = next
	p.line++
}

// header notes, at brace depth 0, the name a following `{` would open: the
// identifier before the first `(` (a function). tOff is the offset of t.
func (p *parser) header(t []byte, tOff int) {
	if i := bytes.IndexByte(t, '('); i >= 0 {
		if a, b := identBefore(t, i); b > a {
			p.pending, p.pendLn = span{tOff + a, tOff + b}, p.line
		}
	}
}

// directive handles a preprocessor line t (at offset tOff): conditionals
// nest, and the first two directives must be the include guard.
func (p *parser) directive(t []byte, tOff int) error {
	d := trimLeft(t[1:])
	name := identAt(d)
	arg := identAt(trimLeft(d[len(name):]))
	p.directives++
	switch p.directives {
	case 1:
		if string(name) == "ifndef" && len(arg) > 0 {
			a := tOff + len(t) - len(trimLeft(d[len(name):]))
			p.guard = span{a, a + len(arg)}
			p.guardLine = p.line
		}
	case 2:
		if p.guardLine > 0 && string(name) == "define" && bytes.Equal(arg, p.src[p.guard.start:p.guard.end]) {
			p.guardOK = true
		}
	}
	switch string(name) {
	case "if", "ifdef", "ifndef":
		text := bytes.TrimRight(t, " \t")
		if i := bytes.Index(text, []byte("/*")); i > 0 {
			text = bytes.TrimRight(text[:i], " \t")
		}
		p.conds = append(p.conds, cond{span{tOff, tOff + len(text)}, p.line})
	case "elif", "else", "elifdef", "elifndef":
		if len(p.conds) == 0 {
			return p.err(p.line, "#%s without #if", name)
		}
	case "endif":
		if len(p.conds) == 0 {
			return p.err(p.line, "#endif without #if")
		}
		p.conds = p.conds[:len(p.conds)-1]
	}
	return nil
}

// zeroTokens4 is the text `\0\0\0\0` read as a little-endian uint64.
var zeroTokens4 = binary.LittleEndian.Uint64([]byte(`\0\0\0\0`))

// hexPairTokens is `\x..\x..` read as a little-endian uint64 and masked by
// hexPairMask, which keeps the backslashes and the x's.
var (
	hexPairMask   = binary.LittleEndian.Uint64([]byte{0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0})
	hexPairTokens = binary.LittleEndian.Uint64([]byte{'\\', 'x', 0, 0, '\\', 'x', 0, 0})
)

// octal maps an octal digit to 1, any other byte to 0.
var octal = func() (t [256]uint8) {
	for c := '0'; c <= '7'; c++ {
		t[c] = 1
	}
	return t
}()

// lexClass marks the bytes scanLine must look at inside a brace body.
var lexClass = func() (t [256]bool) {
	for _, c := range []byte("{}\"'/\\") {
		t[c] = true
	}
	return t
}()

// lexClass0 is lexClass plus ';', for depth 0.
var lexClass0 = func() (t [256]bool) {
	t = lexClass
	t[';'] = true
	return t
}()

// lineClass marks, for the line splitter, the bytes the lexer acts on and
// the line feed (1) and '[' (2).
var lineClass = func() (t [256]uint8) {
	for c, v := range lexClass {
		if v {
			t[c] = 1
		}
	}
	t['\n'] = 1
	t['['] = 2
	return t
}()

// scanLine runs the lexer over one line (without its line ending). In code
// (not a directive) it counts braces, opening and closing the top-level
// constructs, and follows the top-level declaration in progress.
func (p *parser) scanLine(b []byte, code bool) error {
	n := len(b)
	i := 0
	p.cont = false
	if p.lineComment {
		p.lineComment = n > 0 && b[n-1] == '\\'
		return nil
	}
	for i < n {
		if p.inComment {
			k := bytes.Index(b[i:], []byte("*/"))
			if k < 0 {
				return nil
			}
			p.inComment = false
			i += k + 2
			continue
		}
		if q := p.inString; q != 0 {
			for i < n && b[i] != q {
				if b[i] == '\\' {
					if i+1 == n {
						return nil // continued on the next line
					}
					i++
				}
				i++
			}
			if i == n {
				if p.lastLine0 {
					return nil // end of file: checkEOF reports it
				}
				return p.err(p.line, "unterminated %s", literalKind(q))
			}
			p.inString = 0
			i++
			continue
		}
		if code {
			// Skip the bytes the lexer does not act on. At depth 0 the first
			// of them starts a declaration, which a ';' ends.
			if p.depth > 0 {
				for i < n && !lexClass[b[i]] {
					i++
				}
			} else {
				for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\f' || b[i] == '\v') {
					i++
				}
				if i < n && !lexClass0[b[i]] {
					if p.declLine == 0 {
						p.declLine = p.line
					}
					for i < n && !lexClass0[b[i]] {
						i++
					}
				}
			}
			if i == n {
				break
			}
		}
		c := b[i]
		switch c {
		case ' ', '\t', '\f', '\v':
			i++
			continue
		case '/':
			if i+1 < n && b[i+1] == '/' {
				p.lineComment = b[n-1] == '\\'
				return nil
			}
			if i+1 < n && b[i+1] == '*' {
				p.inComment, p.commentLine = true, p.line
				i += 2
				continue
			}
		case '"', '\'':
			p.inString, p.stringLine = c, p.line
			i++
			continue
		case '\\':
			if i+1 == n {
				p.cont = true
				return nil
			}
		}
		if code {
			switch c {
			case '{':
				if p.depth == 0 {
					p.openTop()
				}
				p.depth++
			case '}':
				if p.depth == 0 {
					return p.err(p.line, "unmatched '}'")
				}
				p.depth--
				if p.depth == 0 {
					p.closeTop()
				}
			}
			if p.depth == 0 && c != '}' {
				if c == ';' {
					p.declLine = 0
					p.pending = span{}
				} else if p.declLine == 0 {
					p.declLine = p.line
				}
			}
		}
		i++
	}
	return nil
}

func literalKind(q byte) string {
	if q == '\'' {
		return "character literal"
	}
	return "string literal"
}

// openTop records the construct a `{` at depth 0 opens: `struct NAME {` or
// the body of the function named on a preceding line.
func (p *parser) openTop() {
	t := p.src[p.lineT.start:p.lineT.end]
	if p.declLine == 0 {
		p.declLine = p.line
	}
	if bytes.HasPrefix(t, []byte("struct")) && !bytes.ContainsRune(t, '(') {
		id := identAt(trimLeft(t[len("struct"):]))
		p.top, p.topName, p.topLine = topStruct, span{}, p.line
		if p.nStruct < len(p.structSlab) {
			p.cur = &p.structSlab[p.nStruct]
			p.nStruct++
		} else {
			p.cur = new(structInfo)
		}
		*p.cur = structInfo{name: string(id), line: p.line, lineOff: p.lineT.start, linksEnd: -1}
		p.structs = append(p.structs, p.cur)
		p.fn, p.load = span{}, false
		return
	}
	p.fn, p.fnLine = p.pending, p.pendLn
	p.load = isLoadFn(p.src[p.fn.start:p.fn.end])
	if p.fn.end == p.fn.start {
		p.fnLine = p.line
		p.top, p.topLine = topBlock, p.line
	} else {
		p.top, p.topName, p.topLine = topFunc, p.fn, p.pendLn
	}
	p.pending = span{}
}

// closeTop ends the top-level construct when its closing brace is seen.
func (p *parser) closeTop() {
	if p.cur != nil && p.cur.anchor == 0 {
		// No ctx, maps, progs or links member: the field goes last.
		p.cur.anchor = p.lineStart
		p.cur.anchorBefore = true
		p.cur.anchorLine = p.line
	}
	if p.top == topFunc {
		p.fnDefs = append(p.fnDefs, p.topName)
		p.declLine = 0 // a function definition needs no `;`
	}
	p.fn, p.load, p.cur = span{}, false, nil
}

// decode decodes the escaped text of the literal name whose opening quote
// is at q, on line declLine. It returns the bytes, the offset of the closing
// quote and its line.
func (p *parser) decode(name string, q, declLine int) ([]byte, int, int, error) {
	src := p.src
	line := declLine
	eof := func() error {
		return p.err(p.lastLine(), "unexpected end of file inside %s literal, opened at line %d", name, declLine)
	}

	closeQ := bytes.IndexByte(src[q+1:], '"')
	if closeQ < 0 {
		return nil, 0, 0, eof()
	}
	// Every escape yields at most one byte from at least two characters,
	// so closeQ/2 bytes (plus slack for the fast path's stores) suffice.
	need := closeQ/2 + 8
	if cap(p.arena)-len(p.arena) < need {
		p.arena = make([]byte, 0, max(need, (len(src)-q)/2+8))
	}
	out := p.arena[len(p.arena):cap(p.arena)]
	n := 0
	i := q + 1
	// The fast loop reads b, the literal up to and including its closing
	// quote; the last few tokens and anything unusual go to the exact
	// token-by-token code after it.
	b := src[:q+1+closeQ+1]
	for {
		// Where the CPU has a vector decoder, it takes the run of tokens from here for as
		// long as it can vouch for them (decodeRun); the loops below do the rest.
		if useAVX2 && i+35 <= len(b) {
			var nl int
			i, n, nl = decodeRun(b, i, out, n)
			line += nl
		}
		// The three tokens bpftool writes, each followed by the next
		// token's backslash (which makes `\0` and `\xHH` exact: no octal
		// digit after the `\0`, no third hex digit): `\0`, `\xHH`,
		// backslash-newline.
		for i+8 < len(b) && b[i] == '\\' {
			switch b[i+1] {
			case '0':
				// Runs of zero bytes (most of opts_data) go eight, then
				// four at a time.
				if binary.LittleEndian.Uint64(b[i:]) == zeroTokens4 && b[i+8] == '\\' {
					for i+16 < len(b) && binary.LittleEndian.Uint64(b[i+8:]) == zeroTokens4 && b[i+16] == '\\' {
						binary.LittleEndian.PutUint64(out[n:], 0)
						n += 8
						i += 16
						if i+16 >= len(b) || binary.LittleEndian.Uint64(b[i:]) != zeroTokens4 {
							break
						}
					}
					if i+8 < len(b) && binary.LittleEndian.Uint64(b[i:]) == zeroTokens4 && b[i+8] == '\\' {
						binary.LittleEndian.PutUint32(out[n:], 0)
						n += 4
						i += 8
					}
					continue
				}
				if b[i+2] != '\\' {
					goto slow
				}
				out[n] = 0
				n++
				i += 2
			case 'x':
				// Two hex escapes at a time while they last.
				for i+8 < len(b) && binary.LittleEndian.Uint64(b[i:])&hexPairMask == hexPairTokens && b[i+8] == '\\' {
					h0, l0, h1, l1 := unhex[b[i+2]], unhex[b[i+3]], unhex[b[i+6]], unhex[b[i+7]]
					if h0|l0|h1|l1 > 15 {
						goto slow1
					}
					out[n] = h0<<4 | l0
					out[n+1] = h1<<4 | l1
					n += 2
					i += 8
				}
				if i+8 >= len(b) || b[i] != '\\' || b[i+1] != 'x' {
					continue
				}
			slow1:
				hi, lo := unhex[b[i+2]], unhex[b[i+3]]
				if hi|lo > 15 || b[i+4] != '\\' {
					goto slow
				}
				out[n] = hi<<4 | lo
				n++
				i += 4
			case '\n':
				line++
				i += 2
			default:
				goto slow
			}
		}
	slow:
		if i >= len(src) {
			return nil, 0, 0, eof()
		}
		c := src[i]
		if c == '"' {
			break
		}
		if c == '\n' {
			return nil, 0, 0, p.err(line, "unterminated %s literal (line break without \\ continuation)", name)
		}
		if c != '\\' {
			if c >= 0x20 && c < 0x7f {
				return nil, 0, 0, p.err(line, "unescaped character %q in %s literal", rune(c), name)
			}
			return nil, 0, 0, p.err(line, "unescaped byte 0x%02x in %s literal", c, name)
		}
		if i+1 >= len(src) {
			return nil, 0, 0, eof()
		}
		switch src[i+1] {
		case '0':
			if i+2 < len(src) && isOctal(src[i+2]) {
				return nil, 0, 0, p.err(line, "bad escape \"%s\" in %s literal", src[i:i+3], name)
			}
			out[n] = 0
			n++
			i += 2
		case 'x':
			j := i + 2
			for j < len(src) && j < i+5 && isHex(src[j]) {
				j++
			}
			if j-i != 4 {
				return nil, 0, 0, p.err(line, "bad escape \"%s\" in %s literal", src[i:j], name)
			}
			out[n] = unhex[src[i+2]]<<4 | unhex[src[i+3]]
			n++
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
				return nil, 0, 0, p.err(line, "bad escape: backslash followed by byte 0x%02x in %s literal", r, name)
			}
			return nil, 0, 0, p.err(line, "bad escape \"%s\" in %s literal", src[i:i+2], name)
		}
	}
	data := out[:n:n]
	p.arena = p.arena[:len(p.arena)+n]
	return data, i, line, nil
}

// blob decodes the literal whose declaration line starts at lineStart and
// whose opening quote is at q, then moves past its closing line.
func (p *parser) blob(name string, lineStart, q int) error {
	declLine := p.line
	var (
		data     []byte
		closePos int
		line     int
		err      error
	)
	if k := p.knownIndex(name); k >= 0 {
		// Text the package wrote itself from these bytes (Edit).
		data = p.knownData[k]
		closePos = q + 1 + bytes.IndexByte(p.src[q+1:], '"')
		line = declLine + bytes.Count(p.src[q+1:closePos], []byte("\n"))
	} else if data, closePos, line, err = p.decode(name, q, declLine); err != nil {
		return err
	}
	src := p.src
	i := closePos
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
	p.line = line
	if rest := bytes.TrimRight(src[semi+1:after], " \t\r\n"); len(rest) > 0 {
		end = semi + 1
		if err := p.scanLine(rest, true); err != nil {
			return err
		}
	}
	var l *literal
	if p.nLit < len(p.litSlab) {
		l = &p.litSlab[p.nLit]
		p.nLit++
	} else {
		l = new(literal)
	}
	*l = literal{name: name, line: declLine, rm: span{lineStart, end}, after: after, open: q + 1, close: closePos, endLine: line, data: data}
	if name == "data" {
		if p.f.initial == nil {
			p.f.initial = p.ivBuf[:0]
		}
		p.f.initial = append(p.f.initial, initialValue{InitialValue{Data: data, Line: declLine}, lineStart})
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
	p.f.loadFn = string(p.src[p.fn.start:p.fn.end])
	p.f.fnLine = p.fnLine
	p.f.fnOff = p.fn.start
	p.f.name = strings.TrimSuffix(p.f.loadFn, "__load")
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
	var o *optLine
	if p.nOpt < len(p.optSlab) {
		o = &p.optSlab[p.nOpt]
		p.nOpt++
	} else {
		o = new(optLine)
	}
	id := lookupOptField(field)
	*o = optLine{field: id, name: span{tOff + 5, tOff + 5 + len(field)}, line: p.line, rm: span{lineStart, next}, rhs: span{tOff + k, tOff + semi}}
	if id != optOther {
		if prev := p.f.opts[id]; prev != nil {
			if id.isOwned() {
				return p.err(p.line, "duplicate opts.%s assignment (first at line %d)", id, prev.line)
			}
		} else {
			p.f.opts[id] = o
		}
	}
	p.f.optSeq = append(p.f.optSeq, o)
	return nil
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
	} else if anyOf(t[:eq], &declStop) {
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

// member records a line of a top-level struct body. It reports whether
// the line moved the anchor.
func (p *parser) member(t []byte, lineStart, next int) bool {
	s := p.cur
	if len(t) == 0 || t[len(t)-1] != ';' {
		return false
	}
	fields, nf := fields4(t[:len(t)-1])
	switch {
	case nf == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_map_desc":
		if s.maps == nil {
			s.maps = s.mapBuf[:0]
		}
		s.maps = append(s.maps, string(fields[2]))
	case nf == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_prog_desc":
		if s.progs == nil {
			s.progs = s.progBuf[:0]
		}
		s.progs = append(s.progs, string(fields[2]))
	case p.depth == 1 && nf == 3 && string(fields[0]) == "struct" && string(fields[1]) == "bpf_loader_ctx":
		s.hasCtx = true
		if s.linksEnd < 0 {
			s.anchor = next
			return true
		}
	case p.depth == 2 && nf >= 2 && nf <= 4 && string(fields[0]) == "}" && string(fields[nf-1]) == "links":
		s.linksEnd = next
		s.anchor = next
		return true
	case p.depth == 2 && nf >= 2 && nf <= 4 && string(fields[0]) == "}" && s.linksEnd < 0 &&
		(string(fields[nf-1]) == "maps" || string(fields[nf-1]) == "progs"):
		s.anchor = next
		return true
	case p.depth == 1 && nf == 2 && string(fields[0]) == "__s32" && string(fields[1]) == keyringFieldName:
		if s.keyring == nil {
			s.keyring = &span{lineStart, next}
		}
	}
	return false
}

// fields4 splits b at blanks like bytes.Fields, up to four fields; n is the
// number of fields (5 if there are more than four).
func fields4(b []byte) (f [4][]byte, n int) {
	i := 0
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
		if i == len(b) {
			return f, n
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if n == len(f) {
			return f, n + 1
		}
		f[n] = b[i:j]
		n++
		i = j
	}
}

// lastLine is the number of the line end of file falls on: the last line
// that has any text, or line 1 for an empty file.
func (p *parser) lastLine() int {
	n := bytes.Count(p.src, []byte("\n"))
	if len(p.src) == 0 || p.src[len(p.src)-1] != '\n' {
		n++
	}
	return n
}

// finish checks the whole-file rules once every line has been seen.
func (p *parser) finish() error {
	if err := p.checkEOF(); err != nil {
		return err
	}
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
	if err := p.checkRequired(); err != nil {
		return err
	}
	return p.checkSigning()
}

// checkEOF rejects a file that ends inside a construct.
func (p *parser) checkEOF() error {
	// The last line's number is counted only for an error (a pass over the whole file).
	eof := func(what string, line int) error {
		return p.err(p.lastLine(), "unexpected end of file inside %s, opened at line %d", what, line)
	}
	switch {
	case p.inString != 0:
		return eof("a "+literalKind(p.inString), p.stringLine)
	case p.inComment:
		return eof("a comment", p.commentLine)
	case p.cont || p.lineComment || p.inDirective:
		return p.err(p.lastLine(), "unexpected end of file after a backslash-newline continuation")
	case p.depth > 0:
		switch {
		case p.cur != nil:
			return eof("struct "+p.cur.name, p.cur.line)
		case p.top == topFunc:
			return eof(string(p.src[p.topName.start:p.topName.end]), p.topLine)
		}
		return eof("a block", p.topLine)
	case p.declLine > 0:
		return eof("a declaration", p.declLine)
	case len(p.conds) > 0:
		c := p.conds[len(p.conds)-1]
		return eof(string(p.src[c.text.start:c.text.end]), c.line)
	case len(p.src) > 0 && p.src[len(p.src)-1] != '\n':
		return p.err(p.lastLine(), "unexpected end of file: the last line has no line break")
	}
	return nil
}

// checkRequired checks the constructs every light skeleton has.
func (p *parser) checkRequired() error {
	f := p.f
	if !p.guardOK {
		line := p.guardLine
		if line == 0 {
			line = 1
		}
		return p.err(line, "missing include guard: the first two directives must be #ifndef NAME and #define NAME")
	}
	for _, s := range p.structs {
		if s.name == f.name {
			f.st = s
			break
		}
	}
	if f.st == nil {
		return p.err(f.fnLine, "missing struct %s", f.name)
	}
	if !f.st.hasCtx {
		return p.err(f.st.line, "struct %s has no `struct bpf_loader_ctx ctx;` member", f.name)
	}
	for _, suffix := range [...]string{"__attach", "__detach", "__destroy", "__open", "__load", "__open_and_load"} {
		if !p.defined(f.name, suffix) {
			return p.err(p.lastLine(), "missing function %s%s", f.name, suffix)
		}
	}
	for _, o := range requiredFields {
		if f.opts[o] == nil {
			return p.err(f.fnLine, "missing opts.%s assignment in %s", o, f.loadFn)
		}
	}
	if !p.loadCall {
		return p.err(f.fnLine, "%s does not call bpf_load_and_run", f.loadFn)
	}
	return nil
}

func (p *parser) defined(name, suffix string) bool {
	for _, s := range p.fnDefs {
		d := p.src[s.start:s.end]
		if len(d) == len(name)+len(suffix) && string(d[:len(name)]) == name && string(d[len(name):]) == suffix {
			return true
		}
	}
	return false
}

// checkSigning checks that the signing lines are all present or all absent.
func (p *parser) checkSigning() error {
	f := p.f
	sig, excl := f.blobs[BlobSig], f.blobs[BlobExclHash]
	switch {
	case sig != nil && excl == nil:
		return p.err(sig.line, "missing %s literal (%s at line %d)", BlobExclHash, BlobSig, sig.line)
	case sig == nil && excl != nil:
		return p.err(excl.line, "missing %s literal (%s at line %d)", BlobSig, BlobExclHash, excl.line)
	}
	var missing []string
	present, first := 0, 0
	for _, fld := range signingFields {
		if o := f.opts[fld]; o != nil {
			present++
			if first == 0 || o.line < first {
				first = o.line
			}
		} else {
			missing = append(missing, fld.String())
		}
	}
	lits := sig != nil
	switch {
	case present > 0 && len(missing) > 0:
		return p.err(first, "inconsistent signing lines: opts.%s missing", strings.Join(missing, ", opts."))
	case lits && present == 0:
		return p.err(sig.line, "inconsistent signing: %s/%s literals without opts.signature lines", BlobSig, BlobExclHash)
	case !lits && present > 0:
		return p.err(first, "inconsistent signing: opts.signature lines without %s/%s literals", BlobSig, BlobExclHash)
	case lits && f.st.keyring == nil:
		return p.err(f.opts[optKeyringID].line, "inconsistent signing: opts.keyring_id assigned but struct %s has no keyring_id field", f.st.name)
	case !lits && f.st.keyring != nil:
		return p.err(p.lineOf(f.st.keyring.start), "inconsistent signing: struct %s has a keyring_id field but the header has no signature", f.st.name)
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

// lineOf returns the 1-based line of offset off.
func (p *parser) lineOf(off int) int { return bytes.Count(p.src[:off], []byte("\n")) + 1 }

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
	a, b := identBefore(t, lb)
	if a == b || !hasWord(t[:a], "char") || !plainDeclPrefix(t[:lb]) {
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
	if q >= len(t) || t[q] != '"' || anyOf(t[:q], &declStop) || bytes.Count(t[:q], []byte("=")) != 1 {
		return "", 0, false
	}
	return blobName(t[a:b]), q, true
}

// blobName returns the name as one of the constant strings, avoiding an
// allocation for the names the parser knows.
func blobName(b []byte) string {
	switch string(b) {
	case BlobData:
		return BlobData
	case BlobInsn:
		return BlobInsn
	case BlobSig:
		return BlobSig
	case BlobExclHash:
		return BlobExclHash
	case "data":
		return "data"
	}
	return string(b)
}

// byteSet is a set of bytes for anyOf.
type byteSet [256]bool

func newByteSet(chars string) (s byteSet) {
	for i := 0; i < len(chars); i++ {
		s[chars[i]] = true
	}
	return s
}

var (
	declStop   = newByteSet("{};\"'/#")
	prefixStop = newByteSet("{};=\"'/#")
	rhsStop    = newByteSet("{};\"'")
)

// anyOf reports whether b holds a byte of s.
func anyOf(b []byte, s *byteSet) bool {
	for _, c := range b {
		if s[c] {
			return true
		}
	}
	return false
}

// plainDeclPrefix reports whether b can be the start of a declaration that
// begins its line: no statement or block punctuation, quotes or comments.
func plainDeclPrefix(b []byte) bool {
	return !anyOf(b, &prefixStop)
}

// plainRHS reports whether an assignment's right-hand side can be removed or
// copied without changing the structure around it.
func plainRHS(b []byte) bool {
	if anyOf(b, &rhsStop) {
		return false
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '/' && (b[i+1] == '*' || b[i+1] == '/') {
			return false
		}
	}
	return true
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

// identBefore returns the bounds [a, b) of the identifier that ends, blanks
// aside, just before t[i]; a == b if there is none.
func identBefore(t []byte, i int) (int, int) {
	j := i
	for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t') {
		j--
	}
	k := j
	for k > 0 && isIdent(t[k-1]) {
		k--
	}
	if k == j || t[k] >= '0' && t[k] <= '9' {
		return 0, 0
	}
	return k, j
}

func trimLeft(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[i:]
}
