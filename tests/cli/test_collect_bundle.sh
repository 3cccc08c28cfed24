#!/usr/bin/env bash
# The layout ctplan-collect writes, read by ctplan: a bundle built by hand
# from samples/ in that layout (sosreport names) gives the host's count
# from proc/sys/.../nf_conntrack_count, labels a namespace's listing with
# its name, reads the kernel journal of the boot before, kube-proxy's
# configuration (which beats its flags) and slabinfo, and leaves alone
# what is kept only for a reader (each namespace's conntrack -C and
# nf_conntrack_count, NOTES): their figures would otherwise clobber the
# host's.  Then ctplan-collect itself runs on this machine
# (without namespaces; as whoever runs the test) and its bundle is read.
set -u
. "$(dirname "$0")/lib.sh"
s=$src/samples/lab-6.18
top=$tmp/b/ctplan-node1-20261207T000000Z
mkdir -p "$top/sos_commands/conntrack" "$top/sos_commands/kernel" \
	"$top/sos_commands/networking" "$top/proc/sys/net/netfilter"
cp "$s/conntrack_-L_-o_extended" "$top/sos_commands/conntrack/"
cp "$s/conntrack_-S" "$top/sos_commands/conntrack/"
cp "$s/sysctl_-a" "$top/sos_commands/kernel/sysctl_-a"
cp "$s/uname_-a" "$top/sos_commands/kernel/uname_-a"
cp "$s/meminfo" "$top/proc/meminfo"
cp "$s/nf_conntrack_count" "$top/proc/sys/net/netfilter/nf_conntrack_count"
cp "$src/samples/kmsg/lab-6.18/before-flush/journalctl_-k_-o_short" \
	"$top/sos_commands/kernel/journalctl_-k_-b_-1"
ns=$top/sos_commands/conntrack/ip_netns_exec_blue_
head -n 10 "$s/conntrack_-L_-o_extended" >"${ns}conntrack_-L_-o_extended"
echo 999999 >"${ns}conntrack_-C"
echo 999999 >"$top/sos_commands/networking/ip_netns_exec_blue_nf_conntrack_count"
cp "$src/tests/cli/hosts/eks-node/system/slabinfo.txt" "$top/proc/slabinfo"
mkdir -p "$top/var/lib/kube-proxy" "$top/sos_commands/kubernetes"
printf 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nconntrack:\n  maxPerCore: 65536\n  min: 262144\nkind: KubeProxyConfiguration\n' \
	>"$top/var/lib/kube-proxy/config.conf"
printf '/usr/local/bin/kube-proxy\n--config=/var/lib/kube-proxy/config.conf\n--conntrack-max-per-core=1000\n--conntrack-min=2000\n' \
	>"$top/sos_commands/kubernetes/kube-proxy_cmdline_4242"
echo "sos_commands/kernel/dmesg: skipped: dmesg failed" >"$top/NOTES"
# sos_commands first, as the collector orders them
(cd "$tmp/b" && find ctplan-node1-20261207T000000Z -type f | sort |
	awk '/\/sos_commands\// { print; next } { rest[++n] = $0 }
	     END { for (i = 1; i <= n; i++) print rest[i] }' >"$tmp/order" &&
	tar -czf "$tmp/node1.tar.gz" -T "$tmp/order")

"$ctplan" analyze --format json "$tmp/node1.tar.gz" >"$tmp/r.json" 2>"$tmp/err" ||
	{ fail "analyze of the collector layout exits non-zero"; cat "$tmp/err"; }
python3 - "$tmp/r.json" "$(cat "$s/nf_conntrack_count")" <<'PY' || fail "the collector layout is misread"
import json, sys
r = json.load(open(sys.argv[1])); want = int(sys.argv[2]); bad = 0
def check(what, ok, got):
    global bad
    print(("ok  " if ok else "BAD ") + what + ": " + str(got))
    bad += not ok
check("count from proc/sys nf_conntrack_count, not a namespace's",
      r["table"]["count"] == want, r["table"]["count"])
blue = [i for i in r["inputs"] if i["namespace"] == "blue"]
check("the namespace's listing labelled blue, 10 entries",
      len(blue) == 1 and blue[0]["flows"] == 10, [(i["path"], i["flows"]) for i in blue])
paths = [i["path"] for i in r["inputs"]]
check("kept-for-the-reader files not read",
      not any(p.endswith(("_conntrack_-C", "nf_conntrack_count", "NOTES"))
              and "proc/sys/net/netfilter" not in p for p in paths), paths)
check("slabinfo read", any(p.endswith("proc/slabinfo") for p in paths), "")
kp = r["recommendation"]["kube_proxy"] or {}
check("kube-proxy: a node, its configuration's maxPerCore over the flags'",
      kp.get("node") == "yes" and kp.get("max_per_core_current") == 65536
      and kp.get("max_per_core_source") == "configuration"
      and "var/lib/kube-proxy/config.conf" in (kp.get("evidence") or ""),
      {k: kp.get(k) for k in ("node", "max_per_core_current", "max_per_core_source")})
check("kube-proxy flags read from the cmdline file",
      "kube-proxy_cmdline_4242" in (kp.get("evidence") or ""), kp.get("evidence"))
check("the journal of the boot before read",
      any(p.endswith("journalctl_-k_-b_-1") for p in paths)
      and r["history"]["table_full"]["printed"] > 0, r["history"]["table_full"]["printed"])
sys.exit(1 if bad else 0)
PY

# the collector itself, on this machine as it is
if sh "$src/scripts/ctplan-collect" -o "$tmp/here.tar.gz" 2>"$tmp/cerr"; then
	"$ctplan" analyze -q "$tmp/here.tar.gz" >"$tmp/here.txt" 2>"$tmp/err" ||
		{ fail "analyze of ctplan-collect's own bundle exits non-zero"; cat "$tmp/err"; }
	tar -tzf "$tmp/here.tar.gz" | grep -q '/NOTES$' || fail "no NOTES in the bundle"
	tar -tzf "$tmp/here.tar.gz" | head -n 1 | grep -q '/sos_commands/' ||
		fail "the bundle's first member is not under sos_commands/"
else
	fail "ctplan-collect found nothing to collect on this machine"; cat "$tmp/cerr"
fi
sh "$src/scripts/ctplan-collect" -n x >/dev/null 2>&1
[ $? -eq 2 ] || fail "ctplan-collect -n x is not a usage error (2)"
sh "$src/scripts/ctplan-collect" extra >/dev/null 2>&1
[ $? -eq 2 ] || fail "ctplan-collect with an operand is not a usage error (2)"
if command -v dash >/dev/null 2>&1; then
	dash -n "$src/scripts/ctplan-collect" || fail "dash -n rejects ctplan-collect"
fi
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -s sh "$src/scripts/ctplan-collect" || fail "shellcheck warns on ctplan-collect"
fi
finish "collector layout: count, namespace label, journal and kept files read as meant"
