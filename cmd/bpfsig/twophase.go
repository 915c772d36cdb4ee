package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/migrate"
	"github.com/bpfsig/bpfsig/twophase"
)

func targetFlagList() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "scheme", Usage: "target scheme (default: from --policy, else raw)"},
		&cli.StringFlag{Name: "generation", Usage: "check block generation for legacy/chain: v1|v2"},
		&cli.StringFlag{Name: "policy", Usage: "policy `FILE` choosing scheme and generation per program"},
		&cli.BoolFlag{Name: "keep-host-overrides", Usage: "keep host-override blocks (their values are then outside the signature)"},
	}
}

func tbsCommand() *cli.Command {
	return &cli.Command{
		Name:      "tbs",
		Usage:     "write the bytes a signature must cover once converted (two-phase signing, phase one)",
		ArgsUsage: "SRC...",
		Flags: append(targetFlagList(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the one SRC's to-be-signed bytes to `FILE`"},
			&cli.StringFlag{Name: "out", Usage: "write NAME.tbs per skeleton and manifest.json into `DIR`"},
			jsonFlag,
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("tbs: no SRC given")
			}
			if (c.String("output") == "") == (c.String("out") == "") {
				return usage("tbs: give exactly one of -o FILE and --out DIR")
			}
			explicit, pol, err := targetFlags(c)
			if err != nil {
				return err
			}
			o := twophase.TreeOptions{Target: explicit, Policy: pol, KeepHostOverrides: c.Bool("keep-host-overrides")}
			if out := c.String("output"); out != "" {
				if c.NArg() != 1 {
					return usage("tbs: -o takes exactly one SRC (--out DIR for several)")
				}
				if err := notAnInput(out, "-o", "skeleton", c.Args().First()); err != nil {
					return err
				}
				if err := notFlagFiles(c, out, "-o", "policy"); err != nil {
					return err
				}
				_, p, err := twophase.PrepareFile(c.Args().First(), o)
				if err != nil {
					return failed("%v", err)
				}
				tbs := p.Content()
				if err := atomicfile.WriteFile(out, tbs, 0o644); err != nil {
					return failed("%v", err)
				}
				t := p.Target()
				sum := sha256.Sum256(tbs)
				r := &twophase.FileResult{Source: c.Args().First(), Output: out, Scheme: string(t.Scheme), Generation: t.Generation.String(), Outcome: twophase.Written}
				if c.Bool("json") {
					return writeJSON(c.App.Writer, map[string]any{"files": []any{r}, "tbs_sha256": hex.EncodeToString(sum[:]), "tbs_size": len(tbs)})
				}
				fprintf(c.App.Writer, "%s: %d bytes to be signed for %s%s → %s (sha256 %x)\n", quoteName(r.Source), len(tbs), t.Scheme, gen(r.Generation), quoteName(out), sum)
				return nil
			}
			m, res, err := twophase.WriteTree(c.Args().Slice(), c.String("out"), o)
			if err != nil {
				return treeErr("tbs", err)
			}
			if c.Bool("json") {
				if err := writeJSON(c.App.Writer, map[string]any{"manifest": fsio.Join(c.String("out"), twophase.ManifestName), "files": res}); err != nil {
					return err
				}
			} else {
				printTree(c, res, "TBS written")
				fprintf(c.App.Writer, "%d skeleton(s) in %s\n", len(m.Entries), quoteName(fsio.Join(c.String("out"), twophase.ManifestName)))
			}
			return treeExit(res)
		},
	}
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "convert a skeleton and attach a signature made elsewhere, verified first (two-phase signing, phase two)",
		ArgsUsage: "SRC...",
		Flags: append(targetFlagList(),
			&cli.StringFlag{Name: "cert", Usage: "the signer's certificate `FILE` (PEM or DER, one certificate)"},
			&cli.StringFlag{Name: "sig", Usage: "the signature `FILE` for the one SRC"},
			&cli.StringFlag{Name: "sigs", Usage: "`DIR` of NAME.sig files laid out as tbs --out wrote NAME.tbs, with its manifest.json"},
			&cli.StringFlag{Name: "manifest", Usage: "the manifest `FILE` (default: DIR/manifest.json of --sigs)"},
			&cli.StringFlag{Name: "sig-format", Value: "auto", Usage: "auto|cms|raw: detached PKCS#7/CMS (DER or PEM) or the bare signature over SHA-256 of the TBS bytes"},
			signerID,
			&cli.BoolFlag{Name: "normalize", Usage: "re-encode a CMS carrying certificates or another signer id into the kernel-profile form"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the signed skeleton to `OUT`"},
			&cli.BoolFlag{Name: "in-place", Usage: "replace SRC (atomically)"},
			&cli.StringFlag{Name: "out", Usage: "with --sigs: mirror the signed skeletons into `DIR`"},
			jsonFlag,
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("attach: no SRC given")
			}
			if (c.String("sig") == "") == (c.String("sigs") == "") {
				return usage("attach: give exactly one of --sig FILE and --sigs DIR")
			}
			if c.String("cert") == "" {
				return usage("attach: --cert FILE (the signer's certificate) is required")
			}
			format, err := twophase.ParseFormat(c.String("sig-format"))
			if err != nil {
				return usage("--sig-format: %v", err)
			}
			form, err := compat.ParseSignerIDForm(c.String("signer-id"))
			if err != nil {
				return usage("--signer-id: %v", err)
			}
			explicit, pol, err := targetFlags(c)
			if err != nil {
				return err
			}
			cert, err := oneCert(c.String("cert"))
			if err != nil {
				return err
			}
			to := twophase.TreeOptions{Target: explicit, Policy: pol, KeepHostOverrides: c.Bool("keep-host-overrides")}
			ao := twophase.Options{SignerID: form, Normalize: c.Bool("normalize")}
			if c.String("sigs") != "" {
				if c.String("out") == "" || c.String("output") != "" || c.Bool("in-place") {
					return usage("attach: --sigs DIR writes with --out OUTDIR (not -o or --in-place)")
				}
				res, err := twophase.AttachTree(c.Args().Slice(), twophase.AttachTreeOptions{
					TreeOptions: to, Options: ao, Sigs: c.String("sigs"), Manifest: c.String("manifest"),
					Cert: cert, Format: format, Out: c.String("out"),
				})
				if err != nil {
					return treeErr("attach", err)
				}
				if c.Bool("json") {
					if err := writeJSON(c.App.Writer, map[string]any{"files": res}); err != nil {
						return err
					}
				} else {
					printTree(c, res, "attached")
				}
				return treeExit(res)
			}
			if c.NArg() != 1 || c.String("out") != "" {
				return usage("attach: --sig takes exactly one SRC, written with -o OUT or --in-place")
			}
			in := c.Args().First()
			out := c.String("output")
			if (out == "") == !c.Bool("in-place") {
				return usage("attach: give exactly one of -o OUT and --in-place")
			}
			if c.Bool("in-place") {
				out = in
			} else if err := notAnInput(out, "-o", "input", in); err != nil {
				return err
			}
			if err := notAnInput(out, "-o", "signature", c.String("sig")); err != nil {
				return err
			}
			if err := notAnInput(out, "-o", "certificate", c.String("cert")); err != nil {
				return err
			}
			if err := notFlagFiles(c, out, "-o", "policy"); err != nil {
				return err
			}
			b, err := fsio.ReadFile(c.String("sig"), twophase.MaxSignatureFile)
			if err != nil {
				return failed("%v", err)
			}
			sig, err := twophase.ParseSignature(b, format)
			if err != nil {
				return failed("%s: %v", c.String("sig"), err)
			}
			_, p, err := twophase.PrepareFile(in, to)
			if err != nil {
				return failed("%v", err)
			}
			a, err := twophase.AttachVerified(p, sig, cert, ao)
			if err != nil {
				return failed("%s: %s: %v; nothing written", in, c.String("sig"), err)
			}
			if err := a.Skeleton.WriteFile(out); err != nil {
				return failed("%v", err)
			}
			t := p.Target()
			r := &twophase.FileResult{Source: in, Output: out, Scheme: string(t.Scheme), Generation: t.Generation.String(), Signer: a.Signer, Outcome: twophase.Written, Notes: a.Notes}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, map[string]any{"files": []any{r}, "format": a.Format.String(), "normalized": a.Normalized, "kept_as_given": a.Kept})
			}
			printTree(c, []*twophase.FileResult{r}, "attached")
			return nil
		},
	}
}

