package main

import (
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"time"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/policy"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign a light skeleton under a scheme, converting it from any other",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scheme", Usage: "target scheme (default: from --policy, else raw)"},
			&cli.StringFlag{Name: "generation", Usage: "check block generation for legacy/chain: v1|v2"},
			&cli.StringFlag{Name: "policy", Usage: "policy `FILE` choosing scheme and generation per program"},
			&cli.BoolFlag{Name: "keep-host-overrides", Usage: "keep host-override blocks (their values are then outside the signature)"},
			keyFlag, signCert, signerID, p11Module,
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the signed skeleton to `OUT`"},
			&cli.BoolFlag{Name: "in-place", Usage: "replace FILE (atomically)"},
			&cli.StringFlag{Name: "signing-time", Usage: "hornet: add a signingTime attribute, `now` or RFC 3339 (gen_sig always adds one; default none)"},
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
			} else if same, err := fsio.SameFile(in, out); err != nil {
				return failed("sign: %v", err)
			} else if same {
				// By any spelling, link or hard link: rewriting the input is what --in-place says.
				return usage("sign: -o %s is the input %s (the same file): use --in-place to rewrite the input", out, in)
			} else if err := notFlagFiles(c, out, "-o", "key", "cert", "policy"); err != nil {
				return err
			}
			explicit, pol, err := targetFlags(c)
			if err != nil {
				return err
			}
			s, err := loadSigner(c, "key", "cert")
			if err != nil {
				return err
			}
			sk, err := bpfsig.Open(in)
			if err != nil {
				return failed("%v", err)
			}
			target, err := policy.Resolve(explicit, pol, sk.Path(), sk.Name())
			if err != nil {
				return failed("%v", err)
			}
			opts := []bpfsig.SignOption{bpfsig.KeepHostOverrides(c.Bool("keep-host-overrides"))}
			if c.IsSet("signing-time") && c.String("signing-time") == "" {
				return usage("--signing-time: empty (want now or RFC 3339)")
			}
			if st := c.String("signing-time"); st != "" {
				when := time.Now().UTC().Truncate(time.Second)
				if st != "now" {
					if when, err = time.Parse(time.RFC3339, st); err != nil {
						return usage("--signing-time: %v (want now or RFC 3339)", err)
					}
				}
				opts = append(opts, bpfsig.SigningTime(when))
			}
			signed, err := bpfsig.Sign(sk, s, target, opts...)
			if err != nil {
				return failed("%v", err)
			}
			if err := signed.WriteFile(out); err != nil {
				return failed("%v", err)
			}
			logrus.WithFields(logrus.Fields{"in": in, "out": out, "scheme": target.Scheme, "generation": signed.Generation().String()}).Info("signed")
			return nil
		},
	}
}

// targetFlags reads --scheme, --generation and --policy: the explicit target (validated) and
// the policy, which policy.Resolve combines per program.
func targetFlags(c *cli.Context) (bpfsig.Target, *policy.Policy, error) {
	var t bpfsig.Target
	if c.String("scheme") != "" || c.String("generation") != "" {
		var err error
		if t, err = bpfsig.ParseTarget(c.String("scheme"), c.String("generation")); err != nil {
			return t, nil, usage("--scheme/--generation: %v", err)
		}
	}
	var pol *policy.Policy
	if p := c.String("policy"); p != "" {
		var err error
		if pol, err = policy.LoadPolicy(p); err != nil {
			return t, nil, usage("%v", err)
		}
	}
	return t, pol, nil
}
