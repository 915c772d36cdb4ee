package bpfsys

import (
	"fmt"
	"testing"
)

func TestVerifierError(t *testing.T) {
	for _, tt := range []struct{ log, want string }{
		{"", ""},
		{"\n\n", ""},
		{"processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n", ""},
		{"0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0\n", "R0 !read_ok"},
		{"1999: (63) *(u32 *)(r10 +0) = r7\ninvalid write to stack R10 off=0 size=4\nprocessed 1286 insns (limit 1000000)\n", "invalid write to stack R10 off=0 size=4"},
		{"unreachable insn 1\nprocessed 0 insns (limit 1000000)\nverification time 12 usec\nstack depth 0\n", "unreachable insn 1"},
		{"program's hash doesn't match map's excl_prog_hash\n", "program's hash doesn't match map's excl_prog_hash"},
		{"no trailing newline", "no trailing newline"},
		{"trailing blanks  \t\n\n", "trailing blanks"},
	} {
		if got := VerifierError(tt.log); got != tt.want {
			t.Errorf("VerifierError(%q) = %q, want %q", tt.log, got, tt.want)
		}
	}
}

func TestLogTail(t *testing.T) {
	log := "a\nb\nc\nd\n"
	for _, tt := range []struct {
		log     string
		n       int
		want    string
		omitted int
	}{
		{"", 3, "[]", 0},
		{log, 0, "[a b c d]", 0},
		{log, -1, "[a b c d]", 0},
		{log, 2, "[c d]", 2},
		{log, 4, "[a b c d]", 0},
		{log, 9, "[a b c d]", 0},
		{"a\nb", 1, "[b]", 1},
	} {
		lines, omitted := LogTail(tt.log, tt.n)
		if fmt.Sprint(lines) != tt.want || omitted != tt.omitted {
			t.Errorf("LogTail(%q, %d) = %v, %d; want %s, %d", tt.log, tt.n, lines, omitted, tt.want, tt.omitted)
		}
	}
}
