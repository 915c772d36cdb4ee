package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig/compat"
)

// verifyResult is one file's line of `bpfsig verify`.
type verifyResult struct {
	File    string          `json:"file"`
	Scheme  compat.Scheme   `json:"scheme"`
	Why     []string        `json:"scheme_evidence,omitempty"`
	OK      bool            `json:"ok"`
	Stage   compat.Stage    `json:"stage"`
	Errno   string          `json:"errno"`
	Retval  *int32          `json:"retval"`
	Reason  string          `json:"reason"`
	Verdict *compat.Verdict `json:"verdict,omitempty"`
	Oracle  *oracleAnswer   `json:"oracle,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify signed light skeletons as the kernel of their scheme would",
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scheme", Value: "auto", Usage: "auto|legacy|chain|raw"},
			certFlag, keyringFlag, jsonFlag,
			&cli.StringFlag{Name: "oracle", Usage: "ask a real kernel: vm (a throwaway VM judges the signature)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("verify: no FILE given")
			}
			trust, err := loadTrust(c, "cert", "keyring")
			if err != nil {
				return err
			}
			want := compat.Scheme(c.String("scheme"))
			if want != "auto" {
				if _, err := compat.Lookup(want); err != nil {
					return usage("--scheme: %v", err)
				}
			}
			var results []*verifyResult
			var arts []*compat.Artifact
			for _, p := range c.Args().Slice() {
				r, a := verifyOne(p, want, trust)
				results = append(results, r)
				arts = append(arts, a)
			}
			if c.String("oracle") != "" {
				if err := askOracle(c, results, arts, trust); err != nil {
					return err
				}
			}
			allOK := true
			for _, r := range results {
				allOK = allOK && r.OK
			}
			if c.Bool("json") {
				if err := writeJSON(c.App.Writer, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					printVerify(c.App.Writer, r)
				}
			}
			if !allOK {
				return failed("")
			}
			return nil
		},
	}
}

// verifyOne verifies one file under the wanted scheme ("auto": the detected one).
func verifyOne(path string, want compat.Scheme, trust []*x509.Certificate) (*verifyResult, *compat.Artifact) {
	r := &verifyResult{File: path}
	a, err := compat.Open(path)
	if err != nil {
		r.Error, r.Reason = err.Error(), err.Error()
		return r, nil
	}
	d := compat.Detect(a)
	r.Scheme, r.Why = d.Scheme, d.Evidence
	if d.Scheme == compat.Unsigned {
		r.Reason = path + ": not signed"
		return r, a
	}
	if want != "auto" && want != d.Scheme {
		r.Reason = fmt.Sprintf("%s: --scheme %s does not fit the content, which is %s (%s)", path, want, d.Scheme, strings.Join(d.Evidence, "; "))
		r.Error = r.Reason
		return r, a
	}
	st, err := compat.Lookup(d.Scheme)
	if err != nil {
		r.Error, r.Reason = err.Error(), err.Error()
		return r, a
	}
	v := st.Verify(a, trust, compat.Conditions{})
	r.Verdict = v
	r.OK, r.Stage, r.Errno, r.Retval, r.Reason = v.OK(), v.Stage, v.ErrnoName(), v.Retval, v.Reason
	if v.Outcome == compat.Accepted && len(v.Conformance) > 0 {
		r.Reason = "not a well-formed " + string(d.Scheme) + " skeleton: " + strings.Join(v.Conformance, "; ")
	}
	return r, a
}

func printVerify(w io.Writer, r *verifyResult) {
	switch {
	case r.OK:
		fprintf(w, "%s: OK (%s", r.File, r.Scheme)
		if v := r.Verdict; v != nil && v.Generation.String() != "" {
			fprintf(w, " %s", v.Generation)
		}
		fprintf(w, "; LSM sees %s)\n", r.Verdict.LSM)
	case r.Stage == compat.StageRun && r.Retval != nil:
		fprintf(w, "%s: REJECTED at run: loader retval %d: %s\n", r.File, *r.Retval, r.Reason)
	case r.Stage != "":
		fprintf(w, "%s: REJECTED at %s: %s: %s\n", r.File, r.Stage, r.Errno, r.Reason)
	default:
		fprintf(w, "%s: FAILED: %s\n", r.File, r.Reason)
	}
	if len(r.Why) > 0 {
		fprintf(w, "  scheme %s: %s\n", r.Scheme, strings.Join(r.Why, "; "))
	}
	if v := r.Verdict; v != nil {
		if v.LSMAdmittedThenFailed {
			fprintf(w, "  note: an LSM admitted this program at security_bpf_prog_load before the %s stage rejected it\n", v.Stage)
		}
		for _, u := range v.Unattested {
			fprintf(w, "  unattested: %s\n", u)
		}
		for _, n := range v.Notes {
			fprintf(w, "  note: %s\n", n)
		}
	}
	if o := r.Oracle; o != nil {
		fprintf(w, "  oracle (%s): kernel says %s, model says %s", o.Kernel, orOK(o.KernelErrno), orOK(o.ModelErrno))
		if o.KernelErrno != o.ModelErrno {
			fprintf(w, "  ← DISAGREE")
		}
		fprintf(w, "\n")
	}
}

func orOK(s string) string {
	if s == "" {
		return "0 (verified)"
	}
	return s
}
