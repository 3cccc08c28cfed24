#!/usr/bin/env bash
# ctplan plan and ctplan check end to end: every exit code (0, 1, 2),
# the settings printed, the JSON keys of docs/report.md, and the check
# figures against the report's own.
#   usage: test_plan_check.sh CTPLAN SRCDIR
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
sample=samples/lab-6.18

# expect CODE CMD...: run, keep stdout and stderr, compare the exit code
expect() {
	local want=$1 got
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] ||
		fail "exit $got, not $want: $* ($(head -c 300 "$tmp/err"))"
}

# ---- plan: 0
expect 0 "$ctplan" plan --entries 500000 --kernel 6.1 --mem 16G --cores 4
grep -qx '  net.netfilter.nf_conntrack_max = 667648' "$tmp/out" ||
	fail "plan: sysctl line for max"
grep -qx '  net.netfilter.nf_conntrack_buckets = 667648' "$tmp/out" ||
	fail "plan: sysctl line for buckets"
grep -qx '  options nf_conntrack hashsize=667648' "$tmp/out" ||
	fail "plan: modprobe line"
grep -q '^  kube-proxy  *131072  *262144 ' "$tmp/out" ||
	fail "plan: kube-proxy rule on 4 cores"
awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$tmp/out" ||
	fail "plan: text wider than 100 columns"
expect 0 "$ctplan" plan --entries 100000 --kernel 4.19 --mem 8G --format json
python3 - "$tmp/out" <<'PY' || fail "plan: json"
import json, sys
d = json.load(open(sys.argv[1]))
r, df = d["recommendation"], d["defaults"]
# 4.19 on 8 GiB: 65536 buckets, max 4 x 65536
assert (df["buckets"], df["max"]) == (65536, 262144), df
# the kernel's max already covers 100000 / 0.75; chains decide buckets
assert r["max"] == 262144, r
assert r["buckets"] == r["buckets_min_chain"] > df["buckets"], r
assert r["long_chain_share_at_max"] <= 0.01, r
assert 0 < r["full_drop_p"] < 1 and r["memory_bytes"] > 262144 * 256
# the "where:" reason (per kernel, analyzer/planner.c) is the 7th
assert len(r["reasons"]) == 7 and all(isinstance(x, str) for x in r["reasons"])
assert r["modules_load"] == "nf_conntrack" and len(r["apply_now"]) == 2, r
assert [x["name"] for x in r["rules"]][:2] == ["kernel default", "kube-proxy"]
assert r["rules"][1]["max"] is None   # no --cores
PY
expect 0 "$ctplan" plan --help
grep -q -- '--evictable SHARE' "$tmp/out" || fail "plan --help lists its options"

# ---- plan: 2
expect 2 "$ctplan" plan
grep -q -- '--entries N is required' "$tmp/err" || fail "plan without --entries"
expect 2 "$ctplan" plan --entries 0
# a max the kernel's sysctl cannot take (an int) is no recommendation
expect 2 "$ctplan" plan --entries 4294967296
grep -q "more than the kernel's sysctl takes (2147483647)" "$tmp/err" ||
	fail "plan: max above INT_MAX"
expect 2 "$ctplan" plan --entries 10 --mem 16Q
grep -q "ctplan plan: --mem takes a size" "$tmp/err" || fail "plan --mem message"
expect 2 "$ctplan" plan --entries 10 --margin 99%
expect 2 "$ctplan" plan --entries 10 --kernel six
expect 2 "$ctplan" plan --entries 10 "$sample"

# ---- check: 0
expect 0 "$ctplan" check "$sample"
grep -q "^$sample: passed" "$tmp/out" || fail "check: passed line"
[ "$(grep -c '^  ok ' "$tmp/out")" -eq 3 ] || fail "check: three ok lines"
expect 0 "$ctplan" check --max-chain 8 --margin 25% --max-nat-util 0.8 "$sample"
# the same figures as the report's
"$ctplan" analyze -q --format json "$sample" >"$tmp/r.json"
expect 0 "$ctplan" check --format json "$sample"
python3 - "$tmp/out" "$tmp/r.json" <<'PY' || fail "check: json figures"
import json, sys
c = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
# the report's JSON keeps 10 digits, check's own dump all of them
close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)
assert c["failed"] == 0
assert [(x["name"], x["ok"]) for x in c["checks"]] == \
    [(x["name"], x["ok"]) for x in d["checks"]], (c, d["checks"])
