#!/usr/bin/env bash
# Kernel realism (issue 15, docs/kernels.md): the settings ctplan prints
# are the ones each kernel takes, distribution release strings are read
# as the upstream behaviour they carry, and --to-kernel judges a host
# that relies on defaults on the kernel about to be rolled out.
#   usage: test_kernels.sh CTPLAN SRCDIR
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
host=tests/cli/hosts/k514-defaults

expect() { # expect CODE CMD...
	local want=$1 got
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] ||
		fail "exit $got, not $want: $* ($(head -c 300 "$tmp/err"))"
}

# ---- settings per kernel.  From net/netfilter/nf_conntrack_standalone.c
# (nf_ct_sysctl_table) and the hashsize module_param_call:
#   3.10.108  nf_conntrack_buckets .mode 0444, proc_dointvec: read-only,
#             so no sysctl.d line for it; hashsize 0600 (live resize)
#   4.9.337, 5.4.286, 5.15.100, 6.8.0  nf_conntrack_buckets .mode 0644,
#             nf_conntrack_hash_sysctl (a resize); 0444 outside init_net
# Every version: nf_conntrack_max 0644; the module option sets the size
# at load; /sys/module/nf_conntrack/parameters/hashsize resizes live.
for v in 3.10 4.9 5.4 5.15 6.8; do
	expect 0 "$ctplan" plan --entries 100000 --kernel "$v" --mem 16G \
		--format json
	python3 - "$tmp/out" "$v" <<'PY' || fail "plan --kernel $v: settings"
import json, sys
r = json.load(open(sys.argv[1]))["recommendation"]
v = sys.argv[2]
m, b = r["max"], r["buckets"]
want_sysctl = ["net.netfilter.nf_conntrack_max = %d" % m]
if v != "3.10":
    want_sysctl.append("net.netfilter.nf_conntrack_buckets = %d" % b)
assert r["sysctl"] == want_sysctl, (v, r["sysctl"])
assert r["modprobe"] == "options nf_conntrack hashsize=%d" % b, r["modprobe"]
assert r["modules_load"] == "nf_conntrack", r
assert r["apply_now"] == [
    "sysctl -w net.netfilter.nf_conntrack_max=%d" % m,
    "echo %d > /sys/module/nf_conntrack/parameters/hashsize" % b], r["apply_now"]
where = [x for x in r["reasons"] if x.startswith("where: ")]
assert len(where) == 1, r["reasons"]
if v == "3.10":
    assert "read-only (0444)" in where[0] and "no buckets line" in where[0], where
else:
    assert "takes nf_conntrack_buckets by sysctl" in where[0], where
assert "update-initramfs -u" in where[0] and "dracut -f" in where[0], where
assert "host's own network namespace" in where[0], where
PY
	# the text report prints the same lines
	expect 0 "$ctplan" plan --entries 100000 --kernel "$v" --mem 16G
	if [ "$v" = 3.10 ]; then
		grep -q '^  net.netfilter.nf_conntrack_buckets' "$tmp/out" &&
			fail "plan --kernel 3.10 prints a buckets sysctl line"
	else
		grep -q '^  net.netfilter.nf_conntrack_buckets = ' "$tmp/out" ||
			fail "plan --kernel $v lacks the buckets sysctl line"
	fi
	grep -q '^  options nf_conntrack hashsize=' "$tmp/out" ||
		fail "plan --kernel $v lacks the modprobe line"
done
# Where the kernel sources are unpacked (CTPLAN_KSRC/VERSION/net/...),
# the table above is held against them too.
ksrc=${CTPLAN_KSRC:-/tmp/src}
for v in 3.10 4.9 5.4 5.15 6.8; do
	f=$ksrc/$v/net/netfilter/nf_conntrack_standalone.c
	[ -f "$f" ] || continue
	mode=$(grep -A4 '"nf_conntrack_buckets"' "$f" | grep -o '0[46]44' | head -1)
	case "$v:$mode" in
	3.10:0444 | 4.9:0644 | 5.4:0644 | 5.15:0644 | 6.8:0644) ;;
	*) fail "$f: nf_conntrack_buckets mode $mode" ;;
	esac
