#!/bin/sh
# Regenerates the objects and light skeletons of this directory with Debian's
# clang and bpftool (packages clang, bpftool, libbpf-dev):
#   manyprogs-N.bpf.o   clang -g -O2 -target bpf -DNPROGS=N (asm/ headers from the multiarch dir)
#   manyprogs-N.skel.h  bpftool gen skeleton -L manyprogs-N.bpf.o name manyprogs
# for N = 32 (fits gen_loader's 32 program slots), 33 and 40 (do not).
set -eu
cd "$(dirname "$0")"
for n in 32 33 40; do
	clang -g -O2 -target bpf -DNPROGS=$n -I/usr/include/$(uname -m)-linux-gnu -fdebug-prefix-map="$PWD"=. \
		-fdebug-compilation-dir=. -c manyprogs.bpf.c -o manyprogs-$n.bpf.o
	bpftool gen skeleton -L manyprogs-$n.bpf.o name manyprogs > manyprogs-$n.skel.h
done
bpftool version | head -2 > VERSIONS
clang --version | head -1 >> VERSIONS
# bpftool 7.1 writes the blobs inline; internal/lskel reads the current layout.
# manyprogs-N.lskel.h is the same header with the literals named as current
# bpftool names them (bodies copied verbatim; see modernize/main.go).
for n in 32 33 40; do
	go run ./modernize manyprogs-$n.skel.h manyprogs-$n.lskel.h
done
