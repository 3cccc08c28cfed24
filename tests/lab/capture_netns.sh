#!/usr/bin/env bash
# capture_netns.sh - a real two-router capture laid out as a sosreport
# with per-namespace conntrack dumps (sos conntrack plugin:
# sos_commands/conntrack/ip_netns_exec_<ns>_conntrack_-L_-o_extended).
#
#   usage: sudo bash tests/lab/capture_netns.sh OUTDIR
#
# Like an OpenStack network node: two router namespaces, each NATting its
# own client to the same server address with MASQUERADE --to-ports
# 40000-40007 (8 ports), and each client holding 8 connections to
# 203.0.113.2:80, so the one NAT destination is exhausted in both
# namespaces.  A 9th connection is tried from each client (it fails: no
# port left).  Then OUTDIR gets the sos layout: the routers' conntrack
# -L -o extended and -S as "qrouter-a" and "qrouter-b", the host's own
# conntrack -L -o extended and -S, sysctl -a (net.netfilter), uname -a,
# /proc/slabinfo, /proc/meminfo.  Only documentation addresses, only
# inside namespaces made here (ctpn-<pid>-*), all removed on exit.
# Exit 77: skipped (no root, no tools).
set -uo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
PYTHON=${PYTHON:-python3}
P=ctpn-$$
skip() { echo "SKIP: $*" >&2; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "must run as root"
for t in ip conntrack iptables "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || skip "no $t"
done

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for n in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}'); do
        ip netns del "$n" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"/tmp/$P-hold.py" <<'PY'
# hold.py server ADDR PORT | client DST PORT N TRIES: accept and keep every
# connection, or open N connections and keep them, then try TRIES more
import socket, sys, time
if sys.argv[1] == "server":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], int(sys.argv[3])))
    s.listen(64)
    print("ready", flush=True)
    held = []
    while True:
        held.append(s.accept()[0])
dst, port, n, tries = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
held, ok, failed = [], 0, 0
for i in range(n + tries):
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect((dst, port))
        held.append(c)
        ok += 1
    except OSError:
        failed += 1
print(f"connected {ok} failed {failed}", flush=True)
time.sleep(3600)
PY

for r in a b; do
    R=$P-r$r C=$P-c$r S=$P-s$r
    for n in "$R" "$C" "$S"; do ip netns add "$n" || skip "ip netns add"; ip -n "$n" link set lo up; done
    ip link add vc netns "$C" type veth peer name dn netns "$R"
    ip link add up0 netns "$R" type veth peer name vs netns "$S"
    ip -n "$C" addr add 198.18.0.2/24 dev vc
    ip -n "$R" addr add 198.18.0.1/24 dev dn
    ip -n "$R" addr add 203.0.113.1/24 dev up0
    ip -n "$S" addr add 203.0.113.2/24 dev vs
    for l in "$C vc" "$R dn" "$R up0" "$S vs"; do set -- $l; ip -n "$1" link set "$2" up; done
    ip -n "$C" route add default via 198.18.0.1
    ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$R" iptables -t nat -A POSTROUTING -o up0 -p tcp \
        -j MASQUERADE --to-ports 40000-40007 || skip "iptables MASQUERADE"
    ip netns exec "$S" "$PYTHON" "/tmp/$P-hold.py" server 203.0.113.2 80 \
        >"/tmp/$P-s$r.log" 2>&1 &
    pids+=($!)
done
sleep 1
for r in a b; do
    ip netns exec "$P-c$r" "$PYTHON" "/tmp/$P-hold.py" client 203.0.113.2 80 8 1 \
        >"/tmp/$P-c$r.log" 2>&1 &
    pids+=($!)
done
for i in $(seq 30); do
    grep -q connected "/tmp/$P-ca.log" "/tmp/$P-cb.log" 2>/dev/null &&
        [[ $(cat "/tmp/$P-ca.log" "/tmp/$P-cb.log" | grep -c connected) -eq 2 ]] && break
    sleep 1
done
echo "router a: $(cat "/tmp/$P-ca.log"); router b: $(cat "/tmp/$P-cb.log")"

mkdir -p "$OUT/sos_commands/conntrack" "$OUT/sos_commands/kernel" \
    "$OUT/sos_logs" "$OUT/proc"
d=$OUT/sos_commands/conntrack
for r in a b; do
    ip netns exec "$P-r$r" conntrack -L -o extended \
        >"$d/ip_netns_exec_qrouter-${r}_conntrack_-L_-o_extended" 2>&1
    ip netns exec "$P-r$r" conntrack -S \
        >"$d/ip_netns_exec_qrouter-${r}_conntrack_-S" 2>&1
done
conntrack -L -o extended >"$d/conntrack_-L_-o_extended" 2>&1
conntrack -S >"$d/conntrack_-S" 2>&1
sysctl -a 2>/dev/null | grep '^net\.netfilter\.' >"$OUT/sos_commands/kernel/sysctl_-a"
uname -a >"$OUT/sos_commands/kernel/uname_-a"
cp /proc/slabinfo "$OUT/proc/slabinfo"
cp /proc/meminfo "$OUT/proc/meminfo"
rm -f "/tmp/$P-hold.py" /tmp/$P-*.log
echo "saved to $OUT"
