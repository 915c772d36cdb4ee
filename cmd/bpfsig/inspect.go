package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/par"
	"github.com/bpfsig/bpfsig/internal/skel"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe light skeletons: scheme, check block, overrides, hashes, signer",
		ArgsUsage: "FILE|DIR...",
		Flags:     []cli.Flag{jsonFlag, jobsFlag, &cli.BoolFlag{Name: "disasm", Usage: "print the loader with its check and override blocks marked"}},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("inspect: no FILE given")
			}
			paths, err := expandArgs(c, c.Args().Slice())
			if err != nil {
				return failed("%v", err)
			}
			reports := make([]*bpfsig.Report, len(paths))
			// The skeletons are kept only for --disasm; otherwise each is garbage once its
			// report is made.
			var sks []*bpfsig.Skeleton
			if c.Bool("disasm") {
				sks = make([]*bpfsig.Skeleton, len(paths))
			}
			par.Do(len(paths), c.Int("jobs"), func(i int) {
				p := paths[i].Path
				fail := func(msg string) {
					reports[i] = &bpfsig.Report{File: p, FileBase64: fsio.RawName(p), Error: msg, OverrideBlocks: []bpfsig.Override{}, Findings: []compat.Finding{}}
				}
				if paths[i].Err != "" {
					fail(paths[i].Err)
					return
				}
				sk, err := bpfsig.Open(p)
				if err != nil {
					fail(err.Error())
					return
				}
				reports[i] = sk.Inspect()
				if sks != nil {
					sks[i] = sk
				}
			})
			// Reports go through one buffer; the disassembly, whose write errors fail the
			// command, is written as it comes.
			var out io.Writer = c.App.Writer
			var buf *bufio.Writer
			if !c.Bool("disasm") {
				buf = bufio.NewWriterSize(c.App.Writer, outBufferSize)
				out = buf
			}
			failures := 0
			for i, r := range reports {
				if r.Error != "" {
					failures++
				}
				if c.Bool("json") {
					continue
				}
				printReport(out, r)
				if c.Bool("disasm") && sks[i] != nil {
					if d, _ := skel.Of(sks[i].Artifact()); d != nil && d.Loader() != nil {
						if err := d.Loader().Disasm(c.App.Writer); err != nil {
							return failed("%s: %v", paths[i].Path, err)
						}
					}
				}
			}
			if c.Bool("json") {
				if err := writeJSON(out, reports); err != nil {
					return err
				}
				if buf != nil {
					if err := buf.Flush(); err != nil {
						return err
					}
				}
			} else {
				if buf != nil {
					buf.Flush() // as before buffering, a failed write of the text is not reported
				}
				for _, r := range reports {
					if r.Name == "" && r.Error != "" {
						fmt.Fprintf(c.App.ErrWriter, "%s\n", safeText(r.Error))
					}
				}
			}
			if failures > 0 {
				return failed("")
			}
			return nil
		},
	}
}

func printReport(w io.Writer, r *bpfsig.Report) {
	fprintf(w, "%s\n", quoteName(r.File))
	fprintf(w, "  name:           %s\n", r.Name)
	fprintf(w, "  scheme:         %s", r.Scheme)
	if r.Generation != "" {
		fprintf(w, " (check %s)", r.Generation)
	}
	fprintf(w, "\n")
	for _, e := range r.Evidence {
		fprintf(w, "    evidence:     %s\n", e)
	}
	if r.Status != "" {
		fprintf(w, "  status:         %s\n", r.Status)
	}
	fprintf(w, "  loader:         %d bytes, %d slots, sha256 %s\n", r.InsnBytes, r.InsnSlots, r.InsnSHA256)
	if r.Loader != nil {
		fprintf(w, "  loader creates:  %d map(s), %d program(s)\n", r.Loader.Maps, r.Loader.Programs)
	}
	fprintf(w, "  metadata:       %d bytes, sha256 %s\n", r.DataBytes, r.DataSHA256)
	if r.EmbeddedHash != "" {
		fprintf(w, "  check block:    slots %d..%d, embedded hash %s (%s)\n", r.CheckSlots[0], r.CheckSlots[1], r.EmbeddedHash, okWord(*r.MetadataHashOK, "matches the metadata", "DOES NOT match the metadata: the loader returns -22 at run time"))
	}
	if len(r.OverrideBlocks) > 0 {
		var parts []string
		for _, o := range r.OverrideBlocks {
			parts = append(parts, fmt.Sprintf("%s(%s)@%d", o.Kind, o.Map, o.Slots[0]))
		}
		fprintf(w, "  host overrides: %d: %s\n", len(r.OverrideBlocks), strings.Join(parts, ", "))
	} else {
		fprintf(w, "  host overrides: none\n")
	}
	if r.ExclHash != "" {
		fprintf(w, "  excl_prog_hash: %s (%s)\n", r.ExclHash, okWord(*r.ExclHashOK, "= sha256(opts_insn)", "!= sha256(opts_insn): the verifier refuses the load (EACCES)"))
	}
	if r.SignatureMaps != nil {
		fprintf(w, "  signature maps: %v\n", r.SignatureMaps)
	}
	if s := r.SignerInfo; s != nil {
		if s.Error != "" {
			fprintf(w, "  signature:      %d bytes, unparsable: %s\n", s.Size, s.Error)
		} else {
			fprintf(w, "  signature:      %d bytes, signer %s %s, %s, digest %s\n", s.Size, s.IDForm, s.ID, s.Algorithm, s.Digest)
		}
	}
	printFindings(w, "  ", r.Findings)
	if r.Error != "" {
		fprintf(w, "  error:          %s\n", safeText(r.Error))
	}
}

// printFindings prints static findings, one per line.
func printFindings(w io.Writer, indent string, fs []compat.Finding) {
	for _, f := range fs {
		fprintf(w, "%s%s", indent, f.Severity)
		if f.Stage != "" {
			fprintf(w, " [%s", f.Stage)
			if n := f.Errno.Name(); n != "" {
				fprintf(w, " %s", n)
			}
			fprintf(w, "]")
		}
		fprintf(w, " %s: %s\n", f.Rule, f.Reason)
	}
}

func okWord(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
