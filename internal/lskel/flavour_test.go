package lskel

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A flavour rewrites bpftool's output the way another generator would. The
// same rewrite applied to an unsigned and a signed fixture must keep the two
// one edit apart.
type flavour struct {
	name      string
	transform func(string) string
}

var (
	reVoidCast   = regexp.MustCompile(`\(void \*\)(opts_\w+);`)
	reOptsAssign = regexp.MustCompile(`(?m)^\topts\.(\w+) = `)
	rePrepMap    = regexp.MustCompile(`\t\tskel->(\w+) = \(__typeof__`)
)

var flavours = []flavour{
	{"cxx static_cast", func(s string) string {
		s = reVoidCast.ReplaceAllString(s, "static_cast<const void *>($1);")
		return strings.ReplaceAll(s, "(struct bpf_loader_ctx *)skel;", "reinterpret_cast<struct bpf_loader_ctx *>(skel);")
	}},
	{"const void cast", func(s string) string {
		return reVoidCast.ReplaceAllString(s, "(const void *)$1;")
	}},
	{"crlf", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
	{"whitespace", func(s string) string {
		s = reOptsAssign.ReplaceAllString(s, "\topts.$1  =  ")
		s = strings.ReplaceAll(s, `))) = "\`, `)))  =   "\`)
		s = strings.ReplaceAll(s, `))) = {`, `)))  =   {`)
		s = strings.ReplaceAll(s, "\";\n", "\" ;  \n")
		return strings.ReplaceAll(s, "\n\t", "\n    ")
	}},
	{"kernel and struct_ops", func(s string) string {
		s = rePrepMap.ReplaceAllString(s, "#ifdef __KERNEL__\n\t\tskel->$1 = skel_prep_map_data((void *)data, 4096, sizeof(data) - 1);\n#else\n\t\tskel->$1 = (__typeof__")
		s = strings.ReplaceAll(s, "\t\t\t\t\t\tsizeof(data) - 1);\n", "\t\t\t\t\t\tsizeof(data) - 1);\n#endif\n")
		s = strings.Replace(s, "\terr = bpf_load_and_run(&opts);\n\tif (err < 0)\n\t\treturn err;\n",
			"\terr = bpf_load_and_run(&opts);\n\tif (err < 0)\n\t\treturn err;\n"+
				"\tskel->struct_ops.dummy_ops = (__typeof__(skel->struct_ops.dummy_ops))\n"+
				"\t\tskel_finalize_map_data(&skel->maps.counts.initial_value, 4096, PROT_READ, skel->maps.counts.map_fd);\n", 1)
		return s
	}},
	{"comments and strings", func(s string) string {
		s = strings.Replace(s, "#include <bpf/skel_internal.h>\n",
			"#include <bpf/skel_internal.h>\n/* a { in a comment\n   spanning } } lines */\n// and { here\nstatic const char *banner = \"{ not a brace\";\n", 1)
		return strings.Replace(s, "\tint err;\n", "\tint err; /* } */\n\tchar c = '{';\n", 1)
	}},
}

func TestFlavours(t *testing.T) {
	all := flavour{"all at once", func(s string) string {
		for _, fl := range flavours {
			s = fl.transform(s)
		}
		return s
	}}
	for _, fl := range append(slices.Clone(flavours), all) {
		t.Run(fl.name, func(t *testing.T) {
			unsigned := []byte(fl.transform(string(readFixture(t, "unsigned"))))
			signed := []byte(fl.transform(string(readFixture(t, "legacy-v1"))))
			chain := []byte(fl.transform(string(readFixture(t, "chain"))))
			if bytes.Equal(unsigned, readFixture(t, "unsigned")) {
				t.Fatal("transform changed nothing")
			}
			for _, c := range []struct {
				name   string
				src    []byte
				blobs  string
				signed bool
			}{{"unsigned", unsigned, "unsigned", false}, {"legacy-v1", signed, "legacy-v1", true}, {"chain", chain, "chain", true}} {
				f := mustParse(t, c.name, c.src)
				checkBytes(t, f, c.src)
				if !bytes.Equal(f.Insn(), readBlob(t, c.blobs, "insn")) || !bytes.Equal(f.Data(), readBlob(t, c.blobs, "data")) ||
					!bytes.Equal(f.Sig(), readBlob(t, c.blobs, "sig")) || !bytes.Equal(f.ExclHash(), readBlob(t, c.blobs, "excl")) {
					t.Errorf("%s: blobs differ from the raw fixture blobs", c.name)
				}
				if f.Signed() != c.signed {
					t.Errorf("%s: Signed() = %v", c.name, f.Signed())
				}
				ivs := f.InitialValues()
				if len(ivs) != 2 || ivs[0].Map != "rodata" || ivs[1].Map != "bss" {
					t.Errorf("%s: InitialValues() maps = %+v", c.name, ivs)
				}
				if !slices.Equal(f.Maps(), []string{"counts", "rodata", "bss"}) || !slices.Equal(f.Progs(), []string{"handle_openat"}) {
					t.Errorf("%s: Maps/Progs = %v/%v", c.name, f.Maps(), f.Progs())
				}
			}

			f := mustParse(t, "unsigned", unsigned)
			f.SetInsn(readBlob(t, "legacy-v1", "insn"))
			f.SetSignature(readBlob(t, "legacy-v1", "sig"), readBlob(t, "legacy-v1", "excl"))
			checkBytes(t, f, signed)

			f.SetSignature(readBlob(t, "chain", "sig"), readBlob(t, "chain", "excl"))
			f.SetSignatureMaps([]int32{0})
			checkBytes(t, f, chain)

			f.RemoveSignature()
			f.SetInsn(readBlob(t, "unsigned", "insn"))
			checkBytes(t, f, unsigned)
		})
	}
}

// TestCXXFlavourLines checks the inserted lines themselves in a synthetic C++
// header whose casts bpftool never wrote.
func TestCXXFlavourLines(t *testing.T) {
	src := []byte(flavours[0].transform(string(readFixture(t, "unsigned"))))
	f := mustParse(t, "cxx.skel.h", src)
	f.SetSignature([]byte{0x30, 0}, bytes.Repeat([]byte{0xab}, 32))
	f.SetSignatureMaps([]int32{0, 3})
	out := string(f.Bytes())
	for _, want := range []string{
		"\topts.signature = static_cast<const void *>(opts_sig);\n",
		"\topts.signature_sz = sizeof(opts_sig) - 1;\n",
		"\topts.excl_prog_hash = static_cast<const void *>(opts_excl_hash);\n",
		"\topts.excl_prog_hash_sz = sizeof(opts_excl_hash) - 1;\n",
		"\topts.keyring_id = skel->keyring_id;\n",
		"\topts.signature_maps = static_cast<const void *>(opts_signature_maps);\n",
		"\topts.signature_maps_sz = 2;\n",
		"\tstatic const char opts_sig[] __attribute__((__aligned__(8))) = \"\\\n\\x30\\0\";\n",
		"\tstatic const int opts_signature_maps[2] __attribute__((__aligned__(8))) = {0, 3};\n",
		"\t} links;\n\t__s32 keyring_id;\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The signing lines come right before opts.ctx.
	if !strings.Contains(out, "\topts.signature_maps_sz = 2;\n\topts.ctx = reinterpret_cast<") {
		t.Error("signing lines not placed before opts.ctx")
	}
	g := mustParse(t, "cxx-signed.skel.h", []byte(out))
	if !g.Signed() || !bytes.Equal(g.Sig(), []byte{0x30, 0}) {
		t.Error("re-parse of the signed C++ header lost the signature")
	}
}
