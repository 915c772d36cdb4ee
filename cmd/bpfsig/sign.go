package main

import (
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/atomicfile"
	"github.com/bpfsig/bpfsig/internal/loader"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign a light skeleton under a scheme, converting it from any other",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scheme", Usage: "legacy|chain|raw (default: from --policy, else raw)"},
			&cli.StringFlag{Name: "generation", Usage: "check block generation for legacy/chain: v1|v2"},
			&cli.StringFlag{Name: "policy", Usage: "policy `FILE` choosing scheme and generation per program"},
			&cli.BoolFlag{Name: "keep-host-overrides", Usage: "keep host-override blocks (their values are then outside the signature)"},
			keyFlag, signCert, signerID,
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the signed skeleton to `OUT`"},
			&cli.BoolFlag{Name: "in-place", Usage: "replace FILE (atomically)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("sign: exactly one FILE")
			}
			in := c.Args().First()
			out := c.String("output")
			if (out == "") == !c.Bool("in-place") {
				return usage("sign: give exactly one of -o OUT and --in-place")
			}
			if c.Bool("in-place") {
				out = in
			}
			s, err := loadSigner(c, "key", "cert")
			if err != nil {
				return err
			}
			a, err := compat.Open(in)
			if err != nil {
				return failed("%v", err)
			}
			target, err := chooseTarget(c, a)
			if err != nil {
				return err
			}
			st, err := compat.Lookup(target.Scheme)
			if err != nil {
				return usage("--scheme: %v", err)
			}
			signed, err := st.Sign(a, s, compat.SignOptions{Generation: target.Generation, KeepHostOverrides: c.Bool("keep-host-overrides")})
			if err != nil {
				return failed("%v", err)
			}
			mode := os.FileMode(0o644)
			if fi, err := os.Stat(in); err == nil {
				mode = fi.Mode().Perm()
			}
			if err := atomicfile.WriteFile(out, signed.File.Bytes(), mode); err != nil {
				return failed("%v", err)
			}
			logrus.WithFields(logrus.Fields{"in": in, "out": out, "scheme": target.Scheme, "generation": signed.Generation().String()}).Info("signed")
			return nil
		},
	}
}

// chooseTarget picks the scheme and generation for a: flags first, then the policy, then raw.
func chooseTarget(c *cli.Context, a *compat.Artifact) (compat.Target, error) {
	var t compat.Target
	if p := c.String("policy"); p != "" {
		pol, err := compat.LoadPolicy(p)
		if err != nil {
			return t, usage("%v", err)
		}
		t, err = pol.Choose(a.Path, a.File.Name())
		if err != nil {
			return t, failed("%v", err)
		}
	} else {
		t.Scheme = compat.Raw
	}
	if s := c.String("scheme"); s != "" {
		t.Scheme = compat.Scheme(s)
		t.Generation = loader.GenNone
	}
	if g := c.String("generation"); g != "" {
		gen, err := loader.ParseGeneration(g)
		if err != nil {
			return t, usage("--generation: %v", err)
		}
		t.Generation = gen
	}
	if t.Generation != loader.GenNone && t.Scheme == compat.Raw {
		return t, usage("--generation applies to legacy and chain; the raw scheme has no check block")
	}
	return t, nil
}