// oneCert reads a certificate file that must hold exactly one certificate.
func oneCert(path string) (*x509.Certificate, error) {
	t, err := bpfsig.LoadTrustFrom([]string{path}, nil)
	if err != nil {
		return nil, failed("%v", err)
	}
	if len(t.Certs) != 1 {
		return nil, usage("--cert %s: holds %d certificates; give the signer's alone", path, len(t.Certs))
	}
	return t.Certs[0], nil
}

func printTree(c *cli.Context, res []*twophase.FileResult, verb string) {
	w := c.App.Writer
	for _, r := range res {
		switch r.Outcome {
		case twophase.Written:
			signer := ""
			if r.Signer != "" {
				signer = ", signer " + r.Signer
			}
			fprintf(w, "%s: %s for %s%s → %s%s\n", quoteName(r.Source), verb, r.Scheme, gen(r.Generation), quoteName(r.Output), signer)
		default:
			fprintf(w, "%s: %s: %s\n", quoteName(r.Source), strings.ToUpper(string(r.Outcome)), r.Reason)
		}
		for _, n := range r.Notes {
			fprintf(w, "  note: %s\n", n)
		}
	}
}

// treeExit is exit 1 when a skeleton was not written.
func treeExit(res []*twophase.FileResult) error {
	for _, r := range res {
		if r.Outcome != twophase.Written {
			return failed("")
		}
	}
	return nil
}

