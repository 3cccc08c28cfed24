#!/usr/bin/env bash
# ctplan benchmark: the same dump through wc -l, an awk one-liner and
# ctplan, timed the same way (docs/performance.md explains the figures).
#
#   bench/run.sh [BUILD_DIR] [SIZES...]      e.g. bench/run.sh build 1M
#
# BUILD_DIR is a CMake build of this tree (default: build, as
# scripts/setup.sh makes it; CTPLAN_BENCH=ON, the default, builds
# gen_dump and bench_parse there).  SIZES default to 100k 1M 4M.  Dumps
# go to bench/data/ (git-ignored): ct-SIZE.txt, made once by gen_dump with
# seed 1, so every run and every machine reads the same bytes, plus the
# host's sysctl and uname lines, so the hash model runs now and at
# nf_conntrack_max.
#
# Each command runs RUNS times (default 5) after one untimed warm-up
# run (page cache); the table shows the median wall time, and of that
# run the CPU time (user + system: on a shared machine the wall time
# moves with the load, the CPU time much less) and the peak RSS
# (/usr/bin/time -v), then MB/s of dump text and the ratios of the wall
# times.  parse-only is bench_parse: reading and finalize, no model,
# timed inside the process.  Then bench_parts shows, from one run, how
# the full analysis splits into parsing, each model and the report.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build}
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(100k 1M 4M)
runs=${RUNS:-5}
data=$src/bench/data
ctplan=$build/ctplan
gen=$build/bench/gen_dump
parse=$build/bench/bench_parse
parts=$build/bench/bench_parts
# every awk installed: mawk is Debian's default awk, gawk the one of
# most other distributions; the ratios are given against each
if [ -z "${AWKS:-}" ]; then
	AWKS=""
	for a in mawk gawk busybox-awk; do
		command -v "$a" >/dev/null && AWKS="$AWKS $a"
	done
	[ -n "$AWKS" ] || AWKS=awk
fi
read -r -a awks <<<"$AWKS"

for t in "$ctplan" "$gen" "$parse" "$parts"; do
	[ -x "$t" ] || { echo "run.sh: $t missing: build with" \
		"scripts/setup.sh (CTPLAN_BENCH=ON)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time missing" \
	"(Debian package 'time'; scripts/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$data"

# entries of a size name: 100k, 1M, 4M
count() {
	case $1 in
	*k) echo $((${1%k} * 1000)) ;;
	*M) echo $((${1%M} * 1000000)) ;;
	*) echo "$1" ;;
	esac
}

# The awk one-liner: entries per protocol and TCP state, and source ports
# the NAT remapped (original sport != reply dport).  Fields by position,
# as conntrack -L prints them: proto num timeout [STATE] src dst sport
# dport [UNREPLIED] src dst sport dport; only TCP prints a state.
# shellcheck disable=SC2016
awk_prog='{
	if ($1 == "tcp") { st = $4; o = 7; r = 9 } else { st = "-"; o = 6; r = 8 }
	n[$1 " " st]++
	if ($r == "[UNREPLIED]") r++
	if (substr($o, 1, 6) == "sport=" && substr($o, 7) != substr($(r + 3), 7))
		remap++
}
END { for (k in n) print k, n[k]; print "remapped", remap + 0 }'

# time_cmd LABEL CMD...: RUNS timed runs; prints "median_s rss_kb cpu_s"
# of the run with the median wall time
time_cmd() {
	local label=$1 i
	shift
	"$@" >/dev/null 2>&1 || { echo "run.sh: '$label' failed:" "$@" >&2
		"$@" >/dev/null; exit 1; }
	: >"$tmp/$label.times"
	for ((i = 0; i < runs; i++)); do
		# wall time in microseconds from bash (time -v rounds to
		# 10 ms); the peak RSS from time -v of the same run
		t0=$EPOCHREALTIME
		/usr/bin/time -v -o "$tmp/t" "$@" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		awk -F': ' -v t0="$t0" -v t1="$t1" '
			/Maximum resident set size/ { m = $2 }
			/User time|System time/ { c += $2 }
			END { printf "%.4f %s %.2f\n", t1 - t0, m, c }' \
			"$tmp/t" >>"$tmp/$label.times"
	done
	sort -n "$tmp/$label.times" | awk -v n="$runs" \
		'NR == int((n + 1) / 2) { print $1, $2, $3 }'
}

# paired A B: RUNS pairs, A then B then A..., alternating which goes
# first; prints the median of the per-pair ratios B/A and their range.
# A pair shares the machine's state (load, frequency, cache), so the
# ratio holds better than a ratio of medians taken apart.
paired() {
	local i t0 t1 t2 a b
	: >"$tmp/pairs"
	for ((i = 0; i < runs; i++)); do
		if ((i % 2)); then
			t0=$EPOCHREALTIME; "${pb[@]}" >/dev/null 2>&1 || true
			t1=$EPOCHREALTIME; "${pa[@]}" >/dev/null 2>&1
			t2=$EPOCHREALTIME
			b=$(awk -v x="$t0" -v y="$t1" 'BEGIN { print y - x }')
			a=$(awk -v x="$t1" -v y="$t2" 'BEGIN { print y - x }')
		else
			t0=$EPOCHREALTIME; "${pa[@]}" >/dev/null 2>&1
			t1=$EPOCHREALTIME; "${pb[@]}" >/dev/null 2>&1 || true
			t2=$EPOCHREALTIME
			a=$(awk -v x="$t0" -v y="$t1" 'BEGIN { print y - x }')
			b=$(awk -v x="$t1" -v y="$t2" 'BEGIN { print y - x }')
		fi
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f %.4f %.4f\n",
			b / a, a, b }' >>"$tmp/pairs"
	done
	sort -n "$tmp/pairs" | awk -v n="$runs" '
		NR == 1 { lo = $1 } { hi = $1 }
		NR == int((n + 1) / 2) { m = $1; ma = $2; mb = $3 }
		END { printf "%.3f (range %.3f - %.3f; that pair %.3f s / %.3f s)\n",
			m, lo, hi, mb, ma }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "ctplan benchmark: $(nproc) CPUs, $(uname -r), $runs runs each, median"
