#!/usr/bin/env bash
# Namespaces on tests/cli/hosts/sos-netns, a real capture (tests/lab/
# capture_netns.sh) of two router namespaces each NATting 8 held
# connections to 203.0.113.2:80 through 8 ports, laid out as a sosreport
# with per-namespace dumps: each namespace's entries against the one
# global nf_conntrack_max, the load of the hash table they share (4.7+;
# one each before), a namespace the kernel log names (6.17+ "table full
# in netns N"), a namespace at max named in its own finding, and the
# same exhausted NAT destination in two namespaces as two findings that
# say which.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
h=tests/cli/hosts/sos-netns
q() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
run() { "$ctplan" analyze -q --keys 2 "$@"; }

run --format json $h >"$tmp/a.json" 2>"$tmp/err" || [ $? -eq 1 ] ||
	fail "sos-netns: $(head -c 200 "$tmp/err")"
n="d['table']['namespaces']"
got=$(q "$n['shared_table'], $n['entries_listed'], \
[(r['namespace'], r['entries_listed'], r['count']) for r in $n['list']]" \
	<"$tmp/a.json")
[ "$got" = "True 16 [('', 0, 0), ('qrouter-a', 8, None), ('qrouter-b', 8, None)]" ] ||
	fail "namespaces: got '$got'"
got=$(q "sorted(f['advice'] for f in d['findings'] if f['code'] == 'nat.ports_exhausted')" \
	<"$tmp/a.json")
case $got in
*"in namespace 'qrouter-a': 8 of 8 ports taken"*"in namespace 'qrouter-b': 8 of 8 ports taken"*) ;;
*) fail "two NAT findings naming their namespaces: got '$got'" ;;
esac
run $h >"$tmp/a.txt" 2>&1
grep -q '^  tcp .* 100.0%  qrouter-b$' "$tmp/a.txt" ||
	fail "the NAT table does not say the namespace"
grep -q '^  namespaces   3; one hash table shared by all (4.7+): 16 entries listed' \
	"$tmp/a.txt" || fail "no namespaces line"

# before 4.7 each namespace had its own table
run --format json --kernel 4.4 $h 2>/dev/null >"$tmp/b.json"
[ "$(q "$n['shared_table']" <"$tmp/b.json")" = False ] ||
	fail "4.4: the table is shared"

# max 8: both routers are full, each its own finding
printf 'net.netfilter.nf_conntrack_max = 8\n' >"$tmp/max8"
run --format json $h "$tmp/max8" 2>/dev/null >"$tmp/c.json"
got=$(q "sorted(f['advice'].split(':')[0] for f in d['findings'] if f['code'] == 'table.ns_full')" \
	<"$tmp/c.json")
[ "$got" = "[\"namespace 'qrouter-a' is full\", \"namespace 'qrouter-b' is full\"]" ] ||
	fail "ns_full findings: got '$got'"
got=$(q "[r['pct_of_max'] for r in $n['list']]" <"$tmp/c.json")
[ "$got" = "[0.0, 100.0, 100.0]" ] || fail "pct_of_max at max 8: got '$got'"

# a kernel log that names the namespace (6.17+)
printf '[  786.541314] nf_conntrack: nf_conntrack: table full in netns 4026532567, dropping packet\n[  786.541999] nf_conntrack: nf_conntrack: table full in netns 4026532567, dropping packet\n' \
	>"$tmp/dmesg"
run --format json $h "$tmp/dmesg" 2>/dev/null >"$tmp/d.json"
got=$(q "[(r['inode'], r['table_full_messages']) for r in $n['list'] if r['namespace'] is None]" \
	<"$tmp/d.json")
[ "$got" = "[(4026532567, 2)]" ] || fail "kernel log namespace: got '$got'"

# sos ran each command in every namespace: its unlabelled dump is the
# host's own (root) namespace
[ "$(q "$n['own_is_root'], $n['count_min'], $n['count_max']" <"$tmp/a.json")" = \
	"True 3 3" ] || fail "sos: the unlabelled dump is not the root's"
grep -q '^               (host)  ' "$tmp/a.txt" || fail "sos: no (host) row"

# a capture run inside one namespace (every command under ip netns exec)
# whose kernel log names netns 4026532174: which namespace was captured
# is unknown, so it is not "(host)", and the log's namespace may be the
# one captured: 1 or 2 namespaces, not 2
run --format json samples/lab-6.18-overflow 2>/dev/null >"$tmp/f.json"
[ "$(q "$n['own_is_root'], $n['count_min'], $n['count_max'], \
[(r['namespace'], r['inode']) for r in $n['list']]" <"$tmp/f.json")" = \
	"False 1 2 [('', None), (None, 4026532174)]" ] ||
	fail "overflow: namespaces $(q "$n" <"$tmp/f.json")"
run samples/lab-6.18-overflow >"$tmp/f.txt" 2>/dev/null
grep -q '^  namespaces   1 or 2 (the kernel log.s may be the one captured)$' \
	"$tmp/f.txt" || fail "overflow: namespaces line"
grep -q '^               (captured) ' "$tmp/f.txt" || fail "overflow: (captured) row"
! grep -q '(host)' "$tmp/f.txt" || fail "overflow: a (host) namespace invented"
# a kernel log and counters, no listing and no count: no row "0 listed"
# for a table nobody listed, one namespace (the log's)
run --format json samples/kmsg/lab-6.18/before-flush 2>/dev/null >"$tmp/g.json"
[ "$(q "$n['count_min'], $n['count_max'], [r['inode'] for r in $n['list']]" \
	<"$tmp/g.json")" = "1 1 [4026532177]" ] ||
	fail "kmsg: namespaces $(q "$n" <"$tmp/g.json")"
run samples/kmsg/lab-6.18/before-flush >"$tmp/g.txt" 2>/dev/null
! grep -qE '\(host\)|0 listed' "$tmp/g.txt" || fail "kmsg: an empty namespace row"

# one namespace only: no namespaces block
run --format json samples/lab-6.18 2>/dev/null >"$tmp/e.json"
[ "$(q "$n" <"$tmp/e.json")" = None ] || fail "one namespace: a namespaces block"
finish "netns: per-namespace counts and findings"
