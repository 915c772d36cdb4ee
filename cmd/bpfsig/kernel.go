package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/preflight"
	"github.com/bpfsig/bpfsig/internal/skel"
	"github.com/bpfsig/bpfsig/livekernel"
)

func probeCommand() *cli.Command {
	return &cli.Command{
		Name:  "probe",
		Usage: "what the running kernel offers for signed BPF, each item found by trying it",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			p, err := livekernel.Probe()
			if err != nil {
				return failed("%v", err)
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, p)
			}
			fmt.Fprint(c.App.Writer, p.String())
			if !p.BPF.OK {
				return failed("bpf(2) is not usable here: %s", p.BPF.Detail)
			}
			return nil
		},
	}
}

type loadStageJSON struct {
	Stage  string `json:"stage"`
	Errno  string `json:"errno"`
	Retval *int32 `json:"retval"`
	Log    string `json:"log"`
}

type loadJSON struct {
	File     string                   `json:"file"`
	FileB64  string                   `json:"file_base64,omitempty"` // set when File is not valid UTF-8
	Loader   *loaderSummary           `json:"loader,omitempty"`
	Findings []preflight.Finding      `json:"findings"`
	Failure  *livekernel.InnerFailure `json:"failure,omitempty"`
	Scheme   compat.Scheme            `json:"scheme"`
	Mode     livekernel.Mode          `json:"mode"`
	OK       bool                     `json:"ok"`
	Errno    string                   `json:"errno"`
	Retval   *int32                   `json:"retval"`
	Stage    compat.Stage             `json:"stage,omitempty"`
	Stages   []loadStageJSON          `json:"stages"`
	Created  []livekernel.Object      `json:"created"`
	Closed   []int                    `json:"closed_host_fds,omitempty"`
	Notes    []string                 `json:"notes,omitempty"`
	Keyring  int32                    `json:"keyring_id"`
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "perform a skeleton's load procedure on the running kernel and report each stage's real result",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keyring-id", Usage: "keyring_id for the signed load (0 builtin, 1 secondary, 2 platform, or a serial)"},
			&cli.StringFlag{Name: "cert", Usage: "add this certificate to a fresh keyring made for this load (removed afterwards)"},
			&cli.BoolFlag{Name: "unsigned", Usage: "load without the signature (every result is labelled \"unsigned load\")"},
			&cli.IntFlag{Name: "log-size", Value: livekernel.DefaultLogSize, Usage: "bytes of the verifier log buffer passed to the loader for the programs it loads (0: none)"},
			&cli.BoolFlag{Name: "verbose", Usage: "print whole verifier logs (default: the last lines)"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("load: exactly one FILE")
			}
			if c.IsSet("keyring-id") && c.IsSet("cert") {
				return usage("load: give at most one of --keyring-id and --cert")
			}
			a, err := bpfsig.Open(c.Args().First())
			if err != nil {
				return failed("%v", err)
			}
			if err := a.LoaderError(); err != nil {
				return failed("%v", err)
			}
			out, err := loadOne(c, a)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if err := writeJSON(c.App.Writer, out); err != nil {
					return err
				}
			} else {
				printLoad(c.App.Writer, out, c.Bool("verbose"))
			}
			if !out.OK {
				return failed("")
			}
			return nil
		},
	}
}

