/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmlinux_min.h — the handful of kernel types and kfuncs oracle.bpf.c needs, declared by hand
 * instead of a full vmlinux.h (from Linux 6.12's BTF: kernel/trace/bpf_trace.c, include/uapi/linux/bpf.h).
 *
 * Structs used through kfunc pointers must be complete (not forward declarations): cilium/ebpf
 * checks kfunc prototypes against the kernel's BTF with the CO-RE compatibility rules, under
 * which a FWD is not compatible with a STRUCT. Their members are never accessed.
 */
#ifndef BPFSIG_VMLINUX_MIN_H
#define BPFSIG_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __always_inline inline __attribute__((always_inline))

enum bpf_map_type { BPF_MAP_TYPE_ARRAY = 2 };

#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

struct bpf_dynptr {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

struct key;
struct bpf_key {
	struct key *key;
	bool has_ref;
};

/* helpers */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_dynptr_from_mem)(void *data, __u32 size, __u64 flags, struct bpf_dynptr *ptr) = (void *)197;

/* kfuncs (KF_SLEEPABLE; callable from sleepable LSM programs) */
extern struct bpf_key *bpf_lookup_user_key(__u32 serial, __u64 flags) __ksym;
extern struct bpf_key *bpf_lookup_system_key(__u64 id) __ksym;
extern void bpf_key_put(struct bpf_key *bkey) __ksym;
extern int bpf_verify_pkcs7_signature(struct bpf_dynptr *data_p, struct bpf_dynptr *sig_p,
				      struct bpf_key *trusted_keyring) __ksym;

#endif
