package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
)

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "how a kernel of each scheme treats a skeleton, as it is or under tamper scenarios",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			certFlag, keyringFlag, jsonFlag,
			&cli.StringFlag{Name: "tamper", Usage: "`all` or a comma-separated list of scenarios: sign under every scheme, tamper, judge"},
			keyFlag, &cli.StringFlag{Name: "sign-cert", Usage: "with --tamper: the signer's certificate (defaults to --cert)"}, signerID, p11Module,
			&cli.BoolFlag{Name: "live", Usage: "add the running kernel's verdict where it can decide (needs root)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("compare: exactly one FILE")
			}
			a, err := bpfsig.Open(c.Args().First())
			if err != nil {
				return failed("%v", err)
			}
			if c.String("tamper") != "" {
				return compareTamper(c, a)
			}
			trust, err := loadTrust(c, "cert", "keyring")
			if err != nil {
				return err
			}
			vs, err := compare.AsIs(a, trust)
			if err != nil {
				return failed("%v", err)
			}
			var live *liveColumn
			if c.Bool("live") {
				live = liveAsIs(a)
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, map[string]any{"file": a.Path(), "file_base64": fsio.RawName(a.Path()), "artifact_scheme": a.Scheme(), "kernels": vs, "live": live})
			}
			printAsIs(c.App.Writer, a, vs, live)
			return nil
		},
	}
}

func compareTamper(c *cli.Context, a *bpfsig.Skeleton) error {
	certName := "sign-cert"
	if c.String("sign-cert") == "" {
		certName = "cert"
		if len(c.StringSlice("cert")) > 1 {
			return usage("--tamper signs with one certificate: give --sign-cert")
		}
	}
	if c.String("key") == "" {
		return usage("--tamper needs --key and --cert: it signs the program under every scheme")
	}
	s, err := loadSignerFrom(c, c.String("key"), firstCert(c, certName))
	if err != nil {
		return err
	}
	scs, err := pickScenarios(c.String("tamper"))
	if err != nil {
		return err
	}
	rows, err := compare.Tamper(a, s, scs, compare.Columns())
	if err != nil {
		return failed("%v", err)
	}
	var live []liveCell
	if c.Bool("live") {
		live, err = liveTamper(rows)
		if err != nil {
			return failed("%v", err)
		}
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, tamperJSON(rows, live))
	}
	printTamper(c.App.Writer, a, rows, live)
	return nil
}