func loadOne(c *cli.Context, a *bpfsig.Skeleton) (*loadJSON, error) {
	mode := livekernel.Signed
	if c.Bool("unsigned") || !a.Signed() {
		mode = livekernel.Unsigned
	}
	out := &loadJSON{File: a.Path(), FileB64: fsio.RawName(a.Path()), Scheme: a.Scheme(), Mode: mode, Stages: []loadStageJSON{}, Created: []livekernel.Object{}, Findings: []preflight.Finding{}}
	d, err := skel.Of(a.Artifact())
	if err != nil {
		return nil, failed("%v", err)
	}
	if inv, fs, err := preflight.Check(preflight.FromFile(d.File(), preflight.AnyKernel)); err != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("static analysis: %v", err))
	} else {
		out.Loader, out.Findings = summarize(inv), fs
	}
	if mode == livekernel.Unsigned {
		out.Notes = append(out.Notes, "unsigned load: the kernel checked no signature")
	}
	var keyringID int32 = int32(c.Int("keyring-id"))
	if p := c.String("cert"); p != "" && mode == livekernel.Signed {
		certs, err := keys.LoadCertificates(p)
		if err != nil {
			return nil, failed("%v", err)
		}
		kr, err := livekernel.NewKeyring(certs)
		if err != nil {
			return nil, failed("making a keyring for %s: %v", p, err)
		}
		defer kr.Close()
		keyringID = kr.ID
	}
	out.Keyring = keyringID
	if n := c.Int("log-size"); n < 0 || n > livekernel.MaxLogSize {
		return nil, usage("load: --log-size %d out of range 0..%d", n, livekernel.MaxLogSize)
	}
	res, err := livekernel.Load(a, livekernel.LoadOptions{Unsigned: mode == livekernel.Unsigned, KeyringID: keyringID, LogSize: c.Int("log-size")})
	if err != nil {
		return nil, failed("%s: %v", a.Path(), err)
	}
	out.OK, out.Errno, out.Retval, out.Closed = res.OK, res.Errno.Name(), res.Retval, res.ClosedFDs
	if !res.OK {
		out.Stage = res.Cell.Stage
	}
	if res.Created != nil {
		out.Created = res.Created
	}
	for _, s := range res.Stages {
		out.Stages = append(out.Stages, loadStageJSON{Stage: s.Stage, Errno: s.Errno.Name(), Retval: s.Retval, Log: s.Log})
	}
	if res.FailureUnknown != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("cannot tell which step of the loader failed: %v", res.FailureUnknown))
	} else {
		out.Failure = res.Failure
	}
	if res.LogDropped {
		out.Notes = append(out.Notes, fmt.Sprintf("an inner verifier log did not fit in --log-size %d bytes and failed the load with ENOSPC; the load was repeated without the log buffer", res.LogSize))
	}
	if mode == livekernel.Signed && res.Errno == compat.EOPNOTSUPP {
		out.Notes = append(out.Notes, "the kernel cannot verify signatures: built without CONFIG_SYSTEM_DATA_VERIFICATION (signed BPF_PROG_LOAD answers EOPNOTSUPP); use --unsigned to exercise the rest of the load path")
	}
	if res.Scheme == compat.Chain && res.Errno == compat.E2BIG {
		out.Notes = append(out.Notes, "the chain scheme's attr fields (offset 168..180) are unknown to this kernel: E2BIG")
	}
	if len(res.ClosedFDs) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the loader closed host descriptors %v named by its metadata (a real libbpf host would have lost them; bpfsig ran it in a private descriptor table)", res.ClosedFDs))
	}
	return out, nil
}

// logLines is how many lines of a verifier log load prints without --verbose.
const logLines = 12

