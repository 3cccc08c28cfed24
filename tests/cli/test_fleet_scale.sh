#!/usr/bin/env bash
# ctplan fleet at scale (issue 17): 200 small bundles made from the
# samples, varied (listing length, max, buckets, kernel, name; folders,
# tar.gz archives, ctplan-collect folders that state their capture
# time).  fleet -j 2 gives the same table as -j 1; the xargs map/reduce
# (analyze --format json per bundle, then fleet over the saved reports)
# gives the same table as fleet over the bundles; reports and bundles
# mix; a bad path in the middle reports the same way for any -j; the
# progress line shows on a terminal only.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
# the entries alone (no "N flow entries have been shown" to cut)
grep '^ipv' samples/lab-6.18/conntrack_-L_-o_extended | grep -v 'flow entries' \
	>"$tmp/listing"
L=$tmp/listing
nl=$(wc -l <"$L")

mkdir "$tmp/bundles" "$tmp/out" "$tmp/stage"
for i in $(seq 1 200); do
	n=$(printf 'host%03d' "$i")
	case $((i % 4)) in
	0) d=$tmp/stage/$n ;;                          # becomes $n.tar.gz
	1) d=$tmp/bundles/ctplan-$n-20261207T$(printf '%02d' $((i % 24)))0102Z ;;
	*) d=$tmp/bundles/$n ;;
	esac
	mkdir -p "$d"
	head -n $((1 + i % nl)) $L >"$d/conntrack_-L_-o_extended"
	{
		echo "net.netfilter.nf_conntrack_max = $((64 + i * 7))"
		echo "net.netfilter.nf_conntrack_buckets = $((16 << (i % 5)))"
		echo "net.netfilter.nf_conntrack_count = $((1 + i % nl))"
	} >"$d/sysctl_-a"
	# a third name themselves in uname, the rest by their path
	if [ $((i % 3)) = 0 ]; then
		echo "Linux $n-node 6.$((i % 12)).0-$i-amd64 #1 SMP x86_64 GNU/Linux" \
			>"$d/uname_-a"
	fi
	if [ $((i % 4)) = 0 ]; then
		tar -C "$tmp/stage" -czf "$tmp/bundles/$n.tar.gz" "$n"
	fi
done
[ "$(ls "$tmp/bundles" | wc -l)" = 200 ] || fail "200 bundles made"

