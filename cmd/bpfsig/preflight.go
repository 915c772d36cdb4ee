package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/preflight"
)

// preflightJSON is one file's static findings.
type preflightJSON struct {
	File     string              `json:"file"`
	Loader   *loaderSummary      `json:"loader,omitempty"`
	Findings []preflight.Finding `json:"findings"`
	Error    string              `json:"error,omitempty"`
}

// preflightCommand reports, without a kernel, what no kernel will load in each file and what
// the header changes outside the signature (internal/preflight). Exit 1 if any file has an
// error finding or cannot be read. Not wired into main.go: the lead folds it into inspect and
// verify.
func preflightCommand() *cli.Command {
	return &cli.Command{
		Name:      "preflight",
		Usage:     "static findings: loaders no kernel will load, header data[] copies that differ from the signed metadata",
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "profile", Usage: "also apply a kernel's refusals of signed loaders: mainline"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("preflight: at least one FILE")
			}
			var profile preflight.Profile
			switch p := c.String("profile"); p {
			case "":
			case string(preflight.Mainline):
				profile = preflight.Mainline
			default:
				return usage("preflight: unknown --profile %q (want mainline)", p)
			}
			var out []preflightJSON
			bad := false
			for _, path := range c.Args().Slice() {
				r := preflightFile(path, profile)
				if r.Error != "" {
					bad = true
				}
				for _, f := range r.Findings {
					if f.Severity == preflight.Error {
						bad = true
					}
				}
				out = append(out, r)
			}
			if c.Bool("json") {
				if err := writeJSON(c.App.Writer, out); err != nil {
					return err
				}
			} else {
				for _, r := range out {
					printPreflight(c, r)
				}
			}
			if bad {
				return failed("")
			}
			return nil
		},
	}
}

func preflightFile(path string, profile preflight.Profile) preflightJSON {
	r := preflightJSON{File: path, Findings: []preflight.Finding{}}
	a, err := compat.Open(path)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	inv, fs, err := preflight.Check(preflight.FromFile(a.File, profile))
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Loader, r.Findings = summarize(inv), fs
	return r
}

func printPreflight(c *cli.Context, r preflightJSON) {
	w := c.App.Writer
	if r.Error != "" {
		fprintf(w, "%s: %s\n", r.File, r.Error)
		return
	}
	verdict := "ok"
	for _, f := range r.Findings {
		if f.Severity == preflight.Error {
			verdict = fmt.Sprintf("FAILS at %s", f.Stage)
			break
		}
	}
	fprintf(w, "%s: %s (loader creates %d map(s), loads %d program(s))\n", r.File, verdict, r.Loader.Maps, r.Loader.Programs)
	for _, f := range r.Findings {
		fprintf(w, "  %s\n", f)
	}
}
