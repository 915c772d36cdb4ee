package lskel

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// mutate replaces the first occurrence of old in src by new; the test fails
// if old does not occur.
func mutate(t *testing.T, src []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(src, []byte(old)) {
		t.Fatalf("%q not in source", old)
	}
	return bytes.Replace(src, []byte(old), []byte(new), 1)
}

// literalLines returns the full text of the named literal's declaration
// (declaration line to closing line, inclusive).
func literalLines(t *testing.T, src []byte, name string) string {
	t.Helper()
	decl := "\tstatic const char " + name + "[]"
	i := bytes.Index(src, []byte(decl))
	if i < 0 {
		t.Fatalf("no %s literal", name)
	}
	j := bytes.Index(src[i:], []byte("\";\n"))
	return string(src[i : i+j+3])
}

func TestParseErrors(t *testing.T) {
	unsigned := readFixture(t, "unsigned")
	signed := readFixture(t, "legacy-v1")
	chain := readFixture(t, "chain")
	sigLit := literalLines(t, signed, BlobSig)
	exclLit := literalLines(t, signed, BlobExclHash)
	signingLines := "\topts.signature = (void *)opts_sig;\n\topts.signature_sz = sizeof(opts_sig) - 1;\n" +
		"\topts.excl_prog_hash = (void *)opts_excl_hash;\n\topts.excl_prog_hash_sz = sizeof(opts_excl_hash) - 1;\n" +
		"\topts.keyring_id = skel->keyring_id;\n"
	firstInsnLine := "\\0\\x88\\0\\0\\0\\xb7\\x03" // second content line of opts_insn in unsigned

	type tc struct {
		name   string
		src    []byte
		line   int
		reason string
	}
	var tests []tc
	add := func(name string, src []byte, lineOfText string, reason string) {
		line := 1
		if lineOfText != "" {
			line = lineOf(t, src, lineOfText)
		}
		tests = append(tests, tc{name, src, line, reason})
	}
	const notLskel = "not a light skeleton: no opts_insn/opts_data literal in a NAME__load function"

	add("empty", nil, "", notLskel)
	add("plain C", []byte("int main(void)\n{\n\treturn 0;\n}\n"), "", notLskel)
	add("regular skeleton", mutate(t, mutate(t, unsigned, "opts_insn[]", "other_insn[]"), "opts_data[]", "other_data[]"), "", notLskel)
	add("blobs outside NAME__load", mutate(t, unsigned, "minimal__load(struct", "minimal__loader(struct"), "", notLskel)
	add("missing opts_insn", mutate(t, unsigned, "opts_insn[]", "other_insn[]"),
		"minimal__load(", "missing opts_insn literal in minimal__load")
	add("missing opts_data", mutate(t, unsigned, "opts_data[]", "other_data[]"),
		"minimal__load(", "missing opts_data literal in minimal__load")

	src := mutate(t, unsigned, `\x9f\xeb`, `\q9f\xeb`)
	add("bad escape q", src, `\q9f`, `bad escape "\q" in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `\x9\xeb`)
	add("short hex escape", src, `\x9\xeb`, `bad escape "\x9" in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `\x9fa\xeb`)
	add("long hex escape", src, `\x9fa`, `bad escape "\x9fa" in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `\x\xeb`)
	add("empty hex escape", src, `\x\xeb`, `bad escape "\x" in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `\01\xeb`)
	add("octal escape", src, `\01\xeb`, `bad escape "\01" in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `A\xeb`)
	add("literal character", src, `A\xeb`, `unescaped character 'A' in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, "\xff\\xeb")
	add("literal byte", src, "\xff\\xeb", `unescaped byte 0xff in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, "\\\t\\xeb")
	add("backslash tab", src, "\\\t\\xeb", `bad escape: backslash followed by byte 0x09 in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, "\\\r\\xeb")
	add("backslash lone CR", src, "\\\r\\xeb", `bad escape: backslash followed by byte 0x0d in opts_data literal`)
	src = mutate(t, unsigned, `\x9f\xeb`, `\x9f"\xeb`)
	add("text after closing quote", src, `\x9f"\xeb`, `expected ';' after opts_data literal`)

	i := bytes.Index(unsigned, []byte(firstInsnLine))
	// End of file inside a literal: the error is on the last line and names
	// the literal and the line it opened on.
	insnLine := lineOf(t, unsigned, "static const char opts_insn[]")
	eofInInsn := "unexpected end of file inside opts_insn literal, opened at line " + strconv.Itoa(insnLine)
	tests = append(tests,
		tc{"unterminated at EOF", unsigned[:i+10], insnLine + 2, eofInInsn},
		tc{"unterminated at EOF after backslash", unsigned[:i+1], insnLine + 2, eofInInsn},
		tc{"unterminated at EOF after continuation", unsigned[:i], insnLine + 1, eofInInsn})
	src = append([]byte{}, unsigned...)
	j := i + bytes.IndexByte(unsigned[i:], '\n')
	src = append(src[:j-1:j-1], unsigned[j:]...) // drop the continuation backslash
	add("line break without continuation", src, firstInsnLine,
		`unterminated opts_insn literal (line break without \ continuation)`)

	src = mutate(t, signed, exclLit, exclLit+sigLit)
	tests = append(tests, tc{"duplicate opts_sig", src, lineOf(t, src, exclLit) + strings.Count(exclLit, "\n"),
		"duplicate opts_sig literal (first at line " + strconv.Itoa(lineOf(t, signed, sigLit)) + ")"})

	src = mutate(t, mutate(t, signed, sigLit, ""), exclLit, "")
	add("signing lines without literals", src, "opts.signature =",
		"inconsistent signing: opts.signature lines without opts_sig/opts_excl_hash literals")
	src = mutate(t, signed, signingLines, "")
	add("literals without signing lines", src, "opts_sig[]",
		"inconsistent signing: opts_sig/opts_excl_hash literals without opts.signature lines")
	src = mutate(t, signed, "\topts.keyring_id = skel->keyring_id;\n", "")
	add("four of five signing lines", src, "opts.signature =", "inconsistent signing lines: opts.keyring_id missing")
	src = mutate(t, signed, "\topts.signature = (void *)opts_sig;\n\topts.signature_sz = sizeof(opts_sig) - 1;\n", "")
	add("three of five signing lines", src, "opts.excl_prog_hash =",
		"inconsistent signing lines: opts.signature, opts.signature_sz missing")
	src = mutate(t, signed, exclLit, "")
	add("opts_sig alone", src, "opts_sig[]", "missing opts_excl_hash literal (opts_sig at line "+strconv.Itoa(lineOf(t, src, "opts_sig[]"))+")")
	src = mutate(t, signed, sigLit, "")
	add("opts_excl_hash alone", src, "opts_excl_hash[]", "missing opts_sig literal (opts_excl_hash at line "+strconv.Itoa(lineOf(t, src, "opts_excl_hash[]"))+")")
	src = mutate(t, signed, "\t__s32 keyring_id;\n", "")
	add("no keyring_id field", src, "opts.keyring_id =",
		"inconsistent signing: opts.keyring_id assigned but struct minimal has no keyring_id field")
	src = mutate(t, signed, "\topts.ctx =", "\topts.signature = (void *)opts_sig;\n\topts.ctx =")
	add("duplicate signing line", src, "\topts.signature = (void *)opts_sig;\n\topts.ctx",
		"duplicate opts.signature assignment (first at line "+strconv.Itoa(lineOf(t, src, "opts.signature ="))+")")

	chainLit := "\tstatic const int opts_signature_maps[1] __attribute__((__aligned__(8))) = {0};\n"
	chainLines := "\topts.signature_maps = (void *)opts_signature_maps;\n\topts.signature_maps_sz = 1;\n"
	src = mutate(t, chain, chainLit, "")
	add("chain lines without literal", src, "opts.signature_maps =",
		"inconsistent hash chain: opts.signature_maps lines without opts_signature_maps literal")
	src = mutate(t, chain, chainLines, "")
	add("chain literal without lines", src, "opts_signature_maps[",
		"inconsistent hash chain: opts_signature_maps literal without opts.signature_maps and opts.signature_maps_sz lines")
	src = mutate(t, chain, "opts.signature_maps_sz = 1;", "opts.signature_maps_sz = 2;")
	add("chain size mismatch", src, "opts.signature_maps_sz =",
		"inconsistent hash chain: opts.signature_maps_sz = 2 but opts_signature_maps has 1 elements")
	src = mutate(t, chain, "opts_signature_maps[1]", "opts_signature_maps[2]")
	add("chain dimension mismatch", src, "opts_signature_maps[",
		"bad opts_signature_maps literal: size [2] does not match 1 elements")
	src = mutate(t, chain, "= {0};", "= {x};")
	add("chain bad element", src, "opts_signature_maps[",
		`bad opts_signature_maps literal: element "x" is not an int`)
	src = mutate(t, chain, "= {0};", "= {0}")
	add("chain missing semicolon", src, "opts_signature_maps[", "bad opts_signature_maps literal: expected ';'")
	src = mutate(t, chain, chainLit, chainLit+chainLit)
	add("chain duplicate", src, "", "")
	tests[len(tests)-1].line = lineOf(t, src, chainLit) + 1
	tests[len(tests)-1].reason = "duplicate opts_signature_maps literal (first at line " + strconv.Itoa(lineOf(t, src, chainLit)) + ")"
	src = mutate(t, mutate(t, chain, literalLines(t, chain, BlobSig), ""), literalLines(t, chain, BlobExclHash), "")
	src = mutate(t, src, signingLines, "")
	src = mutate(t, src, "\t__s32 keyring_id;\n", "")
	add("chain in unsigned skeleton", src, "opts_signature_maps[",
		"inconsistent hash chain: opts_signature_maps in an unsigned skeleton")

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("x.skel.h", tc.src)
			if err == nil {
				t.Fatalf("Parse succeeded (name %q)", f.Name())
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *ParseError: %v", err, err)
			}
			if pe.File != "x.skel.h" || pe.Line != tc.line || pe.Reason != tc.reason {
				t.Errorf("got  %s:%d: %s\nwant x.skel.h:%d: %s", pe.File, pe.Line, pe.Reason, tc.line, tc.reason)
			}
			if want := "x.skel.h:" + strconv.Itoa(tc.line) + ": " + tc.reason; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

// Several data[] literals in NAME__open are normal (one per mmapable map).
func TestRepeatedInitialValues(t *testing.T) {
	src := readFixture(t, "unsigned")
	lit := "\t{\n\t\tstatic const char data[] __attribute__((__aligned__(8))) = \"\\\n\\x01\\0\\x02\";\n\t}\n"
	src = mutate(t, src, "\treturn skel;\ncleanup:", lit+"\treturn skel;\ncleanup:")
	f := mustParse(t, "x", src)
	ivs := f.InitialValues()
	if len(ivs) != 3 || !bytes.Equal(ivs[2].Data, []byte{1, 0, 2}) || ivs[2].Map != "" {
		t.Fatalf("InitialValues() = %+v", ivs)
	}
	checkBytes(t, f, src)
}
