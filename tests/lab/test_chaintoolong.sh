#!/usr/bin/env bash
# test_chaintoolong.sh - ctplan's chain model against the real kernel.
#
#   usage: test_chaintoolong.sh CTPLAN SRCDIR     (run by ctest as lab/...)
#
# The kernel refuses a new conntrack entry when the hash chain of its
# original or reply tuple already holds max_chainlen + 2 nodes, with
# max_chainlen = 50 + random[0, 30) per insert since 6.3 (chaintoolong
# counter; docs/hash-model.md).  Chains that long need a table with far
# too few buckets, so this test:
#   1. shrinks net.netfilter.nf_conntrack_buckets (a GLOBAL sysctl, only
#      writable in the root namespace) to BUCKETS, the original value put
#      back on every exit path (EXIT/INT/TERM trap, checked by reading it
#      back; a state file under /run/lock repairs a run killed with -9);
#   2. fills a namespace of its own with about 25.4 * BUCKETS UDP flows
#      (documentation range 198.18.0.0/15, sent from one socket to many
#      ports; a veth with a static neighbour takes the packets), so chains
#      average ~51 nodes and the kernel refuses ~15% of new flows;
#   3. saves the bundle a support engineer would (conntrack -L, -S,
#      sysctl -a, uname -a);
#   4. measures: CYCLES times, sends CYCLE_FLOWS new flows and reads how
#      many the kernel refused (chaintoolong summed over CPUs, before and
#      after), then deletes those flows (conntrack -D), so every cycle
#      starts from the saved table; the last cycle's table is saved too;
#   5. probes ctnetlink: PROBE `conntrack -I` inserts, which go through
#      nf_conntrack_hash_check_insert() and its chain check as well;
#   6. puts the table size back, then runs ctplan on the saved bundle.
#
# Check: the measured refused share m over CYCLES * CYCLE_FLOWS attempts
# against p = hash.chaintoolong_p_next of the saved bundle.  Within a
# cycle the table grows by the accepted flows, so the kernel's refusal
# probability drifts up from p to p1 (ctplan on the bundle saved at the
# end of a cycle); the expected share is about (p + p1) / 2.  Tolerance:
#   |m - (p + p1)/2| <= 4 * sqrt(m(1-m)/n + s_k^2 (1 + 1/K))
# with n the attempts (binomial), s_k the spread of p over single keys
# (ctplan --keys 1 with SPREAD seeds: the real table is one draw from the
# same law, and the K-key mean has s_k^2/K of its own).  4 sigma: a
# correct model fails about once in 15000 runs.  Also required: the
# kernel refused some inserts while filling (the limit is real), its
# insert_failed grew exactly with chaintoolong, and the ctnetlink probe
# was refused at least once.
#
# The table is shared by every namespace of the host: the test holds the
# lab lock (tests/lab/lab_lock.sh) so no other lab run sees the small
# table, gives other namespaces WAIT_OTHERS s to go away, skips if they
# (and the root namespace) hold more than 1% of the entries it adds, and
# keeps the table small for a few seconds only (steps 1-5).
# Exit 77 = skipped (no root, no tools, no namespaces, busy host).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
PYTHON=${PYTHON:-python3}
START=$(date +%s.%N)

BUCKETS=1024      # asked for; the kernel rounds to 512-bucket steps
LOAD=25.4         # entries per bucket filled in (nodes: 2 * LOAD)
CYCLES=10
CYCLE_FLOWS=200
PROBE=100
SPREAD=8          # single-key ctplan runs for the spread of p
WAIT_OTHERS=${CTPL_WAIT_OTHERS:-30}

BFILE=/proc/sys/net/netfilter/nf_conntrack_buckets
MFILE=/proc/sys/net/netfilter/nf_conntrack_max
STATE=/run/lock/ctplan-lab-buckets.restore
NS=ctplct-$$

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

# ------------------------------------------------------------ preconditions
[[ -x $CTPLAN ]] || fail "ctplan binary '$CTPLAN' is missing"
[[ $(id -u) -eq 0 ]] || skip "must run as root (namespaces, global sysctl)"
for t in ip conntrack flock "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
command -v iptables >/dev/null 2>&1 || command -v nft >/dev/null 2>&1 ||
    skip "neither iptables nor nft available"
[[ -w $BFILE ]] || skip "$BFILE is not writable here"

tmp=$(mktemp -d /tmp/ctpl-chain.XXXXXX) || exit 1
ORIG_B="" ORIG_M="" CHANGED=0 NS_MADE=0

