// Package kprofile models how a named kernel treats a signed (or unsigned) BPF_PROG_LOAD of a
// light-skeleton loader, as one ordered table of rules per kernel, taken from the kernel
// sources and their selftests.
//
// Profiles:
//   - "6.18": Linux 6.18.y. The signature covers the loader's instructions and is checked in
//     bpf_prog_load() before security_bpf_prog_load(); the metadata is vouched for only by
//     the loader's own check when it runs (the legacy scheme).
//   - "mainline": load-time verification as merged (torvalds/linux
//     Documentation/bpf/signing.rst): inside bpf_check(), fd_array is resolved, each folded
//     map must be an exclusive, frozen, plain array, the signature is verified over
//     insns ‖ metadata in used_maps order, and only then does the LSM hook run; maps and
//     BTFs bound later are refused after the hook.
//   - "mainline-bpf-keyring": mainline plus the .bpf keyring revision.
//   - "chain": the posted hash-chain series (never merged).
//
// A profile's Rules are evaluated in order over Facts; the first rejecting row decides, and
// the Result names the stage (setup, admission, lsm, verifier, run), the errno or loader
// retval, what the LSM really knew, whether it admitted something that then failed, the
// verdict fields prog->aux->sig holds at the hook, and the row with its citations.
//
// The package does not verify signatures: the caller computes the PKCS#7 result (for
// example with internal/cms) over SignedContent of the maps Folded names, and passes the
// errno in Facts.CMS. It does not look at loader bytes either: Facts say what the loader
// references and which check block it carries.
package kprofile
