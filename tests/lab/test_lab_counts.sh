#!/usr/bin/env bash
# test_lab_counts.sh - ctplan against the real kernel.
#
#   usage: test_lab_counts.sh CTPLAN SRCDIR     (run by ctest as lab/...)
#
# Captures a fresh table with tests/lab/capture.sh (network namespaces; exit
# 77 = skipped when that cannot be done), then checks that
# `ctplan analyze --format json` of every dump of that one table gives the
# entry counts that tests/lab/xml_counts.py reads from `conntrack -L -o xml`
# with python's own XML parser (the independent reference):
#   - each variant alone: entries.{total, by_family, by_protocol, by_state,
#     by_zone, assured, unreplied} equal the reference, no events, no line
#     rejected, lines == records + rejected + other, and conntrack's own
#     "N flow entries have been shown" (summary_count) equals the total;
#   - the xml file itself, analyzed the same way;
#   - all variants in one run (one table seen many times): the same counts,
#     duplicates merged, and table.count == the value of conntrack -C;
#   - the capture itself: of each pair of flows from source port 29999 to the
#     same server ip:port, exactly one was remapped by MASQUERADE.
# capture.sh only keeps a capture whose xml dumps taken just before and just
# after the table files agree ("tables stable: yes" in MANIFEST), so every
# file shows the same flows; the capture is redone once if it was not.
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
LAB=$SRC/tests/lab
. "$LAB/lab_lock.sh"
PYTHON=${PYTHON:-python3}
START=$(date +%s.%N)

tmp=$(mktemp -d /tmp/ctpl-labtest.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*"; exit 1; }

[[ -x $CTPLAN ]] || fail "ctplan binary '$CTPLAN' is missing"
command -v "$PYTHON" >/dev/null 2>&1 || {
    echo "SKIP: no python3 for the xml reference"; exit 77; }

# ------------------------------------------------------------ capture
capture() {
    local rc=0
    rm -rf "$tmp/cap"
    bash "$LAB/capture.sh" "$tmp/cap" 2>"$tmp/capture.err" || rc=$?
    sed 's/^/  | /' "$tmp/capture.err"
    if [[ $rc -eq 77 ]]; then
        echo "SKIP: $(grep -m1 '^SKIP:' "$tmp/capture.err" |
            sed 's/^SKIP: //')"
        exit 77
    fi
    [[ $rc -eq 0 ]] || fail "capture.sh exited $rc"
}
capture
if ! grep -q '^# tables stable: yes' "$tmp/cap/MANIFEST"; then
    echo "the table changed while it was captured; capturing again"
    capture
    grep -q '^# tables stable: yes' "$tmp/cap/MANIFEST" ||
        fail "the table kept changing during two captures (see above)"
fi
CAP=$tmp/cap
XML=$CAP/conntrack_-L_-o_xml
[[ -s $XML ]] || fail "capture has no $XML"

"$PYTHON" "$LAB/xml_counts.py" "$XML" >"$tmp/ref.json" ||
    fail "xml_counts.py cannot read $XML"
echo "reference from conntrack -L -o xml:"
sed 's/^/  /' "$tmp/ref.json"

# ------------------------------------------------------------ comparison
# check.py REF CTPLAN_JSON MODE: exit 0 when ctplan's counts match.
# MODE "one" = one input; "all" = several forms of the table at once.
# Prints mismatches as "key<TAB>ctplan<TAB>xml" lines on fd 3 for the
# per-line attribution below, and a readable report on stdout.
cat >"$tmp/check.py" <<'EOF'
import json, sys

ref = json.load(open(sys.argv[1]))
try:
    got = json.load(open(sys.argv[2]))
except ValueError as e:
    print("  ctplan printed no JSON: %s" % e)
    sys.exit(1)
mode = sys.argv[3]
keys_out = open(sys.argv[4], "w")
e = got.get("entries", {})
bad = []


def flat(d, prefix):
    if isinstance(d, dict):
        return dict(("%s:%s" % (prefix, k), v) for k, v in d.items())
    return {prefix: d}


mine, theirs = {}, {}
for k in ("total", "by_family", "by_protocol", "by_state", "by_zone",
          "assured", "unreplied"):
    mine.update(flat(e.get(k), k))
    theirs.update(flat(ref[k], k))
for k in sorted(set(mine) | set(theirs)):
    a, b = mine.get(k, 0), theirs.get(k, 0)
    if a != b:
        bad.append("%-28s ctplan %-6s xml %s" % (k, a, b))
        keys_out.write("%s\t%s\t%s\n" % (k, a, b))
if e.get("events", 0):
    bad.append("entries.events is %s, expected 0" % e.get("events"))
inputs = got.get("inputs", [])
if mode == "one" and len(inputs) != 1:
    bad.append("%d inputs, expected 1" % len(inputs))
