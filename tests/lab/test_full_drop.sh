#!/usr/bin/env bash
# test_full_drop.sh - ctplan's full-table model against the real kernel.
#
#   usage: test_full_drop.sh CTPLAN SRCDIR     (run by ctest as lab/...)
#
# When a namespace's conntrack count is at nf_conntrack_max, a new flow
# gets in only if early_drop() evicts an entry from the 8 buckets that
# start at the flow's own bucket (4.9+: every non-ASSURED entry of the
# first bucket holding one); otherwise the packet is dropped (drop += 1,
# "table full, dropping packet").  ctplan reports the probability of the
# drop as table.full_drop_p = (1 - 8/B)^(2U), U the evictable entries at
# max (docs/report.md, analyzer/planner.c).  This test:
#   1. lowers net.netfilter.nf_conntrack_max (GLOBAL, root namespace
#      only) to MAX = TCP + UDP, the original put back on every exit path
#      (EXIT/INT/TERM trap, read back to verify; a state file under
#      /run/lock repairs a run killed with -9);
#   2. fills a namespace of its own with TCP ASSURED connections to a
#      second namespace (sockets held open) and UDP flows nobody answers
#      (unreplied: evictable) until the count is exactly MAX;
#   3. saves the bundle: conntrack -L, -S, sysctl -a, uname -a, meminfo;
#   4. sends BATCH new UDP flows and reads the kernel's drop and
#      early_drop deltas (and counts the sends refused with EPERM);
#   5. puts max back and runs ctplan analyze on the bundle.
# Check: every new flow is an unreplied UDP flow, so each eviction
# removes evictable entries and adds one: U stays put.  An eviction may
# remove k >= 1 entries, after which k - 1 flows get in without a
# lookup; so the share of the batch dropped is q = p / (1 + (1 - p)
# (E[k] - 1)), with E[k] = mu / (1 - e^-mu) (mu = 2U/B evictable nodes
# per bucket) and p = table.full_drop_p.  Tolerance: |D/BATCH - q| <=
# 4 sd of a binomial over BATCH attempts + 0.01 for the one table the
# kernel really drew (the share of empty 8-bucket windows of one random
# placement: sd ~ 0.003 at these sizes).  Also: drop delta = refused
# sends; early_drop delta = evictions implied by the counts.
# Exit 77 = skipped (no root, no tools, no namespaces, busy host).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
PYTHON=${PYTHON:-python3}

TCP=16384        # ASSURED connections (not evictable)
UDP=16384        # unreplied UDP flows (evictable)
BATCH=3000       # new flows sent at the full table
# one descriptor per held connection on each side
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] || (( TCP <= NOFILE - 200 )) || TCP=$((NOFILE - 200))
MAX=$((TCP + UDP))
WAIT_OTHERS=${CTPL_WAIT_OTHERS:-30}

MFILE=/proc/sys/net/netfilter/nf_conntrack_max
BFILE=/proc/sys/net/netfilter/nf_conntrack_buckets
STATE=/run/lock/ctplan-lab-max.restore
NS=ctplfd-$$
SRV=ctplfs-$$

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ -x $CTPLAN ]] || fail "ctplan binary '$CTPLAN' is missing"
[[ $(id -u) -eq 0 ]] || skip "must run as root (namespaces, global sysctl)"
for t in ip conntrack flock "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
command -v iptables >/dev/null 2>&1 || command -v nft >/dev/null 2>&1 ||
    skip "neither iptables nor nft available"
[[ -w $MFILE ]] || skip "$MFILE is not writable here"

tmp=$(mktemp -d /tmp/ctpl-fdrop.XXXXXX) || exit 1
ORIG_M="" CHANGED=0 NS_MADE=0 SRV_PID=""

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
    [[ -n $SRV_PID ]] && kill "$SRV_PID" 2>/dev/null
    [[ $NS_MADE -eq 1 ]] && { ip netns del "$NS"; ip netns del "$SRV"; } 2>/dev/null
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
for o in $(ip netns list 2>/dev/null | awk '$1 ~ /^ctplf[ds]-[0-9]+$/ {print $1}')
do
    kill -0 "${o#ctplf?-}" 2>/dev/null && continue
    echo "removing $o, left by a killed run"
    ip netns del "$o"
done

