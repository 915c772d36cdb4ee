// Command modernize rewrites a light skeleton printed by an old bpftool
// (v7.1, libbpf 1.1: blobs written inline as `opts.data = (void *)"...";` and
// `skel->MAP = skel_prep_map_data((void *)"...", SZ, LEN);`) into the layout
// current bpftool prints (named `static const char opts_data[]`, `opts_insn[]`
// and `data[]` literals), which is what internal/lskel parses. Only the text
// around the literals changes: every literal's escaped body is copied
// verbatim, so the loader, the metadata blob and the initial values are the
// old generator's bytes (internal/staticcheck's tests check that).
//
// Usage: go run ./testdata/manyprogs/modernize IN OUT
package main

import (
	"fmt"
	"os"
	"regexp"
)

var (
	// skel->MAP = skel_prep_map_data((void *)"\
	// <body>", MMAP, LEN);
	// 	if (!skel->MAP)
	// 		goto cleanup;
	// 	skel->maps.MAP.initial_value = (__u64) (long) skel->MAP;
	prepRE = regexp.MustCompile(`(?s)\tskel->(\w+) = skel_prep_map_data\(\(void \*\)"\\\n(.*?)", (\d+), \d+\);\n` +
		`\tif \(!skel->(\w+)\)\n\t\tgoto cleanup;\n\tskel->maps\.(\w+)\.initial_value = \(__u64\) \(long\) skel->(\w+);\n`)
	ctxRE   = regexp.MustCompile(`\topts\.ctx = \(struct bpf_loader_ctx \*\)skel;\n`)
	dataRE  = regexp.MustCompile(`(?s)\topts\.data_sz = \d+;\n\topts\.data = \(void \*\)"\\\n(.*?)";\n`)
	insnsRE = regexp.MustCompile(`(?s)\topts\.insns_sz = \d+;\n\topts\.insns = \(void \*\)"\\\n(.*?)";\n`)
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: modernize IN OUT")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := modernize(src)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func modernize(src []byte) ([]byte, error) {
	src = prepRE.ReplaceAllFunc(src, func(m []byte) []byte {
		g := prepRE.FindSubmatch(m)
		name, body, mmap := g[1], g[2], g[3]
		return fmt.Appendf(nil, "\t{\n\t\tstatic const char data[] __attribute__((__aligned__(8))) = \"\\\n%s\";\n\n"+
			"\t\tskel->%s = (__typeof__(skel->%s))skel_prep_map_data((void *)data, %s,\n\t\t\t\t\t\tsizeof(data) - 1);\n"+
			"\t\tif (!skel->%s)\n\t\t\tgoto cleanup;\n\t\tskel->maps.%s.initial_value = (__u64) (long) skel->%s;\n\t}\n",
			body, name, name, mmap, name, name, name)
	})
	d := dataRE.FindSubmatch(src)
	i := insnsRE.FindSubmatch(src)
	if d == nil || i == nil || ctxRE.Find(src) == nil {
		return nil, fmt.Errorf("no inline opts.data / opts.insns literals (not an old-style light skeleton)")
	}
	decl := fmt.Appendf(nil, "\tstatic const char opts_data[] __attribute__((__aligned__(8))) = \"\\\n%s\";\n"+
		"\tstatic const char opts_insn[] __attribute__((__aligned__(8))) = \"\\\n%s\";\n"+
		"\topts.ctx = (struct bpf_loader_ctx *)skel;\n"+
		"\topts.data_sz = sizeof(opts_data) - 1;\n\topts.data = (void *)opts_data;\n"+
		"\topts.insns_sz = sizeof(opts_insn) - 1;\n\topts.insns = (void *)opts_insn;\n",
		d[1], i[1])
	src = dataRE.ReplaceAll(src, nil)
	src = insnsRE.ReplaceAll(src, nil)
	src = ctxRE.ReplaceAllLiteral(src, decl)
	return src, nil
}
