package main

import (
	"fmt"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
)

var jobsFlag = &cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "files at once (default: number of CPUs)"}

// argFile is one file a command is to process, or (Err set) one it cannot: something a
// directory walk left out, which the command reports as that file's failure.
type argFile struct {
	Path string
	Err  string
}

// expandArgs replaces each directory argument by the light skeleton headers under it, with
// the walk rules of migrate (fsio.Walk: links that leave the tree, FIFOs and devices are left
// out; the same file reached twice is taken once). What a walk leaves out, and a directory
// holding no skeleton header, is returned with Err set: the command reports it as a failure,
// so that `verify DIR` never succeeds on files it did not verify. A file reached a second
// time is only noted on stderr. A file given by name is kept whatever it is, so that reading
// it reports the precise error.
func expandArgs(c *cli.Context, args []string) ([]argFile, error) {
	var out []argFile
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, argFile{Path: a})
			continue
		}
		w, err := bpfsig.WalkSkeletons(a)
		if err != nil {
			return nil, err
		}
		for _, f := range w.Files {
			out = append(out, argFile{Path: f})
		}
		for _, d := range w.Empty {
			out = append(out, argFile{Path: d, Err: d + ": directory holds no light skeleton header (*.skel.h, *.lskel.h)"})
		}
		for _, s := range w.Skipped {
			if s.SameAs != "" {
				fmt.Fprintf(c.App.ErrWriter, "bpfsig: %s: %s: taken once\n", quoteName(s.Path), safeText(s.Reason))
				continue
			}
			out = append(out, argFile{Path: s.Path, Err: s.Path + ": skipped: " + s.Reason})
		}
	}
	return out, nil
}

// quoteName prints a file name so that it cannot be mistaken for other output: a name with
// control characters or bytes that are not UTF-8 is written as a Go string literal.
func quoteName(p string) string {
	if !utf8.ValidString(p) {
		return strconv.Quote(p)
	}
	for _, r := range p {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return strconv.Quote(p)
		}
	}
	return p
}

// safeText makes a message (an error naming a file, say) safe to print as text: control
// characters and bytes that are not UTF-8 are escaped as in a Go string literal, so a file
// name cannot inject a line or a terminal escape into the output.
func safeText(s string) string {
	if quoteName(s) == s {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
