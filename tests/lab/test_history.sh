#!/usr/bin/env bash
# test_history.sh - ctplan's kernel log history against the real kernel.
#
#   usage: test_history.sh CTPLAN SRCDIR        (run by ctest as lab/...)
#
# Fills a conntrack table to a temporarily lowered nf_conntrack_max, waits
# for a quiet rate-limit interval (net_ratelimit() is shared with all of
# networking, and some callers take its slots without printing: the test
# probes with one drop until no other user's count shows up), then drops
# packets in two bursts, saves the kernel log (dmesg, dmesg -T, --time-format iso,
# -x, and journalctl -k in five modes when systemd-journal-remote is
# there) and the kernel's drop counter, and checks that ctplan's printed +
# suppressed counts are the drops the kernel counted.
#
# The allowance.  net_ratelimit() prints the misses of a 5 s interval
# ("net_ratelimit: N callbacks suppressed") only when a later message comes
# after the interval (lib/ratelimit.c).  The misses of the last interval
# before the log was saved are in no log yet.  So the test saves the log
# twice: (A) right after burst 2, where printed + suppressed may fall short
# of the drop counter by exactly those misses, and (B) after one more drop
# once the interval is over, whose "net_ratelimit: M callbacks suppressed"
# reveals them: A's shortfall must equal M, and B's counts must equal the
# drop counter exactly.  B also checks the attribution: M is printed at
# the third burst's time but belongs to the second burst.
#
# Global state: net.netfilter.nf_conntrack_max of the root namespace is
# lowered for the run (the kernel compares every namespace's own count
# with it); it is restored and checked on every exit path.  Everything
# else lives in one namespace of our own (veth pair inside it, addresses
# in 198.51.100.0/24), deleted on exit.  The kernel log is shared with the
# machine: lines are taken between two marker records this test writes to
# /dev/kmsg, and only those of our namespace's inode number or
# net_ratelimit's.
#
# Knobs (environment): CTPL_HIST_MAX (lowered max, 200), CTPL_HIST_DROPS1
# (300), CTPL_HIST_DROPS2 (150), CTPL_KMSG_SAMPLES=DIR (also write the
# trimmed logs there, as committed under samples/kmsg/).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
LAB=$SRC/tests/lab
PYTHON=${PYTHON:-python3}
MAX=${CTPL_HIST_MAX:-200}
DROPS1=${CTPL_HIST_DROPS1:-300}
DROPS2=${CTPL_HIST_DROPS2:-150}
SAMPLES=${CTPL_KMSG_SAMPLES:-}
MAXFILE=/proc/sys/net/netfilter/nf_conntrack_max
DEFAULT_MAX=262144

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
fails=0

