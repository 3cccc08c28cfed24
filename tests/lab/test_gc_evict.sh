#!/usr/bin/env bash
# test_gc_evict.sh - the gc worker's eviction of a full table, against
# ctplan's model of it (headroom.gc_eviction, table.full_drop_p).
#
#   usage: test_gc_evict.sh CTPLAN SRCDIR     (run by ctest as lab/...)
#
# On 4.14+ kernels (include/ctplan/kernel.h ctp_kernel_gc_evict), once an
# allocation finds a namespace full and early_drop() frees nothing, the
# gc worker's next pass kills entries that are not ASSURED or are TCP in
# a closing state (FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE)
# while the namespace's count is at least nf_conntrack_max / 100 * 95.
# This test:
#   1. lowers net.netfilter.nf_conntrack_max (GLOBAL: read-only in other
#      namespaces, 0444 for non-init_net in nf_conntrack_standalone.c) to
#      MAX, the original put back on every exit path (trap, read back; a
#      state file under /run/lock repairs a run killed with -9);
#   2. fills a namespace of its own with MAX entries by conntrack -I, all
#      ASSURED with a 3600 s timeout: EST ESTABLISHED, TW TIME_WAIT and
#      CL CLOSE (so nothing expires and early_drop() finds nothing);
#   3. saves the bundle (conntrack -L, -S, sysctl -a of the namespace,
#      uname -a);
#   4. inserts one more entry: the table is full, nothing is evictable at
#      insert, the insert fails and arms the gc worker;
#   5. waits (at most 75 s: the 6.x gc runs at least every 60 s) until the
#      count stops falling, and lists the table again by state;
#   6. puts max back and runs ctplan analyze on the saved bundle.
# Checks: the insert was refused; the count fell to exactly the threshold
# minus one, as headroom.gc_eviction predicts (frees = MAX - threshold +
# 1); every ESTABLISHED entry survived and only TIME_WAIT/CLOSE ones
# went; table.full_drop_p is 1 (nothing evictable at insert); the
# eviction explanation names the gc worker.
# Exit 77 = skipped (no root, no tools, no namespaces, busy host, a
# kernel without the gc eviction).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
PYTHON=${PYTHON:-python3}

EST=1000 TW=600 CL=400
MAX=$((EST + TW + CL))
MFILE=/proc/sys/net/netfilter/nf_conntrack_max
STATE=/run/lock/ctplan-lab-max.restore
NS=ctplgc-$$

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
FAILS=0