assert all(close(x["value"], y["value"]) for x, y in zip(c["checks"], d["checks"]))
h = {x["name"]: x for x in d["checks"]}
assert close(h["headroom_pct_at_peak"]["value"], d["headroom"]["growth"]["headroom_pct_at_peak"])
am = d["hash"]["at_max"]["histogram"]
share = sum(l * b for l, b in enumerate(am) if l > 8) / sum(l * b for l, b in enumerate(am))
# the histogram is rounded to 4 decimals in the JSON
assert abs(h["long_chain_share_at_max"]["value"] - share) < 1e-6
assert close(h["nat_utilization"]["value"], max(g["utilization"] for g in d["nat"]["groups"]))
PY

# ---- check: 1, each failure with its figure and limit
expect 1 "$ctplan" check --growth 10000 "$sample"
grep -q "^$sample: FAILED" "$tmp/out" || fail "check: FAILED line"
grep -qE '^  FAIL headroom_pct_at_peak +-33\.51[0-9]* +>= 25 ' "$tmp/out" ||
	fail "check: headroom failure with figure and limit"
# chains over 2 on 6.18 (max chain length drawn from 50 on) cost lookup
# time only: a warning; on 5.15.0 (from 8 on) the kernel refuses flows
# in chains over 8, as a table at 8 nodes a bucket has
expect 0 "$ctplan" check --max-chain 2 "$sample"
grep -qE '^  WARN long_chain_share_at_max ' "$tmp/out" ||
	fail "check: chain warning on 6.18"
expect 1 "$ctplan" check --kernel 5.15.0 tests/cli/hosts/k514-defaults
grep -qE '^  FAIL long_chain_share_at_max ' "$tmp/out" ||
	fail "check: chain failure on 5.15.0"
expect 1 "$ctplan" check --max-nat-util 0.00001 --no-hash "$sample"
grep -qE '^  FAIL nat_utilization ' "$tmp/out" || fail "check: nat failure"
# a host that saved only its kernel log (no table, no max): the logged
# overflow fails the gate, not UNKNOWN (exit 2)
expect 1 "$ctplan" check samples/kmsg/lab-6.18/before-flush
grep -qE '^  FAIL table_full_logged +307 +<= 0 +history\.table_full' \
	"$tmp/out" || fail "check: logged overflow fails"
grep -q ": FAILED" "$tmp/out" || fail "check: logged overflow FAILED line"
# one bad host fails the gate even when the other passes
expect 1 "$ctplan" check --peak 300000 "$sample" "$sample"

# ---- check: 2
expect 2 "$ctplan" check
expect 2 "$ctplan" check "$tmp/does-not-exist"
expect 2 "$ctplan" check --margin abc "$sample"
expect 2 "$ctplan" check --max-chain 0 "$sample"
expect 2 "$ctplan" check --bogus "$sample"
# a dump without nf_conntrack_max: nothing to judge the headroom by
expect 2 "$ctplan" check "$sample/conntrack_-L"
grep -q "had no figure to judge" "$tmp/err" || fail "check: unjudged message"
expect 0 "$ctplan" check --help

# ---- analyze takes the planner options too
expect 0 "$ctplan" analyze -q --format json --peak 300000 "$sample"
python3 - "$tmp/out" <<'PY' || fail "analyze --peak"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["headroom"]["growth"]
assert g["peak"] == 300000 and g["peak_source"] == "--peak", g
assert d["recommendation"]["max"] == 400384, d["recommendation"]["max"]
assert any(f["code"] == "plan.max_low" for f in d["findings"])
PY

finish "plan/check: all checks passed"
