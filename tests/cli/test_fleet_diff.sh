#!/usr/bin/env bash
# ctplan fleet and ctplan diff on the real lab captures (samples/lab-6.18
# and samples/lab-6.18-acct: two captures of the lab host, the second
# with accounting on), one of them packed as an sosreport archive, and
# a copy of the capture grown by known amounts.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
s=samples/lab-6.18

# an sosreport archive of the first capture
r=$tmp/sosreport-lab2-2026-11-26-xyz
mkdir -p "$r/sos_commands/conntrack" "$r/sos_commands/kernel" "$r/proc"
cp $s/conntrack_-L_-o_extended $s/conntrack_-S "$r/sos_commands/conntrack/"
cp $s/uname_-a "$r/sos_commands/kernel/"
grep -v '^kernel.hostname' $s/sysctl_-a >"$r/sos_commands/kernel/sysctl_-a"
tar -C "$tmp" -czf "$r.tar.gz" "$(basename "$r")"
# a host near its limit: a warning
mkdir "$tmp/busy"
cp $s/conntrack_-L "$tmp/busy/"
echo "net.netfilter.nf_conntrack_max = 40" >"$tmp/busy/sysctl"

# ---- fleet, CSV
"$ctplan" fleet --no-hash samples/lab-6.18 samples/lab-6.18-acct \
	"$r.tar.gz" "$tmp/busy" >"$tmp/fleet.csv" 2>"$tmp/err" ||
	fail "fleet: exit $?: $(head -3 "$tmp/err")"
for p in samples/lab-6.18 samples/lab-6.18-acct "$r.tar.gz" "$tmp/busy"; do
	"$ctplan" analyze -q --no-hash --format csv "$p" | tail -1
done >"$tmp/rows.csv"
grep -q "^ctplan fleet: 3 hosts are named 'vm': their rows add the path$" \
	"$tmp/err" || fail "fleet: the shared name is not reported"
python3 - "$tmp/fleet.csv" "$tmp/rows.csv" "$r.tar.gz" <<'EOF' || fail "fleet rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert list(rows[0]) == ["host", "kernel", "count", "max", "buckets",
    "headroom_pct", "chain_p99", "chain_p99_at_max",
    "nat_worst_utilization", "failed_checks", "critical", "warnings"]
assert len(rows) == 4, rows
# three hosts say they are "vm" (uname -a): no two rows share a name
assert [r["host"] for r in rows] == [
    "vm (samples/lab-6.18)", "vm (samples/lab-6.18-acct)",
    "vm (" + sys.argv[3] + ")", "busy"], [r["host"] for r in rows]
assert rows[0]["kernel"] == "6.18.44-fc-v657", rows[0]
assert rows[0]["count"] == "35" and rows[0]["max"] == "262144"
assert rows[2]["count"] == "35" and rows[2]["max"] == "262144", rows[2]
assert rows[3]["max"] == "40" and int(rows[3]["warnings"]) >= 1, rows[3]
assert float(rows[0]["nat_worst_utilization"]) > 0
# each row is what analyze --format csv says of that host
one = list(csv.reader(open(sys.argv[2], newline="")))
for r, o in zip(rows, one):
    vals = list(r.values())
    assert vals[1:] == o[1:], (vals, o)
    assert vals[0] == o[0] or vals[0].startswith(o[0] + " ("), (vals, o)
EOF

# a path that fails: its error on stderr, the others still listed, exit 2
"$ctplan" fleet --no-hash samples/lab-6.18 /nonexistent >"$tmp/f2.csv" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "fleet with a bad path: exit $rc, want 2"
[ "$(wc -l <"$tmp/f2.csv")" -eq 2 ] || fail "fleet with a bad path: rows"
grep -q "^/nonexistent: cannot read" "$tmp/err" || fail "fleet: bad path message"

# ---- fleet, text: the worst hosts first
"$ctplan" fleet --no-hash --format text --top 2 samples/lab-6.18 "$tmp/busy" \
	samples/lab-6.18-acct >"$tmp/fleet.txt" || fail "fleet text"
grep -q '^ctplan fleet: 3 hosts, 0 with critical findings, 1 with warnings only$' "$tmp/fleet.txt" ||
	fail "fleet text summary: $(head -1 "$tmp/fleet.txt")"
sed -n '5p' "$tmp/fleet.txt" | grep -q -E '^  busy +35 +40 +12.5%' ||
	fail "fleet text: the busy host first: $(sed -n 5p "$tmp/fleet.txt")"
[ "$(grep -c '^  vm ' "$tmp/fleet.txt")" -eq 1 ] || fail "fleet text --top 2"
grep -q '^  vm (samples/lab-6.18) ' "$tmp/fleet.txt" ||
	fail "fleet text: the row name with its path"
awk 'length($0) > 100 { exit 1 }' "$tmp/fleet.txt" || fail "fleet text over 100 columns"

# ---- diff of the two real captures
"$ctplan" diff --format json $s samples/lab-6.18-acct >"$tmp/d.json" ||
	fail "diff of the captures"