flows = 0
for i in inputs:
    n = "inputs[%s]" % i.get("path")
    if i.get("rejected") != 0:
        bad.append("%s.rejected is %s, expected 0" % (n, i.get("rejected")))
    if i.get("lines") != i.get("records", 0) + i.get("rejected", 0) + \
            i.get("other", 0):
        bad.append("%s: lines %s != records %s + rejected %s + other %s" %
                   (n, i.get("lines"), i.get("records"), i.get("rejected"),
                    i.get("other")))
    if i.get("skipped"):
        bad.append("%s was skipped as an unknown format" % n)
    sc = i.get("summary_count")
    if sc is not None and sc != ref["total"]:
        bad.append("%s.summary_count is %s, xml has %s entries" %
                   (n, sc, ref["total"]))
    flows += i.get("flows", 0)
if mode == "all":
    dm = e.get("duplicates_merged")
    if dm != flows - ref["total"]:
        bad.append("entries.duplicates_merged is %s, expected %s "
                   "(%s flows read, %s entries)" %
                   (dm, flows - ref["total"], flows, ref["total"]))
if bad:
    for b in bad:
        print("  " + b)
    sys.exit(1)
i = inputs[0] if inputs else {}
if mode == "one":
    print("lines=%s records=%s other=%s flows=%s format=%s" %
          (i.get("lines"), i.get("records"), i.get("other"), i.get("flows"),
           i.get("format")))
else:
    print("%d inputs, %d flows read, %s entries, %s duplicates merged" %
          (len(inputs), flows, e.get("total"), e.get("duplicates_merged")))
EOF

# attribute FILE KEYS: which lines of FILE ctplan counted in each bucket
# that disagrees, found by analyzing growing prefixes of the file (so
# headers and spliced summary lines keep their context), next to the xml
# flows in that bucket.
attribute() {
    local file=$1 keys=$2 n k line prev=$tmp/attr/prev.json
    local base
    base=$(basename "$file")
    mkdir -p "$tmp/attr"
    echo '{"entries":{}}' >"$prev"
    : >"$tmp/attr/buckets"
    n=$(wc -l <"$file")
    for ((k = 1; k <= n; k++)); do
        head -n "$k" "$file" >"$tmp/attr/$base"
        "$CTPLAN" analyze --format json "$tmp/attr/$base" \
            >"$tmp/attr/cur.json" 2>/dev/null
        "$PYTHON" - "$prev" "$tmp/attr/cur.json" "$k" \
            >>"$tmp/attr/buckets" <<'EOF'
import json, sys
def flat(e):
    out = {}
    for k, v in e.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                out["%s:%s" % (k, kk)] = vv
        else:
            out[k] = v
    return out
try:
    a = flat(json.load(open(sys.argv[1])).get("entries", {}))
    b = flat(json.load(open(sys.argv[2])).get("entries", {}))
except ValueError:
    sys.exit(0)
for k in sorted(set(a) | set(b)):
    d = b.get(k, 0) - a.get(k, 0)
    if isinstance(d, int) and d:
        print("%s\t%s\t%+d" % (sys.argv[3], k, d))
EOF
        cp "$tmp/attr/cur.json" "$prev"
    done
    while IFS=$'\t' read -r key mine theirs; do
        echo "  bucket $key: ctplan counted $mine, xml has $theirs"
        echo "    lines of $base ctplan counted there:"
        awk -F'\t' -v key="$key" '$2 == key { print $1 }' \
            "$tmp/attr/buckets" | while read -r line; do
            printf '      %s: %s\n' "$line" \
                "$(sed -n "${line}p" "$file" | cut -c1-220)"
        done
        echo "    xml flows there:"
        "$PYTHON" "$LAB/xml_counts.py" --flows "$key" "$XML" |
            sed 's/^/      /'
    done <"$keys"
}

FAILED=0
# check NAME MODE FILE...: analyze FILE... and compare with the reference
check() {
    local name=$1 mode=$2 rc=0 out; shift 2
    "$CTPLAN" analyze --format json "$@" >"$tmp/out.json" \
        2>"$tmp/out.err" || rc=$?
    if [[ $rc -ne 0 ]]; then
        printf 'FAIL %-34s ctplan exited %d\n' "$name" "$rc"
        sed 's/^/  /' "$tmp/out.err" | head -n 20
        FAILED=1
        return
    fi
    if out=$("$PYTHON" "$tmp/check.py" "$tmp/ref.json" "$tmp/out.json" \
        "$mode" "$tmp/keys"); then
        printf 'ok   %-34s %s\n' "$name" "$out"
        cp "$tmp/out.json" "$tmp/last.json"
        return
    fi
    printf 'FAIL %-34s counts differ from the xml reference:\n' "$name"
    printf '%s\n' "$out"
    [[ -s $tmp/out.err ]] && sed 's/^/  stderr: /' "$tmp/out.err" | head -n 20
    [[ $mode == one && -s $tmp/keys ]] && attribute "$1" "$tmp/keys"
    FAILED=1
}

