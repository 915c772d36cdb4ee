package kprofile_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig/internal/kprofile"
)

// A light skeleton signed the 6.18 way (signature over the loader instructions only) and
// loaded with the 6.18 procedure (fd_array_cnt = 0) on a mainline kernel: the signature
// verifies, the LSM hook sees BPF_SIG_VERIFIED, and then the kernel refuses the metadata map
// it binds by index (signed_loader.c lsm_signature_verdict).
func Example() {
	p, err := kprofile.Lookup("mainline")
	if err != nil {
		panic(err)
	}
	meta := kprofile.Object{Kind: kprofile.KindMap, Array: true, Exclusive: true, DigestMatch: true, Frozen: true, ValueSize: 3336}
	f := kprofile.Facts{
		Procedure: kprofile.Proc618, SkipHashRequest: true, Signed: true, SignatureSize: 270,
		Keyring:  kprofile.Keyring{ID: kprofile.KeySpecSession, Serial: 1000},
		InsnSize: 2152, FdArray: []kprofile.Object{meta}, IndexRefs: 1,
		CMS: 0, // internal/cms verified the signature over SignedContent(p, insn, nil)
	}
	fmt.Println("folded maps:", len(p.Folded(f)))
	r, err := p.Evaluate(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Outcome, r.Stage, r.Errno, "lsm:", r.LSM, "admitted then failed:", r.LSMAdmittedThenFailed)
	fmt.Println("recorded:", r.Record.Verdict, r.Record.KeyringType, r.Record.KeyringSerial)
	fmt.Println("rule:", r.Rule, "subtest:", r.Subtest)
	// Output:
	// folded maps: 0
	// rejected verifier EACCES lsm: loader-only admitted then failed: true
	// recorded: BPF_SIG_VERIFIED BPF_SIG_KEYRING_USER 1000
	// rule: mainline/late-index-map subtest: signed_sparse_fd_array_rejected, lsm_signature_verdict
}
