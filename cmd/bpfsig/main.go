// Command bpfsig signs, verifies, inspects, compares and migrates signed BPF light skeletons.
//
// It is a thin shell over the library: flags, output and exit codes. Exit codes: 0 success,
// 1 a verification failed or some files failed, 2 a usage error.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	_ "github.com/bpfsig/bpfsig" // every built-in strategy
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	// A run stopped by SIGINT or SIGTERM exits 128 + the signal's number.
	exitSIGINT  = 130
	exitSIGTERM = 143
)

func main() {
	tuneGC()
	stop := startProfiles(os.Stderr)
	code := run(os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line and returns the exit code: 0, 1 or 2 (130 and 143 are the signal
// handlers'). With --json, standard output is one JSON document on every path: a command's own
// output, or {"error": …, "exit_code": …} when the command failed before printing any.
func run(args []string, stdout, stderr io.Writer) int {
	out := &countingWriter{w: stdout}
	app := newApp(out, stderr)
	args = intersperse(app, args)
	code, msg := exitOK, ""
	if err := checkCommand(app, args); err != nil {
		code, msg = exitUsage, err.Error()
	} else if err := app.Run(args); err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code, msg = ec.ExitCode(), err.Error()
		} else {
			// Anything urfave/cli reports itself (unknown flag, missing required flag) is a
			// usage error.
			code, msg = exitUsage, err.Error()
		}
	}
	if code != exitOK && code != exitFail && code != exitUsage && code != exitSIGINT && code != exitSIGTERM {
		code = exitFail
	}
	if msg != "" {
		fmt.Fprintln(stderr, "bpfsig:", safeText(msg))
	}
	if code != exitOK && wantsJSON(args) && out.n == 0 {
		b, _ := json.Marshal(map[string]any{"error": msgOr(msg, "failed"), "exit_code": code})
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return code
}

// tuneGC sets the collector for a batch run, unless the environment sets it (GOGC,
// GOMEMLIMIT). A run allocates some 45 KiB per skeleton and keeps only each file's result:
// the default GOGC=100 collects about ten times over 1,000 files, most of it while the heap
// is a few MiB. GOGC=400 collects a quarter as often for at most five times the live heap,
// and the soft limit of 1 GiB brings collection back well before that matters on a large
// batch (128 MiB headers on every CPU).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

func msgOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// countingWriter counts what was written, so run knows whether a command printed anything.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// wantsJSON reports whether --json is among the (reordered) arguments before any "--".
func wantsJSON(args []string) bool {
	for _, a := range args[1:] {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "-json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// checkCommand refuses an unknown command (and `help` of one) as a usage error, before
// urfave/cli would answer with exit code 3.
func checkCommand(app *cli.App, args []string) error {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return nil
	}
	name := args[i]
	if name == "help" || name == "h" {
		if i+1 < len(args) && app.Command(args[i+1]) == nil {
			return fmt.Errorf("help: no command %q (commands: %s)", args[i+1], commandNames(app))
		}
		return nil
	}
	cmd := app.Command(name)
	if cmd == nil {
		return fmt.Errorf("no command %q (commands: %s)", name, commandNames(app))
	}
	// A command made of subcommands (mapvalue, loader, oracle) refuses an unknown one.
	for i++; len(cmd.Subcommands) > 0 && i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		sub := cmd.Command(args[i])
		if sub == nil {
			if args[i] == "help" || args[i] == "h" {
				return nil
			}
			var names []string
			for _, s := range cmd.Subcommands {
				names = append(names, s.Name)
			}
			return fmt.Errorf("%s: no command %q (commands: %s)", cmd.Name, args[i], strings.Join(names, ", "))
		}
		cmd = sub
	}
	return nil
}

// quietUsageErrors makes a usage error of every command (an unknown flag, a missing value)
// an exit-2 error naming the command, instead of urfave/cli's "Incorrect Usage" and help
// text on standard output, which would break --json's one-document rule; run prints the
// message on stderr.
func quietUsageErrors(prefix string, cmds []*cli.Command) {
	for _, c := range cmds {
		name := strings.TrimSpace(prefix + " " + c.Name)
		if c.OnUsageError == nil {
			c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
				return cli.Exit(fmt.Sprintf("%s: %v (see bpfsig %s --help)", name, err, name), exitUsage)
			}
		}
		quietUsageErrors(name, c.Subcommands)
	}
}

func commandNames(app *cli.App) string {
	var n []string
	for _, c := range app.Commands {
		if !c.Hidden {
			n = append(n, c.Name)
		}
	}
	return strings.Join(n, ", ")
}

// version is the module version and VCS revision from the build information.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev + modified + ")"
	}
	return v + " " + bi.GoVersion
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "bpfsig",
		Usage:                "sign, verify, compare and migrate signed BPF light skeletons",
		Version:              version(),
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: false,
		HideHelpCommand:      false,
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
			tbsCommand(), attachCommand(),
			compareCommand(),
			migrateCommand(),
			probeCommand(),
			loadCommand(),
			oracleCommand(),
			mapvalueCommand(),
			loaderCommand(),
			keygenCommand(),
		},
	}
	quietUsageErrors("", app.Commands)
	return app
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
	// Step into subcommands (bpfsig mapvalue sign …): their flags are the ones that count.
	for i < len(args) {
		sub := cmd.Command(args[i])
		if sub == nil {
			break
		}
		cmd = sub
		out = append(out, args[i])
		i++
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