# Put the global sysctls back and say so; 1 if they did not stick.
restore_sysctls() {
    local ok=0
    [[ $CHANGED -eq 1 ]] || return 0
    echo "$ORIG_B" >"$BFILE" 2>/dev/null
    [[ -n $ORIG_M ]] && echo "$ORIG_M" >"$MFILE" 2>/dev/null
    if [[ $(cat "$BFILE") == "$ORIG_B" && $(cat "$MFILE") == "$ORIG_M" ]]
    then
        CHANGED=0
        rm -f "$STATE"
        echo "restored nf_conntrack_buckets=$ORIG_B nf_conntrack_max=$ORIG_M"
    else
        echo "FAIL: could not restore nf_conntrack_buckets=$ORIG_B" \
            "nf_conntrack_max=$ORIG_M (now $(cat "$BFILE") /" \
            "$(cat "$MFILE")); $STATE keeps the values"
        ok=1
    fi
    return $ok
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    restore_sysctls || rc=1
    [[ $NS_MADE -eq 1 ]] && ip netns del "$NS" 2>/dev/null
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One lab run at a time on this machine, whatever the checkout or ctest
# (tests/lab/lab_lock.sh), and repair a run that died before restoring.
. "$SRC/tests/lab/lab_lock.sh"
if [[ -s $STATE ]]; then
    read -r sb sm <"$STATE"
    echo "a previous run left the table at $(cat "$BFILE") buckets;" \
        "restoring $sb / $sm from $STATE"
    echo "$sb" >"$BFILE" && echo "$sm" >"$MFILE" && rm -f "$STATE"
fi

# Namespaces of this test left by a run killed with -9: remove them.
for o in $(ip netns list 2>/dev/null | awk '$1 ~ /^ctplct-[0-9]+$/ {print $1}')
do
    kill -0 "${o#ctplct-}" 2>/dev/null && continue
    echo "removing $o, left by a killed run"
    ip netns del "$o"
done

# The table is global.  Lab runs hold the lock, so namespaces seen now
# belong to something else (or to a run killed with -9): give them a
# moment, then go on if they hold few entries next to ours.
others() { ip netns list 2>/dev/null | awk '{print $1}' | grep -vx "$NS"; }
waited=0
while [[ -n $(others) && $waited -lt $WAIT_OTHERS ]]; do
    [[ $waited -eq 0 ]] && echo "waiting for other namespaces:" \
        "$(others | tr '\n' ' ')"
    sleep 2
    waited=$((waited + 2))
done
OTHER_ENTRIES=0
for o in $(others); do
    n=$(ip netns exec "$o" conntrack -C 2>/dev/null | tr -d ' \n')
    OTHER_ENTRIES=$((OTHER_ENTRIES + ${n:-0}))
done
ROOT_ENTRIES=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
echo "entries outside the test: root namespace $ROOT_ENTRIES," \
    "other namespaces $OTHER_ENTRIES"
# their nodes lengthen our chains unseen by the model: at most 1% of ours
awk -v o=$((ROOT_ENTRIES + OTHER_ENTRIES)) -v b=$BUCKETS -v l=$LOAD \
    'BEGIN { exit !(100 * o <= b * l) }' ||
    skip "$((ROOT_ENTRIES + OTHER_ENTRIES)) entries of other namespaces" \
        "share the table, more than 1% of what the test adds"

# ------------------------------------------------------------ namespace
ip netns add "$NS" 2>"$tmp/err" || skip "ip netns add: $(cat "$tmp/err")"
NS_MADE=1
ip -n "$NS" link set lo up
# no IPv6 chatter (router solicitations, MLD): only the test's flows
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
# the packets leave through a veth to a neighbour that does not exist
# (static entry, so no ARP); conntrack confirms them on the way out
ip -n "$NS" link add v0 type veth peer name v1 2>"$tmp/err" ||
    skip "no veth: $(cat "$tmp/err")"
ip -n "$NS" addr add 198.18.0.1/15 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
for d in 198.19.0.1 198.19.1.1 198.19.2.1; do
    ip -n "$NS" neigh add "$d" lladdr 02:00:00:00:00:01 dev v0 nud permanent
done
# conntrack runs in a namespace only once a rule needs it
if ! nsx iptables -A OUTPUT -m conntrack --ctstate NEW -j ACCEPT \
    2>"$tmp/err"; then
    nsx nft -f - <<'EOF' 2>>"$tmp/err" ||
table inet ctpl { chain out { type filter hook output priority 0; ct state new accept; } }
EOF
        skip "cannot install a conntrack rule: $(head -n1 "$tmp/err")"
fi
# per-namespace: keep the unreplied flows for the whole test
nsx sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 ||
    fail "cannot set nf_conntrack_udp_timeout in $NS"

cat >"$tmp/send.py" <<'EOF'
# send.py DST FIRST N: one UDP datagram from 198.18.0.1:40000 to each of
# DST:FIRST .. DST:FIRST+N-1; a dropped packet (the kernel refused its
# conntrack entry) fails sendto() with EPERM.  Prints "eperm other".
import socket, sys
dst, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.1", 40000))
eperm = other = 0
for p in range(first, first + n):
    try:
        s.sendto(b"x", (dst, p))
    except PermissionError:
        eperm += 1
    except OSError:
        other += 1
print(eperm, other)
EOF
# stat NAME: a conntrack -S counter summed over CPUs (per namespace)
stat() {
    nsx conntrack -S 2>/dev/null |
        awk -v k="$1" '{ for (i = 1; i <= NF; i++) {
            split($i, kv, "="); if (kv[1] == k) s += kv[2] } }
            END { print s + 0 }'
}
count() { nsx conntrack -C 2>/dev/null | tr -d ' \n'; }