func firstCert(c *cli.Context, name string) string {
	if name == "cert" {
		if v := c.StringSlice("cert"); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return c.String(name)
}

func pickScenarios(spec string) ([]compare.Scenario, error) {
	if spec == "all" {
		return compare.Scenarios, nil
	}
	var out []compare.Scenario
	for _, n := range strings.Split(spec, ",") {
		sc, err := compare.LookupScenario(strings.TrimSpace(n))
		if err != nil {
			var names []string
			for _, s := range compare.Scenarios {
				names = append(names, s.Name)
			}
			return nil, usage("--tamper: %v (known: all, %s)", err, strings.Join(names, ", "))
		}
		out = append(out, sc)
	}
	return out, nil
}

// cellText is a matrix cell in at most 18 columns.
func cellText(cell compare.Cell) string {
	v := cell.Verdict
	if v == nil {
		return "n/a"
	}
	if v.Outcome == compat.Accepted {
		s := "ok " + string(v.LSM)
		if len(v.Unattested) > 0 {
			s += " +U"
		}
		return s
	}
	var s string
	switch {
	case v.Stage == compat.StageRun && v.Retval != nil:
		s = fmt.Sprintf("run %d", *v.Retval)
	case v.Stage == compat.StageAdmission:
		s = "adm " + v.ErrnoName()
	case v.Stage == compat.StageVerifier:
		s = "vrf " + v.ErrnoName()
	case v.Stage == "":
		s = "malformed"
	default:
		s = string(v.Stage) + " " + v.ErrnoName()
	}
	if v.LSMAdmittedThenFailed {
		s += " LSM!"
	}
	return s
}

func printAsIs(w io.Writer, a *bpfsig.Skeleton, vs []*compat.Verdict, live *liveColumn) {
	fprintf(w, "%s: %s skeleton", a.Path(), a.Scheme())
	if g := a.Generation(); g != compat.NoGeneration {
		fprintf(w, " (check %s)", g)
	}
	fprintf(w, "\n\n%-8s %-9s %-10s %-13s %-12s %s\n", "kernel", "outcome", "stage", "errno/retval", "lsm", "reason")
	for _, v := range vs {
		code := v.ErrnoName()
		if v.Retval != nil {
			code = fmt.Sprintf("retval %d", *v.Retval)
		}
		lsm := string(v.LSM)
		if v.LSM == compat.LSMNotReached {
			lsm = "not reached"
		}
		fprintf(w, "%-8s %-9s %-10s %-13s %-12s %s\n", v.Kernel, v.Outcome, v.Stage, code, lsm, v.Reason)
		if v.LSMAdmittedThenFailed {
			fprintf(w, "%-8s ! an LSM admitted the program before the %s stage rejected it\n", "", v.Stage)
		}
		for _, u := range v.Unattested {
			fprintf(w, "%-8s ! unattested: %s\n", "", u)
		}
	}
	if live != nil {
		fprintf(w, "\nlive kernel (%s): %s\n", live.Kernel, live.Summary)
	}
}

func printTamper(w io.Writer, a *bpfsig.Skeleton, rows []compare.Row, live []liveCell) {
	fprintf(w, "%s\nsigned under each scheme, tampered, judged by that scheme's kernel\n\n", a.Path())
	ncol := 0
	// Column widths from the content: the longest scenario name, the longest cell.
	sw, cw := len("scenario"), 0
	for _, r := range rows {
		sw = max(sw, len(r.Scenario.Name))
		for _, cell := range r.Cells {
			cw = max(cw, len(cellText(cell)), len(cell.Column.Name))
		}
	}
	sw, cw = sw+1, cw+1
	line := func(first string, cells []string) {
		var b strings.Builder
		fmt.Fprintf(&b, "%-*s", sw, first)
		for _, c := range cells {
			fmt.Fprintf(&b, "%-*s", cw, c)
		}
		fprintf(w, "%s\n", strings.TrimRight(b.String(), " "))
	}
	if len(rows) > 0 {
		ncol = len(rows[0].Cells)
		var names []string
		for _, cell := range rows[0].Cells {
			names = append(names, cell.Column.Name)
		}
		line("scenario", names)
	}
	fprintf(w, "%s\n", strings.Repeat("-", sw+cw*ncol-1))
	for _, r := range rows {
		var cells []string
		for _, cell := range r.Cells {
			cells = append(cells, cellText(cell))
		}
		line(r.Scenario.Name, cells)
	}
	fprintf(w, "\nok K: accepted; K is what the LSM knew (unsigned, loader-only, full)\n")
	fprintf(w, "+U: values the host set reach the kernel outside the signature\n")
	fprintf(w, "adm/vrf/run: rejected at admission (before the LSM hook), verifier, or by the loader at run (retval)\n")
	fprintf(w, "LSM!: an LSM admitted the program at security_bpf_prog_load, and a later stage rejected it\n")
	var na []string
	for _, r := range rows {
		for _, cell := range r.Cells {
			if cell.NotApplicable != "" {
				na = append(na, fmt.Sprintf("%s/%s: %s", r.Scenario.Name, cell.Column.Name, cell.NotApplicable))
			}
		}
	}
	if len(na) > 0 {
		fprintf(w, "n/a: the scenario does not apply to this skeleton:\n")
		for _, n := range na {
			fprintf(w, "  %s\n", n)
		}
	}
	if len(live) > 0 {
		fprintf(w, "\nlive kernel (%s):\n", liveMode(live))
		for _, l := range live {
			if !l.Decided {
				continue
			}
			fprintf(w, "  %-28s %-10s model %-13s live %-13s %s\n", l.Scenario, l.Column, l.Model, l.Live, agreeWord(l))
		}
		n := 0
		for _, l := range live {
			if !l.Decided {
				n++
			}
		}
		fprintf(w, "  %d case(s) not decidable here (run with --json for the reason of each)\n", n)
	}
}

func liveMode(ls []liveCell) string {
	for _, l := range ls {
		if l.Live != nil && l.Live.Mode == "signed" {
			return "signed loads"
		}
	}
	return "unsigned loads: this kernel cannot verify signatures, so signature cases are not decided"
}

func agreeWord(l liveCell) string {
	if l.Agree {
		return "agree"
	}
	return "DISAGREE"
}

type cellJSON struct {
	Column string `json:"column"`
	*compat.VerdictView
	NotApplicable string    `json:"not_applicable,omitempty"`
	Live          *liveCell `json:"live,omitempty"`
}

func tamperJSON(rows []compare.Row, live []liveCell) map[string]any {
	type scen struct {
		Name    string     `json:"name"`
		Doc     string     `json:"doc"`
		Results []cellJSON `json:"results"`
	}
	var out []scen
	for _, r := range rows {
		s := scen{Name: r.Scenario.Name, Doc: r.Scenario.Doc}
		for _, cell := range r.Cells {
			cj := cellJSON{Column: cell.Column.Name, NotApplicable: cell.NotApplicable}
			if cell.Verdict != nil {
				view := cell.Verdict.View()
				cj.VerdictView = &view
			}
			for i := range live {
				if live[i].Scenario == r.Scenario.Name && live[i].Column == cell.Column.Name {
					cj.Live = &live[i]
				}
			}
			s.Results = append(s.Results, cj)
		}
		out = append(out, s)
	}
	return map[string]any{"scenarios": out}
}
