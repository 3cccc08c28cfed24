#!/usr/bin/env bash
# Every output format of ctplan analyze on the real lab capture: text
# (section order, 100 columns, colour only on a terminal and never with
# NO_COLOR), json (against docs/report.md: check_report.py), csv (the
# headline row and --csv-dir's four files, read back with Python's csv
# module), prom (exposition syntax, values equal to the JSON's), html
# (self-contained; tests/cli/test_html.sh renders it in a browser), -o,
# and progress on stderr only when stderr is a terminal.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
sample=samples/lab-6.18


"$ctplan" analyze -q --keys 2 --format json "$sample" >"$tmp/r.json" ||
	fail "json run"

# ---- json: documented keys and the docs' example
python3 tests/cli/check_report.py docs/report.md "$tmp/r.json" \
	"$ctplan" "$src" || fail "json report against docs/report.md"

# ---- text
"$ctplan" analyze -q --keys 2 "$sample" >"$tmp/r.txt" 2>"$tmp/err" || fail "text run"
order=$(grep -n -E '^(Inputs|Table and headroom|Entries|Hash chains|NAT|Counters|History|Findings|Recommendations)' "$tmp/r.txt" | cut -d: -f2 | cut -d' ' -f1 | tr '\n' ' ')
[ "$order" = "Inputs Table Entries Hash NAT Counters Findings Recommendations " ] ||
	fail "text sections out of order: '$order'"
awk 'length($0) > 100 { print FILENAME ":" NR ": " length($0) " columns"; bad = 1 } END { exit bad }' "$tmp/r.txt" ||
	fail "text wider than 100 columns"
grep -q $'\033' "$tmp/r.txt" && fail "colour written to a file"
grep -q -E '^  info +nat.remaps +3 +-$' "$tmp/r.txt" ||
	fail "finding without severity, code, figure and limit"
grep -A1 -E '^  info +nat.remaps' "$tmp/r.txt" | tail -1 | grep -q -E '^ {12}3 source-NAT' ||
	fail "finding without its advice line"
sed -n '/^Recommendations/,$p' "$tmp/r.txt" | grep -q '^  no action needed' ||
	fail "recommendations of a report without warnings"
"$ctplan" analyze -q --no-hash --color always "$sample" | grep -q $'\033\[1mInputs' ||
	fail "--color always gives no colour"
# a terminal: colour, unless NO_COLOR is set (script(1) gives a pty)
if command -v script >/dev/null; then
	script -q -e -c "\"$ctplan\" analyze -q --no-hash $sample/conntrack_-L" "$tmp/tty" >/dev/null
	grep -q $'\033\[1m' "$tmp/tty" || fail "no colour on a terminal"
	NO_COLOR=1 script -q -e -c "\"$ctplan\" analyze -q --no-hash $sample/conntrack_-L" "$tmp/tty2" >/dev/null
	grep -q $'\033\[1m' "$tmp/tty2" && fail "colour on a terminal with NO_COLOR"
else
	echo "note: no script(1): terminal colour not checked"
fi

# a report with warnings: the table nearly full
{ cat "$sample/conntrack_-L"; echo "net.netfilter.nf_conntrack_max = 40"; } >"$tmp/full"
"$ctplan" analyze -q --no-hash "$tmp/full" >"$tmp/full.txt"
grep -q -E '^  warning +table.headroom_low +12.5 +20$' "$tmp/full.txt" ||
	fail "headroom warning with its figure and limit"
sed -n '/^Recommendations/,$p' "$tmp/full.txt" |
	grep -A1 '^  and from the findings:' |
	grep -q '^   1. set nf_conntrack_max = 1024$' ||
	fail "recommendation from the warning's action (the recommended max)"

