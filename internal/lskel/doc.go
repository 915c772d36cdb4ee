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
// and an `opts.` assignment each occupy whole lines. Inconsistent signing
// material (literals without assignments or the reverse, one of the two
// signature literals alone, part of the five assignments, hash-chain lines in
// an unsigned skeleton) is rejected.
//
// # Editing
//
// A parsed File re-serialises byte for byte. The Set and Remove methods edit
// only the bytes they own; inserted lines copy the indentation, line ending
// and cast style of the existing `opts.insns` lines, and rewritten blobs are
// escaped and wrapped exactly as bpftool does, so signing an unsigned skeleton
// produces the header bpftool would have printed.
package lskel
