#!/usr/bin/env bash
# ctplan fleet -j 2 against -j 1 over 200 small bundles (issue 17: the
# target is at least 1.8 times faster on a 2-core machine).
#
#   bench/fleet.sh [BUILD_DIR]        RUNS=7 by default
#
# The bundles are made once from samples/lab-6.18, varied as in
# tests/cli/test_fleet_scale.sh (listing length, max, buckets, names;
# folders and tar.gz), into a temporary folder.  The analysis is the
# full one (the hash model on), as an operator runs it.  Each run is a
# pair, -j 1 and -j 2, in alternating order so a drift in the machine's
# load falls on both; the table shows each pair, then the medians of the
# times and of the per-pair speed-ups.  The load average is printed
# before and after: on a shared machine the figure means something only
# when the load stayed under 1 (other work steals the second core).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ctplan=$PWD/$build/ctplan
runs=${RUNS:-7}
[ -x "$ctplan" ] || { echo "bench/fleet.sh: no $ctplan" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep '^ipv' samples/lab-6.18/conntrack_-L_-o_extended |
	grep -v 'flow entries' >"$tmp/listing"
nl=$(wc -l <"$tmp/listing")
mkdir "$tmp/b" "$tmp/stage"
for i in $(seq 1 200); do
	n=$(printf 'host%03d' "$i")
	d=$tmp/b/$n
	[ $((i % 4)) = 0 ] && d=$tmp/stage/$n
	mkdir -p "$d"
	head -n $((1 + i % nl)) "$tmp/listing" >"$d/conntrack_-L_-o_extended"
	{
		echo "net.netfilter.nf_conntrack_max = $((65536 + i * 512))"
		echo "net.netfilter.nf_conntrack_buckets = $((16384 << (i % 3)))"
	} >"$d/sysctl_-a"
	echo "Linux $n 6.$((i % 12)).0-$i-amd64 #1 SMP x86_64 GNU/Linux" \
		>"$d/uname_-a"
	[ $((i % 4)) = 0 ] && tar -C "$tmp/stage" -czf "$tmp/b/$n.tar.gz" "$n"
done

now() { date +%s.%N; }
run() { # run J: wall seconds of one fleet -j J over the bundles; the CPU
	# seconds (user + system, workers included) go to $tmp/cpu-J
	local t0 t1
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$tmp/time-$1" \
		"$ctplan" fleet -j "$1" "$tmp"/b/* >"$tmp/out-$1.csv"
	t1=$(now)
	awk '{ print $1 + $2 }' "$tmp/time-$1" >"$tmp/cpu-$1"
	echo "$t1 - $t0" | bc -l
}

echo "ctplan fleet over 200 bundles: -j 1 against -j 2, $runs paired runs"
echo "machine: $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run 1 >/dev/null # warm-up: page cache, binary
# cores used = CPU s / wall s: a -j 2 run that got less than 2 shared
# the machine with other work
printf '%-4s %10s %10s %8s %11s %11s\n' run "-j 1 s" "-j 2 s" speed-up \
	"cores -j 1" "cores -j 2"
: >"$tmp/t"
for r in $(seq 1 "$runs"); do
	if [ $((r % 2)) = 1 ]; then
		a=$(run 1); b=$(run 2)
	else
		b=$(run 2); a=$(run 1)
	fi
	s=$(echo "$a / $b" | bc -l)
	c1=$(echo "$(cat "$tmp/cpu-1") / $a" | bc -l)
	c2=$(echo "$(cat "$tmp/cpu-2") / $b" | bc -l)
	printf '%-4s %10.2f %10.2f %8.2f %11.2f %11.2f\n' "$r" "$a" "$b" "$s" \
		"$c1" "$c2"
	echo "$a $b $s" >>"$tmp/t"
done
cmp -s "$tmp/out-1.csv" "$tmp/out-2.csv" ||
	{ echo "bench/fleet.sh: -j 1 and -j 2 tables differ" >&2; exit 1; }
med() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf 'median %8.2f %10.2f %8.2f\n' "$(cut -d' ' -f1 "$tmp/t" | med)" \
	"$(cut -d' ' -f2 "$tmp/t" | med)" "$(cut -d' ' -f3 "$tmp/t" | med)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rows: $(($(wc -l <"$tmp/out-2.csv") - 1)), the same for -j 1 and -j 2"
