#!/usr/bin/env bash
# capture.sh - build a throw-away "container host" out of network namespaces,
# push real traffic through MASQUERADE/DNAT and save what conntrack-tools and
# /proc print, as a ctplan sample.  See tests/lab/README.md.
#
#   usage: capture.sh [--acct] OUTDIR
#
# Everything happens inside namespaces named ctpl-<pid>-*; the root namespace
# network config and global sysctls are never touched.  Exit 77 = skipped.
set -euo pipefail

usage() { echo "usage: $0 [--acct] OUTDIR" >&2; exit 2; }
skip() { echo "SKIP: $*" >&2; exit 77; }
say() { echo "capture.sh: $*" >&2; }

ACCT=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --acct) ACCT=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[[ $# -eq 1 ]] || usage
OUT=$1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRAFFIC=$HERE/traffic.py

# ------------------------------------------------------------ preconditions
[[ $(id -u) -eq 0 ]] || skip "must run as root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2) binary"
command -v conntrack >/dev/null 2>&1 || skip "no conntrack binary (conntrack-tools)"
PYTHON=${PYTHON:-$(command -v python3 || true)}
[[ -n $PYTHON ]] || skip "no python3 (needed for the traffic helper)"
[[ -r $TRAFFIC ]] || skip "traffic helper $TRAFFIC missing"
command -v iptables >/dev/null 2>&1 || command -v nft >/dev/null 2>&1 ||
    skip "neither iptables nor nft available"

P="ctpl-$$-"
H=${P}host      # the container host: bridge, NAT, conntrack we capture
C1=${P}c1       # containers 198.18.0.2 .3 .4 / 2001:db8:1::2 ::3 ::4
C2=${P}c2
C3=${P}c3
S=${P}srv       # "internet" server 203.0.113.2 / 2001:db8:2::2

NSES=()
PIDS=()
TMP=""

cleanup() {
    local rc=$? pid ns i
    trap - EXIT INT TERM
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # anything else still living in one of *our* namespaces was started by us
    for ns in "${NSES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    [[ -n $TMP ]] && rm -rf "$TMP"
    exit "$rc"
}
. "$(dirname "$0")/lab_lock.sh"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

START=$(date +%s)
TMP=$(mktemp -d /tmp/ctpl-lab.XXXXXX)

ip netns add "$H" 2>"$TMP/err" || skip "ip netns add failed: $(head -n1 "$TMP/err")"
NSES+=("$H")
for ns in "$C1" "$C2" "$C3" "$S"; do
    ip netns add "$ns"
    NSES+=("$ns")
done

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
hx() { ip netns exec "$H" "$@"; }

hx conntrack -C >/dev/null 2>&1 || skip "conntrack cannot talk to the kernel in a namespace"

# ------------------------------------------------------------ topology
for ns in "${NSES[@]}"; do ip -n "$ns" link set lo up; done

ip -n "$H" link add br0 type bridge
ip -n "$H" addr add 198.18.0.1/24 dev br0
ip -n "$H" addr add 2001:db8:1::1/64 dev br0 nodad
ip -n "$H" link set br0 up

n=1
for c in "$C1" "$C2" "$C3"; do
    i=$((n + 1))
    ip -n "$H" link add "vc$n" type veth peer name eth0 netns "$c"
    ip -n "$H" link set "vc$n" master br0
    ip -n "$H" link set "vc$n" up
    ip -n "$c" addr add "198.18.0.$i/24" dev eth0
    ip -n "$c" addr add "2001:db8:1::$i/64" dev eth0 nodad
    ip -n "$c" link set eth0 up
    ip -n "$c" route add default via 198.18.0.1
    ip -n "$c" -6 route add default via 2001:db8:1::1
    n=$((n + 1))
done

ip -n "$H" link add up0 type veth peer name eth0 netns "$S"
ip -n "$H" addr add 203.0.113.1/24 dev up0
ip -n "$H" addr add 2001:db8:2::1/64 dev up0 nodad
ip -n "$H" link set up0 up
ip -n "$S" addr add 203.0.113.2/24 dev eth0
ip -n "$S" addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n "$S" link set eth0 up
# black holes: the server does not forward, so these are silently dropped
ip -n "$H" route add 198.51.100.0/24 via 203.0.113.2
ip -n "$H" -6 route add 2001:db8:3::/64 via 2001:db8:2::2

# per-netns sysctls of the host namespace only, before any traffic
hx sysctl -qw net.ipv4.ip_forward=1
hx sysctl -qw net.ipv6.conf.all.forwarding=1
hx sysctl -qw net.netfilter.nf_conntrack_timestamp=1
hx sysctl -qw net.netfilter.nf_conntrack_acct="$ACCT"

# ------------------------------------------------------------ NAT rules
nat_iptables() {
    hx iptables -t nat -A POSTROUTING -s 198.18.0.0/24 -o up0 -j MASQUERADE &&
    hx iptables -t nat -A PREROUTING -d 203.0.113.1 -p tcp --dport 8080 \
        -j DNAT --to-destination 198.18.0.2:80 &&
    hx iptables -t raw -A PREROUTING -s 198.18.0.4 -d 198.18.0.1 -j CT --zone 7 &&
    hx iptables -t raw -A PREROUTING -s 198.18.0.4 ! -d 198.18.0.1 -j CT --zone-orig 7 &&
    hx iptables -t raw -A OUTPUT -d 198.18.0.4 -j CT --zone 7 &&
    hx iptables -t mangle -A PREROUTING -s 198.18.0.3 -p udp -m connlabel --label 1 --set &&
    hx ip6tables -t nat -A POSTROUTING -s 2001:db8:1::/64 -o up0 -j MASQUERADE
}
nat_nft() {
    hx nft -f - <<'EOF'
table ip ctpl_nat {
    chain pre  { type nat hook prerouting priority dstnat; ip daddr 203.0.113.1 tcp dport 8080 dnat to 198.18.0.2:80; }
    chain post { type nat hook postrouting priority srcnat; ip saddr 198.18.0.0/24 oifname "up0" masquerade; }
}
table ip ctpl_raw {
    chain pre {
        type filter hook prerouting priority raw;
        ip saddr 198.18.0.4 ip daddr 198.18.0.1 ct zone set 7
        ip saddr 198.18.0.4 ip daddr != 198.18.0.1 ct original zone set 7
    }
    chain out { type filter hook output priority raw; ip daddr 198.18.0.4 ct zone set 7; }
}
table ip ctpl_mangle {
    chain pre { type filter hook prerouting priority mangle; ip saddr 198.18.0.3 meta l4proto udp ct label set 1; }
}
table ip6 ctpl_nat6 {
    chain post { type nat hook postrouting priority srcnat; ip6 saddr 2001:db8:1::/64 oifname "up0" masquerade; }
}
EOF
}
flush_rules() {
    local t
    for t in nat raw mangle; do hx iptables -t "$t" -F >/dev/null 2>&1 || true; done
    hx ip6tables -t nat -F >/dev/null 2>&1 || true
    hx nft flush ruleset >/dev/null 2>&1 || true
}

NAT=""
if [[ -z ${CTPL_FORCE_NFT:-} ]] && command -v iptables >/dev/null 2>&1 &&
    nat_iptables 2>"$TMP/nat.err"; then
    NAT=iptables
else
    flush_rules
    if command -v nft >/dev/null 2>&1 && nat_nft 2>"$TMP/nat.err"; then
        NAT=nft
    else
        skip "cannot install NAT rules with iptables or nft: $(head -n1 "$TMP/nat.err")"
    fi
fi
NATBACKEND="$NAT ($("$NAT" --version 2>/dev/null | head -n1))"

# Inside container 1 only: drop our own non-SYN packets to port 8443, so the
# host sees SYN + SYN/ACK but never the final ACK (-> SYN_RECV).
if [[ $NAT == iptables ]]; then
    nsx "$C1" iptables -A OUTPUT -p tcp --dport 8443 ! --syn -j DROP
else
    nsx "$C1" nft -f - <<'EOF'
table ip ctpl_filter {
    chain out { type filter hook output priority filter; tcp dport 8443 tcp flags & (fin|syn|rst|ack) != syn drop; }
}
EOF
fi

# ------------------------------------------------------------ traffic
start() {  # start NS NAME ARGS...  (background, pid recorded)
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$PYTHON" "$TRAFFIC" "$@" >"$TMP/$name.out" 2>&1 &
    PIDS+=("$!")
    eval "PID_$name=\$!"
}
wait_ready() {  # wait_ready NAME...
    local name pidvar i
    for name in "$@"; do
        pidvar=PID_$name
        for ((i = 0; i < 300; i++)); do
            [[ -e $TMP/$name.ready ]] && break
            if ! kill -0 "${!pidvar}" 2>/dev/null; then
                say "traffic helper '$name' died:"; cat "$TMP/$name.out" >&2; exit 1
            fi
            sleep 0.1
        done
        [[ -e $TMP/$name.ready ]] || { say "timeout waiting for '$name'"; exit 1; }
    done
}

SRV4=203.0.113.2
SRV6=2001:db8:2::2

start "$S" srv server "$TMP/srv.ready" 22,80,443,8443 53,123
start "$C1" web server "$TMP/web.ready" 80 ""
wait_ready srv web

# The Docker case, part 1: container 1 takes source port 29999 first ...
start "$C1" c1a client "$TMP/c1a.ready" \
    tcp-hold,$SRV4,80,198.18.0.2,29999 \
    udp-rr,$SRV4,53,198.18.0.2,29999 \
    tcp-hold,$SRV6,80,2001:db8:1::2,29999
wait_ready c1a

# ... part 2: container 2 uses the same source port to the same server
# ip:port, so MASQUERADE has to pick another one (reply dport != orig sport).
start "$C2" c2 client "$TMP/c2.ready" \
    tcp-hold,$SRV4,80,198.18.0.3,29999 \
    udp-rr,$SRV4,53,198.18.0.3,29999 \
    tcp-hold,$SRV6,80,2001:db8:1::3,29999 \
    tcp-refused,$SRV4,81 \
    udp-oneway,198.51.100.20,514 \
    udp-stream,$SRV4,123 \
    tcp-half,$SRV4,80 \
    tcp-syn,2001:db8:3::10,443 \
    udp-oneway,2001:db8:3::10,514 \
    tcp-reset,$SRV4,80

start "$C1" c1b client "$TMP/c1b.ready" \
    tcp-hold,$SRV4,443 \
    tcp-hold,$SRV4,443 \
    tcp-close,$SRV4,80 \
    tcp-close,$SRV4,80 \
    tcp-syn,198.51.100.10,443 \
    tcp-syn,$SRV4,8443 \
    icmp,$SRV4,101 \
    icmp,$SRV6,102 \
    udp-rr,$SRV6,53 \
    tcp-close,$SRV6,443 \
    udp-rr,$SRV4,123

# container 3: conntrack zone 7 (zone-orig for NATed flows, zone for host-local)
start "$C3" c3 client "$TMP/c3.ready" \
    tcp-hold,$SRV4,80 \
    udp-rr,$SRV4,53 \
    icmp,198.18.0.1,301 \
    tcp-hold,$SRV6,443 \
    icmp,$SRV6,302

# inbound "published port" 203.0.113.1:8080 -> DNAT 198.18.0.2:80
start "$S" inbound client "$TMP/inbound.ready" \
    tcp-hold,203.0.113.1,8080 \
    tcp-close,203.0.113.1,8080 \
    icmp,203.0.113.1,401

# the host's own traffic (no NAT)
start "$H" hostc client "$TMP/hostc.ready" \
    tcp-hold,$SRV4,22 \
    icmp,$SRV4,501 \
    udp-rr,$SRV6,123

wait_ready c2 c1b c3 inbound hostc
sleep 0.5   # let the last ACKs / FINs settle

# ------------------------------------------------------------ capture
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
MAN=$OUT/MANIFEST.tmp

cap() {  # cap FILE MODE CMD...   MODE: both (2>&1) | out (2>/dev/null) | opt (2>&1, kept only if rc 0)
    local file=$1 mode=$2 rc=0 cmd; shift 2
    case $mode in
        both|opt) hx "$@" >"$OUT/$file" 2>&1 || rc=$? ;;
        out) hx "$@" >"$OUT/$file" 2>/dev/null || rc=$? ;;
    esac
    cmd="$*"
    [[ $mode == out ]] && cmd+=" 2>/dev/null" || cmd+=" 2>&1"
    if [[ $mode == opt && $rc -ne 0 ]]; then
        printf '#%s\t%s\t(rejected, exit %d: %s)\n' "$file" "$cmd" "$rc" "$(head -n1 "$OUT/$file")" >>"$MAN"
        rm -f "$OUT/$file"
        return 0
    fi
    [[ $rc -ne 0 ]] && cmd+="   (exit $rc)"
    printf '%s\t%s\n' "$file" "$cmd" >>"$MAN"
}
# -o labels needs /etc/xtables/connlabel.conf to name label bits.  We never
# write to the real /etc: an overlay over /etc in a private mount namespace
# (only this one command sees it) supplies a connlabel.conf.
cap_labels_with_map() {
    local file=conntrack_-L_-o_labels+connlabel rc=0
    command -v unshare >/dev/null 2>&1 || return 0
    mkdir -p "$TMP/ovl/up/xtables" "$TMP/ovl/work"
    printf '%s\n' '# ctplan lab' '0 docker-bridge' '1 lab-udp' '2 lab-spare' \
        >"$TMP/ovl/up/xtables/connlabel.conf"
    unshare --mount --propagation private sh -c '
        mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc || exit 99
        exec ip netns exec "$2" conntrack -L -o labels' sh "$TMP/ovl" "$H" \
        >"$OUT/$file" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        printf '#%s\t%s\t(not produced, exit %d)\n' "$file" "conntrack -L -o labels 2>&1" "$rc" >>"$MAN"
        rm -f "$OUT/$file"
        return 0
    fi
    printf '%s\t%s\n' "$file" "conntrack -L -o labels 2>&1   (with a private /etc/xtables/connlabel.conf: 0 docker-bridge, 1 lab-udp, 2 lab-spare)" >>"$MAN"
}

