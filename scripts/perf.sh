#!/usr/bin/env bash
# make perf: the whole-process cost of `bpfsig verify` and `bpfsig migrate` per file, against a
# loop of `openssl cms -verify` over the same signatures and signed content (issue 10).
#
# It builds bpfsig, makes N distinct unsigned skeletons from testdata/minimal/unsigned.skel.h
# (file i has the rodata value target_pid = i+1, in opts_data and in the header's data[] copy),
# signs them with `bpfsig sign` round robin as raw, legacy v2 and chain v2, and writes for each
# what the kernel hands its PKCS#7 code: the detached CMS (the opts_sig literal) and the signed
# content (`bpfsig tbs`). Then, in one run, RUNS times each:
#   (a) bpfsig verify over the N files (one process),
#   (b) openssl cms -verify over the same N (one process per file, trusting only the signing
#       certificate; every exit status checked),
#   (c) bpfsig migrate of the N files to raw (N signatures, one process),
# and prints the per-file median of the runs and the ratio (b)/(a). The machine's other load
# shows in the numbers: compare medians, not single runs.
#
# Environment: N (1000), RUNS (5), JOBS (bpfsig --jobs; empty: bpfsig's default), KEEP=1 keeps
# the temporary directory, BPFSIG (a prebuilt binary instead of building one), BASELINE (another
# bpfsig binary, an older build say, whose verify runs alternate with this one's in (a); its
# output must be the same).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
RUNS=${RUNS:-5}
JOBS=${JOBS:-}
key=testdata/keys/test-rsa2048.key.pem
cert=testdata/keys/test-rsa2048.crt.pem
src=testdata/minimal/unsigned.skel.h
chmod 600 "$key" # a fresh clone may leave it group/world-readable; bpfsig warns about that
for t in openssl perl go; do
	command -v "$t" >/dev/null || { echo "perf.sh: needs $t" >&2; exit 1; }
done

dir=$(mktemp -d -t bpfsig-perf-XXXXXX)
if [ "${KEEP:-}" = 1 ]; then echo "perf.sh: keeping $dir"; else trap 'rm -rf "$dir"' EXIT; fi
if [ -n "${BPFSIG:-}" ]; then
	bin=$BPFSIG
else
	bin=$dir/bpfsig
	go build -o "$bin" ./cmd/bpfsig
fi
jobs=()
[ -n "$JOBS" ] && jobs=(--jobs "$JOBS")

now() { date +%s%N; }

