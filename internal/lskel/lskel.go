package lskel

import (
	"fmt"
	"strconv"
)

// Names of the blob literals inside NAME__load().
const (
	BlobData     = "opts_data"
	BlobInsn     = "opts_insn"
	BlobSig      = "opts_sig"
	BlobExclHash = "opts_excl_hash"
)

// chainLiteral is the name of the hash-chain scheme's int array literal.
const chainLiteral = "opts_signature_maps"

// optField identifies an `opts.FIELD = ...;` assignment of NAME__load()
// that this package reads or writes.
type optField int

// The owned fields (signing and hash chain) come first.
const (
	optSignature optField = iota
	optSignatureSz
	optExclHash
	optExclHashSz
	optKeyringID
	optSigMaps
	optSigMapsSz
	optCtx
	optDataSz
	optData
	optInsnsSz
	optInsns
	numOptFields
	optOther optField = -1 // any other field
)

var optFieldNames = [numOptFields]string{
	"signature", "signature_sz", "excl_prog_hash", "excl_prog_hash_sz", "keyring_id",
	"signature_maps", "signature_maps_sz", "ctx", "data_sz", "data", "insns_sz", "insns",
}

func (o optField) String() string {
	if o < 0 || o >= numOptFields {
		return "?"
	}
	return optFieldNames[o]
}

// isOwned reports whether the package adds and removes the field's line.
func (o optField) isOwned() bool { return o >= 0 && o <= optSigMapsSz }

// lookupOptField returns the id of a field name, or optOther.
func lookupOptField(b []byte) optField {
	switch string(b) {
	case "signature":
		return optSignature
	case "signature_sz":
		return optSignatureSz
	case "excl_prog_hash":
		return optExclHash
	case "excl_prog_hash_sz":
		return optExclHashSz
	case "keyring_id":
		return optKeyringID
	case "signature_maps":
		return optSigMaps
	case "signature_maps_sz":
		return optSigMapsSz
	case "ctx":
		return optCtx
	case "data_sz":
		return optDataSz
	case "data":
		return optData
	case "insns_sz":
		return optInsnsSz
	case "insns":
		return optInsns
	}
	return optOther
}

// keyringFieldName is the struct NAME member a signed skeleton adds.
const keyringFieldName = "keyring_id"

// signingFields are the five assignments of a signed skeleton, in the order
// bpftool writes them.
var signingFields = [...]optField{optSignature, optSignatureSz, optExclHash, optExclHashSz, optKeyringID}

// requiredFields are the assignments every light skeleton's NAME__load()
// makes (bpftool's gen_trace writes them unconditionally).
var requiredFields = [...]optField{optCtx, optDataSz, optData, optInsnsSz, optInsns}

// ParseError reports a header that is not a well-formed light skeleton.
type ParseError struct {
	File   string // file name given to Parse
	Line   int    // 1-based line number
	Reason string
}

func (e *ParseError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
}

// InitialValue is the unsigned initial value of one mmapable map, a `data[]`
// literal in NAME__open().
type InitialValue struct {
	Map  string // map name from the `skel->MAP = ...skel_prep_map_data(...)` line after the literal; "" if none
	Data []byte // the literal's bytes
	Line int    // 1-based line of the literal's declaration
}

// initialValue is an InitialValue and the offset of its declaration line.
type initialValue struct {
	InitialValue
	off int
}

// span is a half-open byte range [start, end) of the source.
type span struct{ start, end int }

// literal is a blob literal: its declaration occupies the lines rm covers;
// the escaped text lies between the quotes at open-1 and close.
type literal struct {
	name  string
	line  int  // line of the declaration
	rm    span // whole lines of the declaration (up to the `;` if text follows it)
	after int  // end of the closing line, where following declarations go
	open  int  // offset just after the opening quote
	close int  // offset of the closing quote
	// endLine is the line of the closing quote; after starts line endLine+1.
	endLine int
	data    []byte
}

// optLine is one `opts.FIELD = RHS;` line.
type optLine struct {
	field optField
	name  span // the field name after `opts.`
	line  int
	rm    span // the whole line including its line ending
	rhs   span // RHS, between `=` (and following blanks) and the final `;`
}

// chainLit is `static const int opts_signature_maps[N] ... = {a, b};`.
type chainLit struct {
	line int
	rm   span
	dim  span // inside the brackets
	init span // inside the braces
	idx  []int32
}