"$ctplan" analyze -q --no-hash --format json samples/lab-6.18-acct >"$tmp/acct.json"
"$ctplan" analyze -q --no-hash --format json $s >"$tmp/lab.json"
python3 - "$tmp/d.json" "$tmp/lab.json" "$tmp/acct.json" <<'EOF' || fail "diff of the captures"
import json, sys
d, a, b = (json.load(open(p)) for p in sys.argv[1:])
assert d["schema"] == "ctplan.diff/1"
assert d["entries"] == {"old": 35, "new": 35, "delta": 0}, d["entries"]
assert all(p["delta"] == 0 for p in d["by_protocol"].values())
assert d["table"]["count"]["delta"] == 0
assert d["stats"]["found"] == {"old": 3, "new": 3, "delta": 0}
assert d["stats_reset"] is False
# the same flows were remapped in both captures, each time to another
# random port: all three remaps of the new capture are new
ra, rb = a["nat"]["remaps"], b["nat"]["remaps"]
key = lambda r: (r["protocol"], r["src"], r["sport"], r["nat_port"])
want = [r for r in rb if key(r) not in {key(x) for x in ra}]
assert [key(r) for r in d["nat"]["new_remaps"]] == [key(r) for r in want]
assert len(want) == 3, want
assert d["findings_new"] == [] and d["findings_gone"] == []
EOF
"$ctplan" diff $s samples/lab-6.18-acct >"$tmp/d.txt" || fail "diff text"
grep -q '^NAT remaps new in NEW$' "$tmp/d.txt" || fail "diff text: remaps heading"
grep -q -E '^  udp 198.18.0.3:29999 -> 203.0.113.2:53  left as 203.0.113.1:[0-9]+ \(port_taken\)$' "$tmp/d.txt" ||
	fail "diff text: the UDP remap"

# ---- diff: growth by known amounts
mkdir "$tmp/old" "$tmp/new"
cp $s/conntrack_-L $s/conntrack_-S "$tmp/old/"
echo "net.netfilter.nf_conntrack_max = 262144" >"$tmp/old/sysctl"
{
	cat $s/conntrack_-L
	# 4 more established TCP entries, 2 more UDP
	for p in 41001 41002 41003 41004; do
		echo "tcp      6 431999 ESTABLISHED src=198.18.0.9 dst=203.0.113.2 sport=$p dport=443 src=203.0.113.2 dst=203.0.113.1 sport=443 dport=$p [ASSURED] mark=0 use=1"
	done
	for p in 42001 42002; do
		echo "udp      17 29 src=198.18.0.9 dst=203.0.113.2 sport=$p dport=53 src=203.0.113.2 dst=203.0.113.1 sport=53 dport=$p mark=0 use=1"
	done
} >"$tmp/new/conntrack_-L"
sed 's/drop=0/drop=5/' $s/conntrack_-S >"$tmp/new/conntrack_-S"
echo "net.netfilter.nf_conntrack_max = 45" >"$tmp/new/sysctl"
"$ctplan" diff --format json "$tmp/old" "$tmp/new" >"$tmp/g.json" || fail "diff growth"
python3 - "$tmp/g.json" <<'EOF' || fail "diff growth figures"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["entries"]["delta"] == 6, d["entries"]
assert d["by_protocol"]["tcp"] == {"old": 19, "new": 23, "delta": 4}
assert d["by_protocol"]["udp"] == {"old": 9, "new": 11, "delta": 2}
assert d["by_state"]["ESTABLISHED"]["delta"] == 4
assert d["by_state"]["TIME_WAIT"]["delta"] == 0
assert d["table"]["max"] == {"old": 262144, "new": 45, "delta": -262099}
# drop=0 on each of the two CPU rows became 5: +10
assert d["stats"]["drop"] == {"old": 0, "new": 10, "delta": 10}, d["stats"]
assert d["stats_reset"] is False
new = {f["code"] for f in d["findings_new"]}
# drop without insert_failed: drops of a full table (stats.full_drop)
assert {"table.headroom_low", "stats.full_drop"} <= new, new
EOF
"$ctplan" diff "$tmp/old" "$tmp/new" >"$tmp/g.txt"
grep -q -E '^  tcp +19 +23 +\+4 +\+21.1%$' "$tmp/g.txt" || fail "diff text growth row"
# counters that went down: a reboot in between
"$ctplan" diff --format json "$tmp/new" "$tmp/old" |
	python3 -c 'import json,sys; assert json.load(sys.stdin)["stats_reset"] is True' ||
	fail "diff: counters going down not flagged"
"$ctplan" diff $s 2>/dev/null && fail "diff with one path accepted"

# every option of fleet and diff --help is in README.md's section
for c in fleet diff; do
	sec=$(sed -n "/^### ctplan $c\$/,/^###* [^c]/p" README.md)
	for o in $("$ctplan" $c --help | grep -o -- '--[a-z][a-z-]*' | sort -u | grep -v -- '--help'); do
		grep -q -- "$o" <<<"$sec" || fail "README's ctplan $c lacks $o"
	done
done

finish "fleet and diff: all checks passed"