func printLoad(w io.Writer, o *loadJSON, verbose bool) {
	label := string(o.Mode) + " load"
	fprintf(w, "%s: %s skeleton, %s", quoteName(o.File), o.Scheme, label)
	if o.Mode == livekernel.Signed {
		fprintf(w, ", keyring_id %d", o.Keyring)
	}
	fprintf(w, "\n")
	if o.Loader != nil {
		fprintf(w, "  loader creates %d map(s) and loads %d program(s) (static analysis)\n", o.Loader.Maps, o.Loader.Programs)
	}
	for _, f := range o.Findings {
		fprintf(w, "  finding: %s\n", f)
	}
	for _, s := range o.Stages {
		res := "ok"
		switch {
		case s.Errno != "":
			res = s.Errno
		case s.Retval != nil:
			res = fmt.Sprintf("retval %d", *s.Retval)
		}
		fprintf(w, "  %-11s %s  [%s]\n", s.Stage, res, label)
		if s.Log != "" {
			if e := livekernel.VerifierError(s.Log); e != "" && s.Errno != "" {
				fprintf(w, "      verifier: %s\n", e)
			}
			printLog(w, s.Log, verbose)
		}
		if s.Stage == livekernel.StageProgRun && o.Failure != nil {
			f := o.Failure
			fprintf(w, "      failed step: %s: retval %d", f.What, f.Retval)
			if f.Errno != "" {
				fprintf(w, " (%s)", f.Errno)
			}
			fprintf(w, "\n")
			if f.ErrorLine != "" {
				fprintf(w, "      verifier (%s): %s\n", f.Program, f.ErrorLine)
			}
			if f.Log != "" {
				printLog(w, f.Log, verbose)
			}
		}
	}
	for _, ob := range o.Created {
		fprintf(w, "  created %s %s (%s, id %d)\n", ob.Kind, ob.Name, ob.Type, ob.ID)
	}
	for _, n := range o.Notes {
		fprintf(w, "  note: %s\n", n)
	}
	if o.OK {
		fprintf(w, "  result: loaded, loader returned 0 [%s]\n", label)
	} else {
		fprintf(w, "  result: FAILED [%s]\n", label)
	}
}

// printLog prints the last logLines lines of a verifier log, or all of it when verbose.
func printLog(w io.Writer, log string, verbose bool) {
	n := logLines
	if verbose {
		n = 0
	}
	lines, omitted := livekernel.LogTail(log, n)
	if omitted > 0 {
		fprintf(w, "      | ... (%d earlier lines; --verbose prints the whole log)\n", omitted)
	}
	for _, l := range lines {
		fprintf(w, "      | %s\n", l)
	}
}

// loaderSummary is what the static analysis counts in a loader.
type loaderSummary struct {
	Maps     int `json:"maps"`
	Programs int `json:"programs"`
}

func summarize(inv *preflight.Inventory) *loaderSummary {
	return &loaderSummary{Maps: len(inv.Maps), Programs: len(inv.Progs)}
}

// liveColumn is the running kernel's answer for compare without --tamper.
type liveColumn struct {
	Kernel  string           `json:"kernel"`
	Summary string           `json:"summary"`
	Cell    *livekernel.Cell `json:"result,omitempty"`
}

func liveAsIs(a *bpfsig.Skeleton) *liveColumn {
	k, err := livekernel.Detect()
	if err != nil {
		return &liveColumn{Summary: "not decided: " + err.Error()}
	}
	col := &liveColumn{Kernel: k.Probe.Kernel}
	if !k.Usable {
		col.Summary = "not decided: bpf(2) with syscall programs and exclusive maps is not usable here"
		return col
	}
	res, err := livekernel.Load(a, livekernel.LoadOptions{Unsigned: !k.CanVerify})
	if err != nil {
		col.Summary = err.Error()
		return col
	}
	col.Cell = &res.Cell
	col.Summary = fmt.Sprintf("%s with the %s procedure, %s load", res.Cell, res.Scheme, res.Mode)
	if res.Mode == livekernel.Unsigned && a.Signed() {
		col.Summary += " (this kernel cannot verify signatures: CONFIG_SYSTEM_DATA_VERIFICATION is off)"
	}
	return col
}

// liveCell is one decided (or undecided) tamper case on the running kernel.
type liveCell = livekernel.Decision

// liveTamper puts every case of the tamper matrix that the running kernel can decide in front
// of it: the same signed and tampered skeletons the model judged.
func liveTamper(rows []compare.Row) ([]liveCell, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("--live needs root (CAP_BPF, CAP_PERFMON)")
	}
	k, err := livekernel.Detect()
	if err != nil {
		return nil, err
	}
	var out []liveCell
	for _, r := range rows {
		for _, cell := range r.Cells {
			if cell.Verdict == nil {
				out = append(out, liveCell{Scenario: r.Scenario.Name, Column: cell.Column.Name, Why: "does not apply: " + cell.NotApplicable})
				continue
			}
			d, err := livekernel.Decide(k, r.Scenario.Name, cell.Column.Name, cell.Case, cell.Verdict)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}
