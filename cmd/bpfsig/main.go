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
	"strings"

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
	err := app.Run(intersperse(app, args))
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

// intersperse moves a subcommand's flags in front of its arguments, so that
// `bpfsig migrate old-skel/ --out new/` works: urfave/cli stops parsing flags at the first
// argument. A flag's value is kept with it; everything after "--" stays as it is.
func intersperse(app *cli.App, args []string) []string {
	out := append([]string(nil), args[:1]...)
	i := 1
	// Global flags up to the command name.
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		out = append(out, args[i])
		if takesValue(app.Flags, args[i]) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
		i++
	}
	if i >= len(args) {
		return out
	}
	cmd := app.Command(args[i])
	out = append(out, args[i])
	i++
	if cmd == nil {
		return append(out, args[i:]...)
	}
	var flags, pos []string
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	out = append(out, flags...)
	return append(out, pos...)
}

// takesValue reports whether arg ("--name" or "-n", without "=value") names a flag that takes
// a separate value.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if bf, ok := f.(*cli.BoolFlag); ok && bf != nil {
				return false
			}
			return true
		}
	}
	return false
}
