package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/migrate"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:      "migrate",
		Usage:     "re-sign existing signed skeletons for another scheme (default: raw)",
		ArgsUsage: "SRC...",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "mirror the sources into `DIR`"},
			&cli.BoolFlag{Name: "in-place", Usage: "replace the sources, keeping a backup"},
			&cli.StringFlag{Name: "backup-suffix", Value: migrate.DefaultBackupSuffix, Usage: "backup name suffix for --in-place; empty: no backup"},
			keyFlag, signCert, signerID, p11Module,
			&cli.StringSliceFlag{Name: "trust", Usage: "old signer's certificate `FILE` (repeatable; default: the signing certificate)"},
			&cli.StringSliceFlag{Name: "trust-keyring", Usage: "directory of old signers' certificates"},
			restrictFlag,
			&cli.StringFlag{Name: "scheme", Usage: "target scheme (default: from --policy, else raw)"},
			&cli.StringFlag{Name: "generation", Usage: "check generation for legacy/chain targets: v1|v2"},
			&cli.StringFlag{Name: "policy", Usage: "policy `FILE` choosing the target per program"},
			&cli.BoolFlag{Name: "keep-host-overrides", Usage: "keep host-override blocks (their values stay outside the signature)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "write nothing; report what would happen"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "files at once (default: number of CPUs)"},
			&cli.StringFlag{Name: "report", Usage: "write a JSON report per file to `FILE`"},
			&cli.BoolFlag{Name: "force", Usage: "re-sign even skeletons whose old signature does not verify (loudly)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first refused or failed file"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace an existing target even if it is not a skeleton of the same program"},
			&cli.BoolFlag{Name: "kernels", Usage: "say per file which application builds and kernels the new file loads on and stops loading on (always in --report and --json)"},
			jsonFlag,
		}, migrateTwoPhaseFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("migrate: no SRC given")
			}
			if c.String("tbs-out") != "" || c.String("sigs") != "" {
				return migrateTwoPhase(c)
			}
			if (c.String("out") == "") == !c.Bool("in-place") {
				return usage("migrate: give exactly one of --out DIR and --in-place")
			}
			explicit, pol, err := targetFlags(c)
			if err != nil {
				return err
			}
			s, err := loadSigner(c, "key", "cert")
			if err != nil {
				return err
			}
			opts := migrate.Options{
				Target: explicit, Policy: pol, KernelMatrix: c.String("report") != "" || c.Bool("json") || c.Bool("kernels"),
				Out: c.String("out"), InPlace: c.Bool("in-place"), BackupSuffix: c.String("backup-suffix"),
				NoBackup: c.IsSet("backup-suffix") && c.String("backup-suffix") == "",
				Signer:   s, KeepHostOverrides: c.Bool("keep-host-overrides"), DryRun: c.Bool("dry-run"),
				Force: c.Bool("force"), FailFast: c.Bool("fail-fast"), Jobs: c.Int("jobs"), Overwrite: c.Bool("overwrite"),
				Report: c.String("report"),
			}
			if len(c.StringSlice("trust")) > 0 || len(c.StringSlice("trust-keyring")) > 0 {
				if opts.Trust, err = loadTrust(c, "trust", "trust-keyring"); err != nil {
					return err
				}
			} else {
				logrus.Info("no --trust given: old signatures are verified against the signing certificate")
			}
			if opts.Force {
				logrus.Warn("--force: skeletons whose old signature does not verify will be re-signed anyway")
			}
			if p := c.String("report"); p != "" {
				if err := migrate.CheckReportPath(p); err != nil {
					return usage("--report: %v", err)
				}
				if err := notFlagFiles(c, p, "--report", "key", "cert", "policy", "trust", "restrict-to"); err != nil {
					return err
				}
			}
			ctx, stop, caught := interruptible()
			defer stop()
			bar := newProgress(c.App.ErrWriter)
			opts.Progress = bar.update
			sum, err := migrate.Run(ctx, c.Args().Slice(), opts)
			bar.finish()
			reportErr, err := finishMigrate(c, sum, err)
			if err != nil {
				return err
			}
			switch {
			case caught() != 0:
				return cli.Exit(fmt.Sprintf("interrupted by %v: stopped starting new files; the files in flight were finished", caught()), 128+int(caught()))
			case reportErr != nil:
				return failed("--report %s: %v", c.String("report"), reportErr)
			case !sum.OK():
				return failed("")
			}
			return nil
		},
	}
}

