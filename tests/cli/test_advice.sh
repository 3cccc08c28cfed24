#!/usr/bin/env bash
# The advice an expert would give (issue 14), end to end: the planned
# peak comes from the evidence, the recommendation never lowers a
# setting in force, findings and the recommendation name the same
# figures, counters are read by their cause, and `check` reads its
# PATHs as one host.  The hosts are built here from the lab capture
# (samples/lab-6.18) and from settings of real hosts the issue names: an
# OpenStack compute node on 5.4 (max 1000000, 204800 buckets, 1500
# entries), the tutorial's Docker host (65536 buckets, max 262144, two
# entries), and the lab's overflow capture (samples/lab-6.18-overflow).
#   usage: test_advice.sh CTPLAN SRCDIR
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
lab=samples/lab-6.18
ovf=samples/lab-6.18-overflow

# json FILE PYTHON: run PYTHON with d = the report in FILE
json() {
	python3 - "$1" <<EOF
import json, sys
d = json.load(open(sys.argv[1]))
r = d["recommendation"]
f = {x["code"]: x for x in d["findings"]}
checks = {x["name"]: x for x in d["checks"]}
$2
EOF
}

report() { # report OUT PATH... : analyze as JSON into OUT
	local out=$1
	shift
	"$ctplan" analyze -q --format json "$@" >"$out" 2>"$tmp/err" ||
		fail "analyze $*: exit $? ($(head -c 300 "$tmp/err"))"
}

# ---- the lab host without meminfo keeps its max (was: 1024)
report "$tmp/lab.json" "$lab/conntrack_-L" "$lab/sysctl_-a"
json "$tmp/lab.json" '
assert (r["max"], r["buckets"]) == (262144, 262144), r
assert (r["max_move"], r["buckets_move"], r["change"]) == ("keep", "keep", False), r
assert r["max_floor"] == "in force" and r["max_needed"] == 1024, r
assert r["apply_now"] == [], r["apply_now"]  # nothing to resize live
assert r["peak_source"] == "count" and r["peak"] == 35, r
' || fail "lab host without meminfo: max kept"
"$ctplan" analyze -q "$lab/conntrack_-L" "$lab/sysctl_-a" >"$tmp/lab.txt"
grep -q "no change: the settings in force, nf_conntrack_max 262144 and" \
	"$tmp/lab.txt" || fail "a healthy host is told: no change"
# no change writes nothing: no files, no apply or where steps, one line
# on pinning today's values with sysctl.d
grep -qE '^  # /etc/|^  options nf_conntrack|^  nf_conntrack$|^ +[0-9]+\. (apply|where):' \
	"$tmp/lab.txt" && fail "no change: files to install or apply steps printed"
grep -q '^  nothing to write. To pin today' "$tmp/lab.txt" ||
	fail "no change: 'nothing to write' missing"
# the EKS collector's file (-S then -L) with the sysctls, no meminfo
report "$tmp/eks.json" "$lab/conntrack.txt" "$lab/sysctl_-a"
json "$tmp/eks.json" 'assert r["max"] == 262144 and not r["change"], r' ||
	fail "EKS-style input: max kept"
# --allow-shrink is the only way down
report "$tmp/shrink.json" --allow-shrink "$lab/conntrack_-L" "$lab/sysctl_-a"
json "$tmp/shrink.json" '
assert r["max"] == 1024 and r["max_move"] == "lower" and r["allow_shrink"], r
' || fail "--allow-shrink lowers"

# ---- OpenStack compute node: 5.4, max 1000000, 204800 buckets, 1500 entries
mkdir -p "$tmp/os"
python3 - "$tmp/os/conntrack_-L" <<'EOF'
import sys
with open(sys.argv[1], "w") as o:
    for i in range(1500):
        a, b = divmod(i, 250)
        o.write("tcp      6 431999 ESTABLISHED src=198.18.%d.%d dst=203.0.113.%d "
                "sport=%d dport=443 src=203.0.113.%d dst=198.18.%d.%d sport=443 "
                "dport=%d [ASSURED] mark=0 use=1\n"
                % (a, b + 1, i % 200 + 1, 20000 + i, i % 200 + 1, a, b + 1, 20000 + i))
