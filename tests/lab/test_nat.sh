#!/usr/bin/env bash
# test_nat.sh - ctplan's NAT model against the real kernel.
#
#   usage: test_nat.sh CTPLAN SRCDIR     (run by ctest as lab/test_nat)
#
# Part 1, the same-port containers: tests/lab/capture.sh makes a fresh
# table in which two containers connect from source port 29999 to the same
# server ip:port (tcp v4 :80, udp :53, tcp v6 :80).  ctplan must list
# exactly the remaps the kernel made -- read independently from
# `conntrack -L -o xml` with python's XML parser -- each with its holder.
#
# Part 2, port exhaustion: the topology of capture.sh (host with a bridge
# for the containers and an uplink to a server, in namespaces), with
#   MASQUERADE -p tcp --dport 80 --to-ports 20000-20009    (10 ports)
#   MASQUERADE -p tcp --dport 81 --to-ports 21000-21255    (256 ports)
# Container c1 holds 10 connections to server:80 (every port of the first
# range; the kernel picks them) and 253 connections to server:81 bound to
# 21003-21255 (the kernel keeps a free port that is in the range), so
# 21000-21002 stay free.  The bundle (conntrack -L, -S, uname) is saved and
# analyzed; then container c2 makes new connections:
#   A: N_A attempts to server:80.  ctplan must report the group full
#      (range inferred from the mapped ports, p_fail_next 1): with 10 <=
#      128 ports one round probes every port, so every attempt fails and
#      insert_failed and drop must grow by exactly N_A (tolerance 0; the
#      namespace has no other new flows).  The kernel's `found` counts the
#      taken probes that went through nf_conntrack_tuple_taken(): all 10
#      of each attempt before 6.5, none on 6.5+ (a TCP SYN's last 32
#      probes use nf_nat_used_tuple_harder()), as the model's era says.
#   B: N_B attempts to server:81, one after the other; an attempt that
#      connects is reset and its entry deleted (conntrack -D) before the
#      next, so every attempt sees the saved table.  The failures are then
#      Binomial(N_B, p) with p the p_fail_next ctplan reports for that
#      group (--nat-range 21000-21255; three adjacent free ports in 256:
#      about 0.28 from five rounds of 128, 64, 32, 16, 8 probes).  The
#      kernel's insert_failed delta must equal the failures the client saw
#      and lie within 4.5 standard deviations (+1) of N_B * p, which a
#      wrong search (one round: ~0.49; a full scan: 0) would miss.
#
# Only documentation addresses, only inside our namespaces (ctpn-<pid>-*),
# nothing global is changed.  Exit 77 (skip) where namespaces cannot be
# made.  Holds the machine-wide lab lock (tests/lab/lab_lock.sh).
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$2
LAB=$SRC/tests/lab
PYTHON=${PYTHON:-python3}
N_A=${CTPLAN_NAT_N_A:-20}
N_B=${CTPLAN_NAT_N_B:-400}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
FAILS=0

