// Package lskel reads and rewrites light skeleton headers, the C headers that
// `bpftool gen skeleton -L [-S -k KEY -i CERT]` prints.
//
// A light skeleton carries its loader program and the loader's metadata as C
// string literals inside NAME__load():
//
//	static const char opts_data[] __attribute__((__aligned__(8))) = "\
//	\0\0\x9f\xeb...\
//	...";
//
// followed, in that order, by opts_insn and, in a signed skeleton, opts_sig
// and opts_excl_hash. NAME__open() holds one `data[]` literal per mmapable map
// with that map's unsigned initial value.
//
// # Literal format
//
// Every byte of a blob is escaped: a zero byte is written `\0`, any other byte
// `\xHH` with two lowercase hex digits. No byte is ever a literal character.
// The literal opens with `= "\` and a line break, so the escaped bytes start
// on a fresh line. Lines are wrapped with a backslash-newline continuation: the
// writer keeps a running width (4 per `\xHH`, 2 per `\0`) and starts a new line
// before a token that would push the width past 78. The blob is the literal
// without the C string's terminating NUL (sizeof(NAME) - 1 bytes).
//
// The reader is stricter than C about escapes and more lenient about
// everything else: inside a blob literal only `\0` (not followed by an octal
// digit), `\xHH` (exactly two hex digits) and backslash-newline continuations
// are accepted; any other byte is an error. Outside the blobs every byte is
// kept verbatim, including CRLF line endings, extra whitespace, C++ style
// casts, preprocessor conditionals and lines this package does not know.
//
// # Complete headers only
//
// A file is accepted as a light skeleton only if every construct bpftool's
// light-skeleton generator (gen_trace in tools/bpf/bpftool/gen.c) always
// emits is present and closed:
//
//   - the include guard: the first two directives are `#ifndef G` and
//     `#define G`, and the `#ifndef` is closed by its `#endif`;
//   - `struct NAME { ... };` with a `struct bpf_loader_ctx ctx;` member;
//   - the definitions of NAME__attach, NAME__detach, NAME__destroy,
//     NAME__open, NAME__load and NAME__open_and_load;
//   - in NAME__load: the opts_data and opts_insn literals, the assignments
//     to opts.ctx, opts.data_sz, opts.data, opts.insns_sz and opts.insns,
//     and a call of bpf_load_and_run;
//   - the signing lines all or none (below).
//
// The lexer that finds these follows comments, string and character
// literals, backslash-newline continuations, braces, top-level declarations
// and preprocessor conditionals across lines. End of file inside any of them
// (or inside a blob literal) is a ParseError on the last line that names
// what was left open and the line it opened on, for example
// `unexpected end of file inside minimal__load, opened at line 105`; so is
// a non-empty file whose last line has no line break (C requires one). A
// `}` or `#endif` with nothing to close and a string literal left open at a
// line break are errors too. Empty and very short blobs are legal. As a
// consequence no strict prefix of a header parses.
//
// # Signing lines
//
// A signed skeleton differs from an unsigned one only by
//
//   - a `__s32 keyring_id;` field in struct NAME, after the links struct;
//   - the opts_sig and opts_excl_hash literals, right after opts_insn;
//   - the assignments to opts.signature, opts.signature_sz,
//     opts.excl_prog_hash, opts.excl_prog_hash_sz and opts.keyring_id, before
//     `opts.ctx = ...`.
//
// The hash-chain scheme adds an `opts_signature_maps` int array literal after
// opts_excl_hash and the assignments to opts.signature_maps and
// opts.signature_maps_sz after opts.keyring_id.
//
// Blobs and `opts.` assignments are found by their own syntax (a `char`
// array declaration with a known name inside the NAME__load function, a line
// starting with `opts.FIELD =`), never by line numbers. A literal declaration
// and an `opts.` assignment each occupy whole lines. The signing material is
// all or nothing: a header with some but not all of the two literals, the
// five assignments and the keyring_id field (for example opts_sig without
// the opts.signature lines, four of the five assignments, or a keyring_id
// field and nothing else) is malformed, not unsigned; so are hash-chain
// lines in an unsigned skeleton or without their literal.
//
// # Decoding
//
// A blob literal is decoded token by token by portable Go, which is the
// rule and gives every error. On amd64 CPUs with AVX2 (and without the
// purego build tag) an assembly decoder takes the runs of the three tokens
// bpftool writes (`\0`, `\xHH`, backslash-newline) 24 text positions at a
// time and hands anything else, and the last bytes of each literal, back to
// the portable code; the two are held to the same bytes, offsets, line
// numbers and errors by TestDecodeRunSame and FuzzDecodeRun.
//
// # Editing
//
// A parsed File re-serialises byte for byte and is never modified in place
// by Edit. File.Edit applies a set of changes (Edit: new opts_insn and
// opts_data contents, signing or unsigning, hash-chain map indices) as one
// set of splices against the source and returns the File that parsing the
// result would give, built from the parsed source and the splices (only the
// inserted lines are read again; a few unusual layouts are parsed in full);
// it returns an *EditError rather than a partial change. Edits touch only the bytes they own; inserted lines
// copy the indentation, line ending and cast style of the existing
// `opts.insns` lines, and rewritten blobs are escaped and wrapped exactly as
// bpftool does, so signing an unsigned skeleton produces the header bpftool
// would have printed. The older Set and Remove methods are Edit applied in
// steps; they change the File in place and keep their error to themselves.
package lskel