EOF
printf 'net.netfilter.nf_conntrack_max = 1000000\nnet.netfilter.nf_conntrack_buckets = 204800\n' \
	>"$tmp/os/sysctl_-a"
echo "Linux compute-7 5.4.0-150-generic #167-Ubuntu SMP x86_64 GNU/Linux" \
	>"$tmp/os/uname_-a"
report "$tmp/os.json" "$tmp/os"
json "$tmp/os.json" '
assert r["max"] == 1000000 and r["max_move"] == "keep", r
assert r["buckets"] > 204800 and r["buckets_move"] == "raise", r
# every buckets figure in a finding is the recommendation
import re
for x in d["findings"]:
    for n in re.findall(r"nf_conntrack_buckets (?:= |to )(\d+)", x["advice"] + (x["action"] or "")):
        assert int(n) == r["buckets"], (x, r["buckets"])
acts = [x["action"] for x in d["findings"] if x["severity"] != "info" and x["action"]]
assert "set nf_conntrack_buckets = %d" % r["buckets"] in acts, acts
assert not checks["long_chain_share_at_max"]["ok"], checks
' || fail "OpenStack node: max kept, buckets raised, one figure"

# ---- the tutorial's Docker host: two entries, at max a full table
mkdir -p "$tmp/docker"
cat >"$tmp/docker/conntrack_-L" <<'EOF'
tcp      6 431997 ESTABLISHED src=198.18.0.5 dst=203.0.113.80 sport=29999 dport=80 src=203.0.113.80 dst=198.51.100.4 sport=80 dport=29999 [ASSURED] mark=0 use=1
tcp      6 431990 ESTABLISHED src=198.18.0.4 dst=203.0.113.80 sport=29999 dport=80 src=203.0.113.80 dst=198.51.100.4 sport=80 dport=34105 [ASSURED] mark=0 use=1
EOF
printf 'net.netfilter.nf_conntrack_buckets = 65536\nnet.netfilter.nf_conntrack_max = 262144\n' \
	>"$tmp/docker/sysctl_-a"
report "$tmp/docker.json" "$tmp/docker"
json "$tmp/docker.json" '
am = d["hash"]["at_max"]
assert am["target_reached"] and am["uniform_fill"] > 0, am
assert abs(am["entries"] - 262144) < 1, am["entries"]
c = checks["long_chain_share_at_max"]
assert c["source"] == "hash.at_max.histogram" and c["value"] > 0.3 and not c["ok"] and c["severity"] == "warn", c
assert r["max"] == 262144 and r["buckets"] > 65536, r
assert "hash.at_max_uniform" in f, list(f)
' || fail "Docker host: the at-max model is a full table"
"$ctplan" check "$tmp/docker" >"$tmp/out" 2>&1
# 4.19 refuses no flow for a long chain: they cost lookup time, a
# warning that does not fail the gate
[ $? -eq 0 ] && grep -qE '^  WARN long_chain_share_at_max ' "$tmp/out" ||
	fail "Docker host: check warns on long chains at max"

# ---- one table per namespace (4.4): the balls-into-bins tail of the
# fill keeps the namespaces' mix, so each table holds its share
mkdir -p "$tmp/ns2"
head -1 "$tmp/docker/conntrack_-L" >"$tmp/ns2/a.L"
tail -1 "$tmp/docker/conntrack_-L" >"$tmp/ns2/b.L"
printf 'net.netfilter.nf_conntrack_max = 262144\nnet.netfilter.nf_conntrack_buckets = 65536\n' \
	>"$tmp/ns2/sysctl_-a"
echo "Linux c7 4.4.0-1-generic #1 SMP x86_64 GNU/Linux" >"$tmp/ns2/uname_-a"
report "$tmp/ns2.json" --keys 2 --ns a "$tmp/ns2/a.L" --ns b "$tmp/ns2/b.L" \
	"$tmp/ns2/sysctl_-a" "$tmp/ns2/uname_-a"
json "$tmp/ns2.json" '
h = d["hash"]
am = h["at_max"]
assert h["tables"] == 2 and am["uniform_fill"] > 0, (h["tables"], am["uniform_fill"])
# two tables of 65536 buckets, 131072 entries each: the law of that load
assert abs(am["share_over8"] - am["poisson"]["share_over8"]) < 0.01, am["share_over8"]
' || fail "per-namespace tables: the uniform fill spreads over both"

