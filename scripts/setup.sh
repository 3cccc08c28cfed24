#!/usr/bin/env bash
# Install what is missing (Debian packages, only when absent), then
# configure and build ctplan with CMake.
#
#   scripts/setup.sh [--test] [BUILD_DIR] [extra cmake args...]
#
# Without --test: only what building and running ctplan need (README
# command 1, scripts/quickstart.sh).  With --test: also what the test
# suite, the lab tests, the fuzz targets and the benchmark need (README
# command 2, scripts/test.sh).  Needs root (or sudo) only when a package
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
if [ "${1:-}" = --test ]; then
	with_tests=1
	shift
fi
build=${1:-build}
shift || true

# Build and run: the compiler and CMake, and the libraries ctplan links:
# PCRE2, jansson (the JSON report), libcsv (CSV quoting), libarchive
# (support bundles: tar, gzip, xz), zlib (the gzip trailer's check,
# parsers/bundle.c).  libc6-dev and make come with
# build-essential only as recommends of gcc, so they are named.
pkgs=(gcc libc6-dev make cmake pkg-config libpcre2-dev libjansson-dev
      libcsv-dev libarchive-dev zlib1g-dev)
# Tests: cmocka (unit tests).  The lab tests (tests/lab) drive the real
# kernel with conntrack, iptables/nft and iproute2; python3 reads the
# reference counts out of conntrack's -o xml and makes the traffic.  The
# HTML report test renders in chromium.  bench/run.sh reads peak memory
# from time's /usr/bin/time -v.  The fuzz targets (tests/fuzz) need clang
# and libFuzzer, which Debian ships in libclang-rt-14-dev;
# tests/cli/test_no_exec.sh traces ctplan with strace; the kernel log
# tests read journal exports (systemd-journal-remote).  The man page test
# renders man/ctplan.1 with groff (groff-base).
if [ "$with_tests" = 1 ]; then
	pkgs+=(libcmocka-dev conntrack iptables nftables iproute2 python3
	       chromium time systemd-journal-remote clang libclang-rt-14-dev
	       strace groff-base)
fi
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

# without --test the suite is not configured (it needs cmocka)
tests=OFF
if [ "$with_tests" = 1 ]; then tests=ON; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCTPLAN_TESTS=$tests "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