# nf_conntrack_max is checked against each namespace's own count: the
# root namespace and any other must stay well under MAX while it is low
others() { ip netns list 2>/dev/null | awk '{print $1}' | grep -vx -e "$NS" -e "$SRV"; }
waited=0
while [[ -n $(others) && $waited -lt $WAIT_OTHERS ]]; do
    [[ $waited -eq 0 ]] && echo "waiting for other namespaces:" \
        "$(others | tr '\n' ' ')"
    sleep 2
    waited=$((waited + 2))
done
for o in $(others) ""; do
    if [[ -z $o ]]; then n=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    else n=$(ip netns exec "$o" conntrack -C 2>/dev/null | tr -d ' \n'); fi
    (( ${n:-0} * 2 < MAX )) ||
        skip "namespace '${o:-root}' holds ${n} entries: a max of $MAX would drop its flows"
done
ORIG_M=$(cat "$MFILE")
BUCKETS=$(cat "$BFILE")
echo "host: nf_conntrack_max=$ORIG_M nf_conntrack_buckets=$BUCKETS"

# ------------------------------------------------------------ namespaces
ip netns add "$NS" 2>"$tmp/err" || skip "ip netns add: $(cat "$tmp/err")"
ip netns add "$SRV" || { ip netns del "$NS"; skip "second namespace"; }
NS_MADE=1
for n in "$NS" "$SRV"; do
    ip -n "$n" link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    ip netns exec "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
done
ip link add vc netns "$NS" type veth peer name vs netns "$SRV" 2>"$tmp/err" ||
    skip "no veth: $(cat "$tmp/err")"
ip -n "$NS" addr add 198.18.0.1/24 dev vc
ip -n "$SRV" addr add 198.18.0.2/24 dev vs
ip -n "$NS" link set vc up
ip -n "$SRV" link set vs up
# UDP leaves through a veth to a neighbour that does not exist: no reply
ip -n "$NS" link add vd type veth peer name vd1
ip -n "$NS" addr add 198.19.0.254/24 dev vd
ip -n "$NS" link set vd up
ip -n "$NS" link set vd1 up
ip -n "$NS" neigh add 198.19.0.1 lladdr 02:00:00:00:00:01 dev vd nud permanent
if ! ip netns exec "$NS" iptables -A OUTPUT -m conntrack --ctstate NEW -j ACCEPT \
    2>"$tmp/err"; then
    ip netns exec "$NS" nft -f - <<'NFT' 2>>"$tmp/err" ||
table inet ctpl { chain out { type filter hook output priority 0; ct state new accept; } }
NFT
        skip "cannot install a conntrack rule: $(head -n1 "$tmp/err")"
fi
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 ||
    fail "cannot set nf_conntrack_udp_timeout in $NS"

cat >"$tmp/server.py" <<'PY'
# accept and hold every connection until killed
import resource, socket
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 8080))
s.listen(4096)
held = []
print("listening", flush=True)
while True:
    held.append(s.accept()[0])
PY
cat >"$tmp/client.py" <<'PY'
# client.py TCP UDP BATCH DIR: fill to TCP + UDP, save the bundle, send
# the batch; write DIR/result with counters before and after.
import errno, json, os, resource, socket, subprocess, sys
ntcp, nudp, batch, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))

def count():
    with open("/proc/sys/net/netfilter/nf_conntrack_count") as f:
        return int(f.read())

def stats():
    """drop and early_drop summed over CPUs (conntrack -S)."""
    tot = {"drop": 0, "early_drop": 0, "insert": 0}
    for line in subprocess.run(["conntrack", "-S"], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        for tok in line.split():
            k, _, v = tok.partition("=")
            if k in tot:
                tot[k] += int(v)
    return tot

held = []
for i in range(ntcp):
    c = socket.create_connection(("198.18.0.2", 8080))
    held.append(c)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("198.19.0.254", 40000))
for p in range(1, nudp + 1):
    u.sendto(b"x", ("198.19.0.1", p))
filled = count()
with open(os.path.join(out, "bundle", "conntrack_-L"), "w") as f:
    subprocess.run(["conntrack", "-L"], stdout=f, stderr=subprocess.DEVNULL,
                   check=True)
with open(os.path.join(out, "bundle", "conntrack_-S"), "w") as f:
    subprocess.run(["conntrack", "-S"], stdout=f, check=True)
with open(os.path.join(out, "bundle", "sysctl_-a"), "w") as f:
    subprocess.run(["sysctl", "-a"], stdout=f, stderr=subprocess.DEVNULL)