// migrateTwoPhaseFlags are migrate's flags for a two-phase migration (--cert and --signer-id
// are migrate's own: in phase two, the new signer's certificate and the signer id form).
func migrateTwoPhaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tbs-out", Usage: "phase one: verify the old signatures and write NAME.tbs per skeleton and manifest.json into `DIR` (no key)"},
		&cli.StringFlag{Name: "sigs", Usage: "phase two: attach the NAME.sig files of `DIR` (laid out as --tbs-out wrote NAME.tbs), verified against --cert"},
		&cli.StringFlag{Name: "manifest", Usage: "phase two: the manifest `FILE` (default: DIR/manifest.json of --sigs)"},
		&cli.StringFlag{Name: "sig-format", Value: "auto", Usage: "phase two: auto|cms|raw"},
		&cli.BoolFlag{Name: "normalize", Usage: "phase two: re-encode a CMS carrying certificates or another signer id into the kernel-profile form"},
	}
}

// migrateTwoPhase runs `migrate --tbs-out DIR` or `migrate --sigs DIR`.
func migrateTwoPhase(c *cli.Context) error {
	if c.String("tbs-out") != "" && c.String("sigs") != "" {
		return usage("migrate: --tbs-out (phase one) and --sigs (phase two) are separate runs")
	}
	if c.Bool("dry-run") || c.IsSet("jobs") || c.Bool("fail-fast") {
		return usage("migrate: --dry-run, --jobs and --fail-fast do not apply to a two-phase migration")
	}
	explicit, pol, err := targetFlags(c)
	if err != nil {
		return err
	}
	if p := c.String("report"); p != "" {
		if err := migrate.CheckReportPath(p); err != nil {
			return usage("--report: %v", err)
		}
		if err := notFlagFiles(c, p, "--report", "cert", "policy", "trust", "restrict-to", "manifest"); err != nil {
			return err
		}
	}
	opts := migrate.Options{Target: explicit, Policy: pol, BackupSuffix: c.String("backup-suffix"),
		NoBackup: c.IsSet("backup-suffix") && c.String("backup-suffix") == ""}
	var sum *migrate.Summary
	if dir := c.String("tbs-out"); dir != "" {
		if c.String("key") != "" || c.String("cert") != "" || c.String("out") != "" || c.Bool("in-place") {
			return usage("migrate --tbs-out: phase one takes no --key, --cert, --out or --in-place (the old signers' certificates go in --trust)")
		}
		if opts.Trust, err = loadTrust(c, "trust", "trust-keyring"); err != nil {
			return err
		}
		opts.KeepHostOverrides, opts.Force = c.Bool("keep-host-overrides"), c.Bool("force")
		if opts.Force {
			logrus.Warn("--force: skeletons whose old signature does not verify get a TBS anyway")
		}
		sum, err = migrate.RunTBS(c.Args().Slice(), dir, opts)
	} else {
		if c.String("key") != "" || c.Bool("force") || c.Bool("keep-host-overrides") {
			return usage("migrate --sigs: phase two takes no --key, --force or --keep-host-overrides (phase one decided)")
		}
		if c.String("cert") == "" {
			return usage("migrate --sigs: --cert FILE (the new signer's certificate) is required")
		}
		if (c.String("out") == "") == !c.Bool("in-place") {
			return usage("migrate: give exactly one of --out DIR and --in-place")
		}
		cert, err := oneCert(c.String("cert"))
		if err != nil {
			return err
		}
		format, err := twophase.ParseFormat(c.String("sig-format"))
		if err != nil {
			return usage("--sig-format: %v", err)
		}
		form, err := compat.ParseSignerIDForm(c.String("signer-id"))
		if err != nil {
			return usage("--signer-id: %v", err)
		}
		opts.Out, opts.InPlace, opts.Overwrite = c.String("out"), c.Bool("in-place"), c.Bool("overwrite")
		so := migrate.SignatureOptions{Sigs: c.String("sigs"), Manifest: c.String("manifest"), Cert: cert, Format: format, Normalize: c.Bool("normalize"), SignerID: form}
		sum, err = migrate.RunAttach(c.Args().Slice(), so, opts)
	}
	reportErr, err := finishMigrate(c, sum, err)
	if err != nil {
		return err
	}
	switch {
	case reportErr != nil:
		return failed("--report %s: %v", c.String("report"), reportErr)
	case !sum.OK():
		return failed("")
	}
	return nil
}

// notAnInput refuses an output (flag) that names, by any spelling or link, the file the run
// reads as what: writing it would destroy the run's own input.
func notAnInput(out, flag, what, in string) error {
	if in == "" {
		return nil
	}
	same, err := fsio.SameFile(in, out)
	if err != nil {
		return failed("%v", err)
	}
	if same {
		if what == "input" {
			return usage("%s %s is the input %s (the same file): use --in-place to rewrite the input", flag, quoteName(out), quoteName(in))
		}
		return usage("%s %s is the %s %s (the same file)", flag, quoteName(out), what, quoteName(in))
	}
	return nil
}

// treeErr maps a tree run's error to its exit code: an output directory inside a source tree
// is a usage error (2), as migrate's is; anything else failed (1).
func treeErr(cmd string, err error) error {
	if errors.Is(err, twophase.ErrOutputInSource) {
		return usage("%s: %v", cmd, err)
	}
	return failed("%v", err)
}