# ---- -j 2 and -j 1: the same table, in input order
"$ctplan" fleet --no-hash -j 2 "$tmp"/bundles/* >"$tmp/j2.csv" 2>"$tmp/j2.err" ||
	fail "fleet -j 2: exit $?: $(head -3 "$tmp/j2.err")"
"$ctplan" fleet --no-hash -j1 "$tmp"/bundles/* >"$tmp/j1.csv" 2>"$tmp/j1.err" ||
	fail "fleet -j 1: exit $?"
[ "$(wc -l <"$tmp/j2.csv")" = 201 ] || fail "fleet -j 2: $(wc -l <"$tmp/j2.csv") lines, want 201"
cmp -s "$tmp/j1.csv" "$tmp/j2.csv" || fail "fleet -j 2 differs from -j 1"
[ -s "$tmp/j2.err" ] && fail "fleet -j 2: stderr: $(head -3 "$tmp/j2.err")"
python3 - "$tmp/j2.csv" <<'PY' || fail "fleet -j 2 rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
names = [r["host"] for r in rows]
assert len(set(names)) == 200, "names repeat"
by = {r["host"]: r for r in rows}
assert by["host003-node"]["kernel"] == "6.3.0-3-amd64", by["host003-node"]
assert by["host003-node"]["max"] == str(64 + 3 * 7)
assert by["host004"]["max"] == str(64 + 4 * 7), by["host004"]   # tar.gz
c5 = by["ctplan-host005-20261207T050102Z"]                     # collector
assert c5["buckets"] == str(16 << 0) and c5["kernel"] == "", c5
PY

# ---- the map step with xargs -P 2, the reduce step over the reports
(cd "$tmp/bundles" && ls) | xargs -P2 -I{} "$ctplan" analyze -q --no-hash \
	--format json -o "$tmp/out/{}.json" "$tmp/bundles/{}" ||
	fail "xargs map: exit $?"
[ "$(ls "$tmp/out" | wc -l)" = 200 ] || fail "xargs map: reports"
"$ctplan" fleet "$tmp"/out/*.json >"$tmp/reduce.csv" 2>"$tmp/err" ||
	fail "fleet over the reports: exit $?: $(head -3 "$tmp/err")"
cmp -s "$tmp/reduce.csv" "$tmp/j2.csv" ||
	fail "xargs map/reduce differs from fleet -j 2: $(diff "$tmp/reduce.csv" "$tmp/j2.csv" | head -4)"
# reports and bundles mixed, in any -j
# (the reports sort as their bundles do: the rows above are the same)
R=("$tmp"/out/*.json)
B=("$tmp"/bundles/*)
"$ctplan" fleet -j 3 --no-hash "${R[@]:0:5}" "${B[@]:100:10}" \
	>"$tmp/mix.csv" || fail "fleet over reports and bundles: exit $?"
{ sed -n 1,6p "$tmp/j2.csv"; sed -n 102,111p "$tmp/j2.csv"; } |
	cmp -s - "$tmp/mix.csv" || fail "reports and bundles mixed: rows"

# ---- the capture time a ctplan-collect folder states, in the report
python3 - "$tmp/out/ctplan-host005-20261207T050102Z.json" <<'PY' ||
import json, sys
h = json.load(open(sys.argv[1]))["host"]
assert h["captured_at"] == "2026-12-07T05:01:02Z", h
assert h["captured_from"] == "ctplan-host005-20261207T050102Z", h
assert h["name"] == "ctplan-host005-20261207T050102Z", h
PY
	fail "captured_at of a ctplan-collect folder"
python3 -c 'import json, sys
h = json.load(open(sys.argv[1]))["host"]
assert h["captured_at"] is None and h["name"] == "host002", h
t = json.load(open(sys.argv[1]))["tool"]
assert t["name"] == "ctplan" and t["version"], t' "$tmp/out/host002.json" ||
	fail "host002: no capture time, named by its path"

# ---- a bad path and a bad report in the middle: reported in input
# order, the same for any -j; the other rows stay
echo '{"schema": "something/else"}' >"$tmp/other.json"
echo '{ not json' >"$tmp/broken.json"
set -- "${B[@]:10:6}" /nonexistent "$tmp/other.json" "${B[@]:20:6}" \
	"$tmp/broken.json"
"$ctplan" fleet --no-hash -j 1 "$@" >"$tmp/b1.csv" 2>"$tmp/b1.err"
rc1=$?
"$ctplan" fleet --no-hash -j 4 "$@" >"$tmp/b4.csv" 2>"$tmp/b4.err"
rc4=$?
[ $rc1 = 2 ] && [ $rc4 = 2 ] || fail "bad paths: exit $rc1 / $rc4, want 2"
cmp -s "$tmp/b1.csv" "$tmp/b4.csv" || fail "bad paths: rows differ by -j"
cmp -s "$tmp/b1.err" "$tmp/b4.err" ||
	fail "bad paths: messages differ by -j: $(diff "$tmp/b1.err" "$tmp/b4.err")"
[ "$(wc -l <"$tmp/b4.csv")" = 13 ] || fail "bad paths: rows $(wc -l <"$tmp/b4.csv")"
grep -q "^/nonexistent: cannot read" "$tmp/b4.err" || fail "bad path message"
grep -q "other.json: not a ctplan report: schema 'something/else'" \
	"$tmp/b4.err" || fail "foreign JSON message: $(cat "$tmp/b4.err")"
grep -q "broken.json:1:.*cannot read the JSON report" "$tmp/b4.err" ||
	fail "broken JSON message: $(cat "$tmp/b4.err")"
[ "$(sed -n 1p "$tmp/b4.err" | cut -d: -f1)" = /nonexistent ] ||
	fail "bad paths: messages out of input order"

# ---- a worker that dies (here: killed while it waits on a FIFO) costs
# its row only, and says why
mkfifo "$tmp/fifo"
exec 7<>"$tmp/fifo" # a writer that never writes: the reader waits
"$ctplan" fleet --no-hash -j 2 "${B[@]:0:3}" "$tmp/fifo" "${B[@]:3:3}" 7>&- \
	>"$tmp/k.csv" 2>"$tmp/k.err" &
fleet=$!
victim=""
for _ in $(seq 1 100); do
	for c in $(pgrep -P "$fleet"); do
		ls -l "/proc/$c/fd" 2>/dev/null | grep -q "$tmp/fifo" && victim=$c
	done
	[ -n "$victim" ] && break
	sleep 0.1
done
if [ -n "$victim" ]; then
	kill -9 "$victim"
	wait "$fleet"
	rc=$?
	[ $rc = 2 ] || fail "killed worker: exit $rc, want 2"
	[ "$(wc -l <"$tmp/k.csv")" = 7 ] || fail "killed worker: rows $(wc -l <"$tmp/k.csv")"
	grep -q "^$tmp/fifo: the analysis died of signal 9" "$tmp/k.err" ||
		fail "killed worker: message: $(cat "$tmp/k.err")"
else
	kill "$fleet"
	fail "no worker opened the FIFO"
fi
exec 7>&-

# ---- progress: on a terminal only
if command -v script >/dev/null; then
	script -qec "'$ctplan' fleet --no-hash -j 2 $tmp/bundles/host1* >/dev/null" \
		/dev/null >"$tmp/tty" 2>&1
	grep -q 'ctplan fleet: [0-9]*/[0-9]* hosts, 0 failed' "$tmp/tty" ||
		fail "no progress on a terminal"
	grep -q 'hosts, 0 failed' "$tmp/j2.err" && fail "progress in a file"
fi

finish "fleet at scale: all checks passed"
