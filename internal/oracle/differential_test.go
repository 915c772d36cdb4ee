package oracle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/bpfsig/bpfsig/compat"
	"github.com/bpfsig/bpfsig/internal/cms"
	"github.com/bpfsig/bpfsig/internal/kerrno"
)

// diffRow is one case of the differential run.
type diffRow struct {
	Name         string `json:"name"`
	KernelRaw    string `json:"kernel_kfunc"`  // bpf_verify_pkcs7_signature's answer in the VM
	Kernel       string `json:"kernel"`        // the answer a signed BPF_PROG_LOAD would give (see kernelAnswer)
	Model        string `json:"model"`         // cms.Verify's errno
	ModelError   string `json:"model_error"`   // cms.Verify's error text
	KernelDetail string `json:"kernel_detail"` // what the guest noticed
	Agree        bool   `json:"agree"`
	SigLen       int    `json:"sig_len"`
}

// kernelAnswer is the errno a signed BPF_PROG_LOAD would give for a case, from the kfunc's answer:
// the bpf(2) syscall rejects signature_size > 8192 with EINVAL before the PKCS#7 routine runs
// (docs/spec.md §5.5, order of checks), a check the kfunc does not have, so for oversize signatures the
// syscall rule decides and the kfunc's answer is only reported.
func kernelAnswer(sigLen int, kfunc compat.Errno) compat.Errno {
	if sigLen > cms.MaxSignatureSize {
		return compat.EINVAL
	}
	return kfunc
}

// modelAnswer runs cms.Verify; a panic or an error without errno is reported as such.
func modelAnswer(c corpusCase) (e compat.Errno, text string) {
	defer func() {
		if r := recover(); r != nil {
			e, text = compat.Errno(0xffff), fmt.Sprintf("PANIC: %v", r)
		}
	}()
	_, err := cms.Verify(c.Content, c.Signature, c.trust)
	if err == nil {
		return 0, ""
	}
	ke, ok := kerrno.Of(err)
	if !ok {
		return compat.Errno(0xfffe), "no errno: " + err.Error()
	}
	return compat.Errno(ke), err.Error()
}

func name(e compat.Errno) string {
	switch e {
	case 0:
		return "0"
	case 0xffff:
		return "PANIC"
	case 0xfffe:
		return "NO-ERRNO"
	}
	return kerrno.NameOf(e)
}

// TestDifferential has the kernel judge the whole corpus in one VM boot and compares each answer
// with cms.Verify (trust = the certificates in the case's keyring). Every disagreement fails the
// test and is listed, unless BPFSIG_ORACLE_DIFF=report (then they are only logged).
// BPFSIG_ORACLE_REPORT=path writes every row as JSON lines.
func TestDifferential(t *testing.T) {
	vm := oracleVM(t)
	corpus := buildCorpus(t)
	res, st, err := vm.RunStats(context.Background(), casesOf(corpus))
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]diffRow, len(corpus))
	agree := 0
	byMutation := map[string]int{}
	for i, c := range corpus {
		k := kernelAnswer(len(c.Signature), res[i].Errno)
		m, text := modelAnswer(c)
		rows[i] = diffRow{Name: c.Name, KernelRaw: name(res[i].Errno), Kernel: name(k), Model: name(m),
			ModelError: text, KernelDetail: res[i].Detail, Agree: k == m, SigLen: len(c.Signature)}
		if k == m {
			agree++
			continue
		}
		byMutation[mutationOf(c.Name)]++
	}
	t.Logf("differential: %d cases, %d agree, %d disagree; VM boot-to-poweroff %v (kvm %v, console %d bytes)",
		len(corpus), agree, len(corpus)-agree, st.Boot, st.KVM, st.ConsoleBytes)
	if p := os.Getenv("BPFSIG_ORACLE_REPORT"); p != "" {
		if err := writeReport(p, rows); err != nil {
			t.Error(err)
		}
	}
	keys := make([]string, 0, len(byMutation))
	for k := range byMutation {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("disagreements in %-40s %d", k, byMutation[k])
	}
	report := t.Errorf
	if os.Getenv("BPFSIG_ORACLE_DIFF") == "report" {
		report = t.Logf
	}
	for _, r := range rows {
		if !r.Agree {
			report("%s: kernel %s (kfunc %s%s), model %s (%s)", r.Name, r.Kernel, r.KernelRaw, detailSuffix(r.KernelDetail), r.Model, r.ModelError)
		}
	}
	// Sanity: the corpus must exercise every kernel outcome, or it proves little.
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Kernel] = true
	}
	for _, want := range []string{"0", "EBADMSG", "ENOPKG", "ENOKEY", "EKEYREJECTED", "EINVAL"} {
		if !seen[want] {
			t.Errorf("no case got kernel answer %s", want)
		}
	}
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return "; " + d
}

// mutationOf returns the mutation part of a corpus case name (the last path element without
// its @offset), or "base".
func mutationOf(n string) string {
	parts := strings.Split(n, "/")
	last := parts[len(parts)-1]
	if strings.HasPrefix(last, "attrs=") {
		return "base"
	}
	if i := strings.IndexAny(last, "@"); i >= 0 {
		last = last[:i]
	}
	if strings.HasPrefix(last, "random-") {
		if j := strings.LastIndex(last, "-"); j > 0 && strings.HasPrefix(last, "random-flip") {
			last = "random-flip"
		} else {
			last = "random-len"
		}
	}
	return last
}

func writeReport(path string, rows []diffRow) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(f.Close())
}