# The table files are compared with each other (tests/lab/test_lab_counts.sh),
# so they must show one table.  Flows are held open, but the kernel may
# still add or drop an entry on its own (an IGMP report, an expiring CLOSE).
# An xml dump right before and right after the table captures, with the
# fields that tick (timeout, deltatime, use, counters, timestamps) removed,
# must agree; if not, the table captures are taken once more.
xml_state() {  # xml_state FILE: the table as sorted, stable xml lines
    hx conntrack -L -o xml 2>/dev/null | grep '<flow' |
        sed -E -e 's#<(timeout|deltatime|use)>[0-9]*</[a-z]+>##g' \
            -e 's#<(counters|timestamp)>(<[a-z]+>[0-9]*</[a-z]+>)*</[a-z]+>##g' |
        LC_ALL=C sort >"$1"
}
capture_tables() {
    : >"$MAN"
    T0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    cap conntrack_-L                  both conntrack -L
    cap conntrack_-L_-o_extended      both conntrack -L -o extended
    cap conntrack_-L_-o_xml           out  conntrack -L -o xml
    cap conntrack_-L_-o_id            both conntrack -L -o id
    cap conntrack_-L_-o_ktimestamp    both conntrack -L -o ktimestamp
    cap conntrack_-L_-o_labels        both conntrack -L -o labels
    cap_labels_with_map
    cap conntrack_-L_-o_save          both conntrack -L -o save
    cap conntrack_-L_-o_extended,id   opt  conntrack -L -o extended,id
    cap proc_net_nf_conntrack         both cat /proc/net/nf_conntrack
    cap conntrack_-C                  both conntrack -C
    cap nf_conntrack_count            both cat /proc/sys/net/netfilter/nf_conntrack_count
    cap conntrack_-S                  both conntrack -S
    cap proc_net_stat_nf_conntrack    both cat /proc/net/stat/nf_conntrack
    hx bash -c 'echo "*** Output of conntrack -S *** "; conntrack -S; echo "*** Output of conntrack -L ***"; conntrack -L' \
        >"$OUT/conntrack.txt" 2>/dev/null || true
    printf '%s\t%s\n' conntrack.txt \
        "{ echo '*** Output of conntrack -S *** '; conntrack -S; echo '*** Output of conntrack -L ***'; conntrack -L; } 2>/dev/null" >>"$MAN"
    T1=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
}
STABLE=no
for attempt in 1 2; do
    xml_state "$TMP/xml.before"
    capture_tables
    xml_state "$TMP/xml.after"
    if cmp -s "$TMP/xml.before" "$TMP/xml.after"; then
        STABLE="yes (attempt $attempt)"
        break
    fi
    say "the table changed during capture attempt $attempt:"
    diff "$TMP/xml.before" "$TMP/xml.after" | grep '^[<>]' | cut -c1-300 >&2 || true
