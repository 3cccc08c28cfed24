#!/usr/bin/env bash
# End to end on samples/lab-6.18, the real capture: the "nat" section.
#   - the remaps are exactly the three the kernel made (the same-port
#     containers: tcp v4 :80, udp :53, tcp v6 :80), checked against an
#     independent reading of conntrack_-L with awk, each with its holder;
#   - the counts (snat, dnat), the group of the busiest destination, the
#     kernel and algorithm, the observed counters beside;
#   - the same answer from the whole directory (every form of the table);
#   - --nat-range, --kernel, --csv-dir and their errors; the text layout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
S=$src/samples/lab-6.18

command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

run() { # run NAME ARGS...: json report into $tmp/NAME.json
	local name=$1
	shift
	"$ctplan" analyze --no-hash -q --format json "$@" >"$tmp/$name.json" \
		2>"$tmp/$name.err" || fail "$name: exit $? ($(head -1 "$tmp/$name.err"))"
}

# ---- remaps, independently: reply dport != original sport ----
# conntrack's summary line may split an entry (tests/lab/README.md): splice
# it out first
sed -z 's/conntrack v[0-9.]* (conntrack-tools): [0-9]* flow entries have been shown\.\n//g' \
	"$S/conntrack_-L" | tr -d '\0' | awk '
	$1 == "tcp" || $1 == "udp" {
		n = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^src=/) s[++n] = substr($i, 5)
			if ($i ~ /^dst=/) d[n] = substr($i, 5)
			if ($i ~ /^sport=/) sp[n] = substr($i, 7)
			if ($i ~ /^dport=/) dp[n] = substr($i, 7)
		}
		if (d[2] != s[1] && dp[2] != sp[1])
			print $1, s[1], sp[1], d[1], dp[1], dp[2]
	}' | sort >"$tmp/awk.remaps"
[ "$(wc -l <"$tmp/awk.remaps")" -eq 3 ] ||
	fail "the sample should hold 3 remaps, awk found $(wc -l <"$tmp/awk.remaps")"

run one "$S/conntrack_-L"
python3 - "$tmp/one.json" >"$tmp/ctplan.remaps" <<'EOF' || fail "remaps from ctplan"
import json, sys
n = json.load(open(sys.argv[1]))["nat"]
for r in n["remaps"]:
    print(r["protocol"], r["src"], r["sport"], r["dst"], r["dport"],
          r["nat_port"])
EOF
sort -o "$tmp/ctplan.remaps" "$tmp/ctplan.remaps"
diff -u "$tmp/awk.remaps" "$tmp/ctplan.remaps" ||
	fail "ctplan's remaps differ from the table's"

# ---- exact figures ----
check() { # check FILE: python assertions on d = report["nat"]
	python3 - "$1" <<EOF || fail "$1: $2"
import json, sys
n = json.load(open(sys.argv[1]))["nat"]
def want(got, exp, what):
    if got != exp:
        print("  %s: got %r, want %r" % (what, got, exp))
        sys.exit(1)
$3
EOF
}

HOLDERS='
got = sorted((r["protocol"], r["family"], r["src"], r["sport"], r["dst"],
              r["dport"], r["nat_port"], r["reason"],
              r["holder"] and (r["holder"]["src"], r["holder"]["sport"],
                               r["holder"]["nat_port"], r["holder"]["snat"]))
             for r in n["remaps"])
want(got, sorted([
    ("tcp", "ipv4", "198.18.0.3", 29999, "203.0.113.2", 80, 29656,
     "port_taken", ("198.18.0.2", 29999, 29999, True)),
    ("udp", "ipv4", "198.18.0.3", 29999, "203.0.113.2", 53, 3460,
     "port_taken", ("198.18.0.2", 29999, 29999, True)),
    ("tcp", "ipv6", "2001:db8:1::3", 29999, "2001:db8:2::2", 80, 12144,
     "port_taken", ("2001:db8:1::2", 29999, 29999, True))]), "remaps")
want(n["port_remapped"], 3, "port_remapped")
want(n["remaps_omitted"], 0, "remaps_omitted")
want(n["entries"], 35, "entries")
# every forwarded flow leaves through MASQUERADE; not the host own 4, the
# 2 inbound DNAT ones, the zone-7 flow to the host itself, IGMP
want(n["snat"], 27, "snat")
want(n["dnat"], 2, "dnat")
for r in n["remaps"]:
    g = n["groups"][r["group"]]
    want((g["protocol"], g["peer_addr"], g["peer_port"], g["nat_addr"]),
         (r["protocol"], r["dst"], r["dport"], r["holder"]["nat_addr"]),
         "group of a remap")
'
check "$tmp/one.json" "remaps and holders" "$HOLDERS"

check "$tmp/one.json" "groups and model" '
# a lone -L has no uname: the newest version known
want(n["kernel"], "6.18", "kernel")
want(n["algorithm"], "bounded-evict", "algorithm")
want(n["client_ports"], [32768, 60999], "client_ports")
want(n["group_count"], len(n["groups"]), "group_count")
want(n["group_count"], 14, "group_count")
# no counters in a lone -L
want(n["counters"]["insert_failed"], None, "insert_failed")
g = [g for g in n["groups"] if g["protocol"] == "tcp" and
     g["peer_addr"] == "203.0.113.2" and g["peer_port"] == 80][0]