[[ -x $CTPLAN ]] || { echo "FAIL: ctplan binary '$CTPLAN' is missing"; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
for t in ip conntrack dmesg "$PYTHON" stat; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
command -v nft >/dev/null 2>&1 || command -v iptables >/dev/null 2>&1 ||
    skip "neither nft nor iptables"
[[ -w $MAXFILE ]] || skip "$MAXFILE is not writable"

. "$LAB/lab_lock.sh"

orig_max=$(cat "$MAXFILE")
if [[ $orig_max != "$DEFAULT_MAX" ]]; then
    echo "WARNING: nf_conntrack_max is $orig_max, not the machine default" \
        "$DEFAULT_MAX, with the lab lock held: an earlier run leaked it?"
fi
cost=$(cat /proc/sys/net/core/message_cost)
burst=$(cat /proc/sys/net/core/message_burst)
[[ $cost -ge 1 && $burst -ge 1 ]] ||
    skip "net_ratelimit is off (message_cost $cost, message_burst $burst)"
PAUSE=$((cost + 2))      # between the bursts: the interval is over
BURST_GAP=$((cost - 2))  # ctplan's gap: shorter than PAUSE
[[ $BURST_GAP -ge 1 ]] || BURST_GAP=1

tmp=$(mktemp -d /tmp/ctpl-history.XXXXXX) || exit 1
ns=ctpl-hist-$$
changed=0

restore() {
    local now
    if [[ $changed -eq 1 ]]; then
        echo "$orig_max" >"$MAXFILE"
        now=$(cat "$MAXFILE")
        if [[ $now != "$orig_max" ]]; then
            echo "FAIL: nf_conntrack_max is $now after restoring" \
                "$orig_max"
            return 1
        fi
        changed=0
        echo "nf_conntrack_max restored to $now"
    fi
    return 0
}
cleanup() {
    local rc=$?
    restore || rc=1
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Other namespaces: each compares its own count with the lowered max, so
# a busy one would drop its new flows for the test's 20 s.  Refuse then.
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
    echo "WARNING: no nsenter, other namespaces' tables not checked"
fi

# ------------------------------------------------------------ namespace
ip netns add "$ns" || skip "cannot add a network namespace"
# no IPv6: its autoconfiguration packets would take table slots
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
ip -n "$ns" link set lo up
ip -n "$ns" link add v0 type veth peer name v1 || skip "no veth"
ip -n "$ns" addr add 198.51.100.1/24 dev v0
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up
# a neighbour that answers nothing: the packets leave v0 and v1 drops
# them (not its MAC) before any hook, so no reply and no ICMP
ip -n "$ns" neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev v0 \
    nud permanent
# a rule that needs conntrack makes the kernel track this namespace
if command -v nft >/dev/null 2>&1 &&
    ip netns exec "$ns" nft add table inet ctpl 2>/dev/null; then
    ip netns exec "$ns" nft add chain inet ctpl out \
        '{ type filter hook output priority 0; }' &&
        ip netns exec "$ns" nft add rule inet ctpl out ct state new counter ||
        skip "nft rule failed"
else
    ip netns exec "$ns" iptables -A OUTPUT -m conntrack --ctstate NEW ||
        skip "iptables rule failed"
fi
# entries must outlive the test (udp default 30 s)
ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=300 ||
    skip "cannot set nf_conntrack_udp_timeout in the namespace"
# marks our stretch of the shared kernel log; pid_max is 32768 here, so
# $$ alone repeats within a boot (seen: nine runs with one pid)
tag="$$-$(date +%s%N)-$RANDOM"
inum=$(ip netns exec "$ns" stat -L -c %i /proc/self/ns/net)
echo "namespace $ns, inode $inum; max $MAX, drops $DROPS1 + $DROPS2 + 1," \
    "rate limit $burst per $cost s, pause $PAUSE s, --burst-gap $BURST_GAP"

# gen FIRST COUNT [stop]: UDP to 198.51.100.2 ports FIRST.., one new flow
# each (with "stop": until the first drop); prints "sent dropped" (a drop
# is EPERM from the OUTPUT hook)
gen() {
    ip netns exec "$ns" "$PYTHON" - "$1" "$2" "${3:-}" <<'EOF'
import errno, socket, sys
first, count, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
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
        if stop:
            break
print(sent, dropped)
EOF
}

# counter NAME FILE: conntrack -S of the namespace into FILE, NAME summed
# over the CPU rows ("drop" is not "early_drop")
counter() {
    ip netns exec "$ns" conntrack -S 2>/dev/null | tee "$2" |
        awk -v k="$1" '{ for (i = 1; i <= NF; i++) {
            split($i, a, "="); if (a[1] == k) s += a[2] } }
            END { print s + 0 }'
}