[[ -x $CTPLAN ]] || { echo "FAIL: ctplan binary '$CTPLAN' is missing"; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "must run as root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2) binary"
command -v conntrack >/dev/null 2>&1 || skip "no conntrack binary"
command -v "$PYTHON" >/dev/null 2>&1 || skip "no python3"
command -v iptables >/dev/null 2>&1 || command -v nft >/dev/null 2>&1 ||
    skip "neither iptables nor nft available"

. "$LAB/lab_lock.sh"

P="ctpn-$$-"
H=${P}host
C1=${P}c1
C2=${P}c2
S=${P}srv
NSES=()
PIDS=()
tmp=$(mktemp -d /tmp/ctpl-nattest.XXXXXX) || exit 1

cleanup() {
    local rc=$? pid ns i
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for ns in "${NSES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# the global table settings are not ours to touch; a value off the
# machine's default while we hold the lock means an earlier run leaked it
for k in nf_conntrack_buckets nf_conntrack_max; do
    v=$(sysctl -n "net.netfilter.$k" 2>/dev/null || echo "?")
    [[ $v == 262144 ]] || echo "note: net.netfilter.$k is $v, not 262144 (leaked by an earlier run?)"
done

# ------------------------------------------------------------ part 1
echo "part 1: the same-port containers (capture.sh)"
rc=0
bash "$LAB/capture.sh" "$tmp/cap" 2>"$tmp/capture.err" || rc=$?
if [[ $rc -eq 77 ]]; then
    skip "$(grep -m1 '^SKIP:' "$tmp/capture.err" | sed 's/^SKIP: //')"
fi
if [[ $rc -ne 0 ]]; then
    sed 's/^/  | /' "$tmp/capture.err"
    fail "capture.sh exited $rc"
else
    "$CTPLAN" analyze --no-hash -q --format json "$tmp/cap/conntrack_-L" \
        >"$tmp/cap.json" 2>"$tmp/cap.err" || fail "ctplan on the capture: exit $?"
    "$PYTHON" - "$tmp/cap/conntrack_-L_-o_xml" "$tmp/cap.json" <<'EOF' || fail "part 1: remaps and holders"
import json, sys
import xml.etree.ElementTree as ET

def tup(meta):
    l3, l4 = meta.find("layer3"), meta.find("layer4")
    get = lambda e, t: (e.find(t).text if e is not None and
                        e.find(t) is not None else None)
    return (l4.get("protoname"), get(l3, "src"), get(l3, "dst"),
            get(l4, "sport"), get(l4, "dport"))

flows = []
for f in ET.parse(sys.argv[1]).getroot().iter("flow"):
    m = {x.get("direction"): x for x in f.findall("meta")}
    if f.get("type") or "original" not in m:
        continue
    flows.append((tup(m["original"]), tup(m["reply"])))
# the reference: source NAT (reply dst != orig src) with a new port
want = []
for o, r in flows:
    if o[0] not in ("tcp", "udp") or r[2] == o[1] or r[4] == o[3]:
        continue
    hold = [h for h in flows if h[1][:4] == r[:4] and h[1][4] == o[3]]
    want.append((o[0], o[1], int(o[3]), o[2], int(o[4]), int(r[4]),
                 (hold[0][0][1], int(hold[0][0][3])) if hold else None))
n = json.load(open(sys.argv[2]))["nat"]
got = [(x["protocol"], x["src"], x["sport"], x["dst"], x["dport"],
        x["nat_port"],
        (x["holder"]["src"], x["holder"]["sport"]) if x["holder"] else None)
       for x in n["remaps"]]
print("  kernel remaps (xml):", sorted(want))
ok = sorted(want) == sorted(got) and n["port_remapped"] == len(want)
# the capture's three pairs: tcp v4 :80, udp :53, tcp v6 :80
ok = ok and sorted((w[0], ":" in w[1], w[4]) for w in want) == \
    [("tcp", False, 80), ("tcp", True, 80), ("udp", False, 53)]
ok = ok and all(w[6] is not None and w[6][1] == 29999 == w[2] for w in want)
if not ok:
    print("  ctplan remaps:", sorted(got))
sys.exit(0 if ok else 1)
EOF
fi

# ------------------------------------------------------------ part 2
echo "part 2: port exhaustion"
ip netns add "$H" 2>"$tmp/err" || skip "ip netns add failed: $(head -n1 "$tmp/err")"
NSES+=("$H")
for ns in "$C1" "$C2" "$S"; do
    ip netns add "$ns" || { fail "ip netns add $ns"; exit 1; }
    NSES+=("$ns")
done
hx() { ip netns exec "$H" "$@"; }
for ns in "${NSES[@]}"; do ip -n "$ns" link set lo up; done

# capture.sh's topology, IPv4 only: containers on br0, uplink to srv
ip -n "$H" link add br0 type bridge
ip -n "$H" addr add 198.18.0.1/24 dev br0
ip -n "$H" link set br0 up
n=1
for c in "$C1" "$C2"; do
    ip -n "$H" link add "vc$n" type veth peer name eth0 netns "$c"
    ip -n "$H" link set "vc$n" master br0
    ip -n "$H" link set "vc$n" up
    ip -n "$c" addr add "198.18.0.$((n + 1))/24" dev eth0
    ip -n "$c" link set eth0 up
    ip -n "$c" route add default via 198.18.0.1
    n=$((n + 1))
done
ip -n "$H" link add up0 type veth peer name eth0 netns "$S"
ip -n "$H" addr add 203.0.113.1/24 dev up0
ip -n "$H" link set up0 up
ip -n "$S" addr add 203.0.113.2/24 dev eth0
ip -n "$S" link set eth0 up
hx sysctl -qw net.ipv4.ip_forward=1

if [[ -z ${CTPL_FORCE_NFT:-} ]] && command -v iptables >/dev/null 2>&1 &&
    hx iptables -t nat -A POSTROUTING -s 198.18.0.0/24 -o up0 -p tcp \
        --dport 80 -j MASQUERADE --to-ports 20000-20009 2>"$tmp/nat.err" &&
    hx iptables -t nat -A POSTROUTING -s 198.18.0.0/24 -o up0 -p tcp \
        --dport 81 -j MASQUERADE --to-ports 21000-21255 2>>"$tmp/nat.err"; then
    NAT=iptables
else
    hx iptables -t nat -F >/dev/null 2>&1
    hx nft -f - <<'EOF' 2>>"$tmp/nat.err" ||
table ip ctpn_nat {
    chain post {
        type nat hook postrouting priority srcnat;
        ip saddr 198.18.0.0/24 oifname "up0" tcp dport 80 masquerade to :20000-20009
        ip saddr 198.18.0.0/24 oifname "up0" tcp dport 81 masquerade to :21000-21255
    }
}
EOF
        skip "cannot install the MASQUERADE rules: $(head -n1 "$tmp/nat.err")"
    NAT=nft
fi
hx conntrack -C >/dev/null 2>&1 || skip "conntrack cannot talk to the kernel in a namespace"

cat >"$tmp/natlab.py" <<'EOF'
"""Traffic for test_nat.sh (stdlib only).
  server READY PORT...          accept and hold every connection
  hold READY DST PORT N [FIRST] N connections to DST:PORT, from FIRST,
                                FIRST+1, ... if given (else ephemeral);
                                held until killed
  attempt DST PORT N WAIT HOST  N attempts one after the other: "fail"
                                when no answer within WAIT s (the socket
                                is closed: a SYN_SENT close sends
                                nothing), else "ok": reset, and the entry
                                deleted in namespace HOST
"""
import os, select, signal, socket, struct, subprocess, sys, time

def ready(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)

def idle():
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        time.sleep(3600)

def server(path, ports):
    ls = []
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(1024)
        ls.append(s)
    ready(path, "ready\n")
    keep = []
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        for s in select.select(ls, [], [])[0]:
            keep.append(s.accept()[0])

def hold(path, dst, port, n, first=None):
    keep = []
    for i in range(int(n)):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if first is not None:
            s.bind(("0.0.0.0", int(first) + i))
        s.settimeout(20)
        s.connect((dst, int(port)))
        keep.append(s)
    ready(path, " ".join(str(s.getsockname()[1]) for s in keep) + "\n")
    idle()

def attempt(dst, port, n, wait, host):
    for i in range(int(n)):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((dst, int(port)))
        lport = s.getsockname()[1]
        w = select.select([], [s], [], float(wait))[1]
        if w and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
            time.sleep(0.005)
            rc = subprocess.call(
                ["ip", "netns", "exec", host, "conntrack", "-D", "-p",
                 "tcp", "--orig-src", "198.18.0.3", "--sport", str(lport)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("ok", lport, "deleted" if rc == 0 else "not-deleted",
                  flush=True)
        else:
            s.close()
            print("fail", lport, flush=True)

cmd = sys.argv[1]
if cmd == "server":
    server(sys.argv[2], sys.argv[3:])
elif cmd == "hold":
    hold(*sys.argv[2:])
elif cmd == "attempt":
    attempt(*sys.argv[2:])
EOF

start() { # start NS NAME ARGS...: background helper, ready file $tmp/NAME
    local ns=$1 name=$2
    shift 2
    ip netns exec "$ns" "$PYTHON" "$tmp/natlab.py" "$@" >"$tmp/$name.out" 2>&1 &
    PIDS+=("$!")
    local pid=$! i
    for ((i = 0; i < 600; i++)); do
        [[ -e $tmp/$name ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL: helper $name did not start:"
    sed 's/^/  | /' "$tmp/$name.out"
    exit 1
}
start "$S" srv server "$tmp/srv" 80 81
start "$C1" holdA hold "$tmp/holdA" 203.0.113.2 80 10
start "$C1" holdB hold "$tmp/holdB" 203.0.113.2 81 253 21003
sleep 0.3 # let the last ACKs pass

stats() { # sum of counter $1 over the CPU rows of conntrack -S
    hx conntrack -S 2>/dev/null | tr -s ' \t' '\n\n' | awk -F= -v k="$1" \
        '$1 == k { s += $2 } END { print s + 0 }'
}

B=$tmp/bundle
mkdir -p "$B"
hx conntrack -L >"$B/conntrack_-L" 2>&1
hx conntrack -S >"$B/conntrack_-S" 2>&1
uname -a >"$B/uname_-a"
F0=$(stats insert_failed) D0=$(stats drop) K0=$(stats found)
echo "  bundle: $(grep -c '^tcp' "$B/conntrack_-L") tcp entries; insert_failed=$F0 drop=$D0 found=$K0"

"$CTPLAN" analyze --no-hash -q --format json "$B" >"$tmp/a.json" ||
    fail "ctplan on the bundle: exit $?"
"$CTPLAN" analyze --no-hash -q --format json --nat-range 21000-21255 "$B" \
    >"$tmp/b.json" || fail "ctplan --nat-range on the bundle: exit $?"
# prints: p_fail_next of group A, of group B, expected found per attempt
read -r PA PB FOUND_PER < <("$PYTHON" - "$tmp/a.json" "$tmp/b.json" <<'EOF'
import json, sys
ra, rb = (json.load(open(p)) for p in sys.argv[1:3])
def group(r, port):
    g = [g for g in r["nat"]["groups"] if g["protocol"] == "tcp" and
         g["peer_addr"] == "203.0.113.2" and g["peer_port"] == port]
    return g[0] if g else None
ga, gb = group(ra, 80), group(rb, 81)
bad = []
def want(got, exp, what):
    if got != exp:
        bad.append("%s: got %r, want %r" % (what, got, exp))
if ga is None or gb is None:
    print("nan nan nan")
    sys.exit(0)
want((ga["range_source"], ga["range_lo"], ga["range_hi"], ga["used"],
      ga["utilization"], ga["p_fail_next"], ga["remapped"]),
     ("inferred", 20000, 20009, 10, 1.0, 1.0, 10), "group :80")
want(any(f["code"] == "nat.ports_exhausted" and "203.0.113.2:80" in f["advice"]
         for f in ra["findings"]), True, "finding nat.ports_exhausted")
want((gb["range_source"], gb["range_size"], gb["used"], gb["p_keep"],
      gb["remapped"]), ("option", 256, 253, 0.0, 0), "group :81")
want(ra["nat"]["algorithm"] in ("bounded", "bounded-evict", "rover-scan"),
     True, "algorithm")
for b in bad:
    print("  " + b, file=sys.stderr)
# found per failed :80 attempt: taken probes checked by tuple_taken
found = 0 if ra["nat"]["algorithm"] == "bounded-evict" else 10
print(ga["p_fail_next"] if not bad else "nan", gb["p_fail_next"], found)
EOF
)
echo "  ctplan: p_fail_next :80 $PA, :81 $PB (kernel $("$PYTHON" -c 'import json,sys; n=json.load(open(sys.argv[1]))["nat"]; print(n["kernel"], n["algorithm"])' "$tmp/a.json"))"
[[ $PA == nan ]] && fail "ctplan's group :80 is wrong (see above)"

# A: the full range
ip netns exec "$C2" "$PYTHON" "$tmp/natlab.py" attempt 203.0.113.2 80 "$N_A" 0.2 "$H" \
    >"$tmp/attA" 2>&1 || fail "attempts A: exit $?"
F1=$(stats insert_failed) D1=$(stats drop) K1=$(stats found)
okA=$(grep -c '^ok' "$tmp/attA")
echo "  A: $N_A attempts, $okA connected; insert_failed +$((F1 - F0)), drop +$((D1 - D0)), found +$((K1 - K0))"
echo "     predicted: $N_A x $PA = $("$PYTHON" -c "print(round($N_A * $PA, 3))") failures, found +$((N_A * FOUND_PER))"
[[ $okA -eq 0 ]] || fail "A: $okA attempts connected through a full range"
[[ $((F1 - F0)) -eq $N_A ]] || fail "A: insert_failed grew by $((F1 - F0)), want $N_A"
[[ $((D1 - D0)) -eq $N_A ]] || fail "A: drop grew by $((D1 - D0)), want $N_A"
[[ $((K1 - K0)) -eq $((N_A * FOUND_PER)) ]] || fail "A: found grew by $((K1 - K0)), want $((N_A * FOUND_PER))"

# B: three free ports of 256
ip netns exec "$C2" "$PYTHON" "$tmp/natlab.py" attempt 203.0.113.2 81 "$N_B" 0.2 "$H" \
    >"$tmp/attB" 2>&1 || fail "attempts B: exit $?"
F2=$(stats insert_failed) D2=$(stats drop)
okB=$(grep -c '^ok' "$tmp/attB")
failB=$(grep -c '^fail' "$tmp/attB")
notdel=$(grep -c 'not-deleted' "$tmp/attB")
left=$(hx conntrack -L -p tcp --dport 81 2>/dev/null | grep -c 'src=198.18.0.3')
echo "  B: $N_B attempts: $okB connected, $failB failed; insert_failed +$((F2 - F1)), drop +$((D2 - D1))"
"$PYTHON" - "$N_B" "$PB" "$((F2 - F1))" "$failB" <<'EOF' || fail "B: the kernel's failures are off the prediction"
import math, sys
n, p, kernel, client = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mean, sd = n * p, math.sqrt(n * p * (1 - p))
tol = 4.5 * sd + 1
print("     predicted: %d x %.4f = %.1f failures (sd %.1f, tolerance +-%.1f); "
      "kernel %d, %.2f sd off" % (n, p, mean, sd, tol, kernel,
                                  (kernel - mean) / sd if sd else 0))
sys.exit(0 if kernel == client and abs(kernel - mean) <= tol else 1)
EOF
[[ $((F2 - F1)) -eq $failB ]] || fail "B: insert_failed grew by $((F2 - F1)) but the client saw $failB failures"
[[ $((D2 - D1)) -eq $failB ]] || fail "B: drop grew by $((D2 - D1)) but the client saw $failB failures"
[[ $notdel -eq 0 ]] || fail "B: $notdel connected attempts left no entry to delete"
[[ $left -eq 0 ]] || fail "B: $left entries of c2 to :81 remained (the table changed under the attempts)"

if [[ $FAILS -ne 0 ]]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "nat lab: all checks passed"
