#!/usr/bin/env bash
# test_collect.sh - scripts/ctplan-collect on the real kernel.
#
#   usage: test_collect.sh CTPLAN SRCDIR     (run by ctest as lab/...)
#
# Builds three network namespaces (a client 198.18.0.2, a gateway that
# MASQUERADEs it, a server 203.0.113.2; the client and server track
# connections through a conntrack rule of their own), pushes TCP and UDP
# through the NAT with tests/lab/traffic.py, then holds the traffic (the
# helpers keep their sockets open and send nothing more) while it reads
# the live figures, runs ctplan-collect (with dash when there is one, as
# root), and reads them again; then does it all again with conntrack-tools
# hidden (a mount namespace binds /dev/null over it), so the collector
# reads /proc/net/nf_conntrack and /proc/net/stat/nf_conntrack instead.  With the traffic held, the figures before
# and after agree; the test then asserts that `ctplan analyze --format
# json` of the bundle gives:
#   - table.max and table.buckets = the live sysctl -n values;
#   - table.count within [before, after] of the root namespace's live
#     `conntrack -C` (the root namespace carries the machine's own flows,
#     which the test cannot hold; before == after in practice);
#   - for each test namespace, an input labelled with that namespace
#     (ip_netns_exec_<ns>_conntrack_-L_-o_extended) whose entries equal
#     that namespace's live `conntrack -C` (held: equal before and after);
#   - no line rejected, and the bundle's NOTES says what was read.
# It changes no global setting; the namespaces are removed on every exit.
set -uo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 CTPLAN SRCDIR" >&2; exit 2; }
CTPLAN=$1
SRC=$(cd "$2" && pwd)
COLLECT=$SRC/scripts/ctplan-collect
TRAFFIC=$SRC/tests/lab/traffic.py
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "must run as root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
command -v conntrack >/dev/null 2>&1 || skip "no conntrack (conntrack-tools)"
command -v python3 >/dev/null 2>&1 || skip "no python3 for the traffic helper"
command -v iptables >/dev/null 2>&1 || skip "no iptables"
[[ -x $CTPLAN ]] || fail "ctplan binary '$CTPLAN' is missing"
SH=$(command -v dash || command -v sh)

. "$SRC/tests/lab/lab_lock.sh"

P=ctpc-$$-
CLI=${P}cli GW=${P}gw SRV=${P}srv
NSES=() PIDS=()
tmp=$(mktemp -d /tmp/ctpl-collect.XXXXXX) || exit 1
cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	set +e
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid"; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ topology
ip netns add "$GW" 2>"$tmp/err" || skip "ip netns add: $(head -n1 "$tmp/err")"
NSES+=("$GW")
for ns in "$CLI" "$SRV"; do ip netns add "$ns" || fail "ip netns add $ns"; NSES+=("$ns"); done
ip netns exec "$GW" conntrack -C >/dev/null 2>&1 ||
	skip "conntrack cannot talk to the kernel in a namespace"
for ns in "${NSES[@]}"; do ip -n "$ns" link set lo up; done
ip -n "$GW" link add in0 type veth peer name eth0 netns "$CLI"
ip -n "$GW" link add up0 type veth peer name eth0 netns "$SRV"
ip -n "$GW" addr add 198.18.0.1/24 dev in0
ip -n "$GW" addr add 203.0.113.1/24 dev up0
ip -n "$CLI" addr add 198.18.0.2/24 dev eth0
ip -n "$SRV" addr add 203.0.113.2/24 dev eth0
for l in in0 up0; do ip -n "$GW" link set "$l" up; done
for ns in "$CLI" "$SRV"; do ip -n "$ns" link set eth0 up; done
ip -n "$CLI" route add default via 198.18.0.1
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$GW" iptables -t nat -A POSTROUTING -s 198.18.0.0/24 -o up0 \
	-j MASQUERADE 2>"$tmp/err" ||
	skip "cannot install MASQUERADE: $(head -n1 "$tmp/err")"
# conntrack runs in a namespace only where a rule needs it: the client and
# server get a state match of their own, so each has a table to collect
for ns in "$CLI" "$SRV"; do
	ip netns exec "$ns" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP ||
		fail "cannot add the conntrack rule in $ns"
done

# ------------------------------------------------------------ traffic
start() { # start NS NAME ARGS...
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" python3 "$TRAFFIC" "$@" >"$tmp/$name.out" 2>&1 &
	PIDS+=("$!")
	for ((i = 0; i < 300; i++)); do
		[[ -e $tmp/$name.ready ]] && return 0
		kill -0 "$!" 2>/dev/null || { cat "$tmp/$name.out"; fail "traffic helper $name died"; }
		sleep 0.1
	done
	fail "traffic helper $name never got ready"
}
start "$SRV" srv server "$tmp/srv.ready" 80,443 53
acts=()
for i in $(seq 1 12); do acts+=("tcp-hold,203.0.113.2,80"); done
for i in $(seq 1 4); do acts+=("tcp-hold,203.0.113.2,443" "udp-rr,203.0.113.2,53"); done
acts+=("tcp-close,203.0.113.2,80" "tcp-close,203.0.113.2,443")
start "$CLI" cli client "$tmp/cli.ready" "${acts[@]}"

