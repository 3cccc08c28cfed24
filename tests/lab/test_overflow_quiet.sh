#!/usr/bin/env bash
# test_overflow_quiet.sh - a quiet host whose own kernel log shows the
# conntrack table overflowing: ctplan must plan for the overflow, not for
# today's nearly empty table.
#
#   usage: test_overflow_quiet.sh CTPLAN SRCDIR    (run by ctest as lab/...)
#
#   1. lowers net.netfilter.nf_conntrack_max (GLOBAL, root namespace) to
#      MAX (256), the original put back on every exit path (EXIT/INT/TERM
#      trap, read back to verify; the state file /run/lock/
#      ctplan-lab-max.restore, shared with test_full_drop.sh, repairs a run
#      killed with -9);
#   2. in a namespace of its own, sends new UDP flows to a neighbour that
#      never answers until the table is full and the kernel drops packets
#      ("nf_conntrack: table full, dropping packet", 6.17+: "... table full
#      in netns INODE, dropping packet"), in two bursts a rate-limit
#      interval apart, so the log has printed lines and a "net_ratelimit:
#      N callbacks suppressed" line and conntrack -S counts the drops;
#   3. quiets down: conntrack -F, then a handful of fresh flows (unreplied
#      UDP, local UDP request/reply, one closed TCP connection);
#   4. saves a bundle like a support bundle, everything run inside the
#      namespace while the lowered max is in force: conntrack -L -o
#      extended, -S, -C, sysctl -a, uname -a, /proc/meminfo, and the
#      kernel log between two marker records this test writes to
#      /dev/kmsg, only our namespace's lines and net_ratelimit's (file
#      dmesg); a MANIFEST lists each file and its command.  The machine's
#      host name is replaced by ctpl-lab in sysctl_-a and uname_-a;
#   5. puts max back, and checks ctplan on the bundle:
#      - `ctplan check BUNDLE` exits 1, naming headroom_pct_at_peak FAIL;
#      - `ctplan analyze -q --format json BUNDLE`: recommendation.peak_source
#        "kernel log", recommendation.peak >= MAX, recommendation.max > MAX,
#        recommendation.peak_evidence a list of {source, entries, detail}
#        with a "kernel log" entry and a "count" entry (= conntrack -C at
#        capture, +-3), headroom.count < MAX / 4.
#
# Only documentation addresses (198.51.100.0/24), only inside the
# namespace (a veth pair with both ends in it).  Exit 77 = skipped (not
# root, tools missing, no namespaces, another namespace too busy for the
# lowered max).
#
# Knobs (environment): CTPL_OVERFLOW_MAX (lowered max, 256),
# CTPL_OVERFLOW_FRESH (unreplied UDP flows after the flush, 8; 3 more
# flows are always added), CTPL_OVERFLOW_SAMPLE=DIR (also copy the bundle
# there, as committed under samples/lab-6.18-overflow/).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
LAB=$SRC/tests/lab
PYTHON=${PYTHON:-python3}
MAX=${CTPL_OVERFLOW_MAX:-256}
FRESH=${CTPL_OVERFLOW_FRESH:-8}
SAMPLE=${CTPL_OVERFLOW_SAMPLE:-}
OVER1=$((MAX + 200))   # burst 1: fill to max, then about 200 drops
OVER2=$MAX             # burst 2, after the rate-limit interval
LAB_HOST=ctpl-lab      # replaces the machine's host name in the bundle

MFILE=/proc/sys/net/netfilter/nf_conntrack_max
STATE=/run/lock/ctplan-lab-max.restore
NS=ctplov-$$

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

[[ -x $CTPLAN ]] || die "ctplan binary '$CTPLAN' is missing"
[[ $(id -u) -eq 0 ]] || skip "must run as root (namespaces, global sysctl)"
for t in ip conntrack dmesg sysctl flock stat uname "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
command -v nft >/dev/null 2>&1 || command -v iptables >/dev/null 2>&1 ||
    skip "neither nft nor iptables"
[[ -w $MFILE ]] || skip "$MFILE is not writable here"
[[ -w /dev/kmsg ]] || skip "/dev/kmsg is not writable"

