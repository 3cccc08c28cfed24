#!/usr/bin/env bash
# Speed work must not move a figure: the report of each benchmark dump
# (with its sysctl and uname, so the hash model runs now and at max)
# is compared with the copy saved in bench/expected/ before the speed
# work of issue 19.  The text report byte for byte (every figure at its
# printed precision), and the JSON report by its SHA-256 (every figure
# at full precision; bench/expected/README says which commit made it,
# to regenerate and diff it).  The samples and lab captures are the
# golden test's (tests/cli/test_golden.sh).
#
#   bench/same_report.sh [BUILD_DIR] [SIZES...]     default: build 100k 1M
#   UPDATE=1 bench/same_report.sh build 1M          save new copies
#   BASE=/tmp/base/build bench/same_report.sh build 1M
#
# With BASE, the copies are made first by that build (of the commit
# before a speed change), so the comparison holds while main moves on
# with changes that are meant to move the report.
#
# The dumps are bench/run.sh's: ct-SIZE.txt from gen_dump seed 1, made
# here if missing, with the same sysctl and uname lines.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(100k 1M)
data=bench/data
exp=$PWD/bench/expected
mkdir -p "$data"
count() {
	case $1 in
	*k) echo $((${1%k} * 1000)) ;;
	*M) echo $((${1%M} * 1000000)) ;;
	*) echo "$1" ;;
	esac
}
fail=0
for size in "${sizes[@]}"; do
	n=$(count "$size")
	[ -s "$data/ct-$size.txt" ] ||
		"$build/bench/gen_dump" -s 1 -n "$n" -o "$data/ct-$size.txt"
	# as bench/run.sh writes them
	max=$(((n * 5 / 4 + 65535) / 65536 * 65536))
	printf 'net.netfilter.nf_conntrack_max = %d\n' "$max" \
		>"$data/sysctl-$size.txt"
	printf 'net.netfilter.nf_conntrack_buckets = %d\n' $((max / 4)) \
		>>"$data/sysctl-$size.txt"
	echo "Linux node-1 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian" \
		"6.1.115-1 (2024-11-01) x86_64 GNU/Linux" >"$data/uname.txt"
	# relative paths: the report names its inputs
	args=("ct-$size.txt" "sysctl-$size.txt" uname.txt)
	text=$(cd "$data" && "$build/ctplan" analyze "${args[@]}") || [ $? -le 1 ]
	sum=$(cd "$data" && "$build/ctplan" analyze --format json \
		"${args[@]}" | sha256sum | cut -d' ' -f1)
	if [ -n "${BASE:-}" ]; then
		base=$(cd "$BASE" && pwd)
		(cd "$data" && "$base/ctplan" analyze "${args[@]}" \
			>"$exp/report-$size.txt") || [ $? -le 1 ]
		(cd "$data" && "$base/ctplan" analyze --format json \
			"${args[@]}" | sha256sum | cut -d' ' -f1 \
			>"$exp/report-$size.json.sha256")
	fi
	if [ -n "${UPDATE:-}" ]; then
		printf '%s\n' "$text" >"$exp/report-$size.txt"
		echo "$sum" >"$exp/report-$size.json.sha256"
		echo "same_report: saved $exp/report-$size.*"
		continue
	fi
	if ! diff -u "$exp/report-$size.txt" <(printf '%s\n' "$text"); then
		echo "same_report: $size: the text report moved" >&2
		fail=1
	elif [ "$sum" != "$(cat "$exp/report-$size.json.sha256")" ]; then
		echo "same_report: $size: the text report is the same, the" \
			"JSON report is not (a figure moved below its printed" \
			"precision; see $exp/README)" >&2
		fail=1
	else
		echo "same_report: $size: text and JSON reports unchanged"
	fi
done
exit $fail
