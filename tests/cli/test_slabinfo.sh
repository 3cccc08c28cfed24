#!/usr/bin/env bash
# /proc/slabinfo gives the entry size the memory cost uses: the
# nf_conntrack cache's pages shared by its objects (320-byte objects, 12
# per 1-page slab: 341 bytes), before the size by kernel version; other
# caches, nf_conntrack_expect among them, are read and not used; a line
# that cannot be used is an error with FILE:LINE:COL; sos's
# proc/slabinfo is read from a sosreport.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
s=samples/lab-6.18
q() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
slab() {
	printf 'slabinfo - version: 2.1\n'
	printf '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n'
	printf 'nf_conntrack_expect      0      0    208   19    1 : tunables    0    0    0 : slabdata      0      0      0\n'
	printf '%s\n' "$@"
	printf 'kmalloc-64          2497   2816     64   64    1 : tunables    0    0    0 : slabdata     44     44      0\n'
}
base=$("$ctplan" analyze -q --format json $s | q "d['recommendation']['entry_bytes']")
slab 'nf_conntrack         828    828    320   12    1 : tunables    0    0    0 : slabdata     69     69      0' \
	>"$tmp/slabinfo"
got=$("$ctplan" analyze -q --format json $s "$tmp/slabinfo" |
	q "d['recommendation']['entry_bytes'], [r for r in d['recommendation']['reasons'] if r.startswith('memory:')][0]")
# the dump's extensions are the same; only the object part changes
[ "${got%% *}" = "$((base - 256 + 341))" ] ||
	fail "entry_bytes with slabinfo: got '${got%% *}', want $((base - 256 + 341))"
case $got in
*"341 bytes from this host's /proc/slabinfo: 320-byte objects, 12 per 1-page slab"*) ;;
*) fail "memory reason does not say slabinfo: $got" ;;
esac
"$ctplan" analyze -q --format json $s | q "d['recommendation']['reasons']" |
	grep -q 'no /proc/slabinfo in the input' ||
	fail "without slabinfo the reason does not say so"

# old kernels: one cache per namespace, "nf_conntrack_<address>"
slab 'nf_conntrack_ffffffff81a9e640    120    150    304   26    2 : tunables    0    0    0 : slabdata      6      6      0' \
	>"$tmp/old"
got=$("$ctplan" analyze -q --format json $s "$tmp/old" |
	q "d['recommendation']['entry_bytes']")
[ "$got" = "$((base - 256 + 315))" ] || fail "per-netns cache: got $got"

# a line that cannot be used
slab 'nf_conntrack         828    828    320    0    1 : tunables    0    0    0 : slabdata     69     69      0' \
	>"$tmp/bad"
"$ctplan" analyze -q $s "$tmp/bad" >/dev/null 2>"$tmp/err"
grep -q "$tmp/bad:4:13: cannot use the slabinfo line of 'nf_conntrack'" \
	"$tmp/err" || fail "bad slabinfo line: $(cat "$tmp/err")"

# a sosreport's proc/slabinfo
r=$tmp/sosreport-x
mkdir -p "$r/sos_commands/conntrack" "$r/sos_commands/kernel" "$r/proc"
cp $s/conntrack_-L_-o_extended "$r/sos_commands/conntrack/"
cp $s/sysctl_-a $s/uname_-a "$r/sos_commands/kernel/"
cp "$tmp/slabinfo" "$r/proc/slabinfo"
got=$("$ctplan" analyze -q --format json "$r" |
	q "[i['format'] for i in d['inputs'] if i['path'].endswith('proc/slabinfo')]")
[ "$got" = "['slabinfo']" ] || fail "sos proc/slabinfo: got '$got'"
finish "slabinfo: entry size from the slab cache"
