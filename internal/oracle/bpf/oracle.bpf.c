//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/*
 * oracle.bpf.c — a real kernel as PKCS#7 judge.
 *
 * (The go:build line above keeps the Go tool from treating this file as cgo source of package bpf.)
 *
 * A sleepable LSM program on the bpf hook. When the process named in the request (tgid) makes
 * the bpf(2) call named in the request (cmd), it takes (content, signature, keyring) from the
 * single element of the "req" array map, runs the kernel's own bpf_verify_pkcs7_signature on
 * them and writes the result back into the same element. It never denies the syscall.
 */
#include "vmlinux_min.h"
#include "oracle.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oracle_req);
} req SEC(".maps");

SEC("lsm.s/bpf")
int oracle_verify(unsigned long long *ctx)
{
	int cmd = (int)ctx[0];
	struct bpf_dynptr data_p, sig_p;
	struct bpf_key *keyring;
	struct oracle_req *r;
	__u32 zero = 0, clen, slen;
	long err;

	r = bpf_map_lookup_elem(&req, &zero);
	if (!r)
		return 0;
	if ((bpf_get_current_pid_tgid() >> 32) != r->tgid || (__u32)cmd != r->cmd || r->done_seq == r->seq)
		return 0;

	clen = r->content_len;
	slen = r->sig_len;
	if (clen >= ORACLE_CONTENT_MAX || slen >= ORACLE_SIG_MAX) {
		r->status = ORACLE_STATUS_BAD_LENGTH;
		r->ret = 0;
		goto out;
	}
	/* Masks make the bounds provable to the verifier whatever the compiler does with the checks above. */
	clen &= ORACLE_CONTENT_MAX - 1;
	slen &= ORACLE_SIG_MAX - 1;

	err = bpf_dynptr_from_mem(r->content, clen, 0, &data_p);
	if (!err)
		err = bpf_dynptr_from_mem(r->sig, slen, 0, &sig_p);
	if (err) {
		r->status = ORACLE_STATUS_DYNPTR;
		r->ret = (__s32)err;
		goto out;
	}

	if (r->keyring_mode == ORACLE_KEYRING_SYSTEM)
		keyring = bpf_lookup_system_key((__u64)(__s64)r->keyring);
	else
		keyring = bpf_lookup_user_key((__u32)r->keyring, 0);
	if (!keyring) {
		r->status = ORACLE_STATUS_NO_KEYRING;
		r->ret = 0;
		goto out;
	}
	r->ret = bpf_verify_pkcs7_signature(&data_p, &sig_p, keyring);
	r->status = ORACLE_STATUS_VERIFIED;
	bpf_key_put(keyring);
out:
	r->done_seq = r->seq;
	return 0;
}
