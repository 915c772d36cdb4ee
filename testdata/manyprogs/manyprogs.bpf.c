// SPDX-License-Identifier: GPL-2.0
/*
 * A BPF object with more programs than libbpf's loader generator can hold:
 * gen_loader keeps each program fd in a 32-slot area of the loader's stack
 * (MAX_USED_PROGS) and never checks the count. NPROGS picks how many
 * socket-filter programs the object has (32, 33 or 40; see gen.sh).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef NPROGS
#define NPROGS 40
#endif

char LICENSE[] SEC("license") = "GPL";

__u64 hits = 0;

#define PROG(n)                         \
	SEC("socket")                   \
	int prog_##n(void *ctx)         \
	{                               \
		__sync_fetch_and_add(&hits, 1); \
		return n;               \
	}

#define PROG8(a) PROG(a##0) PROG(a##1) PROG(a##2) PROG(a##3) \
		 PROG(a##4) PROG(a##5) PROG(a##6) PROG(a##7)

/* prog_00 .. prog_37: 32 programs */
PROG8(0) PROG8(1) PROG8(2) PROG8(3)
#if NPROGS >= 33
PROG(40)
#endif
#if NPROGS >= 40
PROG(41) PROG(42) PROG(43) PROG(44) PROG(45) PROG(46) PROG(47)
#endif
