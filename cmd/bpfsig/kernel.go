package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compare"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/bpfsys"
	"github.com/bpfsig/bpfsig/internal/kerrno"
	"github.com/bpfsig/bpfsig/internal/keys"
	"github.com/bpfsig/bpfsig/internal/live"
)

func probeCommand() *cli.Command {
	return &cli.Command{
		Name:  "probe",
		Usage: "what the running kernel offers for signed BPF, each item found by trying it",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			p := bpfsys.Probe()
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
	File    string             `json:"file"`
	Scheme  compat.Scheme      `json:"scheme"`
	Mode    live.Mode          `json:"mode"`
	OK      bool               `json:"ok"`
	Errno   string             `json:"errno"`
	Retval  *int32             `json:"retval"`
	Stage   compat.Stage       `json:"stage,omitempty"`
	Stages  []loadStageJSON    `json:"stages"`
	Created []bpfsys.Object    `json:"created"`
	Closed  []int              `json:"closed_host_fds,omitempty"`
	Notes   []string           `json:"notes,omitempty"`
	Keyring int32              `json:"keyring_id"`
	Verdict *compat.Verdict    `json:"-"`
	Result  *bpfsys.LoadResult `json:"-"`
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
				printLoad(c.App.Writer, out)
			}
			if !out.OK {
				return failed("")
			}
			return nil
		},
	}
}

func loadOne(c *cli.Context, a *bpfsig.Skeleton) (*loadJSON, error) {
	scheme := live.HostScheme(a.Scheme())
	mode := live.Signed
	if c.Bool("unsigned") || !a.Signed() {
		mode = live.Unsigned
	}
	out := &loadJSON{File: a.Path(), Scheme: a.Scheme(), Mode: mode, Stages: []loadStageJSON{}, Created: []bpfsys.Object{}}
	if mode == live.Unsigned {
		out.Notes = append(out.Notes, "unsigned load: the kernel checked no signature")
	}
	var keyringID int32 = int32(c.Int("keyring-id"))
	if p := c.String("cert"); p != "" && mode == live.Signed {
		certs, err := keys.LoadCertificates(p)
		if err != nil {
			return nil, failed("%v", err)
		}
		var ders [][]byte
		for _, ct := range certs {
			ders = append(ders, ct.Raw)
		}
		kr, err := bpfsys.NewKeyring(ders)
		if err != nil {
			return nil, failed("making a keyring for %s: %v", p, err)
		}
		defer kr.Close()
		keyringID = kr.ID
	}
	out.Keyring = keyringID
	spec, err := live.Spec(a.Artifact(), scheme, compat.Conditions{}, mode, keyringID)
	if err != nil {
		return nil, failed("%v", err)
	}
	res, err := bpfsys.Load(spec)
	if err != nil {
		return nil, failed("%s: %v", a.Path(), err)
	}
	cell := live.Classify(mode, res)
	out.OK, out.Errno, out.Retval, out.Created, out.Closed = res.OK, kerrno.NameOf(compat.Errno(res.Errno)), res.Retval, res.Created, res.ClosedFDs
	if !res.OK {
		out.Stage = cell.Stage
	}
	if out.Created == nil {
		out.Created = []bpfsys.Object{}
	}
	for _, s := range res.Stages {
		if s.Skipped {
			continue
		}
		out.Stages = append(out.Stages, loadStageJSON{Stage: s.Stage, Errno: kerrno.NameOf(compat.Errno(s.Errno)), Retval: s.Retval, Log: s.Log})
	}
	if mode == live.Signed && res.Errno == unix.EOPNOTSUPP {
		out.Notes = append(out.Notes, "the kernel cannot verify signatures: built without CONFIG_SYSTEM_DATA_VERIFICATION (signed BPF_PROG_LOAD answers EOPNOTSUPP); use --unsigned to exercise the rest of the load path")
	}
	if scheme == compat.Chain && res.Errno == unix.E2BIG {
		out.Notes = append(out.Notes, "the chain scheme's attr fields (offset 168..180) are unknown to this kernel: E2BIG")
	}
	if len(res.ClosedFDs) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the loader closed host descriptors %v named by its metadata (a real libbpf host would have lost them; bpfsig ran it in a private descriptor table)", res.ClosedFDs))
	}
	return out, nil
}

func printLoad(w io.Writer, o *loadJSON) {
	label := string(o.Mode) + " load"
	fprintf(w, "%s: %s skeleton, %s", o.File, o.Scheme, label)
	if o.Mode == live.Signed {
		fprintf(w, ", keyring_id %d", o.Keyring)
	}
	fprintf(w, "\n")
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
			for _, l := range splitLines(s.Log, 8) {
				fprintf(w, "      | %s\n", l)
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

func splitLines(s string, max int) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("... (%d more lines)", len(out)-max))
	}
	return out
}

// liveColumn is the running kernel's answer for compare without --tamper.
type liveColumn struct {
	Kernel  string     `json:"kernel"`
	Summary string     `json:"summary"`
	Cell    *live.Cell `json:"result,omitempty"`
}

func liveAsIs(a *bpfsig.Skeleton) *liveColumn {
	k := live.Detect()
	col := &liveColumn{Kernel: k.Probe.Kernel}
	if !k.Usable {
		col.Summary = "not decided: bpf(2) with syscall programs and exclusive maps is not usable here"
		return col
	}
	scheme := live.HostScheme(a.Scheme())
	mode := live.Unsigned
	if k.CanVerify && a.Signed() {
		mode = live.Signed
	}
	spec, err := live.Spec(a.Artifact(), scheme, compat.Conditions{}, mode, 0)
	if err != nil {
		col.Summary = err.Error()
		return col
	}
	res, err := bpfsys.Load(spec)
	if err != nil {
		col.Summary = err.Error()
		return col
	}
	cell := live.Classify(mode, res)
	col.Cell = &cell
	col.Summary = fmt.Sprintf("%s with the %s procedure, %s load", cell, scheme, mode)
	if mode == live.Unsigned && a.Signed() {
		col.Summary += " (this kernel cannot verify signatures: CONFIG_SYSTEM_DATA_VERIFICATION is off)"
	}
	return col
}

// liveCell is one decided (or undecided) tamper case on the running kernel.
type liveCell = live.Decision

// liveTamper puts every case of the tamper matrix that the running kernel can decide in front
// of it: the same signed and tampered skeletons the model judged.
func liveTamper(rows []compare.Row) ([]liveCell, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("--live needs root (CAP_BPF, CAP_PERFMON)")
	}
	k := live.Detect()
	var out []liveCell
	for _, r := range rows {
		for _, cell := range r.Cells {
			if cell.Verdict == nil {
				out = append(out, liveCell{Scenario: r.Scenario.Name, Column: cell.Column.Name, Why: "does not apply: " + cell.NotApplicable})
				continue
			}
			d, err := live.Decide(k, r.Scenario.Name, cell.Column.Name, cell.Case, cell.Verdict)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}