# ---- csv: the headline row
"$ctplan" analyze -q --keys 2 --format csv "$sample" >"$tmp/r.csv" || fail "csv run"
python3 - "$tmp/r.csv" "$tmp/r.json" <<'EOF' || fail "csv headline row"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
d = json.load(open(sys.argv[2]))
assert len(rows) == 1, rows
r = rows[0]
assert r["host"] == "vm", r
assert int(r["count"]) == d["table"]["count"], r
assert int(r["max"]) == d["table"]["max"], r
assert int(r["buckets"]) == d["table"]["buckets"], r
assert float(r["headroom_pct"]) == d["table"]["headroom_pct"], r
assert int(r["chain_p99"]) == d["hash"]["p99"], r
assert int(r["chain_p99_at_max"]) == d["hash"]["at_max"]["p99"], r
u = max(g["utilization"] for g in d["nat"]["groups"])
assert abs(float(r["nat_worst_utilization"]) - u) <= 1e-9 * u, r
checks = d.get("checks")
assert r["failed_checks"] == ("" if checks is None else
                              str(sum(not c["ok"] for c in checks))), r
EOF

# ---- csv: --csv-dir
"$ctplan" analyze -q --keys 2 --csv-dir "$tmp/csv" "$sample" >/dev/null || fail "--csv-dir run"
for f in histogram.csv nat_groups.csv findings.csv flows.csv; do
	[ -s "$tmp/csv/$f" ] || fail "--csv-dir wrote no $f"
done
python3 - "$tmp/csv" "$tmp/r.json" <<'EOF' || fail "--csv-dir contents"
import csv, json, sys
d = json.load(open(sys.argv[2]))
def rows(name):
    with open(sys.argv[1] + "/" + name, newline="") as f:
        return list(csv.DictReader(f))
# every entry once, both tuples
fl = rows("flows.csv")
assert len(fl) == d["entries"]["total"], len(fl)
by = {}
for r in fl:
    by[r["protocol"]] = by.get(r["protocol"], 0) + 1
assert by == d["entries"]["by_protocol"], by
assert sum(r["assured"] == "true" for r in fl) == d["entries"]["assured"]
assert all(r["orig_src"] and r["reply_src"] for r in fl)
# the remapped UDP entry of the capture: 198.18.0.3:29999 left as 3460
assert any(r["orig_src"] == "198.18.0.3" and r["orig_sport"] == "29999"
           and r["protocol"] == "udp"
           and r["reply_dport"] == str(d["nat"]["remaps"][0]["nat_port"])
           for r in fl), "remapped entry"
icmp = [r for r in fl if r["protocol"] == "icmp"]
assert icmp and all(r["icmp_type"] != "" and r["orig_sport"] == ""
                    for r in icmp), icmp
h = rows("histogram.csv")
now = d["hash"]["histogram"]
assert [float(r["buckets_now"]) for r in h[:len(now)]] == now, h[:3]
am = d["hash"]["at_max"]["histogram"]
assert [float(r["buckets_at_max"]) for r in h[:len(am)]] == am
f = rows("findings.csv")
assert len(f) == len(d["findings"])
assert [r["code"] for r in f] == [x["code"] for x in d["findings"]]
assert len(rows("nat_groups.csv")) == d["nat"]["group_count"]
EOF
# RFC 4180: every field quoted, quotes doubled
printf 'net.netfilter.nf_conntrack_max = 40\n' >"$tmp/max40"
"$ctplan" analyze -q --no-hash --csv-dir "$tmp/csv2" "$sample/conntrack_-L" "$tmp/max40" >/dev/null
head -1 "$tmp/csv2/findings.csv" | grep -qx '"severity","code","figure","limit","advice"' ||
	fail "findings.csv header"

# ---- prom
"$ctplan" analyze -q --keys 2 --format prom "$sample" >"$tmp/r.prom" || fail "prom run"
python3 - "$tmp/r.prom" "$tmp/r.json" <<'EOF' || fail "prom exposition"
import json, re, sys
d = json.load(open(sys.argv[2]))
typed, helped, samples = {}, set(), {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.fullmatch(r"# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)", line)
    if m:
        assert m.group(1) not in helped, "HELP twice: " + line
        helped.add(m.group(1))
        continue
    m = re.fullmatch(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)",
                     line)
    if m:
        assert m.group(1) not in typed, "TYPE twice: " + line
        typed[m.group(1)] = m.group(2)
        continue
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)', line)
    assert m, "bad line: %r" % line
    name = m.group(1)
    assert name in typed and name in helped, "undeclared: " + name
    samples[name + (m.group(2) or "")] = float(m.group(3))