done

# ---- distribution release strings
mkdir -p "$tmp/ubuntu"
cp "$host"/* "$tmp/ubuntu/"
echo "Linux node 5.15.0-125-generic #135-Ubuntu SMP Fri Sep 27 13:53:58 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux" \
	>"$tmp/ubuntu/uname_-a"
expect 0 "$ctplan" analyze -f json "$tmp/ubuntu"
python3 - "$tmp/out" <<'PY' || fail "Ubuntu 5.15.0-125: the later chain limit"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hash"]
# ABI 125 carries upstream 5.15.143 or later: the 50..79 limit of 5.15.103
assert h["kernel"] == "5.15.143" and h["era"] == "siphash48", h["kernel"]
assert h["chain_limit"]["refuse_from"] == 52, h["chain_limit"]
f = {x["code"]: x for x in d["findings"]}
assert "Ubuntu" in f["kernel.identified"]["advice"], f["kernel.identified"]
# 32768 / 8192 on 1 GiB are 5.14's defaults, not 5.15's (max = buckets)
assert f["kernel.defaults_mismatch"]["severity"] == "warning", list(f)
PY
expect 0 "$ctplan" analyze -f json --kernel 5.14.0-362.el9 "$host"
python3 - "$tmp/out" <<'PY' || fail "RHEL 9's 5.14 is not upstream 5.14"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hash"]
assert h["era"] == "siphash48" and h["chain_limit"]["refuse_from"] == 52, h
f = {x["code"]: x for x in d["findings"]}
a = f["kernel.identified"]["advice"]
assert "RHEL 9" in a and "not verified" in a, a
assert "kernel.defaults_mismatch" in f, list(f)
# the defaults the table line shows are the RHEL 9 (5.15) ones
assert d["defaults"]["max"] == d["defaults"]["buckets"] == 8192, d["defaults"]
PY
# without uname: sysctl -a's kernel.osrelease, and kernel.version (uname
# -v) names Debian's upstream version
mkdir -p "$tmp/deb"
printf '%s\n' 'kernel.osrelease = 6.1.0-21-amd64' \
	'kernel.version = #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)' \
	'net.netfilter.nf_conntrack_max = 262144' \
	'net.netfilter.nf_conntrack_buckets = 262144' >"$tmp/deb/sysctl_-a"
expect 0 "$ctplan" analyze -f json "$tmp/deb"
python3 - "$tmp/out" <<'PY' || fail "Debian from sysctl -a alone"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hash"]
assert (h["kernel"], h["kernel_source"]) == ("6.1.90", "sysctl kernel.osrelease"), h
PY
expect 2 "$ctplan" analyze --kernel generic "$host"
grep -q "cannot parse kernel version 'generic'" "$tmp/err" ||
	fail "--kernel generic: message"
expect 2 "$ctplan" check --to-kernel x1 "$host"
grep -q -- "--to-kernel" "$tmp/err" || fail "--to-kernel x1: names the option"

# ---- long chains: a warning where the kernel refuses no flow for them
expect 0 "$ctplan" check "$host"
grep -qE '^  WARN long_chain_share_at_max ' "$tmp/out" ||
	fail "5.14: long chains warn"
grep -q "^$host: passed (1 warning)" "$tmp/out" ||
	fail "5.14: the host line counts the warning"
expect 1 "$ctplan" check --kernel 5.15.0-78-generic "$host"
grep -qE '^  FAIL long_chain_share_at_max ' "$tmp/out" ||
	fail "Ubuntu 5.15.0-78 (5.15.99, limit from 8): long chains fail"

# ---- upgrades: a 1 GiB 5.14 host on the kernels' defaults (buckets
# 8192, max 4 x 8192) and 12000 entries; 5.15 defaults to max = buckets
expect 1 "$ctplan" check --to-kernel 5.15 "$host"
grep -qE '^  FAIL headroom_pct_at_peak +-46\.48' "$tmp/out" ||
	fail "--to-kernel 5.15: today's peak no longer fits"
grep -qE '^  ok   long_chain_share_at_max ' "$tmp/out" ||
	fail "--to-kernel 5.15: max = buckets, short chains"
expect 0 "$ctplan" analyze -f json --to-kernel 6.1 "$host"
python3 - "$tmp/out" <<'PY' || fail "--to-kernel 6.1: the report"
import json, sys
d = json.load(open(sys.argv[1]))
t, h, r = d["table"], d["hash"], d["recommendation"]
assert (t["max"], t["buckets"]) == (8192, 8192), t
assert t["max_projected"] and t["buckets_projected"], t
assert r["max_current_projected"] and r["buckets_current_projected"], r
assert h["kernel"] == "6.1.20" and h["kernel_source"] == "--to-kernel", h
assert h["chain_limit"]["refuse_from"] == 52, h["chain_limit"]
f = {x["code"]: x for x in d["findings"]}
m = f["kernel.upgrade_max"]
assert m["severity"] == "warning" and (m["figure"], m["limit"]) == (8192, 32768), m
assert m["action"] == "set nf_conntrack_max = %d" % r["max"], (m, r["max"])
u = f["kernel.upgrade"]["advice"]
assert "jhash2-netmix -> siphash48" in u and "5.14.21" in u, u
assert r["max"] >= 16000 and r["kernel"] == "6.1.20", r
assert any(x.startswith("upgrade 5.14.21 -> 6.1.20") for x in r["reasons"]), r["reasons"]
PY
# the text labels the projections and says how full, not a negative
# headroom
expect 0 "$ctplan" analyze --to-kernel 6.1 "$host"
grep -qE "^  max +8192  projected: the new kernel's default" "$tmp/out" ||
	fail "--to-kernel 6.1: max not labelled projected"
grep -qE '^  headroom +none: 146% full, 3808 entries over the projected max' \
	"$tmp/out" || fail "--to-kernel 6.1: fill over max not said as % full"
grep -qE 'raise nf_conntrack_max 8192 \(projected\) -> ' "$tmp/out" ||
	fail "--to-kernel 6.1: the change from a projected max not labelled"
sed -n '/^Table and headroom/,/^Entries/p' "$tmp/out" | grep -q -- '-46\.4' &&
	fail "--to-kernel 6.1: negative headroom in the table section"
# a max that is set is kept across the upgrade
sed 's/nf_conntrack_max = 32768/nf_conntrack_max = 50000/' "$host/sysctl_-a" \
	>"$tmp/set_sysctl"
mkdir -p "$tmp/set"
cp "$host"/* "$tmp/set/" && cp "$tmp/set_sysctl" "$tmp/set/sysctl_-a"
expect 0 "$ctplan" check --to-kernel 6.1 "$tmp/set"
expect 0 "$ctplan" analyze -f json --to-kernel 6.1 "$tmp/set"
python3 - "$tmp/out" <<'PY' || fail "--to-kernel: a set max stays"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["table"]["max"] == 50000, d["table"]
f = {x["code"]: x for x in d["findings"]}
assert f["kernel.upgrade_max"]["severity"] == "info", f["kernel.upgrade_max"]
assert "is not 5.14.21's default" in f["kernel.upgrade_max"]["advice"]
PY
# plan --to-kernel: the defaults of both kernels for --mem
expect 0 "$ctplan" plan --entries 12000 --kernel 5.14 --to-kernel 5.15 \
	--mem 1004548K --format json
python3 - "$tmp/out" <<'PY' || fail "plan --to-kernel"
import json, sys
r = json.load(open(sys.argv[1]))["recommendation"]
u = [x for x in r["reasons"] if x.startswith("upgrade 5.14 -> 5.15.103")]
assert len(u) == 1, r["reasons"]
assert "max 32768, buckets 8192" in u[0] and "to max 8192, buckets 8192" in u[0], u
assert r["kernel_source"] == "--to-kernel", r
PY

finish "kernels: settings per version, distro strings, long-chain severity and upgrades as expected"