# c1 and c2 (29999 twice, TIME_WAIT x2, CLOSE_WAIT, CLOSE) and c3 from
# zone-orig 7, whose reply is zone 0
want((g["entries"], g["snat_entries"], g["remapped"], g["evictable"],
      g["used"], g["zone"]), (7, 7, 1, 3, 7, 0), "tcp :80 group")
want((g["range_lo"], g["range_hi"], g["range_size"], g["range_source"],
      g["port_choice"]), (1024, 65535, 64512, "default", "keep-if-free"),
     "tcp :80 range")
want(g["p_fail_next"], 0.0, "p_fail_next")
want(abs(g["utilization"] - 7 / 64512) < 1e-9, True, "utilization")
u1, u50 = g["utilization_p_fail_1pct"], g["utilization_p_fail_50pct"]
want(0.3 < u1 < u50 <= 1, True, "thresholds %r %r" % (u1, u50))
icmp = [g for g in n["groups"] if g["protocol"] == "icmp"][0]
want((icmp["peer_port"], icmp["icmp_type"], icmp["icmp_code"],
      icmp["range_lo"], icmp["range_hi"]), (None, 0, 0, 0, 65535), "icmp")
ps = [g["p_fail_next"] for g in n["groups"]]
want(ps, sorted(ps, reverse=True), "groups sorted by risk")
'

# the whole directory: every form of the table, counted once; counters
run dir "$S"
check "$tmp/dir.json" "the directory" "$HOLDERS"
check "$tmp/dir.json" "counters" '
want(n["kernel"], "6.18.44", "kernel from uname")
c = n["counters"]
want((c["insert_failed"], c["drop"], c["clash_resolve"], c["cpus"]),
     (0, 0, 0, 2), "counters")
# the kernel counted one taken tuple per remap: the original port
want(c["found"], 3, "found")
'

# same seed, same report
run again "$S"
cmp -s <(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["nat"], sort_keys=True))' "$tmp/dir.json") \
	<(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["nat"], sort_keys=True))' "$tmp/again.json") ||
	fail "two runs with the same seed differ"

# ---- options ----
run range --nat-range 29000-30000 "$S/conntrack_-L"
check "$tmp/range.json" "--nat-range" '
for g in n["groups"]:
    if g["protocol"] in ("tcp", "udp"):
        want((g["range_lo"], g["range_hi"], g["range_source"]),
             (29000, 30000, "option"), "range of a port group")
    else:
        want(g["range_source"], "default", "icmp keeps its range")
g = [g for g in n["groups"] if g["protocol"] == "tcp" and
     g["peer_addr"] == "203.0.113.2" and g["peer_port"] == 80][0]
# 29656 and 29999 are the taken ports inside 29000-30000
want((g["used"], g["range_size"]), (2, 1001), "used in the range")
'
run old --kernel 4.19.0 "$S/conntrack_-L"
check "$tmp/old.json" "--kernel 4.19.0" '
want((n["kernel"], n["algorithm"]), ("4.19.0", "rover-scan"), "algorithm")
g = n["groups"][0]
want((g["utilization_p_fail_1pct"], g["utilization_p_fail_50pct"]),
     (1.0, 1.0), "the rover fails only when full")
'
# 4.19 without a patch level is 4.19.y with every modelled stable
# change: the bounded search of 4.19.228
run v419 --kernel 4.19 "$S/conntrack_-L"
check "$tmp/v419.json" "--kernel 4.19" '
want((n["kernel"], n["algorithm"]), ("4.19.228", "bounded"), "algorithm")
'
run v61 --kernel 6.1 "$S/conntrack_-L"
check "$tmp/v61.json" "--kernel 6.1" '
want(n["algorithm"], "bounded", "algorithm")
'

expect2() { # expect2 DESCRIPTION MESSAGE ARGS...
	local what=$1 msg=$2
	shift 2
	"$ctplan" analyze --no-hash "$@" "$S/conntrack_-L" >/dev/null 2>"$tmp/err"
	local rc=$?
	[ "$rc" -eq 2 ] || fail "$what: exit $rc, want 2"
	grep -qF -- "$msg" "$tmp/err" || fail "$what: no '$msg' in: $(head -2 "$tmp/err")"
}
for bad in 5-4 x 0-10 1-70000 10 -5 5- 1-2-3 99999999-1; do
	expect2 "--nat-range $bad" "--nat-range takes LO-HI, ports from 1 to 65535 with LO <= HI, not '$bad'" --nat-range "$bad"
done
expect2 "--csv-dir unwritable" "ctplan analyze: cannot create directory '/proc/nope/x'" --csv-dir /proc/nope/x

# ---- CSV ----
"$ctplan" analyze --no-hash -q --csv-dir "$tmp/csv" "$S" >/dev/null ||
	fail "--csv-dir: exit $?"