done
[[ $STABLE != no ]] || say "WARNING: the table files may show different tables"
cap sysctl_-a                     both sysctl -a
cap uname_-a                      both uname -a
cap uname_-r                      both uname -r
cap meminfo                       both cat /proc/meminfo
cap hashsize                      both cat /sys/module/nf_conntrack/parameters/hashsize

# what the helpers did (ground truth for the flows above)
for name in c1a c2 c1b c3 inbound hostc; do
    sed "s/^/$name: /" "$TMP/$name.ready"
done >"$OUT/traffic.log"
printf '%s\t%s\n' traffic.log "per-helper action log of tests/lab/traffic.py (not a tool output)" >>"$MAN"

{
    echo "# ctplan lab capture, made by tests/lab/capture.sh"
    echo "# date -u: $(date -u)"
    echo "# tables captured between $T0 and $T1"
    echo "# tables stable: $STABLE  (xml dumps just before and after agree)"
    echo "# kernel: $(uname -r)"
    echo "# $(conntrack --version 2>&1 | head -n1)"
    echo "# NAT backend: $NATBACKEND"
    echo "# host netns sysctls: net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.netfilter.nf_conntrack_timestamp=1 net.netfilter.nf_conntrack_acct=$ACCT"
    echo "# every command ran as: ip netns exec <host-netns> COMMAND > FILE"
    echo "# topology: containers 198.18.0.2-4 / 2001:db8:1::2-4 on bridge br0 (198.18.0.1, 2001:db8:1::1),"
    echo "#   uplink up0 203.0.113.1 / 2001:db8:2::1 -> server 203.0.113.2 / 2001:db8:2::2,"
    echo "#   black holes 198.51.100.0/24 and 2001:db8:3::/64; MASQUERADE v4+v6; DNAT 203.0.113.1:8080 -> 198.18.0.2:80;"
    echo "#   198.18.0.4 in conntrack zone 7 (zone-orig for forwarded flows); UDP from 198.18.0.3 gets ct label bit 1"
    echo "# FILE<TAB>COMMAND  (lines starting with # = not produced)"
    cat "$MAN"
} >"$OUT/MANIFEST"
rm -f "$MAN"

