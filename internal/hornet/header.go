package hornet

import (
	"bytes"
	"errors"
	"fmt"
)

// optsSigDecl is the declaration write-sig.sh writes, after a tab.
const optsSigDecl = "static const char opts_sig[] __attribute__((__aligned__(8))) = \"\\"

// WriteSig does what Hornet v7's scripts/hornet/write-sig.sh does to a light skeleton header
// (`sed '/const char opts_sig/,/;/c...'`): the lines from the first one containing
// "const char opts_sig" through the next line containing ";" are replaced by
//
//	<TAB>static const char opts_sig[] __attribute__((__aligned__(8))) = "\
//	\x30\x82...";
//
// the signature on one line, every byte as \xHH with lowercase hex (no \0 shorthand). The
// rest of the header is kept byte for byte; opts.signature_sz stays `sizeof(opts_sig) - 1`,
// so the header is otherwise that of a bpftool -S skeleton. Lines are split on "\n" as sed
// does. A header without such a declaration, or whose literal does not end, is an error
// (sed would leave the first unchanged and delete to the end for the second).
func WriteSig(header, sig []byte) ([]byte, error) {
	if len(sig) == 0 {
		return nil, errors.New("hornet: write-sig: empty signature")
	}
	lines := bytes.SplitAfter(header, []byte("\n"))
	start := -1
	for i, l := range lines {
		if bytes.Contains(l, []byte("const char opts_sig")) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, errors.New("hornet: write-sig: header has no `const char opts_sig` declaration (not a signed light skeleton)")
	}
	end := -1
	for i := start + 1; i < len(lines); i++ {
		if bytes.Contains(lines[i], []byte(";")) {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("hornet: write-sig: the opts_sig literal starting on line %d never ends", start+1)
	}
	var out bytes.Buffer
	for _, l := range lines[:start] {
		out.Write(l)
	}
	out.WriteString("\t" + optsSigDecl + "\n")
	const hexdigits = "0123456789abcdef"
	for _, b := range sig {
		out.Write([]byte{'\\', 'x', hexdigits[b>>4], hexdigits[b&15]})
	}
	out.WriteString("\";\n")
	for _, l := range lines[end+1:] {
		out.Write(l)
	}
	return out.Bytes(), nil
}