# ------------------------------------------------------------ shrink
ORIG_B=$(cat "$BFILE")
ORIG_M=$(cat "$MFILE")
echo "$ORIG_B $ORIG_M" >"$STATE"
CHANGED=1
echo "$BUCKETS" >"$BFILE" || fail "cannot write $BFILE"
B=$(cat "$BFILE")
echo "nf_conntrack_buckets $ORIG_B -> $B (asked $BUCKETS)," \
    "nf_conntrack_max $(cat "$MFILE")"
[[ $(cat "$MFILE") == "$ORIG_M" ]] ||
    fail "changing the buckets changed nf_conntrack_max"
FILL=$(awk -v b="$B" -v l="$LOAD" 'BEGIN { printf "%d", b * l }')
# the limit is checked against each namespace's count: it must not bite
if [[ $ORIG_M -lt $((2 * FILL)) ]]; then
    echo $((2 * FILL)) >"$MFILE" || fail "cannot raise $MFILE"
    echo "nf_conntrack_max raised to $(cat "$MFILE") for the test"
fi

# ------------------------------------------------------------ fill, save
c0=$(stat chaintoolong)
read -r e0 o0 < <(nsx "$PYTHON" "$tmp/send.py" 198.19.0.1 1024 "$FILL")
fill_refused=$(( $(stat chaintoolong) - c0 ))
N=$(count)
echo "fill: $FILL flows sent, $N in the table, kernel refused" \
    "$fill_refused (chaintoolong), sendto EPERM $e0, other errors $o0"
mkdir -p "$tmp/bundle" "$tmp/after"
nsx conntrack -L >"$tmp/bundle/conntrack_-L" 2>&1
nsx conntrack -S >"$tmp/bundle/conntrack_-S" 2>&1
nsx sysctl -a >"$tmp/bundle/sysctl_-a" 2>/dev/null
uname -a >"$tmp/bundle/uname_-a"
cp "$tmp/bundle/sysctl_-a" "$tmp/bundle/uname_-a" "$tmp/after/"
# conntrack's own count of what it listed (its stderr summary may land
# inside an entry's line, so lines are not counted)
LISTED=$(grep -ao '[0-9]* flow entries have been shown' \
    "$tmp/bundle/conntrack_-L" | awk '{ print $1 }')
[[ -n $LISTED ]] || fail "conntrack -L printed no summary line"
[[ $LISTED == "$N" ]] ||
    echo "note: conntrack -C says $N, conntrack -L listed $LISTED"

# ------------------------------------------------------------ measure
att=0 ref=0 fails=0 eperm=0
for ((c = 0; c < CYCLES; c++)); do
    c0=$(stat chaintoolong)
    f0=$(stat insert_failed)
    read -r e o < <(nsx "$PYTHON" "$tmp/send.py" 198.19.1.1 \
        $((1024 + c * CYCLE_FLOWS)) "$CYCLE_FLOWS")
    dc=$(( $(stat chaintoolong) - c0 ))
    df=$(( $(stat insert_failed) - f0 ))
    att=$((att + CYCLE_FLOWS))
    ref=$((ref + dc))
    fails=$((fails + df))
    eperm=$((eperm + e))
    [[ $c -eq $((CYCLES - 1)) ]] &&
        nsx conntrack -L >"$tmp/after/conntrack_-L" 2>&1
    nsx conntrack -D -d 198.19.1.1 >/dev/null 2>&1
    n=$(count)
    [[ $n == "$N" ]] || fail "cycle $c: the table holds $n entries" \
        "after deleting the cycle's flows, not $N (flows expired?)"
done
echo "measured: $ref of $att new flows refused (chaintoolong)," \
    "insert_failed +$fails, sendto EPERM $eperm"

# ctnetlink inserts (conntrack -I) pass the same chain check
c0=$(stat chaintoolong)
pfail=0
for ((i = 0; i < PROBE; i++)); do
    nsx conntrack -I -p udp -s 198.18.0.1 -d 198.19.2.1 --sport 40000 \
        --dport $((1024 + i)) -t 600 >/dev/null 2>&1 || pfail=$((pfail + 1))