tmp=$(mktemp -d /tmp/ctpl-overflow.XXXXXX) || exit 1
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
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$LAB/lab_lock.sh"
if [[ -s $STATE ]]; then
    read -r sm <"$STATE"
    echo "a previous run left nf_conntrack_max at $(cat "$MFILE");" \
        "restoring $sm from $STATE"
    echo "$sm" >"$MFILE" && rm -f "$STATE"
fi
for o in $(ip netns list 2>/dev/null | awk '$1 ~ /^ctplov-[0-9]+$/ {print $1}'); do
    kill -0 "${o#ctplov-}" 2>/dev/null && continue
    echo "removing $o, left by a killed run"
    ip netns del "$o"
done
ORIG_M=$(cat "$MFILE")

# Other namespaces compare their own count with the lowered max: a busy
# one would drop its new flows for the test's ~10 s.  Refuse then.
declare -A seen
if command -v nsenter >/dev/null 2>&1; then
    for f in /proc/[0-9]*/ns/net; do
        inode=$(stat -L -c %i "$f" 2>/dev/null) || continue
        [[ -n ${seen[$inode]:-} ]] && continue
        seen[$inode]=1
        pid=${f#/proc/}
        pid=${pid%%/*}
        c=$(nsenter --net="$f" \
            cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null) ||
            continue
        if [[ -n $c && $c -ge $((MAX / 2)) ]]; then
            skip "namespace $inode (pid $pid) holds $c entries; lowering" \
                "nf_conntrack_max to $MAX would drop its new flows"
        fi
    done
else
    n=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    (( n * 2 < MAX )) ||
        skip "the root namespace holds $n entries; a max of $MAX would drop its flows"
    echo "WARNING: no nsenter, other namespaces' tables not checked"
fi
cost=$(cat /proc/sys/net/core/message_cost)
PAUSE=$((cost + 1))    # burst 2 opens a fresh rate-limit interval

# ------------------------------------------------------------ namespace
ip netns add "$NS" 2>"$tmp/err" || skip "ip netns add: $(cat "$tmp/err")"
NS_MADE=1
# no IPv6: its autoconfiguration packets would take table slots
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1 2>"$tmp/err" ||
    skip "no veth: $(cat "$tmp/err")"
ip -n "$NS" addr add 198.51.100.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
# a neighbour that answers nothing: the packets leave v0 and v1 drops
# them (not its MAC) before any hook, so no reply and no ICMP
ip -n "$NS" neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent
# a rule that needs conntrack makes the kernel track this namespace
if command -v nft >/dev/null 2>&1 &&
    ip netns exec "$NS" nft add table inet ctpl 2>/dev/null; then
    ip netns exec "$NS" nft add chain inet ctpl out \
        '{ type filter hook output priority 0; }' &&
        ip netns exec "$NS" nft add rule inet ctpl out ct state new counter ||
        skip "nft rule failed"
    RULE="nft: table inet ctpl, output hook, 'ct state new counter'"
else
    ip netns exec "$NS" iptables -A OUTPUT -m conntrack --ctstate NEW ||
        skip "iptables rule failed"
    RULE="iptables -A OUTPUT -m conntrack --ctstate NEW"
fi
# the entries outlive the test (udp default 30 s)
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300 ||
    skip "cannot set nf_conntrack_udp_timeout in the namespace"
inum=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
# marks our stretch of the shared kernel log ($$ alone repeats in a boot)
tag="$$-$(date +%s%N)-$RANDOM"
echo "namespace $NS, inode $inum; nf_conntrack_max $ORIG_M -> $MAX;" \
    "bursts of $OVER1 and $OVER2 new flows $PAUSE s apart"

# gen FIRST COUNT: UDP to 198.51.100.2 ports FIRST.., one new flow each;
# prints "sent dropped" (a drop is EPERM from the OUTPUT hook)
gen() {
    ip netns exec "$NS" "$PYTHON" - "$1" "$2" <<'EOF'
import errno, socket, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = dropped = 0
for port in range(first, first + count):
    try:
        s.sendto(b"x", ("198.51.100.2", port))
        sent += 1
    except OSError as e:
        if e.errno != errno.EPERM:
            raise
        dropped += 1
print(sent, dropped)
EOF
}
# counter NAME: conntrack -S of the namespace, NAME summed over the CPUs
counter() {
    ip netns exec "$NS" conntrack -S 2>/dev/null |
        awk -v k="$1" '{ for (i = 1; i <= NF; i++) {
            split($i, a, "="); if (a[1] == k) s += a[2] } }
            END { print s + 0 }'
}

# ------------------------------------------------------------ overflow
drop0=$(counter drop)
echo "$ORIG_M" >"$STATE"
CHANGED=1
echo "$MAX" >"$MFILE" || die "cannot set nf_conntrack_max=$MAX"
[[ $(cat "$MFILE") == "$MAX" ]] || die "nf_conntrack_max did not take $MAX"
echo "ctplan-lab: overflow $tag start" >/dev/kmsg

read -r s1 d1 < <(gen 10000 "$OVER1")
s1=${s1:-0} d1=${d1:-0}
echo "burst 1: $s1 flows tracked, $d1 packets dropped"
sleep "$PAUSE"
read -r s2 d2 < <(gen 20000 "$OVER2")
s2=${s2:-0} d2=${d2:-0}
echo "burst 2: $s2 flows tracked, $d2 packets dropped"
peak_count=$(ip netns exec "$NS" conntrack -C 2>/dev/null | tr -d ' \n')
drops=$(( $(counter drop) - drop0 ))
echo "table at $peak_count of $MAX; kernel drop counter +$drops"
[[ $((d1 + d2)) -gt 0 ]] || die "the kernel dropped nothing: no overflow to see"
[[ $drops -eq $((d1 + d2)) ]] ||
    die "drop counter +$drops, the sender saw $((d1 + d2)) refused"

# ------------------------------------------------------------ quiet
ip netns exec "$NS" conntrack -F 2>"$tmp/err" ||
    die "conntrack -F: $(cat "$tmp/err")"
ip netns exec "$NS" "$PYTHON" - "$FRESH" >"$tmp/fresh" 2>&1 <<'EOF' ||
# FRESH unreplied UDP flows to the black hole, two local UDP
# request/reply exchanges, one local TCP connection closed (TIME_WAIT)
import socket, sys
n = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in (53, 123, 161, 514, 1194, 5060, 8125, 9999)[:n]:
    u.sendto(b"q", ("198.51.100.2", port))
for port in range(40000, 40000 + max(0, n - 8)):
    u.sendto(b"q", ("198.51.100.2", port))
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("198.51.100.1", 5353))
for _ in range(2):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.sendto(b"ping", ("198.51.100.1", 5353))
    data, peer = srv.recvfrom(64)
    srv.sendto(b"pong", peer)
    c.settimeout(2)
    c.recv(64)
    c.close()
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("198.51.100.1", 8080))
ls.listen(1)
c = socket.create_connection(("198.51.100.1", 8080))
a, _ = ls.accept()
c.sendall(b"hello")
a.recv(16)
c.close()          # the client closes first: its side goes to TIME_WAIT
a.recv(16)         # EOF
a.close()
print("fresh flows:", n + 3)
EOF
    die "fresh flows: $(cat "$tmp/fresh")"
sleep 0.5          # let the last FIN/ACK settle

# ------------------------------------------------------------ bundle
B=$tmp/bundle
mkdir -p "$B"
: >"$tmp/man"
cap() {  # cap FILE CMD...: ip netns exec NS CMD >FILE 2>&1
    local file=$1 rc=0
    shift
    ip netns exec "$NS" "$@" >"$B/$file" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
        printf '%s\t%s 2>&1\n' "$file" "$*" >>"$tmp/man"
    else
        printf '%s\t%s 2>&1   (exit %d)\n' "$file" "$*" "$rc" >>"$tmp/man"
    fi
}
T0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
cap conntrack_-L_-o_extended conntrack -L -o extended
cap conntrack_-C conntrack -C
cap conntrack_-S conntrack -S
cap sysctl_-a sysctl -a
cap uname_-a uname -a
cap meminfo cat /proc/meminfo
count=$(tr -d ' \n' <"$B/conntrack_-C")
echo "ctplan-lab: overflow $tag end" >/dev/kmsg
# the kernel log: between our markers, lines of our namespace (a
# pre-6.17 "table full, dropping packet" names none: taken too, the other
# namespaces were checked above), and net_ratelimit's from our first line
# on (a count before it is of another user's misses)
dmesg >"$tmp/raw"
awk -v m0="ctplan-lab: overflow $tag start" \
    -v m1="ctplan-lab: overflow $tag end" -v ns="netns $inum," '
    index($0, m0) { on = 1; next }
    index($0, m1) { on = 0; next }
    !on { next }
    index($0, ns) || (/table full, dropping packet/ && !/ in netns /) {
        ours = 1; print; next }
    ours && index($0, "net_ratelimit:") { print; next }
    /table full in netns/ { print > "/dev/stderr" }
' "$tmp/raw" >"$B/dmesg" 2>"$tmp/foreign"
printf '%s\t%s\n' dmesg "dmesg   (run in the root namespace; only the lines between this test's two /dev/kmsg marker records that name netns $inum, or are net_ratelimit's)" >>"$tmp/man"
T1=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
restore_max || fails=$((fails + 1))
if [[ -s $tmp/foreign ]]; then
    echo "another namespace's table filled up during the test:"
    head -3 "$tmp/foreign"
    skip "another namespace's table overflowed at the lowered max"
fi

# the machine's name is no part of the sample
host=$(uname -n)
renamed=no
if [[ -n $host && $host != "$LAB_HOST" ]]; then
    hq=$(printf '%s' "$host" | sed 's/[][\.*^$/]/\\&/g')
    sed -i -E "s/^kernel\.hostname = $hq\$/kernel.hostname = $LAB_HOST/" "$B/sysctl_-a"
    sed -i -E "1s/^([^ ]+) $hq /\1 $LAB_HOST /" "$B/uname_-a"
    renamed=yes
fi
grep -qx "kernel.hostname = $LAB_HOST" "$B/sysctl_-a" ||
    fail "sysctl_-a: kernel.hostname is not $LAB_HOST"
[[ $(awk '{print $2}' "$B/uname_-a") == "$LAB_HOST" ]] ||
    fail "uname_-a: the host name is not $LAB_HOST"

printed=$(grep -c 'table full' "$B/dmesg")
suppressed=$(grep -o 'net_ratelimit: [0-9]* callbacks' "$B/dmesg" |
    awk '{ s += $2 } END { print s + 0 }')
echo "capture: conntrack -C $count; kernel log: $printed table-full lines," \
    "$suppressed suppressed; drop counter +$drops"
[[ $printed -gt 0 ]] || fail "the saved kernel log has no table-full line"
grep -q "^net.netfilter.nf_conntrack_max = $MAX\$" "$B/sysctl_-a" ||
    fail "sysctl_-a does not show nf_conntrack_max = $MAX"

{
    echo "# ctplan lab capture, made by tests/lab/test_overflow_quiet.sh"
    echo "# scenario: a quiet host whose own kernel log shows the table overflowing"
    echo "# date -u: $(date -u)"
    echo "# files captured between $T0 and $T1"
    echo "# kernel: $(uname -r)"
    echo "# $(conntrack --version 2>&1 | head -n1)"
    echo "# every command but dmesg ran as: ip netns exec <netns> COMMAND > FILE"
    echo "# netns inode $inum: veth v0 198.51.100.1/24 <-> v1 (no address), IPv6 off;"
    echo "#   198.51.100.2 a permanent neighbour that never answers; conntrack rule: $RULE;"
    echo "#   net.netfilter.nf_conntrack_udp_timeout=300"
    echo "# root net.netfilter.nf_conntrack_max lowered from $ORIG_M to $MAX for the run"
    echo "#   (sysctl_-a was taken while it was $MAX; restored afterwards)"
    echo "# burst 1: $OVER1 new UDP flows to 198.51.100.2: $s1 tracked, $d1 dropped"
    echo "# burst 2 ($PAUSE s later): $OVER2 new flows: $s2 tracked, $d2 dropped"
    echo "# table at $peak_count entries after the bursts; conntrack -S drop +$drops"
    echo "# kernel log: $printed table-full lines printed, $suppressed counted as suppressed"
    echo "#   (the misses of the last rate-limit interval are in no log)"
    echo "# then conntrack -F, and fresh flows: $FRESH unreplied UDP to 198.51.100.2,"
    echo "#   2 UDP request/reply and 1 closed TCP connection 198.51.100.1 -> 198.51.100.1"
    echo "# conntrack -C at capture: $count"
    if [[ $renamed == yes ]]; then
        echo "# the machine's host name is replaced by $LAB_HOST in sysctl_-a (kernel.hostname)"
        echo "#   and uname_-a (nodename); nothing else is edited"
    fi
    echo "# FILE<TAB>COMMAND"
    cat "$tmp/man"
} >"$B/MANIFEST"

if [[ -n $SAMPLE ]]; then
    mkdir -p "$SAMPLE"
    cp "$B"/* "$SAMPLE/"
    echo "bundle copied to $SAMPLE"
fi

# ------------------------------------------------------------ ctplan
"$CTPLAN" check "$B" >"$tmp/check.out" 2>&1
crc=$?
sed 's/^/  check: /' "$tmp/check.out"
if [[ $crc -eq 1 ]]; then
    echo "ok   ctplan check exits 1"
else
    fail "ctplan check exits $crc, expected 1 (the gate fails)"
fi
if grep -Eq '^[[:space:]]*FAIL[[:space:]]+headroom_pct_at_peak([[:space:]]|$)' \
    "$tmp/check.out"; then
    echo "ok   ctplan check names the failing check headroom_pct_at_peak"
else
    fail "ctplan check does not name a failing check headroom_pct_at_peak"
fi

if ! "$CTPLAN" analyze -q --format json "$B" >"$tmp/r.json" 2>"$tmp/err"; then
    fail "ctplan analyze -q --format json failed: $(head -3 "$tmp/err")"
else
    "$PYTHON" - "$tmp/r.json" "$MAX" "$count" <<'PY'
import json, sys
path, mx, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bad = 0
def check(ok, what):
    global bad
    if ok:
        print("ok   " + what)
    else:
        print("FAIL: " + what)
        bad += 1
try:
    r = json.load(open(path))
except ValueError as e:
    print("FAIL: analyze output is not JSON: %s" % e)
    sys.exit(1)
rc = r.get("recommendation") or {}
hr = r.get("headroom") or {}
src = rc.get("peak_source")
check(src == "kernel log",
      'recommendation.peak_source == "kernel log" (got %r)' % (src,))
peak = rc.get("peak")
check(isinstance(peak, (int, float)) and peak >= mx,
      "recommendation.peak >= %d (got %r)" % (mx, peak))
rmax = rc.get("max")
check(isinstance(rmax, (int, float)) and rmax > mx,
      "recommendation.max > %d (got %r)" % (mx, rmax))
ev = rc.get("peak_evidence")
check(isinstance(ev, list) and len(ev) > 0,
      "recommendation.peak_evidence is a non-empty list (got %s)"
      % ("%d entries" % len(ev) if isinstance(ev, list) else json.dumps(ev)))
ev = ev if isinstance(ev, list) else []
keys = ("source", "entries", "detail")
if ev:
    check(all(isinstance(e, dict) and all(k in e for k in keys) for e in ev),
          "every peak_evidence entry has keys source, entries, detail (%s)"
          % "; ".join(json.dumps(sorted(e) if isinstance(e, dict) else e)
                      for e in ev))
ev = [e for e in ev if isinstance(e, dict)]
kl = [e for e in ev if e.get("source") == "kernel log"]
check(len(kl) == 1, 'one peak_evidence entry with source "kernel log" '
      "(got %d)" % len(kl))
ct = [e for e in ev if e.get("source") == "count"]
check(len(ct) == 1, 'one peak_evidence entry with source "count" (got %d)'
      % len(ct))
if ct:
    n = ct[0].get("entries")
    check(isinstance(n, int) and abs(n - count) <= 3,
          'peak_evidence "count" entries %r == conntrack -C %d (+-3)'
          % (n, count))
hc = hr.get("count")
check(isinstance(hc, int) and hc < mx / 4,
      "headroom.count %r < lowered max / 4 = %g" % (hc, mx / 4))
print("  recommendation: peak %r (%r), max %r; peak_evidence %s"
      % (peak, src, rmax, json.dumps(rc.get("peak_evidence"))))
sys.exit(min(bad, 99))
PY
    prc=$?
    [[ $prc -eq 0 ]] || fails=$((fails + prc))
fi

if [[ $fails -gt 0 ]]; then
    echo "FAIL: $fails check(s) failed"
    exit 1
fi
echo "PASS"
exit 0