# ---- a quiet host whose kernel log shows the table overflowing
report "$tmp/ovf.json" "$ovf"
json "$tmp/ovf.json" '
assert r["peak_source"] == "kernel log" and r["peak"] == 256, r
assert r["max"] > 256 and r["max_move"] == "raise", r
# only the max changes now; the kept buckets are not resized live
assert r["apply_now"] == ["sysctl -w net.netfilter.nf_conntrack_max=%d" % r["max"]], r["apply_now"]
src = [e["source"] for e in r["peak_evidence"]]
assert src == ["count", "kernel log", "counters"], src
assert [e["sets_peak"] for e in r["peak_evidence"]] == [False, True, False]
assert not checks["headroom_pct_at_peak"]["ok"], checks
assert f["plan.max_low"]["action"] == "set nf_conntrack_max = %d" % r["max"], f["plan.max_low"]
assert f["history.table_full"]["action"] == f["plan.max_low"]["action"]
assert "stats.full_drop" in f and "stats.clash_drop" not in f, list(f)
' || fail "overflow history: peak >= max, larger max, failing check"
"$ctplan" check "$ovf" >"$tmp/out" 2>&1
[ $? -eq 1 ] || fail "overflow history: check exits 1"
grep -q "FAIL headroom_pct_at_peak" "$tmp/out" || fail "overflow: failing check named"

# ---- counters by their meaning (5.15+ reading: the lab kernel)
cp -r "$lab" "$tmp/nat"
# NAT clashes lost: insert_failed == drop, table 86% free: fix NAT, not max
sed -e 's/insert_failed=0 drop=0/insert_failed=500 drop=500/' \
	"$lab/conntrack_-S" >"$tmp/nat/conntrack_-S"
rm -f "$tmp/nat/proc_net_stat_nf_conntrack" "$tmp/nat/conntrack.txt"
report "$tmp/nat.json" "$tmp/nat"
json "$tmp/nat.json" '
assert "stats.clash_drop" in f and "stats.full_drop" not in f, list(f)
assert "NAT" in f["stats.clash_drop"]["action"], f["stats.clash_drop"]
assert r["peak_source"] == "count" and r["max_move"] == "keep", r
' || fail "NAT clash drops: NAT advice, max kept"
# refused long chains: insert_failed == chaintoolong, no drop
sed -e 's/insert_failed=0 drop=0/insert_failed=40 drop=0/' \
	-e 's/chaintoolong=0/chaintoolong=20/' \
	"$lab/conntrack_-S" >"$tmp/nat/conntrack_-S"
report "$tmp/chain.json" "$tmp/nat"
json "$tmp/chain.json" '
assert "stats.chaintoolong" in f and "stats.clash_drop" not in f, list(f)
assert "stats.full_drop" not in f, list(f)
' || fail "chaintoolong: read as long chains, not clashes"

# ---- check reads its PATHs as analyze does: one host
"$ctplan" check "$lab/conntrack_-L" "$lab/sysctl_-a" >"$tmp/out" 2>&1
[ $? -eq 0 ] || fail "check: the loose files of one host are one host"
grep -q "(+1 more): passed" "$tmp/out" || fail "check: one host named"
"$ctplan" check --each "$lab/conntrack_-L" "$lab/sysctl_-a" >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "check --each: a listing alone has no max (exit 2)"
# nothing to analyze: exit 2, no recommendation
: >"$tmp/empty"
"$ctplan" check "$tmp/empty" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "check on an empty file: exit 2"
grep -q "nothing to analyze" "$tmp/err" || fail "check: says nothing to analyze"
"$ctplan" analyze -q --format json "$tmp/empty" >"$tmp/e.json" 2>"$tmp/err"
[ $? -eq 2 ] || fail "analyze on an empty file: exit 2"
[ -s "$tmp/e.json" ] && fail "analyze on an empty file: a report"
grep -q "nothing to analyze" "$tmp/err" || fail "analyze: says nothing to analyze"

finish "advice: all checks passed"