VARIANTS=(conntrack_-L conntrack_-L_-o_extended conntrack_-L_-o_id
    conntrack_-L_-o_ktimestamp conntrack_-L_-o_labels
    "conntrack_-L_-o_extended,id" proc_net_nf_conntrack conntrack_-L_-o_save
    conntrack.txt conntrack_-L_-o_labels+connlabel conntrack_-L_-o_xml)
# produced only where the tools allow it (see the MANIFEST of the capture)
OPTIONAL=" conntrack_-L_-o_extended,id conntrack_-L_-o_labels+connlabel "

ALL=()
for v in "${VARIANTS[@]}"; do
    if [[ ! -e $CAP/$v ]]; then
        if [[ $OPTIONAL == *" $v "* ]]; then
            printf 'skip %-34s not produced: %s\n' "$v" \
                "$(grep -F "#$v" "$CAP/MANIFEST" | cut -f3)"
            continue
        fi
        fail "capture has no $v"
    fi
    ALL+=("$CAP/$v")
    check "$v" one "$CAP/$v"
done

# one table shown in every form at once, with conntrack -C alongside
check "all ${#ALL[@]} variants + conntrack_-C" all "${ALL[@]}" \
    "$CAP/conntrack_-C"
if [[ -s $tmp/last.json ]]; then
    C=$(tr -d ' \n' <"$CAP/conntrack_-C")
    read -r count source < <("$PYTHON" -c '
import json, sys
t = json.load(open(sys.argv[1])).get("table", {})
print(t.get("count"), t.get("count_source"))' "$tmp/last.json")
    total=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' \
        "$tmp/ref.json")
    if [[ $count == "$C" ]]; then
        printf 'ok   %-34s table.count %s == conntrack -C %s (%s)\n' \
            "table.count" "$count" "$C" "$source"
    else
        printf 'FAIL %-34s table.count %s != conntrack -C %s (%s)\n' \
            "table.count" "$count" "$C" "$source"
        FAILED=1
    fi
    # nf_conntrack_count also counts entries being set up or torn down,
    # so this one is only reported
    [[ $C == "$total" ]] ||
        echo "note: conntrack -C says $C, the listings show $total entries"
fi

# ------------------------------------------------------------ capture sanity
# The Docker same-port case: c1 and c2 both use source port 29999 towards
# one server ip:port (tcp v4 :80, udp :53, tcp v6 :80); MASQUERADE keeps
# the first and has to remap the second (reply dport != 29999).
sed -z 's/conntrack v[0-9.]* (conntrack-tools): [0-9]* flow entries have been shown\.\n//g' \
    "$CAP/conntrack_-L" | tr -d '\0' >"$tmp/L.clean"
remap=$(awk '{
        n = 0; split("", sp); split("", dp); split("", dst)
        for (i = 1; i <= NF; i++) {
            k = n + 1
            if ($i ~ /^dst=/ && !(k in dst)) dst[k] = substr($i, 5)
            if ($i ~ /^sport=/) sp[++n] = substr($i, 7)
            if ($i ~ /^dport=/) dp[n] = substr($i, 7)
        }
        if (n < 2 || sp[1] != 29999) next
        g = $1 " " dst[1] " " dp[1]
        flows[g]++
        if (dp[2] != 29999) remapped[g]++
    } END {
        for (g in flows)
            printf "%s flows=%d remapped=%d\n", g, flows[g], remapped[g] + 0
    }' "$tmp/L.clean" | sort)
printf '%s\n' "$remap" | sed 's/^/  sport=29999 group: /'
groups=$(grep -c 'flows=2 remapped=1$' <<<"$remap")
if [[ $groups -eq 3 && $(grep -c . <<<"$remap") -eq 3 ]]; then
    printf 'ok   %-34s 3 pairs from sport 29999, one remapped in each\n' \
        "NAT port remap"
else
    printf 'FAIL %-34s expected 3 groups of 2 flows from sport 29999 with exactly one remapped each\n' \
        "NAT port remap"
    grep 'sport=29999' "$tmp/L.clean" | sed 's/^/  /'
    grep -i failed "$CAP/traffic.log" | sed 's/^/  traffic.log: /'
    FAILED=1
fi

awk -v a="$START" -v b="$(date +%s.%N)" \
    'BEGIN { printf "run time %.1f s\n", b - a }'
[[ $FAILED -eq 0 ]] || fail "ctplan disagrees with the kernel's xml (above)"
echo "PASS"