t = d["table"]
assert samples["ctplan_conntrack_entries"] == t["count"]
assert samples["ctplan_conntrack_max"] == t["max"]
assert samples["ctplan_conntrack_buckets"] == t["buckets"]
assert samples["ctplan_conntrack_headroom"] == t["headroom"]
assert abs(samples["ctplan_conntrack_headroom_ratio"] - t["headroom_pct"] / 100) < 1e-12
assert samples['ctplan_hash_chain_p99{when="now"}'] == d["hash"]["p99"]
assert samples['ctplan_hash_chain_p99{when="at_max"}'] == d["hash"]["at_max"]["p99"]
# the JSON keeps 10 digits, prom 15
u = max(g["utilization"] for g in d["nat"]["groups"])
assert abs(samples["ctplan_nat_worst_group_utilization"] - u) <= 1e-9 * u
assert samples['ctplan_findings{severity="info"}'] == 1
assert samples['ctplan_conntrack_entries_by_protocol{protocol="tcp"}'] == d["entries"]["by_protocol"]["tcp"]
assert samples['ctplan_conntrack_stat_total{counter="found"}'] == d["stats"]["found"]
assert typed["ctplan_conntrack_stat_total"] == "counter"
# present when the report has them, else left out (not written as 0)
if "checks" in d:
    assert samples["ctplan_checks_failed"] == sum(not c["ok"] for c in d["checks"])
else:
    assert "ctplan_checks_failed" not in samples
if d["table"].get("full_drop_p") is not None:
    assert abs(samples["ctplan_full_drop_p"] - d["table"]["full_drop_p"]) <= 1e-9
else:
    assert "ctplan_full_drop_p" not in samples
EOF
# a figure the input lacks is left out
"$ctplan" analyze -q --format prom "$sample/conntrack_-L" >"$tmp/bare.prom"
grep -q '^ctplan_conntrack_max ' "$tmp/bare.prom" && fail "prom writes a max the input lacks"
grep -q '^ctplan_conntrack_entries 35$' "$tmp/bare.prom" || fail "prom count of a bare dump"

# ---- html: self-contained (the browser test renders it)
"$ctplan" analyze -q --keys 2 --format html -o "$tmp/r.html" "$sample" >"$tmp/out" || fail "html run"
[ -s "$tmp/out" ] && fail "-o FILE also wrote to stdout"
grep -qi '<script' "$tmp/r.html" && fail "html holds a script"
grep -o -i -E '(src|href|url)[=(][^ >]*' "$tmp/r.html" | head -3 | grep -q . &&
	fail "html refers to something outside the file"
grep -q "default-src 'none'" "$tmp/r.html" || fail "html without its content policy"
grep -q 'class="chart chart-hist"' "$tmp/r.html" || fail "html without the chain chart"

# ---- bad usage
"$ctplan" analyze --format yaml "$sample/conntrack_-L" 2>"$tmp/err" && fail "unknown format accepted"
grep -q "unknown format 'yaml' (text, json, csv, html or prom)" "$tmp/err" || fail "unknown format message"

# ---- progress: on a terminal past a second, never in a pipe
(cat $sample/conntrack_-L; sleep 1.6) | "$ctplan" analyze -q --no-hash - >/dev/null 2>"$tmp/err" ||
	fail "slow run"
[ -s "$tmp/err" ] && fail "progress or notes on a non-terminal stderr: $(head -c 200 "$tmp/err")"
if command -v script >/dev/null; then
	# stdin that stays open 1.6 s: a run over a second, whatever
	# the machine's speed
	script -q -e -c "(cat $sample/conntrack_-L; sleep 1.6) | \"$ctplan\" analyze -q --no-hash - >/dev/null" "$tmp/prog" >/dev/null
	grep -q -E 'ctplan: reading: [0-9.]+ MiB read, [0-9]+ entries read, [0-9]+ s' "$tmp/prog" ||
		fail "no progress on a terminal for a run over a second"
	python3 -c 'import sys; t = open(sys.argv[1], "rb").read(); i = t.rfind(b"ctplan: "); sys.exit(i < 0 or b"\r\x1b[K" not in t[i:])' "$tmp/prog" ||
		fail "progress line not erased at the end"
fi

finish "formats: all checks passed"
