package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/fsio"
	"github.com/bpfsig/bpfsig/internal/par"
)

// verifyResult is one file's line of `bpfsig verify`.
type verifyResult struct {
	File    string          `json:"file"`
	FileB64 string          `json:"file_base64,omitempty"` // set when File is not valid UTF-8
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
		ArgsUsage: "FILE|DIR...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scheme", Value: "auto", Usage: "auto, or a scheme the content must have"},
			certFlag, keyringFlag, restrictFlag, jsonFlag, jobsFlag,
			&cli.StringFlag{Name: "oracle", Usage: "ask a real kernel: vm (a throwaway VM judges the signature)"},
			&cli.StringFlag{Name: "kernel", Usage: "judge on a kernel profile (" + strings.Join(bpfsig.KernelProfiles(), ", ") + ") instead of the scheme's own kernel model"},
			&cli.StringFlag{Name: "procedure", Usage: "with --kernel: the application's libbpf load procedure, 6.18|mainline|chain (default: the one built for the skeleton's scheme)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usage("verify: no FILE given")
			}
			trust, err := loadTrust(c, "cert", "keyring")
			if err != nil {
				return err
			}
			var want bpfsig.Scheme
			if s := c.String("scheme"); s != "auto" {
				if want, err = bpfsig.ParseScheme(s); err != nil {
					return usage("--scheme: %v", err)
				}
			}
			kernel, proc := c.String("kernel"), bpfsig.Procedure(c.String("procedure"))
			if c.IsSet("kernel") && kernel == "" {
				return usage("--kernel: an empty kernel profile name")
			}
			if c.IsSet("procedure") && proc == "" {
				return usage("--procedure: an empty procedure name")
			}
			if kernel != "" {
				if _, err := bpfsig.KernelProfileTable(kernel); err != nil {
					return usage("--kernel: %v", err)
				}
			}
			if proc != "" && !validProcedure(proc) {
				return usage("--procedure %q: known: 6.18, mainline, chain", proc)
			} else if proc != "" && kernel == "" {
				return usage("--procedure goes with --kernel")
			}
			paths, err := expandArgs(c, c.Args().Slice())
			if err != nil {
				return failed("%v", err)
			}
			results := make([]*verifyResult, len(paths))
			// The skeletons are kept only for the oracle, which asks about them all at the
			// end; otherwise each is garbage once its result is made.
			var sks []*bpfsig.Skeleton
			if c.String("oracle") != "" {
				sks = make([]*bpfsig.Skeleton, len(paths))
			}
			par.Do(len(paths), c.Int("jobs"), func(i int) {
				if p := paths[i]; p.Err != "" {
					results[i] = &verifyResult{File: p.Path, FileB64: fsio.RawName(p.Path), Error: p.Err, Reason: p.Err}
					return
				}
				r, sk := verifyOne(paths[i].Path, want, trust, kernel, proc)
				results[i] = r
				if sks != nil {
					sks[i] = sk
				}
			})
			if c.String("oracle") != "" {
				if err := askOracle(c, results, sks, trust); err != nil {
					return err
				}
			}
			allOK := true
			for _, r := range results {
				allOK = allOK && r.OK
			}
			return emit(c, results, printVerify, allOK)
		},
	}
}

// verifyOne verifies one file under the wanted scheme ("": the detected one).
func verifyOne(path string, want bpfsig.Scheme, trust *bpfsig.Trust, kernel string, proc bpfsig.Procedure) (*verifyResult, *bpfsig.Skeleton) {
	r := &verifyResult{File: path, FileB64: fsio.RawName(path)}
	sk, err := bpfsig.Open(path)
	if err != nil {
		r.Error, r.Reason = err.Error(), err.Error()
		return r, nil
	}
	det, _ := sk.Detection()
	r.Scheme, r.Why = det.Scheme, det.Evidence
	v, err := bpfsig.VerifyAs(sk, want, trust, bpfsig.Conditions{})
	if err == nil && kernel != "" && det.Scheme != bpfsig.Unsigned {
		if proc == "" {
			proc = bpfsig.HostProcedure(sk)
		}
		v, err = bpfsig.VerifyOnKernel(sk, kernel, proc, trust)
	}
	if err != nil {
		r.Error, r.Reason = err.Error(), err.Error()
		return r, sk
	}
	if det.Scheme == bpfsig.Unsigned {
		r.Reason = v.Reason
		return r, sk
	}
	r.Verdict = v
	r.OK, r.Stage, r.Errno, r.Retval, r.Reason = v.OK(), v.Stage, v.ErrnoName(), v.Retval, v.Reason
	if v.Outcome == compat.Accepted && len(v.Conformance) > 0 {
		r.Reason = "not a well-formed " + string(det.Scheme) + " skeleton: " + strings.Join(v.Conformance, "; ")
	}
	return r, sk
}

func printVerify(w io.Writer, r *verifyResult) {
	switch {
	case r.OK:
		fprintf(w, "%s: OK (%s", quoteName(r.File), r.Scheme)
		if v := r.Verdict; v != nil && v.Profile != "" {
			fprintf(w, " on kernel %s, libbpf %s", v.Profile, v.Procedure)
		}
		if v := r.Verdict; v != nil && v.Generation != compat.NoGeneration {
			fprintf(w, " %s", v.Generation)
		}
		fprintf(w, "; LSM sees %s)\n", r.Verdict.LSM)
	case r.Stage == compat.StageRun && r.Retval != nil:
		fprintf(w, "%s: REJECTED at run: loader retval %d: %s\n", quoteName(r.File), *r.Retval, safeText(r.Reason))
	case r.Stage != "":
		fprintf(w, "%s: REJECTED at %s: %s: %s\n", quoteName(r.File), r.Stage, r.Errno, safeText(r.Reason))
	default:
		fprintf(w, "%s: FAILED: %s\n", quoteName(r.File), safeText(r.Reason))
	}
	if len(r.Why) > 0 {
		fprintf(w, "  scheme %s: %s\n", r.Scheme, strings.Join(r.Why, "; "))
	}
	if v := r.Verdict; v != nil {
		if v.SchemeVerdict != "" {
			fprintf(w, "  %s verdict: %s\n", v.Kernel, v.SchemeVerdict)
		}
		if v.LSMAdmittedThenFailed {
			fprintf(w, "  note: an LSM admitted this program at security_bpf_prog_load before the %s stage rejected it\n", v.Stage)
		}
		for _, u := range v.Unattested {
			fprintf(w, "  unattested: %s\n", u)
		}
		printFindings(w, "  ", v.Findings)
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

func validProcedure(p bpfsig.Procedure) bool {
	for _, k := range bpfsig.Procedures() {
		if k == p {
			return true
		}
	}
	return false
}
