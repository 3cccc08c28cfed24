#!/usr/bin/env bash
# A long local run of one fuzz target (tests/fuzz/README).
#
#   tests/fuzz/run_long.sh BUILD_DIR TARGET SECONDS [WORK_DIR]
#
# BUILD_DIR is a clang build configured with -DCTPLAN_FUZZ=ON (targets
# built with `cmake --build BUILD_DIR --target fuzz`).  The run is nice
# -n 19 and in fork mode: a crash, timeout or out-of-memory is saved in
# WORK_DIR/crashes/ and fuzzing goes on.  The corpus it grows stays in
# WORK_DIR/corpus/TARGET for the next run; the seeds are made anew from
# samples/.  The binary is copied first, so a rebuild during the run does
# not change what runs.  Prints the wall time it ran, the CPU time it got
# (user + system of the fuzzer and its forked children: less than the
# wall time when other work shares the cores) and what it found.
# RSS_LIMIT_MB (default 2048) caps each input's memory; lower it when
# many targets run at once.
set -euo pipefail
# nice alone does not yield to other work where the kernel groups tasks
# by session (CONFIG_SCHED_AUTOGROUP, kernel.sched_autogroup_enabled=1,
# as on Debian): a fuzzer's session then weighs as much as a benchmark's.
# So run in a session of our own and lower that session's group too
# (measured here: 13 niced fuzzers in their own sessions made a 0.9 s
# analysis take 7 s; with the group at 19 it took 0.9 s again).
if [ -z "${CTPLAN_FUZZ_SESSION:-}" ] && command -v setsid >/dev/null; then
	CTPLAN_FUZZ_SESSION=1 exec setsid -w "$0" "$@"
fi
echo 19 >/proc/self/autogroup 2>/dev/null || true
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 target=$2 secs=$3
work=${4:-$build/tests/fuzz/long}
exe=$build/tests/fuzz/fuzz_$target
[ -x "$exe" ] || { echo "run_long: $exe missing: build the 'fuzz' target" \
	"of a -DCTPLAN_FUZZ=ON clang build" >&2; exit 2; }
mkdir -p "$work/bin" "$work/corpus/$target" "$work/crashes"
cp "$exe" "$work/bin/fuzz_$target"
# (the seeds of every target are made; under load that took up to 30 min
# with 13 runs at once, so the clock starts after it)
python3 "$src/tests/fuzz/seeds.py" "$src" "$work/seeds-$target"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
# this target's files only: runs of other targets may share WORK_DIR
before=$(ls "$work/crashes" | grep -c "^$target-" || true)
/usr/bin/time -f '%U %S' -o "$work/$target.cpu" \
	nice -n 19 "$work/bin/fuzz_$target" -fork=1 -ignore_crashes=1 \
	-ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$secs" \
	-timeout=30 -rss_limit_mb="${RSS_LIMIT_MB:-2048}" -print_final_stats=1 \
	-dict="$src/tests/fuzz/ctplan.dict" \
	-artifact_prefix="$work/crashes/$target-" \
	"$work/corpus/$target" "$work/seeds-$target/seeds/$target" \
	>"$work/$target.log" 2>&1 || true
end=$(date +%s)
found=$(($(ls "$work/crashes" | grep -c "^$target-" || true) - before))
cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$work/$target.cpu")
echo "$target: ran $((end - start)) s ($cpu s CPU) from $(date -u -d "@$start" +%FT%TZ)," \
	"corpus $(ls "$work/corpus/$target" | wc -l) inputs," \
	"$found new crash/timeout/oom files; log $work/$target.log" |
	tee -a "$work/runs.txt"
