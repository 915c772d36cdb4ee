// Command bpfsig signs, verifies, inspects, compares and migrates signed BPF light skeletons.
//
// It is a thin shell over the library: flags, output and exit codes. Exit codes: 0 success,
// 1 a verification failed or some files failed, 2 a usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	_ "github.com/bpfsig/bpfsig/chain"
	_ "github.com/bpfsig/bpfsig/legacy"
	_ "github.com/bpfsig/bpfsig/raw"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(args)
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "bpfsig:", msg)
		}
		return ec.ExitCode()
	}
	// Anything urfave/cli reports itself (unknown flag, missing required flag) is a usage error.
	fmt.Fprintln(stderr, "bpfsig:", err)
	return exitUsage
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "bpfsig",
		Usage:                "sign, verify, compare and migrate signed BPF light skeletons",
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: false,
		HideHelpCommand:      true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return cli.Exit(err.Error(), exitUsage)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "warning", Usage: "panic|fatal|error|warning|info|debug|trace"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text|json"},
		},
		Before: func(c *cli.Context) error {
			lvl, err := logrus.ParseLevel(c.String("log-level"))
			if err != nil {
				return usage("--log-level: %v", err)
			}
			logrus.SetLevel(lvl)
			logrus.SetOutput(stderr)
			switch c.String("log-format") {
			case "text":
				logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
			case "json":
				logrus.SetFormatter(&logrus.JSONFormatter{})
			default:
				return usage("--log-format must be text or json")
			}
			return nil
		},
		Commands: []*cli.Command{
			inspectCommand(),
			verifyCommand(),
			signCommand(),
			compareCommand(),
			migrateCommand(),
			probeCommand(),
			loadCommand(),
			oracleCommand(),
		},
	}
}

// usage returns a usage error (exit 2).
func usage(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), exitUsage)
}

// failed returns a failure (exit 1) with an optional message ("" prints nothing more).
func failed(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), exitFail)
}