# ------------------------------------------------------------ collect, held
live() { # the figures now, one per line: "name value"
	echo "max $(sysctl -n net.netfilter.nf_conntrack_max)"
	echo "buckets $(sysctl -n net.netfilter.nf_conntrack_buckets)"
	echo "root $(conntrack -C)"
	for ns in "${NSES[@]}"; do echo "$ns $(ip netns exec "$ns" conntrack -C)"; done
}
sleep 0.5 # the last replies and closes have passed
# twice: with conntrack-tools, and without (the /proc files)
collect_and_check() {
	local mode=$1
	echo "== ctplan-collect, $mode"
	live >"$tmp/before"
	if [[ $mode == tool ]]; then
		(cd "$tmp" && "$SH" "$COLLECT" -o "$tmp/bundle.tar.gz") 2>"$tmp/collect.err"
	else
		# conntrack-tools hidden (bound over by /dev/null, in a mount namespace
		# of this command only): the collector reads /proc instead
		unshare -m "$SH" -c 'mount --bind /dev/null "$(command -v conntrack)" &&
			cd "$2" && "$0" "$1" -o "$2/bundle.tar.gz"' "$SH" "$COLLECT" "$tmp" \
			2>"$tmp/collect.err"
	fi
	rc=$?
	live >"$tmp/after"
	[[ $rc -eq 0 ]] || { cat "$tmp/collect.err"; fail "ctplan-collect ($mode) exited $rc"; }
	paste -d' ' "$tmp/before" "$tmp/after" | sed 's/^/  live before|after: /'
	for ns in "${NSES[@]}"; do
		[[ $(grep "^$ns " "$tmp/before") == $(grep "^$ns " "$tmp/after") ]] ||
			fail "namespace $ns: the held table changed while collecting"
		n=$(awk -v n="$ns" '$1 == n { print $2 }' "$tmp/before")
		[[ $n -gt 0 ]] || fail "namespace $ns tracks no connection: the test pushed no traffic through it"
	done

	tar -tzf "$tmp/bundle.tar.gz" >"$tmp/members" || fail "the bundle is no tar.gz"
	grep -q '/NOTES$' "$tmp/members" || fail "the bundle has no NOTES"
	tar -xzOf "$tmp/bundle.tar.gz" --wildcards '*/NOTES' >"$tmp/NOTES"
	if [[ $mode == tool ]]; then
		want="conntrack_-L_-o_extended: conntrack -L -o extended"
	else
		want="conntrack_-L_-o_extended: cat /proc/net/nf_conntrack"
	fi
	grep -q "$want" "$tmp/NOTES" || { cat "$tmp/NOTES"; fail "NOTES does not say '$want'"; }

	# ------------------------------------------------------------ analyze
	"$CTPLAN" analyze --format json "$tmp/bundle.tar.gz" >"$tmp/report.json" \
		2>"$tmp/analyze.err" || { cat "$tmp/analyze.err"; fail "ctplan analyze failed"; }
	python3 - "$tmp/report.json" "$tmp/before" "$tmp/after" "${NSES[@]}" <<'EOF' || fail "the analysis ($mode) does not match the live host"
import json, sys
report = json.load(open(sys.argv[1]))
before = dict(l.split() for l in open(sys.argv[2]))
after = dict(l.split() for l in open(sys.argv[3]))
nses = sys.argv[4:]
bad = []
def check(what, got, want):
    ok = got == want if not isinstance(want, tuple) else want[0] <= got <= want[1]
    print(f"  {'ok ' if ok else 'BAD'} {what}: report {got}, live {want}")
    if not ok:
        bad.append(what)
t = report["table"]
check("table.max", t["max"], int(before["max"]))
check("table.buckets", t["buckets"], int(before["buckets"]))
lo, hi = sorted((int(before["root"]), int(after["root"])))
check("table.count (root namespace)", t["count"], (lo, hi))
total = 0
for ns in nses:
    ins = [i for i in report["inputs"] if i["namespace"] == ns]
    lists = [i for i in ins
             if i["path"].endswith(f"ip_netns_exec_{ns}_conntrack_-L_-o_extended")]
    check(f"inputs labelled {ns}", len(lists), 1)
    flows = sum(i["flows"] for i in lists)
    total += flows
    check(f"entries of {ns}", flows, int(before[ns]))
for i in report["inputs"]:
    if i["rejected"]:
        bad.append(f"{i['path']}: {i['rejected']} lines rejected")
        print(f"  BAD {bad[-1]}")
own = sum(i["flows"] for i in report["inputs"] if i["namespace"] == "")
check("entries.total = the namespaces' + the root's listing",
      report["entries"]["total"], total + own)
sys.exit(1 if bad else 0)
EOF
}
collect_and_check tool
if command -v unshare >/dev/null 2>&1; then
	collect_and_check proc
else
	echo "note: no unshare (util-linux): the /proc fallback was not run"
fi
echo "ok: ctplan-collect's bundle matches the live sysctl and conntrack -C (root and ${#NSES[@]} namespaces, with conntrack-tools and from /proc)"
