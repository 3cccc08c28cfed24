#!/usr/bin/env bash
# Install what is missing (Debian packages, only when absent), then
# configure and build ctplan with CMake.
#
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
#
# Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
shift || true

# Build and test dependencies.  The lab tests (tests/lab) drive the real
# kernel with conntrack, iptables/nft and iproute2; python3 reads the
# reference counts out of conntrack's -o xml.  libarchive reads support
# bundles (tar, gzip, xz); the HTML report test renders in chromium.
# bench/run.sh reads peak memory from time's /usr/bin/time -v.  The fuzz
# targets (tests/fuzz) need clang and libFuzzer, which Debian ships in
# libclang-rt-14-dev; tests/cli/test_no_exec.sh traces ctplan with strace.
pkgs=(build-essential cmake pkg-config libpcre2-dev libjansson-dev
      libcsv-dev libcmocka-dev libarchive-dev conntrack iptables nftables
      iproute2 python3 chromium time systemd-journal-remote
      clang libclang-rt-14-dev strace)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}" >&2
	sudo=""
	if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
