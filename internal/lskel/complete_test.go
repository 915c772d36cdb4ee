package lskel

import (
	"errors"
	"strings"
	"testing"
)

// TestRequiredConstructs removes, one at a time, each construct every light
// skeleton has, and checks the exact error.
func TestRequiredConstructs(t *testing.T) {
	signed := readFixture(t, "legacy-v1")
	unsigned := readFixture(t, "unsigned")
	loadLine := lineOf(t, signed, "minimal__load(struct")
	last := strings.Count(string(signed), "\n")
	fnBody := func(name string) string {
		i := strings.Index(string(signed), "\n"+name+"(")
		if i < 0 {
			t.Fatalf("no %s", name)
		}
		j := strings.Index(string(signed[i:]), "\n}\n")
		return string(signed[i+1 : i+j+3])
	}
	renameFn := func(name string) []byte {
		body := fnBody(name)
		return mutate(t, signed, body, strings.Replace(body, name+"(", name+"_x(", 1))
	}
	for _, c := range []struct {
		name   string
		src    []byte
		line   int
		reason string
	}{
		{"no include guard", mutate(t, signed, "#ifndef __MINIMAL_SKEL_H__\n#define __MINIMAL_SKEL_H__\n", "#if 1\n"), 1,
			"missing include guard: the first two directives must be #ifndef NAME and #define NAME"},
		{"guard names differ", mutate(t, signed, "#define __MINIMAL_SKEL_H__", "#define __OTHER_SKEL_H__"), 3,
			"missing include guard: the first two directives must be #ifndef NAME and #define NAME"},
		{"no #endif", mutate(t, signed, "\n#endif /* __MINIMAL_SKEL_H__ */\n", "\n"), last - 1,
			"unexpected end of file inside #ifndef __MINIMAL_SKEL_H__, opened at line 3"},
		{"#endif without #if", mutate(t, signed, "#endif /* __MINIMAL_SKEL_H__ */\n", "#endif /* __MINIMAL_SKEL_H__ */\n#endif\n"), last + 1,
			"#endif without #if"},
		{"#else without #if", mutate(t, signed, "#endif /* __MINIMAL_SKEL_H__ */\n", "#endif /* __MINIMAL_SKEL_H__ */\n#else\n"), last + 1,
			"#else without #if"},
		{"no struct minimal", mutate(t, signed, "struct minimal {", "struct other {"), loadLine, "missing struct minimal"},
		{"no ctx member", mutate(t, signed, "\tstruct bpf_loader_ctx ctx;\n", ""), lineOf(t, signed, "struct minimal {"),
			"struct minimal has no `struct bpf_loader_ctx ctx;` member"},
		{"no attach", renameFn("minimal__attach"), last, "missing function minimal__attach"},
		{"no detach", renameFn("minimal__detach"), last, "missing function minimal__detach"},
		{"no destroy", renameFn("minimal__destroy"), last, "missing function minimal__destroy"},
		{"no open", renameFn("minimal__open"), last, "missing function minimal__open"},
		{"no open_and_load", renameFn("minimal__open_and_load"), last, "missing function minimal__open_and_load"},
		{"no opts.ctx", mutate(t, signed, "\topts.ctx = (struct bpf_loader_ctx *)skel;\n", ""), loadLine,
			"missing opts.ctx assignment in minimal__load"},
		{"no opts.data_sz", mutate(t, signed, "\topts.data_sz = sizeof(opts_data) - 1;\n", ""), loadLine,
			"missing opts.data_sz assignment in minimal__load"},
		{"no opts.data", mutate(t, signed, "\topts.data = (void *)opts_data;\n", ""), loadLine,
			"missing opts.data assignment in minimal__load"},
		{"no opts.insns_sz", mutate(t, signed, "\topts.insns_sz = sizeof(opts_insn) - 1;\n", ""), loadLine,
			"missing opts.insns_sz assignment in minimal__load"},
		{"no opts.insns", mutate(t, signed, "\topts.insns = (void *)opts_insn;\n", ""), loadLine,
			"missing opts.insns assignment in minimal__load"},
		{"no bpf_load_and_run", mutate(t, signed, "\terr = bpf_load_and_run(&opts);\n", ""), loadLine,
			"minimal__load does not call bpf_load_and_run"},
		{"keyring_id field in an unsigned header", mutate(t, unsigned, "\t} links;\n", "\t} links;\n\t__s32 keyring_id;\n"),
			lineOf(t, unsigned, "} links;") + 1, "inconsistent signing: struct minimal has a keyring_id field but the header has no signature"},
		// The inserted brace closes minimal__open early; the error is at the
		// brace that then has nothing to close.
		{"unmatched brace", mutate(t, signed, "\treturn skel;\ncleanup:", "\treturn skel;\n}\ncleanup:"),
			lineOf(t, signed, "\treturn NULL;\n}\n\nstatic inline int\nminimal__load") + 2, "unmatched '}'"},
		{"missing closing brace", mutate(t, signed, "\treturn ret < 0 ? ret : 0;\n}\n", "\treturn ret < 0 ? ret : 0;\n"), last - 1,
			"unexpected end of file inside minimal__attach, opened at line " + itoa(lineOf(t, signed, "minimal__attach(struct"))},
		{"unterminated string", mutate(t, signed, `"unexpected size of 'hits'"`, `"unexpected size of 'hits'`), lineOf(t, signed, "'hits'"),
			"unterminated string literal"},
		{"unterminated character", mutate(t, signed, "\tint err;\n", "\tchar c = '{;\n\tint err;\n"), lineOf(t, signed, "\tint err;\n"),
			"unterminated character literal"},
		{"unterminated comment", mutate(t, signed, "#endif /* __MINIMAL_SKEL_H__ */", "#endif /* __MINIMAL_SKEL_H__"), last,
			"unexpected end of file inside a comment, opened at line " + itoa(last)},
		{"no final line break", signed[:len(signed)-1], last, "unexpected end of file: the last line has no line break"},
		{"trailing continuation", append(append([]byte{}, signed...), "#define X \\\n"...), last + 1,
			"unexpected end of file after a backslash-newline continuation"},
		{"trailing declaration", append(append([]byte{}, signed...), "static int x\n"...), last + 1,
			"unexpected end of file inside a declaration, opened at line " + itoa(last+1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.skel.h", c.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "x.skel.h" || pe.Line != c.line || pe.Reason != c.reason {
				t.Errorf("got  %s:%d: %s\nwant x.skel.h:%d: %s", pe.File, pe.Line, pe.Reason, c.line, c.reason)
			}
		})
	}
}

// Empty and one-byte blobs are legal.
func TestShortBlobs(t *testing.T) {
	f := mustParse(t, "u", readFixture(t, "unsigned"))
	for _, e := range []Edit{
		{Insn: []byte{}, Data: []byte{}},
		{Insn: []byte{0}, Data: []byte{1}},
		{Insn: []byte{}, Data: []byte{}, Signature: []byte{}, ExclHash: []byte{}},
		{Insn: []byte{7}, Signature: []byte{0}, ExclHash: []byte{0xff}, SignatureMaps: []int32{0}, SetSignatureMaps: true},
	} {
		g, err := f.Edit(e)
		if err != nil {
			t.Fatal(err)
		}
		h := mustParse(t, "g", g.Bytes())
		if len(h.Insn()) != len(e.Insn) || len(h.Data()) != len(f.Data()) && e.Data != nil && len(h.Data()) != len(e.Data) {
			t.Errorf("sizes %d/%d", len(h.Insn()), len(h.Data()))
		}
		if h.Signed() != (e.Signature != nil) {
			t.Errorf("Signed() = %v", h.Signed())
		}
	}
}