done
probe_ref=$(( $(stat chaintoolong) - c0 ))
echo "conntrack -I: $pfail of $PROBE inserts failed, chaintoolong" \
    "+$probe_ref"

# ------------------------------------------------------------ restore
restore_sysctls || exit 1
ip netns del "$NS"
NS_MADE=0

# ------------------------------------------------------------ model
"$CTPLAN" analyze --format json "$tmp/bundle" >"$tmp/a.json" \
    2>"$tmp/a.err" || { cat "$tmp/a.err"; fail "ctplan analyze failed"; }
"$CTPLAN" analyze --format json "$tmp/after" >"$tmp/b.json" \
    2>"$tmp/b.err" || { cat "$tmp/b.err"; fail "ctplan analyze failed"; }
for ((s = 1; s <= SPREAD; s++)); do
    "$CTPLAN" analyze --format json --keys 1 --seed $((100 + s)) \
        "$tmp/bundle" >"$tmp/k$s.json" 2>/dev/null ||
        fail "ctplan analyze --keys 1 --seed $((100 + s)) failed"
done

"$PYTHON" - "$tmp" "$B" "$LISTED" "$att" "$ref" "$fails" "$fill_refused" \
    "$pfail" "$probe_ref" "$SPREAD" <<'EOF'
import json, math, sys

tmp, B, N, att, ref, fails, fill_ref, pfail, pref, spread = sys.argv[1:]
B, N, att, ref, fails = int(B), int(N), int(att), int(ref), int(fails)
bad = []
h = json.load(open(tmp + "/a.json"))["hash"]
h1 = json.load(open(tmp + "/b.json"))["hash"]
ks = [json.load(open("%s/k%d.json" % (tmp, s)))["hash"]["chaintoolong_p_next"]
      for s in range(1, int(spread) + 1)]

if h.get("skipped"):
    print("FAIL: ctplan skipped the model: %s" % h["skipped"])
    sys.exit(1)
if h["buckets"] != B:
    bad.append("hash.buckets %s, the kernel had %d" % (h["buckets"], B))
if h["placed"] != N:
    bad.append("hash.placed %s, conntrack -L listed %d" % (h["placed"], N))
if h["era"] != "siphash39" or h["chain_limit"]["refuse_from"] != 52:
    bad.append("era %s, chain limit %s: not the 6.3+ kernel's"
               % (h["era"], h["chain_limit"]))
p0, p1 = h["chaintoolong_p_next"], h1["chaintoolong_p_next"]
K = h["keys"]
mk = sum(ks) / len(ks)
sk = math.sqrt(sum((x - mk) ** 2 for x in ks) / (len(ks) - 1))
m = ref / att
expect = (p0 + p1) / 2
sb = math.sqrt(max(m * (1 - m), 1e-4) / att)
sigma = math.sqrt(sb ** 2 + sk ** 2 * (1 + 1.0 / K))
tol = 4 * sigma
print("table: %d buckets, %d entries (load %.1f nodes per bucket); "
      "the kernel refused %s while filling" % (B, N, h["load"], fill_ref))
print("while filling the kernel refused %.2f%% of its inserts, the model "
      "%.2f%% while rebuilding the dump (not checked: the attempts differ)"
      % (100.0 * int(fill_ref) / (N + int(fill_ref)),
         100 * h["refused_share"]))
print("ctplan: hash.chaintoolong_p_next %.4f for the saved bundle "
      "(%d keys; single keys: mean %.4f, sd %.4f), %.4f after a cycle"
      % (p0, K, mk, sk, p1))
print("kernel: %d of %d new flows refused = %.4f; expected (p + p1)/2 = "
      "%.4f +- %.4f (4 sigma: binomial %.4f, keys %.4f)"
      % (ref, att, m, expect, tol, sb, sk))
print("        difference to p alone: %+.4f" % (m - p0))
if abs(m - expect) > tol:
    bad.append("measured share %.4f differs from ctplan's %.4f by more "
               "than %.4f" % (m, expect, tol))
if int(fill_ref) <= 0:
    bad.append("the kernel refused nothing while filling: no chain limit?")
if fails != ref:
    bad.append("insert_failed grew by %d, chaintoolong by %d" % (fails, ref))
if int(pref) <= 0 or int(pfail) != int(pref):
    bad.append("conntrack -I: %s failed, chaintoolong +%s (expected "
               "about %.0f, and equal)" % (pfail, pref, 100 * p0))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
rc=$?
awk -v a="$START" -v b="$(date +%s.%N)" \
    'BEGIN { printf "run time %.1f s\n", b - a }'
[[ $rc -eq 0 ]] || fail "ctplan's chain model disagrees with the kernel"
echo "PASS"
