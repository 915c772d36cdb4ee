/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oracle.h — the map layout shared by oracle.bpf.c and the Go guest (internal/oracle/guest).
 * Keep in sync with internal/oracle/bpf/bpf.go.
 */
#ifndef BPFSIG_ORACLE_H
#define BPFSIG_ORACLE_H

/* Both buffers are powers of two so a length can be bounded with a mask. */
#define ORACLE_CONTENT_MAX (1 << 15)
#define ORACLE_SIG_MAX (1 << 15)

/* keyring modes */
#define ORACLE_KEYRING_USER 0   /* bpf_lookup_user_key(keyring, 0) */
#define ORACLE_KEYRING_SYSTEM 1 /* bpf_lookup_system_key(keyring) */

/* status values written by the program */
#define ORACLE_STATUS_IDLE 0
#define ORACLE_STATUS_VERIFIED 1    /* ret holds bpf_verify_pkcs7_signature's return value */
#define ORACLE_STATUS_NO_KEYRING 2  /* the key lookup returned NULL */
#define ORACLE_STATUS_BAD_LENGTH 3  /* content_len or sig_len out of range */
#define ORACLE_STATUS_DYNPTR 4      /* bpf_dynptr_from_mem failed; ret holds its error */

struct oracle_req {
	__u32 tgid;         /* only bpf(2) calls from this process trigger */
	__u32 cmd;          /* ...and only this bpf(2) command */
	__u32 seq;          /* bumped by user space per request; echoed in done_seq */
	__u32 done_seq;     /* written by the program */
	__u32 keyring_mode; /* ORACLE_KEYRING_* */
	__s32 keyring;      /* user key serial or system keyring id */
	__u32 status;       /* ORACLE_STATUS_* (written by the program) */
	__s32 ret;          /* written by the program */
	__u32 content_len;
	__u32 sig_len;
	__u8 content[ORACLE_CONTENT_MAX];
	__u8 sig[ORACLE_SIG_MAX];
};

#endif
