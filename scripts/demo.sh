#!/usr/bin/env bash
# make demo: migrate the bundled old skeletons (both legacy generations) to the raw scheme in a
# temporary directory with the bundled test key, verify the results, and print the compare matrix.
set -euo pipefail
bin=${BPFSIG:-bin/bpfsig}
key=testdata/keys/test-rsa2048.key.pem
cert=testdata/keys/test-rsa2048.crt.pem
chmod 600 "$key" # a fresh clone may leave it group/world-readable; bpfsig warns about that
dir=$(mktemp -d -t bpfsig-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/old-skel/v1" "$dir/old-skel/v2"
cp testdata/minimal/legacy-v1.skel.h "$dir/old-skel/v1/minimal.skel.h"
cp testdata/minimal/legacy-v2.skel.h "$dir/old-skel/v2/minimal.skel.h"
run() { echo "\$ bpfsig ${*//$dir/\$DEMO}"; "$bin" "$@"; }

echo "== the old skeletons: signed the 6.18 way (legacy v1 and v2)"
run inspect "$dir/old-skel/v1/minimal.skel.h" "$dir/old-skel/v2/minimal.skel.h" | grep -E '^\S|scheme:|check block|host overrides|signature:'
echo
echo "== how each kernel treats one of them: a raw-bytes kernel no longer loads it"
run compare --cert "$cert" "$dir/old-skel/v2/minimal.skel.h"
echo
echo "== migrate them (verify the old signatures, drop check and host overrides, re-sign insn ‖ data)"
run migrate "$dir/old-skel" --out "$dir/new-skel" --key "$key" --cert "$cert" --trust "$cert" --kernels --report "$dir/report.json"
echo
echo "== verify the migrated skeletons"
run verify --cert "$cert" "$dir/new-skel/v1/minimal.skel.h" "$dir/new-skel/v2/minimal.skel.h"
for g in v1 v2; do
  cmp "$dir/new-skel/$g/minimal.skel.h" testdata/minimal/raw.skel.h
done
echo "byte-identical to upstream's raw.skel.h: both"
echo
echo "== which application build loads the migrated skeleton on which kernel"
run compare --cert "$cert" "$dir/new-skel/v2/minimal.skel.h" | sed -n '/^which application/,$p'
echo
echo "== where each scheme stops a tampered skeleton"
run compare --tamper all --key "$key" --cert "$cert" "$dir/old-skel/v2/minimal.skel.h"
echo
echo "== a second run changes nothing"
run migrate "$dir/old-skel" --out "$dir/new-skel" --key "$key" --cert "$cert" --trust "$cert" | tail -1
