#!/usr/bin/env bash
# What an expert review of the reports found (items 5-14 of the
# 2026-12-08 review), held on the samples and synthetic hosts:
#   sample size: shares from a handful of listed entries print with two
#   digits and say how many entries they rest on, never 4.82e-05%;
#   the eviction reason compares the full-table drop with today's
#   settings; the memory reason names the extension block and the
#   per-namespace max; a NAT range inferred from the ports seen is not
#   critical; idle-timeout what-ifs carry the NAT caveat; protocol
#   numbers are named; the kube-proxy rule row only where it applies.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
run() { "$ctplan" analyze -q --keys 2 --color never "$@" 2>/dev/null; }
q() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# ---- item 7: sample size
# k514-defaults lists 2 entries of 12000 counted
run tests/cli/hosts/k514-defaults >"$tmp/k514.txt"
tr '\n' ' ' <"$tmp/k514.txt" | tr -s ' ' >"$tmp/k514.flat"
grep -q "evictable, from 2 listed)" "$tmp/k514.txt" ||
	fail "k514: the when-full line does not say 2 listed"
grep -q "from 2 listed entries of 12000 counted" "$tmp/k514.flat" ||
	fail "k514: the eviction reason does not say 2 listed of 12000"
grep -q "50% of entries evictable" "$tmp/k514.txt" ||
	fail "k514: 50.0% printed with false precision"
# no share in e-notation, in any text report of the golden set
for h in samples/lab-6.18 samples/lab-6.18-overflow tests/cli/hosts/docker \
	tests/cli/hosts/openstack tests/cli/hosts/sos-netns \
	tests/cli/hosts/k514-defaults; do
	run "$h" >"$tmp/t.txt"
	if grep -nE '[0-9]e-[0-9]+%' "$tmp/t.txt"; then
		fail "$h: a share in e-notation"
	fi
done
run samples/lab-6.18-overflow >"$tmp/ov.txt"
grep -q "91% of entries evictable, from 11 listed" "$tmp/ov.txt" ||
	fail "overflow: 11 entries not said"
run --format json samples/lab-6.18-overflow >"$tmp/ov.json"
[ "$(q "d['headroom']['full_table']['sample_small'], \
d['recommendation']['evictable_listed'], \
d['recommendation']['evictable_sample_small']" <"$tmp/ov.json")" = \
	"True 11 True" ] || fail "overflow: sample keys"
# a full listing is no small sample: three digits
run --format json tests/cli/hosts/openstack >"$tmp/os.json"
[ "$(q "d['headroom']['full_table']['sample_small']" <"$tmp/os.json")" = \
	False ] || fail "openstack: 1500 of 1500 called a small sample"
# plan without a listing: the share is the --evictable assumption
"$ctplan" plan --entries 100000 --kernel 6.1 --mem 8G >"$tmp/plan.txt" 2>&1 ||
	fail "plan: exit $?"
grep -q "10% of entries evictable, assumed (--evictable)" "$tmp/plan.txt" ||
	fail "plan: the assumed evictable share is not said"

# ---- item 8: the drop share against today's settings
run tests/cli/hosts/openstack >"$tmp/os.txt"
tr '\n' ' ' <"$tmp/os.txt" | tr -s ' ' >"$tmp/os.flat"
grep -q "today, with max 1000000 and 204800 buckets, it is under 0.01%: more buckets per max" \
	"$tmp/os.flat" || fail "openstack: no comparison with today's buckets"

# ---- item 6 and 13: memory per namespace, the extension block
run tests/cli/hosts/sos-netns | tr '\n' ' ' | tr -s ' ' >"$tmp/sos.flat"
grep -q "the 3 namespaces of the input may hold 3 x 262144 entries" \
	"$tmp/sos.flat" || fail "sos-netns: the worst case N x max is not said"
run samples/lab-6.18-acct | tr '\n' ' ' | tr -s ' ' >"$tmp/acct.flat"
grep -q "128-byte extension block: nat, acct, events, timestamp use 104 bytes" \
	"$tmp/acct.flat" || fail "lab-6.18-acct: the acct/timestamp extensions are not named"
run tests/cli/hosts/openstack | tr '\n' ' ' | tr -s ' ' >"$tmp/os.flat"
grep -q "holds only the 6.1 layout, not measured on this kernel" "$tmp/os.flat" ||
	fail "openstack (5.4): the size table's limit is not said"

# ---- item 10: the idle-timeout caveat
grep -q "caution: an idle connection whose entry expires is cut" "$tmp/os.txt" ||
	fail "openstack: no caveat next to the timeout what-ifs"

# ---- item 11: an inferred NAT range is a warning, with how to confirm
run --format json tests/cli/hosts/sos-netns >"$tmp/sos.json"
got=$(q "sorted({f['severity'] for f in d['findings'] if f['code'] == 'nat.ports_exhausted'})" \
	<"$tmp/sos.json")
[ "$got" = "['warning']" ] || fail "sos-netns: inferred range graded '$got'"
grep -q "inferred from the ports seen, is confirmed: iptables-save or nft" \
	"$tmp/sos.flat" || fail "sos-netns: no way to confirm the range"
grep -q "the largest of 3 listings given" "$tmp/sos.flat" ||
	fail "sos-netns: listings miscounted"
# the range given: critical
run --format json --nat-range 40000-40007 tests/cli/hosts/sos-netns >"$tmp/sos2.json"
got=$(q "sorted({f['severity'] for f in d['findings'] if f['code'] == 'nat.ports_exhausted'})" \
	<"$tmp/sos2.json")
[ "$got" = "['critical']" ] || fail "sos-netns --nat-range: graded '$got'"

# ---- item 14: protocol 2 is igmp; zones read as pairs; kube-proxy row
run samples/lab-6.18 >"$tmp/lab.txt"
grep -qE '^  protocol .* igmp 1' "$tmp/lab.txt" || fail "lab-6.18: protocol 2 not named igmp"
grep -qE '^  zone         0: 34, 7: 1$' "$tmp/lab.txt" || fail "lab-6.18: zone pairs"
! grep -qE '^  kube-proxy  ' "$tmp/lab.txt" || fail "lab-6.18: a kube-proxy row off Kubernetes"
run tests/cli/hosts/eks-node >"$tmp/eks.txt"
grep -qE '^  kube-proxy  ' "$tmp/eks.txt" || fail "eks-node: no kube-proxy row"
"$ctplan" plan --entries 1000 --mem 8G --cores 4 >"$tmp/plan4.txt" 2>&1
grep -qE '^  kube-proxy  ' "$tmp/plan4.txt" || fail "plan --cores: no kube-proxy row"
! grep -q "on this host" "$tmp/plan.txt" || fail "plan: 'on this host' without a host"

finish "review items 5-14: as fixed"