func summaryJSON(s *migrate.Summary) map[string]any {
	return map[string]any{"migrated": s.Migrated, "up_to_date": s.UpToDate, "refused": s.Refused, "failed": s.Failed, "skipped": s.Skipped, "duplicates": s.Duplicates, "interrupted": s.Interrupted}
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM, a function that
// stops listening, and one that returns the signal caught (0 if none). A second signal is
// not caught: it ends the process as usual.
func interruptible() (context.Context, func(), func() syscall.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	var mu sync.Mutex
	var got syscall.Signal
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			mu.Lock()
			got = sig.(syscall.Signal)
			mu.Unlock()
			signal.Stop(ch)
			cancel()
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	return ctx, stop, func() syscall.Signal { mu.Lock(); defer mu.Unlock(); return got }
}

func writeReport(path string, s *migrate.Summary) error {
	var b strings.Builder
	if err := writeJSON(&b, map[string]any{"summary": summaryJSON(s), "files": s.Files}); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

func printMigrate(w io.Writer, s *migrate.Summary) {
	for _, r := range s.Files {
		switch r.Outcome {
		case migrate.Migrated:
			verb := "migrated"
			if r.DryRun {
				verb = "would migrate"
			}
			fprintf(w, "%s: %s %s%s → %s%s (%s)\n", quoteName(r.Source), verb, r.OldScheme, gen(r.OldGeneration), r.NewScheme, gen(r.NewGeneration), quoteName(r.Target))
			if len(r.RemovedBlocks) > 0 {
				fprintf(w, "  removed: %s\n", strings.Join(r.RemovedBlocks, "; "))
			}
			printPlatforms(w, r)
		case migrate.UpToDate:
			fprintf(w, "%s: up to date (%s)\n", quoteName(r.Source), safeText(r.Reason))
		default:
			fprintf(w, "%s: %s: %s\n", quoteName(r.Source), strings.ToUpper(string(r.Outcome)), safeText(r.Reason))
		}
		for _, wn := range r.Warnings {
			fprintf(w, "  warning: %s\n", safeText(wn))
		}
	}
	fprintf(w, "%s\n", s)
}

func gen(g string) string {
	if g == "" {
		return ""
	}
	return " " + g
}

// progress draws a one-line progress bar on a terminal and nothing otherwise.
type progress struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.on = err == nil
	}
	return p
}

func (p *progress) update(done, total int) {
	if !p.on || total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := done * 100 / total
	if pct == p.last && done != total {
		return
	}
	p.last = pct
	const width = 40
	n := width * done / total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
}

func (p *progress) finish() {
	if p.on && p.last > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func printPlatforms(w io.Writer, r *migrate.Result) {
	list := func(ps []migrate.Platform) string {
		if len(ps) == 0 {
			return "none"
		}
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = p.String()
		}
		return strings.Join(s, ", ")
	}
	if r.LoadsOn == nil && r.StopsLoadingOn == nil {
		return
	}
	fprintf(w, "  loads on: %s\n", list(r.LoadsOn))
	if len(r.StopsLoadingOn) > 0 {
		fprintf(w, "  stops loading on: %s\n", list(r.StopsLoadingOn))
	}
}

// finishMigrate maps a run's error to an exit code, writes the report (its error is returned
// apart, so that the results are printed first) and prints the results.
func finishMigrate(c *cli.Context, sum *migrate.Summary, err error) (reportErr, exit error) {
	if errors.Is(err, migrate.ErrUsage) {
		return nil, usage("migrate: %v", strings.TrimPrefix(err.Error(), "usage: "))
	}
	if err != nil {
		return nil, failed("%v", err)
	}
	if p := c.String("report"); p != "" {
		reportErr = writeReport(p, sum)
	}
	if c.Bool("json") {
		if err := writeJSON(c.App.Writer, map[string]any{"summary": summaryJSON(sum), "files": sum.Files}); err != nil {
			return nil, err
		}
	} else {
		w := bufio.NewWriterSize(c.App.Writer, outBufferSize)
		printMigrate(w, sum)
		w.Flush() // as before buffering, a failed write of the text is not reported
	}
	return reportErr, nil
}