# save DIR: the kernel log between our markers, trimmed to our lines, in
# each layout; all layouts from the same records (retried if the ring
# buffer moved between the reads)
save() {
    local dir=$1 try n
    mkdir -p "$dir"
    for try in 1 2 3 4 5; do
        dmesg >"$tmp/raw"
        dmesg -T >"$tmp/raw-T"
        dmesg --time-format iso >"$tmp/raw-iso"
        dmesg -x >"$tmp/raw-x"
        dmesg -r >"$tmp/raw-r"
        n=$(wc -l <"$tmp/raw")
        [[ $(wc -l <"$tmp/raw-T") == "$n" && $(wc -l <"$tmp/raw-iso") == "$n" &&
            $(wc -l <"$tmp/raw-x") == "$n" && $(wc -l <"$tmp/raw-r") == "$n" ]] &&
            break
    done
    # line numbers of ours: after the start marker, our netns or the
    # rate limit's lines; a count before our first message is of misses
    # before the test (another run's last interval, printed by our first
    # message), not ours
    awk -v m="ctplan-lab: history $tag start" -v ns="netns $inum," '
        index($0, m) { on = 1; next }
        on && index($0, ns) { ours = 1 }
        on && (index($0, ns) || (ours && index($0, "net_ratelimit:"))) {
            print NR }
        on && /nf_conntrack: .*table full/ && !index($0, ns) { print "foreign " NR }
    ' "$tmp/raw" >"$tmp/nr"
    if grep -q foreign "$tmp/nr"; then
        skip "another namespace's table filled up during the test"
    fi
    for f in raw:dmesg raw-T:dmesg_-T raw-iso:dmesg_--time-format_iso \
        raw-x:dmesg_-x raw-r:dmesg_-r; do
        awk 'NR == FNR { want[$1] = 1; next } FNR in want' "$tmp/nr" \
            "$tmp/${f%%:*}" >"$dir/${f#*:}"
    done
    if [[ -x /lib/systemd/systemd-journal-remote ]] &&
        command -v journalctl >/dev/null 2>&1; then
        rm -f "$tmp/k.journal"
        "$PYTHON" "$LAB/kmsg_journal.py" ctplan-lab <"$dir/dmesg_-r" |
            /lib/systemd/systemd-journal-remote -o "$tmp/k.journal" - \
                2>/dev/null
        for mode in short short-precise short-iso short-iso-precise \
            short-monotonic; do
            journalctl --file "$tmp/k.journal" -k -o "$mode" \
                >"$dir/journalctl_-k_-o_$mode" 2>/dev/null
        done
    fi
    rm -f "$dir/dmesg_-r"
}

changed=1
echo "$MAX" >"$MAXFILE"
# the table full: entries outlive the test (udp timeout 300 s above)
read -r s0 d0 < <(gen 10000 "$MAX")
echo "fill: ${s0:-0} flows tracked, ${d0:-0} dropped"

# net_ratelimit() is one state for all of networking, and some callers
# take its slots without printing: a quiet interval is needed.  Probe:
# one drop after a full interval; a "callbacks suppressed" line before
# it means another user was busy in the interval; then wait again.
quiet=0
for try in 1 2 3 4 5 6 7 8; do
    sleep "$PAUSE"
    echo "ctplan-lab: history $tag probe $try" >/dev/kmsg
    gen $((11000 + try * 100)) 100 stop >/dev/null
    if ! dmesg | awk -v m="ctplan-lab: history $tag probe $try" \
        'index($0, m) { on = 1 } on && /net_ratelimit:/ { f = 1 }
         END { exit f ? 0 : 1 }'; then
        quiet=1
        break
    fi
    echo "probe $try: another net_ratelimit() user was busy; waiting"
done
[[ $quiet -eq 1 ]] ||
    skip "net_ratelimit() stayed busy with other users for 8 intervals"
drop0=$(counter drop "$tmp/conntrack_-S.0")
# the probe's interval must be over before burst 1 opens a fresh one
sleep "$PAUSE"
echo "ctplan-lab: history $tag start" >/dev/kmsg

# ------------------------------------------------------------ burst 1
read -r s1 d1 < <(gen 20000 "$DROPS1")
s1=${s1:-0} d1=${d1:-0}
echo "burst 1: $s1 flows tracked, $d1 packets dropped"
# a full table first evicts an unreplied entry near the new one's bucket
# (early_drop) when it finds one, and its gc worker evicts more: those new
# flows get in
[[ $((s1 + d1)) -eq $DROPS1 && $d1 -gt 0 ]] ||
    fail "burst 1 tracked $s1 and dropped $d1 of $DROPS1"