before, c0 = stats(), count()
refused = 0
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v.bind(("198.19.0.254", 40001))
for p in range(1, batch + 1):
    try:
        v.sendto(b"y", ("198.19.0.1", p))
    except OSError as e:
        if e.errno != errno.EPERM:
            raise
        refused += 1
c1, after = count(), stats()
json.dump({"filled": filled, "count_before": c0, "count_after": c1,
           "refused": refused, "before": before, "after": after},
          open(os.path.join(out, "result"), "w"))
PY

mkdir -p "$tmp/bundle"
uname -a >"$tmp/bundle/uname_-a"
cp /proc/meminfo "$tmp/bundle/meminfo"

# ------------------------------------------------------------ the run
echo "$ORIG_M" >"$STATE"
CHANGED=1
echo "$MAX" >"$MFILE" || fail "cannot set nf_conntrack_max=$MAX"
[[ $(cat "$MFILE") == "$MAX" ]] || fail "nf_conntrack_max did not take $MAX"
ip netns exec "$SRV" "$PYTHON" "$tmp/server.py" >"$tmp/srv.out" 2>&1 &
SRV_PID=$!
for _ in $(seq 50); do grep -q listening "$tmp/srv.out" && break; sleep 0.1; done
grep -q listening "$tmp/srv.out" || fail "server did not start: $(cat "$tmp/srv.out")"
start=$(date +%s)
ip netns exec "$NS" "$PYTHON" "$tmp/client.py" "$TCP" "$UDP" "$BATCH" "$tmp" \
    2>"$tmp/client.err" || fail "client: $(tail -3 "$tmp/client.err")"
echo "filled, saved and sent in $(( $(date +%s) - start )) s"
kill "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
SRV_PID=""
restore_max || exit 1

# ------------------------------------------------------------ compare
"$CTPLAN" analyze -q --no-hash --format json "$tmp/bundle" >"$tmp/r.json" ||
    fail "ctplan analyze of the bundle"
"$PYTHON" - "$tmp/result" "$tmp/r.json" "$MAX" "$BATCH" <<'PY'
import json, math, sys
res = json.load(open(sys.argv[1]))
rep = json.load(open(sys.argv[2]))
mx, batch = int(sys.argv[3]), int(sys.argv[4])
bad = []
t, full = rep["table"], rep["headroom"]["full_table"]
b = t["buckets"]
u = full["evictable"]
print("kernel: filled %d of max %d, count %d -> %d; refused %d of %d"
      % (res["filled"], mx, res["count_before"], res["count_after"],
         res["refused"], batch))
if res["filled"] != mx or res["count_before"] != mx:
    bad.append("table not exactly full: %d / %d" % (res["count_before"], mx))
if t["max"] != mx:
    bad.append("bundle max %s, not %d" % (t["max"], mx))
if full["rule"] != "8-buckets":
    bad.append("rule %s" % full["rule"])
# ctplan's figure is the formula on the dump's counts
p = t["full_drop_p"]
if abs(p - (1 - 8 / b) ** (2 * u * mx / full["entries"])) > 1e-9 * p:
    bad.append("full_drop_p %r off its formula" % p)
drop = res["after"]["drop"] - res["before"]["drop"]
early = res["after"]["early_drop"] - res["before"]["early_drop"]
if drop != res["refused"]:
    bad.append("drop delta %d, refused sends %d" % (drop, res["refused"]))
# evictions implied by the counts: admitted flows minus the growth
kills = (batch - drop) - (res["count_after"] - res["count_before"])
if early != kills:
    bad.append("early_drop delta %d, evictions implied %d" % (early, kills))
mu = 2.0 * u / b
ek = mu / (1 - math.exp(-mu))
q = p / (1 + (1 - p) * (ek - 1))
m = drop / batch
tol = 4 * math.sqrt(q * (1 - q) / batch) + 0.01
print("ctplan: full_drop_p %.4f (U %d of %d entries, %d buckets), "
      "E[k] %.3f -> expected share dropped %.4f; kernel %.4f "
      "(tolerance %.4f); early_drop +%d" % (p, u, full["entries"], b, ek, q,
                                            m, tol, early))
if abs(m - q) > tol:
    bad.append("kernel dropped %.4f of new flows, ctplan expects %.4f "
               "+- %.4f" % (m, q, tol))
for x in bad:
    print("FAIL:", x)
sys.exit(1 if bad else 0)
PY
rc=$?
[[ $rc -eq 0 ]] || exit 1
echo "full-drop lab: all checks passed"
