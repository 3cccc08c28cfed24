#!/usr/bin/env bash
# Memory follows the input, not a number inside it (issue 18): settings
# that would make the hash model replay gigabytes (nf_conntrack_max 1G and
# 64M, nf_conntrack_buckets 2^32-1, 2,000 per-namespace tables of a 4.4
# kernel from a 26 KB sosreport) and --keys 65536 beside a 35-entry dump
# run within the model's budget (ctplan/hash.h CTP_HASH_MEM_BUDGET,
# 256 MiB) and say what they estimated or cut.  Asserted: the peak RSS of
# each run (getrusage RUSAGE_CHILDREN ru_maxrss) under LIMIT_MIB, the
# budget plus the reading's own, and under a hard address-space limit
# (prlimit --as) where the build has no sanitizer.  Not a timing.
set -u
. "$(dirname "$0")/lib.sh"

LIMIT_MIB=384
s=$src/samples/lab-6.18/conntrack_-L
asan=0
grep -qa __asan_init "$ctplan" && asan=1

# run ARGS...: ctplan analyze --format json ARGS into $tmp/out, the peak
# RSS in KiB into $tmp/rss; returns ctplan's exit status
run() {
	python3 - "$tmp/out" "$tmp/rss" "$ctplan" analyze -q --format json \
		"$@" <<'PY'
import resource, subprocess, sys
out, rss = sys.argv[1], sys.argv[2]
with open(out, 'wb') as f:
    rc = subprocess.call(sys.argv[3:], stdout=f, stderr=subprocess.DEVNULL)
open(rss, 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
}
jq_() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"d": d}))' "$tmp/out" "$1"; }

check_rss() {
	local rss
	rss=$(cat "$tmp/rss")
	[ "$asan" = 1 ] && return 0 # the sanitizer's shadow is not ours
	[ "$rss" -le $((LIMIT_MIB * 1024)) ] ||
		fail "$1: peak RSS $((rss / 1024)) MiB, over $LIMIT_MIB MiB"
}

printf 'net.netfilter.nf_conntrack_max = 1073741824\nnet.netfilter.nf_conntrack_buckets = 262144\n' >"$tmp/max1g"
printf 'net.netfilter.nf_conntrack_max = 67108864\nnet.netfilter.nf_conntrack_buckets = 262144\n' >"$tmp/max64m"
printf 'net.netfilter.nf_conntrack_max = 262144\nnet.netfilter.nf_conntrack_buckets = 4294967295\n' >"$tmp/b4g"
printf 'net.netfilter.nf_conntrack_max = 262144\nnet.netfilter.nf_conntrack_buckets = 262144\n' >"$tmp/norm"

for c in max1g max64m; do
	run "$tmp/$c" "$s"
	rc=$?
	[ $rc = 0 ] || fail "$c: exit $rc"
	check_rss "$c"
	[ "$(jq_ 'd["hash"]["budget"]["at_max_estimated"]')" = True ] ||
		fail "$c: at max not said to be estimated"
	[ "$(jq_ 'd["hash"]["budget"]["now_estimated"]')" = False ] ||
		fail "$c: the 35 entries now are not replayed"
	[ "$(jq_ 'd["hash"]["at_max"]["entries"] == d["hash"]["at_max"]["target"]')" = True ] ||
		fail "$c: the estimate is not at the target"
done
run "$tmp/b4g" "$s"
[ $? = 0 ] || fail "buckets 2^32-1: exit"
check_rss "buckets 2^32-1"
[ "$(jq_ 'd["hash"]["budget"]["now_estimated"]')" = True ] ||
	fail "buckets 2^32-1: not said to be estimated"
# --keys 65536: the keys that ran are said
run --keys 65536 "$tmp/norm" "$s"
[ $? = 0 ] || fail "--keys 65536: exit"
check_rss "--keys 65536"
[ "$(jq_ 'd["hash"]["budget"]["keys_asked"]')" = 65536 ] ||
	fail "--keys 65536: keys_asked"
[ "$(jq_ '8 <= d["hash"]["budget"]["keys_run"] < 65536')" = True ] ||
	fail "--keys 65536: keys_run not cut"
# the default run is replayed in full: no budget note
run "$tmp/norm" "$s"
[ "$(jq_ 'd["hash"]["budget"]')" = None ] ||
	fail "default run: the budget changed it"

# a 26 KB sosreport of 2,000 namespaces on a 4.4 kernel (one table each)
python3 - "$tmp/sos" <<'PY'
import os, sys
root = sys.argv[1] + '/sosreport-h-2026'
d = root + '/sos_commands/conntrack'
os.makedirs(d)
os.makedirs(root + '/sos_commands/kernel')
open(root + '/sos_commands/kernel/uname_-a', 'w').write(
    'Linux h 4.4.0-210-generic #242-Ubuntu SMP x86_64 x86_64 x86_64 GNU/Linux\n')
open(root + '/sos_commands/kernel/sysctl_-a', 'w').write(
    'net.netfilter.nf_conntrack_buckets = 65536\n'
    'net.netfilter.nf_conntrack_max = 262144\n')
for i in range(2000):
    open(d + '/ip_netns_exec_ns%d_conntrack_-L_-o_extended' % i, 'w').write(
        'ipv4     2 tcp      6 431999 ESTABLISHED src=198.51.100.%d '
        'dst=203.0.113.8 sport=%d dport=443 src=203.0.113.8 '
        'dst=198.51.100.%d sport=443 dport=%d [ASSURED] mark=0 use=1\n'
        % (i % 250 + 1, 1024 + i, i % 250 + 1, 1024 + i))
PY
tar -C "$tmp/sos" -cJf "$tmp/manyns.tar.xz" sosreport-h-2026
run "$tmp/manyns.tar.xz"
[ $? = 0 ] || fail "2,000 namespaces: exit"
check_rss "2,000 namespaces"
[ "$(jq_ 'd["hash"]["tables"]')" = 2001 ] || fail "2,000 namespaces: tables (and the host's)"
[ "$(jq_ 'd["hash"]["budget"]["now_estimated"]')" = True ] ||
	fail "2,000 namespaces: not said to be estimated"

# a hard limit where no sanitizer reserves its shadow: 1 GiB of address
# space (threads' stacks included) is plenty for every case above
if [ "$asan" = 0 ] && command -v prlimit >/dev/null; then
	for a in "$tmp/max1g $s" "$tmp/b4g $s" "$tmp/manyns.tar.xz"; do
		# shellcheck disable=SC2086
		prlimit --as=$((1024 << 20)) "$ctplan" analyze -q --format json \
			$a >/dev/null 2>"$tmp/err" ||
			fail "under a 1 GiB address-space limit: $a: $(head -1 "$tmp/err")"
	done
fi
finish "bounds: all checks passed"
