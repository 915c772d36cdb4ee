package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/bpfsig/bpfsig"
	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/oracle"
)

func oracleCommand() *cli.Command {
	return &cli.Command{
		Name:  "oracle",
		Usage: "a real kernel (Debian 6.12 under qemu) as the judge of signatures",
		Subcommands: []*cli.Command{{
			Name:  "selftest",
			Usage: "ask the VM the PKCS#7 answer table of docs/spec.md §6 and report any disagreement",
			Flags: []cli.Flag{jsonFlag, &cli.BoolFlag{Name: "console", Usage: "show the VM's console"}},
			Action: func(c *cli.Context) error {
				vm, err := oracle.Find()
				if err != nil {
					return failed("%v", err)
				}
				if c.Bool("console") {
					vm.Stderr = os.Stderr
				}
				rows, st, err := vm.Selftest(context.Background())
				if err != nil {
					return failed("%v", err)
				}
				bad := 0
				type rowJSON struct {
					Vector string `json:"vector"`
					Want   string `json:"want"`
					Got    string `json:"got"`
					OK     bool   `json:"ok"`
				}
				var js []rowJSON
				for _, r := range rows {
					if !r.OK() {
						bad++
					}
					js = append(js, rowJSON{r.Vector, orOK(r.Want.Name()), orOK(r.Got.Name()), r.OK()})
				}
				if c.Bool("json") {
					if err := writeJSON(c.App.Writer, map[string]any{"rows": js, "cases": st.Cases, "seconds": st.Boot.Seconds(), "kvm": st.KVM}); err != nil {
						return err
					}
				} else {
					for _, r := range js {
						mark := "agree"
						if !r.OK {
							mark = "DISAGREE"
						}
						fprintf(c.App.Writer, "%-70s want %-14s kernel %-14s %s\n", r.Vector, r.Want, r.Got, mark)
					}
					fprintf(c.App.Writer, "%d/%d rows as docs/spec.md §6 says; one VM boot, %.1fs (kvm %t)\n", len(rows)-bad, len(rows), st.Boot.Seconds(), st.KVM)
				}
				if bad > 0 {
					return failed("%d row(s) disagree", bad)
				}
				return nil
			},
		}},
	}
}

// oracleAnswer is the VM kernel's answer to a file's signature next to the model's.
type oracleAnswer struct {
	Kernel      string `json:"kernel"`
	KernelErrno string `json:"kernel_errno"`
	ModelErrno  string `json:"model_errno"`
	Agree       bool   `json:"agree"`
	Detail      string `json:"detail,omitempty"`
}

// askOracle has the VM kernel judge each verified file's signature over its scheme's signed
// content, with the trust set as its keyring. Where kernel and model differ the file fails:
// the kernel is the authority.
func askOracle(c *cli.Context, rs []*verifyResult, sks []*bpfsig.Skeleton, trust *bpfsig.Trust) error {
	if c.String("oracle") != "vm" {
		return usage("--oracle: the only oracle is vm")
	}
	vm, err := oracle.Find()
	if err != nil {
		return failed("--oracle vm: %v", err)
	}
	var certs [][]byte
	for _, t := range trust.Certs {
		certs = append(certs, t.Raw)
	}
	var cases []oracle.Case
	var idx []int
	for i, r := range rs {
		if sks[i] == nil || r.Verdict == nil || !sks[i].Signed() {
			continue
		}
		a := sks[i].Artifact()
		st, err := compat.Lookup(r.Scheme)
		if err != nil {
			continue
		}
		content := st.SignedContent(a)
		if len(a.Sig()) > oracle.MaxSignature || len(content) > oracle.MaxContent {
			r.Oracle = &oracleAnswer{Kernel: "vm", Detail: "too large for the oracle's buffers; not asked"}
			continue
		}
		cases = append(cases, oracle.Case{Name: r.File, Content: content, Signature: a.Sig(), Certs: certs})
		idx = append(idx, i)
	}
	if len(cases) == 0 {
		return nil
	}
	res, _, err := vm.Verify(context.Background(), cases)
	if err != nil {
		return failed("--oracle vm: %v", err)
	}
	for k, i := range idx {
		r := rs[i]
		model := ""
		if r.Verdict.Stage == compat.StageAdmission {
			model = r.Verdict.ErrnoName()
		}
		ans := &oracleAnswer{Kernel: "vm (Debian 6.12, bpf_verify_pkcs7_signature)", KernelErrno: res[k].Errno.Name(), ModelErrno: model, Detail: res[k].Detail}
		ans.Agree = ans.KernelErrno == ans.ModelErrno
		r.Oracle = ans
		if !ans.Agree {
			r.OK = false
			r.Reason = fmt.Sprintf("the kernel's signature check says %s, the model says %s", orOK(ans.KernelErrno), orOK(ans.ModelErrno))
		}
	}
	return nil
}
