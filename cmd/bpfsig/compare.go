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
			certFlag, keyringFlag, restrictFlag, jsonFlag,
			&cli.StringFlag{Name: "tamper", Usage: "`all` or a comma-separated list of scenarios: sign under every scheme, tamper, judge"},
			keyFlag, &cli.StringFlag{Name: "sign-cert", Usage: "with --tamper: the signer's certificate (defaults to --cert)"}, signerID, p11Module,
			&cli.BoolFlag{Name: "live", Usage: "add the running kernel's verdict where it can decide (needs root)"},
			&cli.StringFlag{Name: "kernel", Usage: "kernel profiles for the application × kernel matrix, comma-separated (default: all of " + strings.Join(bpfsig.KernelProfiles(), ", ") + ")"},
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
				if c.IsSet("kernel") {
					// The tamper matrix judges each scheme's own kernel; a profile list would be ignored.
					return usage("compare: --kernel goes without --tamper (the tamper matrix judges each scheme's own kernel)")
				}
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
			profiles, err := kernelFlag(c)
			if err != nil {
				return err
			}
			km, err := compare.Kernels(a, trust, profiles, nil)
			if err != nil {
				return failed("%v", err)
			}
			var live *liveColumn
			if c.Bool("live") {
				live = liveAsIs(a)
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, map[string]any{"file": a.Path(), "file_base64": fsio.RawName(a.Path()), "artifact_scheme": a.Scheme(), "kernels": vs, "applications": km, "live": live})
			}
			printAsIs(c.App.Writer, a, vs, live)
			printKernelMatrix(c.App.Writer, a, km)
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

// kernelFlag parses --kernel P,... (nil: every profile).
func kernelFlag(c *cli.Context) ([]string, error) {
	spec := c.String("kernel")
	if spec == "" {
		if c.IsSet("kernel") {
			return nil, usage("--kernel: an empty list of kernel profiles")
		}
		return nil, nil
	}
	known := map[string]bool{}
	for _, p := range bpfsig.KernelProfiles() {
		known[p] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if !known[p] {
			return nil, usage("--kernel: unknown kernel profile %q (known: %s)", p, strings.Join(bpfsig.KernelProfiles(), ", "))
		}
		if seen[p] {
			return nil, usage("--kernel: kernel profile %q listed twice", p)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// printKernelMatrix prints which application build loads the skeleton on which kernel.
func printKernelMatrix(w io.Writer, a *bpfsig.Skeleton, km []compare.KernelCell) {
	if len(km) == 0 {
		return
	}
	fprintf(w, "\nwhich application build loads %s on which kernel (rows: the libbpf load procedure the application was built with; columns: kernel profiles)\n\n", quoteName(a.Path()))
	var profiles []string
	seen := map[string]bool{}
	for _, c := range km {
		if !seen[c.Profile] {
			seen[c.Profile] = true
			profiles = append(profiles, c.Profile)
		}
	}
	cell := func(v *compat.Verdict) string {
		if v.Outcome == compat.Accepted {
			return "loads (" + string(v.LSM) + ")"
		}
		s := string(v.Stage) + " " + v.ErrnoName()
		if v.Retval != nil {
			s = fmt.Sprintf("run %d", *v.Retval)
		}
		if v.LSMAdmittedThenFailed {
			s += " LSM!"
		}
		return s
	}
	cw := 0
	for _, c := range km {
		cw = max(cw, len(cell(c.Verdict))+2, len(c.Profile)+2)
	}
	fprintf(w, "%-18s", "application")
	for _, p := range profiles {
		fprintf(w, "%-*s", cw, p)
	}
	fprintf(w, "\n")
	var why []string
	for i := 0; i < len(km); i += len(profiles) {
		fprintf(w, "%-18s", "libbpf "+string(km[i].Procedure))
		for _, c := range km[i : i+len(profiles)] {
			fprintf(w, "%-*s", cw, cell(c.Verdict))
			if !c.Loads() {
				why = append(why, fmt.Sprintf("libbpf %s on %s: %s (%s)", c.Procedure, c.Profile, c.Verdict.Reason, c.Verdict.Rule))
			}
		}
		fprintf(w, "\n")
	}
	for _, y := range why {
		fprintf(w, "  %s\n", y)
	}
}