// structInfo collects what the skeleton struct declares.
type structInfo struct {
	name    string
	line    int
	lineOff int // an offset on line line (the start of its text)
	hasCtx  bool
	maps    []string
	progs   []string
	anchor  int // offset after the links (or last known) member line: where keyring_id goes
	// anchorBefore reports that anchor is the start of the struct's closing
	// line rather than the end of a member line.
	anchorBefore bool
	// anchorLine is the line that starts at anchor; anchorClean reports
	// that the lexer is at depth 1 with nothing open there, so a member
	// line inserted at anchor is read as one.
	anchorLine  int
	anchorClean bool
	linksEnd    int   // offset after `} links;` line, -1 if none
	keyring     *span // the `__s32 keyring_id;` line

	mapBuf  [8]string // backing stores for maps and progs
	progBuf [4]string
}

// File is a parsed light skeleton header. The zero value is not usable; call
// Parse.
type File struct {
	filename string
	src      []byte

	name    string // object name
	loadFn  string
	fnLine  int
	fnOff   int // offset of the load function's name, on line fnLine
	blobs   map[string]*literal
	initial []initialValue
	opts    [numOptFields]*optLine
	optSeq  []*optLine // assignments in the load function, in file order
	chain   *chainLit
	st      *structInfo

	// pendingMaps holds SetSignatureMaps indices given to an unsigned File,
	// written by the next SetSignature.
	pendingMaps []int32

	// editErr is the error of the last failed setter call (SetInsn ...):
	// the setters have no error result. Edit returns its error instead.
	editErr error
}

// Filename returns the file name given to Parse.
func (f *File) Filename() string { return f.filename }

// Name returns the object name, NAME in NAME__load().
func (f *File) Name() string { return f.name }

// Bytes returns the header text. For an unedited File it is the source given
// to Parse, byte for byte.
func (f *File) Bytes() []byte { return append([]byte(nil), f.src...) }

// Blob returns a copy of the bytes of the named blob literal (BlobData,
// BlobInsn, BlobSig, BlobExclHash), or nil if the header has none.
func (f *File) Blob(name string) []byte {
	l := f.blobs[name]
	if l == nil {
		return nil
	}
	return append([]byte{}, l.data...)
}

// Data returns a copy of opts_data, the loader's metadata blob.
func (f *File) Data() []byte { return f.Blob(BlobData) }

// Insn returns a copy of opts_insn, the loader program.
func (f *File) Insn() []byte { return f.Blob(BlobInsn) }

// Sig returns a copy of opts_sig, or nil for an unsigned header.
func (f *File) Sig() []byte { return f.Blob(BlobSig) }

// ExclHash returns a copy of opts_excl_hash, or nil for an unsigned header.
func (f *File) ExclHash() []byte { return f.Blob(BlobExclHash) }

// Signed reports whether the header carries a signature: the opts_sig and
// opts_excl_hash literals, the five signing assignments and the keyring_id
// field of struct NAME.
func (f *File) Signed() bool {
	return f.blobs[BlobSig] != nil
}

// SignatureMaps returns the indices of the hash-chain `opts_signature_maps`
// literal and whether the hash-chain lines are present.
func (f *File) SignatureMaps() ([]int32, bool) {
	if f.chain == nil {
		return nil, false
	}
	return append([]int32{}, f.chain.idx...), true
}

// Maps returns the map names of struct NAME's maps member, in order.
func (f *File) Maps() []string {
	if f.st == nil {
		return nil
	}
	return append([]string(nil), f.st.maps...)
}

// Progs returns the program names of struct NAME's progs member, in order.
func (f *File) Progs() []string {
	if f.st == nil {
		return nil
	}
	return append([]string(nil), f.st.progs...)
}

// InitialValues returns the `data[]` literals of NAME__open(), one per
// mmapable map, in file order.
func (f *File) InitialValues() []InitialValue {
	out := make([]InitialValue, len(f.initial))
	for i, iv := range f.initial {
		out[i] = InitialValue{Map: iv.Map, Data: append([]byte{}, iv.Data...), Line: iv.Line}
	}
	return out
}

// LoaderCtxSize returns the size the loader context has at run time,
// offsetof(struct NAME, links): struct bpf_loader_ctx (24 bytes, 8-aligned),
// then 16 bytes per struct bpf_map_desc (8-aligned), then 4 bytes per struct
// bpf_prog_desc, rounded up to the 4-byte alignment of the links struct.
func (f *File) LoaderCtxSize() int {
	off := 24
	var m, p int
	if f.st != nil {
		m, p = len(f.st.maps), len(f.st.progs)
	}
	if m > 0 {
		off = alignUp(off, 8) + 16*m
	}
	if p > 0 {
		off = alignUp(off, 4) + 4*p
	}
	return alignUp(off, 4)
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// Clone returns an independent copy of f. A File's parsed state is never
// modified in place (the setters replace all of it), so the copy shares it.
func (f *File) Clone() *File {
	g := f.copy()
	g.editErr = f.editErr
	return g
}

func errorf(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}