python3 - "$tmp/csv/nat_groups.csv" "$tmp/dir.json" <<'EOF' || fail "nat_groups.csv"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
n = json.load(open(sys.argv[2]))["nat"]
cols = ["protocol", "family", "namespace", "nat_addr", "peer_addr",
        "peer_port", "icmp_type", "icmp_code", "zone", "entries",
        "snat_entries", "remapped", "evictable", "range_lo", "range_hi",
        "range_size", "range_source", "port_choice", "used", "utilization",
        "p_keep", "p_search_fail", "p_fail_next", "utilization_p_fail_1pct",
        "utilization_p_fail_50pct"]
assert rows[0] == cols, rows[0]
assert len(rows) == 1 + n["group_count"], len(rows)
for row, g in zip(rows[1:], n["groups"]):
    for c, v in zip(cols, row):
        w = g[c]
        if w is None:
            assert v == "", (c, v)
        elif isinstance(w, float):
            # the JSON prints 10 digits, the CSV 17
            assert abs(float(v) - w) <= 1e-9 * max(abs(w), 1e-300), (c, v, w)
        else:
            assert v == str(w), (c, v, w)
EOF
head -c 1 "$tmp/csv/nat_groups.csv" | grep -q '"' || fail "csv fields are quoted (csv_fwrite)"

# ---- --max-groups: the riskiest N listed, the maxima over all ----
run mg_all --max-groups 0 "$S/conntrack_-L" "$S/sysctl_-a" "$S/uname_-a"
run mg_def "$S/conntrack_-L" "$S/sysctl_-a" "$S/uname_-a"
run mg2 --max-groups 2 "$S/conntrack_-L" "$S/sysctl_-a" "$S/uname_-a"
python3 - "$tmp/mg_all.json" "$tmp/mg_def.json" "$tmp/mg2.json" <<'PY' || fail "--max-groups"
import json, sys
a, d, c = (json.load(open(p))["nat"] for p in sys.argv[1:])
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append(f"{what}: {got!r}, want {exp!r}")
n = a["group_count"]
want("all: listed", len(a["groups"]), n)
want("all: omitted", a["groups_omitted"], 0)
want("default (1000) lists all of this sample", d["groups"], a["groups"])
want("2: group_count", c["group_count"], n)
want("2: listed", c["groups"], a["groups"][:2])
want("2: omitted", c["groups_omitted"], n - 2)
for r in (a, c):
    want("max_utilization", r["max_utilization"],
         max(g["utilization"] for g in a["groups"]))
    want("max_p_fail_next", r["max_p_fail_next"],
         max(g["p_fail_next"] for g in a["groups"]))
if n <= 2 or not any(r["group"] >= 2 for r in a["remaps"]):
    bad.append("the sample no longer has a remap past the 2nd group")
for ra, rc in zip(a["remaps"], c["remaps"]):
    want("remap group", rc["group"], ra["group"] if ra["group"] < 2 else None)
    want("remap otherwise", {k: v for k, v in rc.items() if k != "group"},
         {k: v for k, v in ra.items() if k != "group"})
for b in bad:
    print("FAIL: --max-groups: " + b)
sys.exit(1 if bad else 0)
PY
"$ctplan" analyze --no-hash -q --max-groups 2 --csv-dir "$tmp/csv2" "$S" \
	>"$tmp/mg2.text" || fail "--max-groups 2 --csv-dir: exit $?"
[ "$(($(wc -l <"$tmp/csv2/nat_groups.csv") - 1))" -eq 2 ] ||
	fail "--max-groups 2 --csv-dir: nat_groups.csv has $(($(wc -l <"$tmp/csv2/nat_groups.csv") - 1)) rows, want 2"
grep -qF "groups       14, riskiest first; the 12 least risky are not listed (--max-groups)" "$tmp/mg2.text" ||
	fail "--max-groups 2: text lacks the omitted count"
expect2 "--max-groups not a number" "ctplan analyze: --max-groups takes a number (0: all), not 'many'" --max-groups many

# ---- text ----
"$ctplan" analyze --no-hash -q --color never "$S" >"$tmp/text" || fail "text: exit $?"
for want in "NAT ports" \
	"port search \"bounded-evict\"" \
	"entries      35: source NAT 27, destination NAT 2, port remapped 3" \
	"insert_failed=0 drop=0 clash_resolve=0 found=3" \
	"tcp    198.18.0.3:29999 -> 203.0.113.2:80, 29656: 29999 held by 198.18.0.2:29999 (ESTABLISHED)" \
	"udp    198.18.0.3:29999 -> 203.0.113.2:53, 3460: 29999 held by 198.18.0.2:29999" \
	"tcp    [2001:db8:1::3]:29999 -> [2001:db8:2::2]:80, 12144:" \
	"         29999 held by [2001:db8:1::2]:29999 (ESTABLISHED)" \
	"nat.remaps" \
	"3 source-NAT entries got another port than their own"; do
	grep -qF -- "$want" "$tmp/text" || fail "text lacks: $want"
done
sed -n '/^NAT ports/,/^Findings/p' "$tmp/text" | awk 'length > 100 { print "FAIL: over 100 columns: " $0; bad = 1 } END { exit bad }' ||
	fails=$((fails + 1))

finish "nat: all checks passed"
