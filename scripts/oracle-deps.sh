#!/usr/bin/env bash
# oracle-deps.sh — install what the kernel oracle (internal/oracle) needs, idempotently.
#
#   * qemu-system-x86 (qemu-system-x86_64; software emulation, no KVM required)
#   * clang + llvm (only to rebuild internal/oracle/bpf/oracle.bpf.o; the object is committed)
#   * Debian's linux-image-6.12.*+deb12-amd64-unsigned kernel, fetched with `apt-get download` and unpacked
#     with `dpkg-deb -x` into a cache directory — never installed into the host's /boot. Only vmlinuz and the
#     kernel config are kept.
#
# Cache dir: $BPFSIG_ORACLE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/bpfsig/oracle.
# Set BPFSIG_ORACLE_NO_CLANG=1 to skip clang/llvm.
set -euo pipefail

cache="${BPFSIG_ORACLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfsig/oracle}"
mkdir -p "$cache"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

updated=""
apt_update() {
	if [ -z "$updated" ]; then
		$SUDO apt-get update -qq >/dev/null
		updated=1
	fi
}

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
if [ "${BPFSIG_ORACLE_NO_CLANG:-}" != 1 ]; then
	command -v clang >/dev/null 2>&1 || need+=(clang)
	command -v llvm-strip >/dev/null 2>&1 || need+=(llvm)
fi
if [ ${#need[@]} -gt 0 ]; then
	apt_update
	$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || { echo "oracle-deps: apt-get install ${need[*]} failed" >&2; exit 1; }
fi

if [ -s "$cache/vmlinuz" ] && [ -s "$cache/config" ]; then
	echo "oracle-deps: kernel cached in $cache ($(cat "$cache/version" 2>/dev/null || echo unknown))"
	exit 0
fi

pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null | awk '{print $1}' | sort -V | tail -1 || true)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
fi
if [ -z "$pkg" ]; then
	echo "oracle-deps: no linux-image-6.12.*+deb12-amd64-unsigned package found (is bookworm-backports or bookworm-updates in sources?)" >&2
	exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
# apt-get download drops to the _apt user, which must be able to write the directory.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
dpkg-deb -x "$tmp"/*.deb "$tmp/root"
ver=${pkg#linux-image-}
ver=${ver%-unsigned}
cp "$tmp/root/boot/vmlinuz-$ver" "$cache/vmlinuz.tmp"
cp "$tmp/root/boot/config-$ver" "$cache/config"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
echo "$ver" >"$cache/version"

# The oracle needs these built in (=y): modules would have to be loaded from the initramfs.
for opt in CONFIG_SYSTEM_DATA_VERIFICATION CONFIG_BPF_LSM CONFIG_BPF_SYSCALL CONFIG_BPF_JIT \
	CONFIG_DEBUG_INFO_BTF CONFIG_KEYS CONFIG_ASYMMETRIC_KEY_TYPE CONFIG_ASYMMETRIC_PUBLIC_KEY_SUBTYPE \
	CONFIG_X509_CERTIFICATE_PARSER CONFIG_PKCS7_MESSAGE_PARSER CONFIG_CRYPTO_RSA CONFIG_CRYPTO_ECDSA \
	CONFIG_CRYPTO_SHA256 CONFIG_SERIAL_8250_CONSOLE CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP; do
	v=$(grep -E "^$opt=" "$cache/config" | cut -d= -f2 || true)
	case "$v" in
	y) ;;
	*) echo "oracle-deps: warning: $opt=${v:-unset} in $ver (the oracle expects =y)" >&2 ;;
	esac
done
grep -E '^CONFIG_LSM=' "$cache/config" | grep -q bpf || echo "oracle-deps: warning: bpf not in default CONFIG_LSM" >&2
echo "oracle-deps: kernel $ver cached in $cache"