# The N unsigned variants: file i with rodata i+1. The rodata value sits at opts_data offset 2496
# in this loader (the value of its rodata map update; `bpfsig inspect --disasm` shows the slot).
mkdir -p "$dir/unsigned"
perl - "$src" "$dir/unsigned" "$N" <<'PERL'
use strict; use warnings;
my ($src, $out, $n) = @ARGV;
local $/; open my $fh, '<', $src or die "$src: $!"; my $h = <$fh>; close $fh;
$h =~ /static const char opts_data\[\][^"]*"\\\n(.*?)";/s or die "$src: no opts_data literal\n";
my ($at, $body) = ($-[1], $1);
my @tok = $body =~ /(\\\n|\\0|\\x[0-9a-f]{2})/g;
die "$src: opts_data holds more than \\0 and \\xNN escapes\n" unless join('', @tok) eq $body;
my @bytes = grep { $_ ne "\\\n" } @tok;
my $off = 2496;
$bytes[$_] eq '\0' or die "$src: opts_data byte $_ is not the zero rodata value\n" for $off .. $off + 3;
my $rod = qq{"\\\n\\0\\0\\0\\0";};
my $ri = index($h, $rod);
die "$src: no single 4-byte data[] copy of rodata\n" if $ri < 0 || index($h, $rod, $ri + 1) >= 0;
sub esc { join '', map { $_ ? sprintf('\\x%02x', $_) : '\0' } @_ }
for my $i (0 .. $n - 1) {
	my @v = unpack 'C4', pack 'V', $i + 1;
	my @nb = @bytes;
	@nb[$off .. $off + 3] = map { esc($_) } @v;
	# bpftool's line breaking: a continuation once a line would pass 78 columns.
	my ($nbody, $len) = ('', 0);
	for my $t (@nb) { $len += length $t; if ($len > 78) { $nbody .= "\\\n"; $len = length $t } $nbody .= $t }
	my $x = substr($h, 0, $at) . $nbody . substr($h, $at + length $body);
	my $k = index($x, $rod);
	substr($x, $k, length $rod) = qq{"\\\n} . esc(@v) . qq{";};
	open my $o, '>', sprintf('%s/f%05d.skel.h', $out, $i) or die "$out: $!";
	print $o $x; close $o;
}
PERL

# Sign them: raw, legacy v2, chain v2 round robin, in a subdirectory per scheme.
schemes=(raw legacy chain)
for s in "${schemes[@]}"; do mkdir -p "$dir/signed/$s" "$dir/tbs/$s"; done
t0=$(now)
export bin key cert dir
for ((i = 0; i < N; i++)); do printf '%s f%05d.skel.h\n' "${schemes[i % 3]}" "$i"; done |
	xargs -P 2 -L 1 bash -c 'g=(); [ "$0" = raw ] || g=(--generation v2)
		exec "$bin" sign --scheme "$0" "${g[@]}" --key "$key" --cert "$cert" -o "$dir/signed/$0/$1" "$dir/unsigned/$1"'
t1=$(now)
echo "generated and signed $N skeletons (raw, legacy v2, chain v2) with bpfsig sign in $(((t1 - t0) / 1000000)) ms"

# What openssl needs, the way the kernel gets it: the detached CMS (the opts_sig literal) and the
# content it signs (bpfsig tbs: raw insn ‖ data, legacy insn, chain the 32-byte root).
for s in "${schemes[@]}"; do
	gen=()
	[ "$s" != raw ] && gen=(--generation v2)
	"$bin" tbs --scheme "$s" "${gen[@]}" --out "$dir/tbs/$s" "$dir/signed/$s" >/dev/null
done
perl - "$dir/signed" "$dir/tbs" <<'PERL'
use strict; use warnings;
my ($in, $out) = @ARGV;
for my $f (glob "$in/*/*.skel.h") {
	local $/; open my $fh, '<', $f or die "$f: $!"; my $h = <$fh>; close $fh;
	$h =~ /static const char opts_sig\[\][^"]*"\\\n(.*?)";/s or die "$f: no opts_sig literal\n";
	(my $body = $1) =~ s/\\\n//g;
	my $der = '';
	while ($body =~ /\G(?:\\0|\\x([0-9a-f]{2}))/gc) { $der .= defined $1 ? chr hex $1 : "\0" }
	pos($body) == length $body or die "$f: opts_sig holds more than \\0 and \\xNN escapes\n";
	my $rel = substr($f, length "$in/") . ".sig";
	open my $o, '>:raw', "$out/$rel" or die "$out/$rel: $!"; print $o $der; close $o;
}
PERL
for s in "${schemes[@]}"; do
	n=$(find "$dir/tbs/$s" -name '*.tbs' | wc -l)
	m=$(find "$dir/tbs/$s" -name '*.sig' | wc -l)
	[ "$n" = "$m" ] || { echo "perf.sh: $s: $n tbs files but $m signatures" >&2; exit 1; }
done
mapfile -t tbsfiles < <(cd "$dir/tbs" && find . -name '*.tbs' | sort)
[ "${#tbsfiles[@]}" = "$N" ] || { echo "perf.sh: ${#tbsfiles[@]} tbs files, want $N" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
us() { awk -v ns="$1" -v n="$2" 'BEGIN {printf "%.1f", ns / n / 1000}'; }

# Startup: bpfsig --version, 200 times.
v=()
for ((r = 0; r < RUNS; r++)); do
	t0=$(now)
	for ((i = 0; i < 200; i++)); do "$bin" --version >/dev/null; done
	v+=($(($(now) - t0)))
done
ver_ns=$(printf '%s\n' "${v[@]}" | median)

# (a) bpfsig verify over the N files, one process; with BASELINE, that binary's run alternates
# with each of ours, so that both see the same machine (other load moves single runs by 2x).
a=() base=()
for ((r = 0; r < RUNS; r++)); do
	if [ -n "${BASELINE:-}" ]; then
		t0=$(now)
		"$BASELINE" verify "${jobs[@]}" --cert "$cert" "$dir/signed" >"$dir/verify-base.out" || {
			echo "perf.sh: BASELINE verify failed" >&2; exit 1; }
		base+=($(($(now) - t0)))
	fi
	t0=$(now)
	"$bin" verify "${jobs[@]}" --cert "$cert" "$dir/signed" >"$dir/verify.out" || {
		echo "perf.sh: bpfsig verify failed:" >&2; grep -v ': OK' "$dir/verify.out" | head >&2; exit 1; }
	a+=($(($(now) - t0)))
done
ok=$(grep -c ': OK (' "$dir/verify.out")
[ "$ok" = "$N" ] || { echo "perf.sh: bpfsig verify: $ok of $N OK" >&2; exit 1; }
if [ -n "${BASELINE:-}" ]; then
	cmp -s "$dir/verify.out" "$dir/verify-base.out" || { echo "perf.sh: BASELINE's verify output differs" >&2; exit 1; }
fi
a_ns=$(printf '%s\n' "${a[@]}" | median)

# (b) openssl cms -verify over the same N, one process each; every one must succeed. The trust
# is the one certificate, as bpfsig's: -CAfile keeps openssl from loading the system's CA bundle
# at every start (with ca-certificates installed that alone costs some 16 ms per invocation and
# would flatter the ratio six-fold); -noverify, as the kernel, does not build a chain.
b=()
for ((r = 0; r < RUNS; r++)); do
	t0=$(now)
	(
		cd "$dir/tbs"
		for f in "${tbsfiles[@]}"; do
			openssl cms -verify -binary -inform DER -in "${f%.tbs}.sig" -content "$f" \
				-certfile "$OLDPWD/$cert" -CAfile "$OLDPWD/$cert" -noverify -out /dev/null 2>/dev/null ||
				{ echo "perf.sh: openssl cms -verify refused $f" >&2; exit 1; }
		done
	)
	b+=($(($(now) - t0)))
done
b_ns=$(printf '%s\n' "${b[@]}" | median)

# (c) bpfsig migrate of the N files to raw: verify each old signature, convert, sign, write.
c=()
for ((r = 0; r < RUNS; r++)); do
	rm -rf "$dir/migrated"
	t0=$(now)
	"$bin" migrate "${jobs[@]}" "$dir/signed" --out "$dir/migrated" --key "$key" --cert "$cert" >"$dir/migrate.out" || {
		echo "perf.sh: bpfsig migrate failed:" >&2; tail "$dir/migrate.out" >&2; exit 1; }
	c+=($(($(now) - t0)))
done
written=$(find "$dir/migrated" -name '*.skel.h' | wc -l)
[ "$written" = "$N" ] || { echo "perf.sh: bpfsig migrate wrote $written of $N" >&2; exit 1; }
c_ns=$(printf '%s\n' "${c[@]}" | median)

echo "medians of $RUNS runs, $N files, $(nproc) CPU(s):"
echo "  bpfsig --version                 $(us "$ver_ns" 200) µs/invocation"
echo "  (a) bpfsig verify                $(us "$a_ns" "$N") µs/file   (runs, ms: $(printf '%s ' "${a[@]}" | awk '{for (i=1;i<=NF;i++) printf "%d ", $i/1e6}'))"
echo "  (b) openssl cms -verify loop     $(us "$b_ns" "$N") µs/file   (runs, ms: $(printf '%s ' "${b[@]}" | awk '{for (i=1;i<=NF;i++) printf "%d ", $i/1e6}'))"
echo "  (c) bpfsig migrate (N signatures) $(us "$c_ns" "$N") µs/file   (runs, ms: $(printf '%s ' "${c[@]}" | awk '{for (i=1;i<=NF;i++) printf "%d ", $i/1e6}'))"
awk -v a="$a_ns" -v b="$b_ns" 'BEGIN {printf "  ratio (b)/(a): %.1fx (target: 300x)\n", b / a}'
if [ -n "${BASELINE:-}" ]; then
	base_ns=$(printf '%s\n' "${base[@]}" | median)
	echo "  BASELINE verify, alternating     $(us "$base_ns" "$N") µs/file   (runs, ms: $(printf '%s ' "${base[@]}" | awk '{for (i=1;i<=NF;i++) printf "%d ", $i/1e6}'))"
	awk -v a="$a_ns" -v b="$base_ns" -v o="$b_ns" 'BEGIN {printf "  BASELINE / this: %.2fx; BASELINE ratio (b)/(a): %.1fx\n", b / a, o / b}'
fi