sleep "$PAUSE"
# ------------------------------------------------------------ burst 2
read -r s2 d2 < <(gen 40000 "$DROPS2")
s2=${s2:-0} d2=${d2:-0}
echo "burst 2: $s2 flows tracked, $d2 packets dropped"
[[ $((s2 + d2)) -eq $DROPS2 && $d2 -gt 0 ]] ||
    fail "burst 2 tracked $s2 and dropped $d2 of $DROPS2"

dropA=$(( $(counter drop "$tmp/conntrack_-S.A") - drop0 ))
earlyA=$(counter early_drop "$tmp/conntrack_-S.A")
save "$tmp/A"
cp "$tmp/conntrack_-S.A" "$tmp/A/conntrack_-S"
# ------------------------------------------------------------ flush
sleep $((cost + 1))
# until one drop: the gc worker may have evicted entries meanwhile
read -r s3 d3 < <(gen 50000 $((MAX + 1)) stop)
s3=${s3:-0} d3=${d3:-0}
echo "flush: $s3 flows tracked, $d3 packets dropped"
[[ $d3 -eq 1 ]] || fail "the flush dropped $d3 packets, not 1"
dropB=$(( $(counter drop "$tmp/conntrack_-S.B") - drop0 ))
save "$tmp/B"
cp "$tmp/conntrack_-S.B" "$tmp/B/conntrack_-S"
echo "ctplan-lab: history $tag end" >/dev/kmsg
restore || fails=$((fails + 1))

echo "kernel drop counter since the start marker: $dropA after burst 2," \
    "$dropB after the flush ($drop0 before: the probes); early_drop $earlyA"
# (flows beyond max got in through early_drop and through the gc worker,
# which evicts unreplied entries of a nearly full table without counting
# them: nf_conntrack_core.c gc_worker, 6.1; so no check on those)
[[ $dropA -eq $((d1 + d2)) ]] ||
    fail "drop counter $dropA after burst 2, the sender saw $((d1 + d2))"
[[ $dropB -eq $((d1 + d2 + d3)) ]] ||
    fail "drop counter $dropB after the flush, the sender saw $((d1 + d2 + d3))"

# ------------------------------------------------------------ checks
# check.py JSON MODE DROPS BURST1 M: MODE A (before the flush) or B
cat >"$tmp/check.py" <<'EOF'
import json, sys
path, mode, drops, b1, m, inum = sys.argv[1:7]
drops, b1, m = int(drops), int(b1), int(m)
gap = sys.argv[7] if len(sys.argv) > 7 else "short"
r = json.load(open(path))
h = r.get("history")
bad = []
if h is None:
    print("  no history section")
    sys.exit(1)
t = h["table_full"]
p, s = t["printed"], t["suppressed"]
bursts = [b for b in h["bursts"] if b["kind"] == "table_full"]
if gap == "default":
    if t["bursts"] != 1:
        bad.append("default --burst-gap 60: %d bursts, expected 1" %
                   t["bursts"])
elif mode == "A":
    if p + s + m != drops:
        bad.append("printed %d + suppressed %d + unreported %d != drops %d"
                   % (p, s, m, drops))
    if t["bursts"] != 2:
        bad.append("%d bursts, expected 2" % t["bursts"])
    elif bursts[0]["count"] + bursts[0]["suppressed"] != b1:
        bad.append("burst 1: %d + %d, expected %d dropped" %
                   (bursts[0]["count"], bursts[0]["suppressed"], b1))
else:
    if p + s != drops:
        bad.append("printed %d + suppressed %d != drops %d" % (p, s, drops))
    if t["bursts"] != 3:
        bad.append("%d bursts, expected 3" % t["bursts"])
    else:
        b2 = drops - b1 - 1
        if bursts[1]["count"] + bursts[1]["suppressed"] != b2:
            bad.append("burst 2: %d + %d, expected %d (the flush's "
                       "suppressed count belongs to it)" %
                       (bursts[1]["count"], bursts[1]["suppressed"], b2))
        if (bursts[2]["count"], bursts[2]["suppressed"]) != (1, 0):
            bad.append("burst 3: %d + %d, expected 1 + 0" %
                       (bursts[2]["count"], bursts[2]["suppressed"]))
if t["namespaces"] != [inum]:
    bad.append("namespaces %s, expected [%s]" % (t["namespaces"], inum))