[[ -x $CTPLAN ]] || { echo "FAIL: ctplan binary '$CTPLAN' is missing"; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "must run as root (namespaces, global sysctl)"
for t in ip conntrack flock "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
[[ -w $MFILE ]] || skip "$MFILE is not writable here"

tmp=$(mktemp -d /tmp/ctpl-gc.XXXXXX) || exit 1
ORIG_M="" CHANGED=0 NS_MADE=0

restore_max() {
    [[ $CHANGED -eq 1 ]] || return 0
    echo "$ORIG_M" >"$MFILE" 2>/dev/null
    if [[ $(cat "$MFILE") == "$ORIG_M" ]]; then
        CHANGED=0
        rm -f "$STATE"
        echo "restored nf_conntrack_max=$ORIG_M"
        return 0
    fi
    echo "FAIL: could not restore nf_conntrack_max=$ORIG_M (now" \
        "$(cat "$MFILE")); $STATE keeps the value"
    return 1
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    restore_max || rc=1
    [[ $NS_MADE -eq 1 ]] && ip netns del "$NS" 2>/dev/null
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$SRC/tests/lab/lab_lock.sh"
if [[ -s $STATE ]]; then
    read -r sm <"$STATE"
    echo "a previous run left nf_conntrack_max at $(cat "$MFILE");" \
        "restoring $sm from $STATE"
    echo "$sm" >"$MFILE" && rm -f "$STATE"
fi
for o in $(ip netns list 2>/dev/null | awk '$1 ~ /^ctplgc-[0-9]+$/ {print $1}'); do
    kill -0 "${o#ctplgc-}" 2>/dev/null && continue
    echo "removing $o, left by a killed run"
    ip netns del "$o"
done

# the max is global, each namespace's count its own: every other must
# stay well under MAX while it is low
for o in $(ip netns list 2>/dev/null | awk '{print $1}') ""; do
    if [[ -z $o ]]; then n=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    else n=$(ip netns exec "$o" conntrack -C 2>/dev/null | tr -d ' \n'); fi
    (( ${n:-0} * 4 < MAX )) ||
        skip "namespace '${o:-root}' holds ${n} entries: a max of $MAX would drop its flows"
done

uname_r=$(uname -r)
kv=$(echo "$uname_r" | sed -E 's/^([0-9]+)\.([0-9]+).*/\1 \2/')
read -r kmaj kmin <<<"$kv"
(( kmaj > 4 || (kmaj == 4 && kmin >= 14) )) ||
    skip "kernel $uname_r: the gc eviction is modelled from 4.14 on"

ORIG_M=$(cat "$MFILE")
echo "host: nf_conntrack_max=$ORIG_M, kernel $uname_r"

ip netns add "$NS" 2>"$tmp/err" || skip "ip netns add: $(cat "$tmp/err")"
NS_MADE=1
ip -n "$NS" link set lo up
# the module's per-namespace state exists once conntrack is used there
ip netns exec "$NS" conntrack -C >/dev/null 2>&1 ||
    skip "conntrack does not work in a new namespace"

echo "$ORIG_M" >"$STATE"
CHANGED=1
echo "$MAX" >"$MFILE" || fail "cannot set nf_conntrack_max=$MAX"
echo "lowered nf_conntrack_max to $MAX"

# ---------------------------------------------------------------- fill
# conntrack -I: documentation addresses, one source port per entry
ins() { # state count first-port
    local st=$1 n=$2 p=$3 i
    for ((i = 0; i < n; i++)); do
        ip netns exec "$NS" conntrack -I -p tcp -s 198.18.0.2 \
            -d 203.0.113.2 --sport $((p + i)) --dport 80 --state "$st" \
            -t 3600 -u ASSURED >/dev/null 2>>"$tmp/ins.err" || return 1
    done
}
ins ESTABLISHED $EST 10000 || fail "insert ESTABLISHED: $(tail -n1 "$tmp/ins.err")"
ins TIME_WAIT $TW 20000 || fail "insert TIME_WAIT: $(tail -n1 "$tmp/ins.err")"
ins CLOSE $CL 30000 || fail "insert CLOSE: $(tail -n1 "$tmp/ins.err")"
c0=$(ip netns exec "$NS" conntrack -C)
[[ $c0 -eq $MAX ]] || fail "filled to $c0 entries, not $MAX"

b=$tmp/bundle
mkdir -p "$b"
ip netns exec "$NS" conntrack -L -o extended >"$b/conntrack_-L_-o_extended" 2>/dev/null
ip netns exec "$NS" conntrack -S >"$b/conntrack_-S"
ip netns exec "$NS" sysctl -a 2>/dev/null | grep '^net\.netfilter\.' >"$b/sysctl_-a"
uname -a >"$b/uname_-a"
s0=$(ip netns exec "$NS" conntrack -S)

# ------------------------------------------------- full: arm the gc
if ip netns exec "$NS" conntrack -I -p tcp -s 198.18.0.3 -d 203.0.113.2 \
    --sport 40000 --dport 80 --state ESTABLISHED -t 3600 -u ASSURED \
    >/dev/null 2>"$tmp/full.err"; then
    fail "an insert into a full table of assured entries succeeded"
else
    echo "insert into the full table refused: $(head -n1 "$tmp/full.err")"
fi

t0=$(date +%s)
last=$c0 steady=0
for ((s = 0; s < 75; s++)); do
    sleep 1
    c=$(ip netns exec "$NS" conntrack -C)
    if [[ $c -lt $c0 && $c -eq $last ]]; then
        steady=$((steady + 1))
        [[ $steady -ge 3 ]] && break
    else
        steady=0
    fi
    last=$c
done
c1=$(ip netns exec "$NS" conntrack -C)
el=$(( $(date +%s) - t0 ))
ip netns exec "$NS" conntrack -L 2>/dev/null |
    awk '{print $4}' | sort | uniq -c >"$tmp/after"
s1=$(ip netns exec "$NS" conntrack -S)
echo "count $c0 -> $c1 after ${el}s; left by state:" $(cat "$tmp/after")
restore_max || FAILS=$((FAILS + 1))

# ---------------------------------------------------------- ctplan
"$CTPLAN" analyze -q --format json "$b" >"$tmp/r.json" 2>"$tmp/r.err" ||
    [[ $? -eq 1 ]] || fail "ctplan analyze: $(head -c 300 "$tmp/r.err")"
read -r kernel thr frees share p reason < <("$PYTHON" - "$tmp/r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["headroom"]["gc_eviction"]
p = d["table"]["full_drop_p"]
r = [x for x in d["recommendation"]["reasons"] if "if the table fills" in x]
print(g["kernel"], g["threshold"], g["frees"], g["evictable_share"], p,
      "gc" if r and "gc worker" in r[0] else "none")
PY
)
echo "ctplan: gc kernel=$kernel threshold=$thr frees=$frees" \
    "evictable_share=$share full_drop_p=$p explanation=$reason"
[[ $kernel == yes ]] || fail "ctplan says no gc eviction on $uname_r"
[[ $thr -eq $((MAX / 100 * 95)) ]] || fail "threshold $thr, want $((MAX / 100 * 95))"
[[ $((c0 - c1)) -eq $frees ]] ||
    fail "the gc evicted $((c0 - c1)) entries, ctplan predicts $frees"
[[ $c1 -eq $((thr - 1)) ]] || fail "count $c1 after the gc, want threshold - 1 = $((thr - 1))"
est_left=$(awk '$2 == "ESTABLISHED" {print $1}' "$tmp/after")
[[ ${est_left:-0} -eq $EST ]] ||
    fail "ESTABLISHED entries went: $est_left of $EST left"
gone_closing=$(( TW + CL - $(awk '$2 == "TIME_WAIT" || $2 == "CLOSE" {n += $1} END {print n + 0}' "$tmp/after") ))
[[ $gone_closing -eq $((c0 - c1)) ]] ||
    fail "evicted $((c0 - c1)), of them TIME_WAIT/CLOSE $gone_closing"
want_share=$("$PYTHON" -c "print(round(($TW + $CL) / $MAX, 6))")
[[ $share == "$want_share" ]] || fail "evictable_share $share, want $want_share"
[[ $p == 1 || $p == 1.0 ]] || fail "table.full_drop_p $p, want 1 (nothing evictable at insert)"
[[ $reason == gc ]] || fail "the eviction explanation does not name the gc worker"
echo "conntrack -S before: $(echo "$s0" | awk '{for(i=1;i<=NF;i++) if ($i ~ /^(drop|early_drop)=/) printf "%s ", $i}')"
echo "conntrack -S after:  $(echo "$s1" | awk '{for(i=1;i<=NF;i++) if ($i ~ /^(drop|early_drop)=/) printf "%s ", $i}')"

if [[ $FAILS -ne 0 ]]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "gc eviction: $((c0 - c1)) closing entries evicted in ${el}s down to $c1, as modelled"