# ------------------------------------------------------------ sanity summary
# With 2>&1 the unbuffered stderr summary line lands wherever stdout's 4 KiB
# buffer happened to be flushed - often in the middle of an entry.  Splice it
# out before looking at the entries.
unsplice() {
    local f
    for f; do
        sed -z 's/conntrack v[0-9.]* (conntrack-tools): [0-9]* flow entries have been shown\.\n//g' "$f" | tr -d '\0'
    done
}
L=$TMP/conntrack_-L.clean
unsplice "$OUT/conntrack_-L" >"$L"
total=$(grep -cE '^(tcp|udp|icmp|icmpv6|unknown) ' "$L" || true)
[[ $total -gt 0 ]] || { say "no conntrack entries captured"; exit 1; }
say "$total flows captured in $(( $(date +%s) - START ))s into $OUT ($NAT)"
awk '$1 ~ /^(tcp|udp|icmp|icmpv6|unknown)$/ {
        st = ($1 == "tcp") ? $4 : "-"
        fl = ""
        if ($0 ~ /\[UNREPLIED\]/) fl = fl " UNREPLIED"
        if ($0 ~ /\[ASSURED\]/) fl = fl " ASSURED"
        if ($0 ~ /zone/) fl = fl " zone"
        c[$1 " " st fl]++
     } END { for (k in c) printf "  %3d  %s\n", c[k], k }' "$L" | sort -k2 >&2
remapped=$(awk '{
        n = 0; delete sp; delete dp
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^sport=/) sp[++n] = substr($i, 7)
            if ($i ~ /^dport=/) dp[n] = substr($i, 7)
        }
        if (n >= 2 && sp[1] == 29999 && dp[2] != 29999) print
    }' "$L")
if [[ -n $remapped ]]; then
    say "remapped source port (Docker same-port case):"
    sed 's/^/  /' <<<"$remapped" >&2
else
    say "WARNING: no remapped source port seen"
fi
# only documentation ranges, loopback, link-local and 224.0.0.0/24 expected
leak=$(unsplice "$OUT"/conntrack* "$OUT"/proc_net_nf_conntrack |
    grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' | sort -u |
    grep -vE '^(198\.1[89]\.|198\.51\.100\.|203\.0\.113\.|127\.|169\.254\.|224\.0\.0\.|0\.0\.0\.0$)' || true)
[[ -z $leak ]] || say "WARNING: non-documentation IPv4 addresses in the capture: $(echo $leak)"
for f in "$TMP"/*.ready; do
    if grep -q FAILED "$f"; then say "WARNING: $(basename "$f" .ready): $(grep FAILED "$f")"; fi
done
exit 0
