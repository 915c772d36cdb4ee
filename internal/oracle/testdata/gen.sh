#!/usr/bin/env bash
# gen.sh — (re)generate the oracle's committed test vectors and test keys with the openssl binary.
# Run from anywhere: bash internal/oracle/testdata/gen.sh
#
#   selftest/  copies of the project fixtures the kernel.md table needs (../../testdata/blobs, keys),
#              plus openssl-made CMS variants of the legacy-v2 signature (see the table in oracle/selftest.go)
#   keys/      TEST KEYS ONLY (self-signed, subjectKeyIdentifier=hash, keyUsage=critical,digitalSignature)
#              for the selftest and the differential corpus
#
# ECDSA signatures and signingTime attributes are randomized/time-dependent: rerunning changes those files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fix="$here/../../../testdata"
sel="$here/selftest"
keys="$here/keys"
mkdir -p "$sel" "$keys"

for n in legacy-v2 raw chain; do
	for ext in insn data sig; do cp "$fix/blobs/$n.$ext" "$sel/$n.$ext"; done
done
cp "$fix/keys/test-rsa2048.crt.der" "$sel/test-rsa2048.crt.der"

mkcert() { # name keygen-args...
	local name=$1
	shift
	if [ ! -s "$keys/$name.key.pem" ]; then
		openssl genpkey "$@" -out "$keys/$name.key.pem" 2>/dev/null
	fi
	openssl req -new -x509 -key "$keys/$name.key.pem" -subj "/CN=bpfsig oracle test $name/" -days 36500 \
		-set_serial 0x$(echo -n "$name" | sha256sum | cut -c1-16) \
		-addext "subjectKeyIdentifier=hash" -addext "keyUsage=critical,digitalSignature" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-outform DER -out "$keys/$name.crt.der" 2>/dev/null
	openssl x509 -inform DER -in "$keys/$name.crt.der" -out "$keys/$name.crt.pem"
}
mkcert other-rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
mkcert rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
mkcert rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
mkcert p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve
mkcert p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve
cp "$keys/other-rsa2048.crt.der" "$sel/other-rsa2048.crt.der"
cp "$keys/p256.crt.der" "$sel/p256.crt.der"

insn="$sel/legacy-v2.insn"
key="$fix/keys/test-rsa2048.key.pem"
crt="$fix/keys/test-rsa2048.crt.pem"
sign() { # out signer key extra-args...
	local out=$1 signer=$2 k=$3
	shift 3
	openssl cms -sign -binary -in "$insn" -signer "$signer" -inkey "$k" -md sha256 -outform DER -out "$sel/$out" "$@"
}
sign ecdsa-p256.sig "$keys/p256.crt.pem" "$keys/p256.key.pem" -noattr -nosmimecap -nocerts -keyid
sign attrs.sig "$crt" "$key" -nosmimecap -nocerts -keyid
sign issuer-serial.sig "$crt" "$key" -noattr -nosmimecap -nocerts
sign embedded-cert.sig "$crt" "$key" -noattr -nosmimecap -keyid
sign smimecap.sig "$crt" "$key" -nocerts -keyid
sign nodetach.sig "$crt" "$key" -noattr -nosmimecap -nocerts -keyid -nodetach
echo "gen.sh: wrote $sel and $keys"