for a in "${awks[@]}"; do
	echo "  $a: $("$a" -W version 2>&1 | head -1 | cut -c1-60)"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${sizes[@]}"; do
	n=$(count "$size")
	dump=$data/ct-$size.txt
	if [ ! -s "$dump" ]; then
		"$gen" -s 1 -n "$n" -o "$dump"
	fi
	# the host around the table: a limit 1.25x the entries, four
	# entries a bucket at the limit (a Debian 12 kernel)
	max=$(( (n * 5 / 4 + 65535) / 65536 * 65536 ))
	printf 'net.netfilter.nf_conntrack_max = %d\n' "$max" \
		>"$data/sysctl-$size.txt"
	printf 'net.netfilter.nf_conntrack_buckets = %d\n' $((max / 4)) \
		>>"$data/sysctl-$size.txt"
	echo "Linux node-1 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian" \
		"6.1.115-1 (2024-11-01) x86_64 GNU/Linux" >"$data/uname.txt"
	ctx=("$data/sysctl-$size.txt" "$data/uname.txt")
	bytes=$(stat -c %s "$dump")
	mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

	echo
	echo "== $size entries: $dump, $mb MB =="
	read -r wc_s wc_m wc_c < <(time_cmd wc wc -l "$dump")
	awk_rows=""
	for a in "${awks[@]}"; do
		read -r s m c < <(time_cmd "$a" "$a" "$awk_prog" "$dump")
		awk_rows="$awk_rows $a:$s:$m:$c"
	done
	read -r full_s full_m full_c < <(time_cmd full "$ctplan" analyze -q \
		-o /dev/null "$dump" "${ctx[@]}")
	read -r nohash_s nohash_m nohash_c < <(time_cmd nohash "$ctplan" \
		analyze -q --no-hash -o /dev/null "$dump" "${ctx[@]}")
	# parse-only: bench_parse's own clock, median of the runs
	for ((i = 0; i < runs; i++)); do
		"$parse" "$dump"
	done >"$tmp/parse.out"
	parse_s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' "$tmp/parse.out" |
		sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)')
	read -r _ parse_m parse_c < <(time_cmd parse "$parse" "$dump")

	awk -v mb="$mb" -v n="$n" -v wc="$wc_s" -v awks="$awk_rows" \
		-v full="$full_s" -v nh="$nohash_s" -v ps="$parse_s" \
		-v wcm="$wc_m" -v fm="$full_m" -v nhm="$nohash_m" \
		-v pm="$parse_m" -v wcc="$wc_c" -v fc="$full_c" \
		-v nhc="$nohash_c" -v pc="$parse_c" 'BEGIN {
		na = split(awks, a, " ")
		for (i = 1; i <= na; i++) {
			split(a[i], f, ":")
			an[i] = f[1]; as[i] = f[2]; am[i] = f[3]; ac[i] = f[4]
		}
		printf "%-26s %7s %6s %8s %6s %7s", "command", "wall s",
			"cpu s", "RSS MiB", "MB/s", "x wc"
		for (i = 1; i <= na; i++)
			printf " %7s", "x " an[i]
		printf "\n"
		row("wc -l", wc, wcc, wcm)
		for (i = 1; i <= na; i++)
			row("awk one-liner (" an[i] ")", as[i], ac[i], am[i])
		row("ctplan analyze", full, fc, fm)
		row("ctplan analyze --no-hash", nh, nhc, nhm)
		row("parse only (bench_parse)", ps, pc, pm)
		printf "RSS budget 96 B/entry + 32 MiB: %.1f MiB\n",
			(96 * n) / 1048576 + 32
	}
	function row(name, s, c, kb,    i) {
		printf "%-26s %7.3f %6.2f %8.1f %6.0f %7.1f", name, s, c,
			kb / 1024, (s > 0 ? mb / s : 0), s / wc
		for (i = 1; i <= na; i++)
			printf " %7.2f", s / as[i]
		printf "\n"
	}'
	echo "$size $full_s" >>"$tmp/full.sizes"
	# the target's own figure (issue 19): ctplan analyze over the first
	# awk's one-liner, paired runs, alternating
	pa=("${awks[0]}" "$awk_prog" "$dump")
	pb=("$ctplan" analyze -q -o /dev/null "$dump" "${ctx[@]}")
	echo "paired, ctplan analyze / ${awks[0]} one-liner, $runs pairs," \
		"median: $(paired)"
	echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
	# where the full analysis spends it: one run of bench_parts
	echo "parts of the full analysis (bench_parts, one run):"
	"$parts" "$dump" "${ctx[@]}" | sed 's/^/  /'
done
# growth: each size over the one a quarter of it (linear: 4)
awk '{ t[$1] = $2 } END {
	if ("1M" in t && "4M" in t)
		printf "\n4M / 1M full analysis time: %.2f (linear: 4)\n",
			t["4M"] / t["1M"]
	if ("4M" in t && "16M" in t)
		printf "16M / 4M full analysis time: %.2f (linear: 4)\n",
			t["16M"] / t["4M"] }' "$tmp/full.sizes"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