if h["suppressed_unattributed"]:
    bad.append("%d suppressed unattributed" % h["suppressed_unattributed"])
for i in r["inputs"]:
    if i["rejected"] or i["lines"] != i["records"] + i["other"]:
        bad.append("%s: %d lines, %d records, %d other, %d rejected" %
                   (i["path"], i["lines"], i["records"], i["other"],
                    i["rejected"]))
codes = [f["code"] for f in r["findings"]]
if "history.table_full" not in codes:
    bad.append("no history.table_full finding")
for b in bad:
    print("  " + b)
if not bad:
    print("printed %d + suppressed %d, %d bursts%s" %
          (p, s, t["bursts"], "" if mode == "B" or gap == "default" else
           " (+ %d unreported)" % m))
sys.exit(1 if bad else 0)
EOF

# M: what the flush revealed, the last net_ratelimit line of B
M=$(grep 'net_ratelimit:' "$tmp/B/dmesg" | tail -1 |
    grep -o '[0-9]* callbacks' | grep -o '[0-9]*')
M=${M:-0}
echo "unreported at the first save, revealed by the flush: $M"
[[ $M -le $((d2)) ]] || fail "the flush revealed $M misses, burst 2 dropped $d2"

for mode in A B; do
    drop=$dropA
    [[ $mode == B ]] && drop=$dropB
    for f in "$tmp/$mode"/dmesg* "$tmp/$mode"/journalctl_*; do
        [[ -e $f ]] || continue
        base=$(basename "$f")
        if ! "$CTPLAN" analyze --no-hash --burst-gap "$BURST_GAP" \
            --format json "$f" "$tmp/$mode/conntrack_-S" \
            >"$tmp/out.json" 2>"$tmp/err"; then
            fail "$mode/$base: ctplan failed: $(head -3 "$tmp/err")"
            continue
        fi
        if out=$("$PYTHON" "$tmp/check.py" "$tmp/out.json" "$mode" \
            "$drop" "$d1" "$M" "$inum"); then
            echo "ok   $mode/$base: $out"
        else
            fail "$mode/$base:"
            echo "$out"
        fi
    done
    "$CTPLAN" analyze --no-hash --format json "$tmp/$mode/dmesg" \
        >"$tmp/out.json" 2>/dev/null
    if out=$("$PYTHON" "$tmp/check.py" "$tmp/out.json" "$mode" "$drop" \
        "$d1" "$M" "$inum" default); then
        echo "ok   $mode/dmesg, default --burst-gap: $out"
    else
        fail "$mode/dmesg with the default --burst-gap:"
        echo "$out"
    fi
done

if [[ -n $SAMPLES ]]; then
    for mode in A B; do
        d=$SAMPLES/$([[ $mode == A ]] && echo before-flush || echo after-flush)
        mkdir -p "$d"
        cp "$tmp/$mode"/* "$d/"
    done
    {
        echo "# kernel log samples, made by tests/lab/test_history.sh"
        echo "# date -u: $(date -u)"
        echo "# kernel: $(uname -r)"
        echo "# namespace inode $inum; nf_conntrack_max lowered to $MAX"
        echo "# rate limit: message_cost $cost s, message_burst $burst"
        echo "# table filled to max first; probe drops before the start"
        echo "#   marker: $drop0 (in conntrack_-S, not in these logs)"
        echo "# burst 1: $d1 drops; pause $PAUSE s; burst 2: $d2 drops"
        echo "# before-flush/: saved after burst 2, $dropA drops since the marker"
        echo "# after-flush/: one more drop $((cost + 1)) s later, $dropB" \
            "drops; its net_ratelimit line reveals $M misses"
        echo "# journalctl files: the same records through"
        echo "#   tests/lab/kmsg_journal.py | systemd-journal-remote, host" \
            "ctplan-lab"
    } >"$SAMPLES/MANIFEST"
    echo "samples written to $SAMPLES"
fi

if [[ $fails -gt 0 ]]; then
    echo "FAIL: $fails check(s) failed"
    exit 1
fi
echo "PASS"
exit 0
