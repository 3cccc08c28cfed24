#!/usr/bin/env bash
# Kubernetes nodes: kube-proxy writes nf_conntrack_max at every start
# (maxPerCore x CPUs, at least min; whether it lowers a larger value
# depends on its version: exact up to 1.21 and in 1.29 - 1.35,
# raise-only in 1.22 - 1.28 and 1.38+, the patch release decides in
# 1.36/1.37), so the advice is its configuration, not a sysctl.d line;
# with --config among its flags the file wins and no flags are offered;
# no change writes nothing.  On tests/cli/hosts/eks-node
# (the lab capture laid out as the EKS log collector lays out a node's
# logs, with a kube-proxy log and kubelet log): the evidence named, the
# settings read from the log's FLAG lines, the maxPerCore that gives the
# recommended max for the node's CPUs (2, from conntrack -S; or --cores),
# the max on nodes of other sizes; a KubeProxyConfiguration file beats
# the flags; maxPerCore 0 leaves the max alone (sysctl lines again);
# pod addresses alone are weak evidence and keep the sysctl lines.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
node=tests/cli/hosts/eks-node
q() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
run() { "$ctplan" analyze -q --keys 2 "$@"; }
# a text report with its wrapped lines joined, for sentences
joined() { tr '\n' ' ' <"$1" | tr -s ' '; }

# ---- the node as collected
run --format json $node >"$tmp/a.json" 2>"$tmp/err" || fail "eks-node: exit $?"
k="d['recommendation']['kube_proxy']"
got=$(q "$k['node'], $k['cores'], $k['max_per_core_current'], \
$k['max_per_core_source'], $k['min_current'], $k['log_set_max'], \
$k['max_now'], $k['change']" <"$tmp/a.json")
[ "$got" = "yes 2 32768 flag defaults in its log, which its --config file may override 131072 131072 131072 False" ] ||
	fail "eks-node kube_proxy: got '$got'"
got=$(q "$k['version'], $k['max_write'], $k['config_file']" <"$tmp/a.json")
[ "$got" = "v1.30.0-eks-036c24b exact /var/lib/kube-proxy-config/config" ] ||
	fail "eks-node version, write rule, --config: got '$got'"
for ev in "a kube-proxy log with its flags" "a kubelet log" \
	"the EKS log collector's layout"; do
	q "$k['evidence']" <"$tmp/a.json" | grep -qF "$ev" ||
		fail "eks-node evidence lacks '$ev'"
done
[ "$(q "$k['evidence']" <"$tmp/a.json" | grep -oF 'kube-proxy.log' | wc -l)" = 1 ] ||
	fail "eks-node evidence: kube-proxy.log named more than once"
# kube-proxy owns the TCP established timeout (86400 s from its flags)
got=$(q "d['headroom']['idle']['tcp_established']['owner']" <"$tmp/a.json")
[ "$got" = "{'name': 'kube-proxy', 'timeout_s': 86400, 'source': 'flags'}" ] ||
	fail "eks-node: tcp timeout owner: got '$got'"
run $node >"$tmp/a.txt" 2>&1
grep -q '^  net.netfilter.nf_conntrack_max = ' "$tmp/a.txt" &&
	fail "eks-node: a sysctl.d line for the max on a Kubernetes node"
grep -q '^  Kubernetes node: ' "$tmp/a.txt" ||
	fail "eks-node: no 'Kubernetes node' line"
joined "$tmp/a.txt" | grep -q 'LOWERING a larger value' &&
	joined "$tmp/a.txt" |
	grep -q 'conntrack.maxPerCore: 0 so that sysctl.d owns it' ||
	fail "eks-node: 1.30's exact write rule and the robust way not said"
grep -q 'never lowers' "$tmp/a.txt" && fail "eks-node: 'never lowers' on 1.30"
joined "$tmp/a.txt" |
	grep -q "kube-proxy's next start may set it to 131072, which also holds the peak" ||
	fail "eks-node: the kept max does not say kube-proxy may lower it"
# no change: nothing to write, and no step about a line not printed
grep -q '^  nothing to write: kube-proxy' "$tmp/a.txt" ||
	fail "eks-node: no 'nothing to write'"
grep -qE 'hashsize=|modprobe.d|modules-load|^ +[0-9]+\. (apply|where):' \
	"$tmp/a.txt" && fail "eks-node: files or apply steps with no change"
joined "$tmp/a.txt" |
	grep -q 'kube-proxy writes this timeout at every start' ||
	fail "eks-node: the idle tcp what-if ignores kube-proxy's timeout"
run --format html $node >"$tmp/a.html" 2>/dev/null
grep -q 'nothing to write' "$tmp/a.html" &&
	! grep -qE '^(net.netfilter.nf_conntrack_max = |options nf_conntrack)' \
		"$tmp/a.html" ||
	fail "eks-node html: files written with no change"

# ---- a change on the node: the configuration, in the --config file,
# no flags offered (the file wins); the modprobe.d line alone
run --peak 900000 $node >"$tmp/a2.txt" 2>&1
grep -q '^    maxPerCore: 600064$' "$tmp/a2.txt" ||
	fail "eks-node change: maxPerCore not shown"
joined "$tmp/a2.txt" |
	grep -q 'kube-proxy reads --config=/var/lib/kube-proxy-config/config' || fail "eks-node change: the --config file not named"
grep -q -- '--conntrack-max-per-core=' "$tmp/a2.txt" &&
	fail "eks-node change: flags offered although --config wins"
grep -qE '^  # /etc/modprobe.d/nf_conntrack.conf' "$tmp/a2.txt" &&
	! grep -qE 'sysctl.d line|modules-load' "$tmp/a2.txt" ||
	fail "eks-node change: apply block refers to lines not printed"
run --format html --peak 900000 $node >"$tmp/a2.html" 2>/dev/null
grep -q '^  maxPerCore: 600064$' "$tmp/a2.html" &&
	! grep -q '^net.netfilter.nf_conntrack_max = ' "$tmp/a2.html" ||
	fail "eks-node html: sysctl lines instead of kube-proxy's"

# ---- the write rule by version, from the log's startup line
for v in "1.24.3 raise-only" "1.36.2 depends-on-patch" "1.38.0 raise-only" \
	"1.19.0 exact"; do
	set -- $v
	mkdir -p "$tmp/v$1/var_log"
	printf 'I0301 10:00:00.000000       1 server.go:447] Version: v%s\n' \
		"$1" >"$tmp/v$1/var_log/kube-proxy.log"
	cp samples/lab-6.18/conntrack_-S samples/lab-6.18/sysctl_-a "$tmp/v$1/"
	run --format json "$tmp/v$1" >"$tmp/v.json" 2>/dev/null
	got=$(q "$k['version'], $k['max_write']" <"$tmp/v.json")
	[ "$got" = "v$1 $2" ] || fail "version $1: got '$got'"
done
run "$tmp/v1.24.3" >"$tmp/v.txt" 2>&1
joined "$tmp/v.txt" | grep -q 'this version only raises it' ||
	fail "1.24: raise-only not said"
joined "$tmp/v.txt" | grep -q 'maxPerCore: 0 so that sysctl.d' &&
	fail "1.24: the robust way offered where it only raises"

# ---- a peak that needs more, on a node of 16 CPUs: maxPerCore =
# ceil(max / 16), and nodes of other sizes scale with it
run --format json --peak 900000 --cores 16 $node >"$tmp/b.json" 2>/dev/null
got=$(q "d['recommendation']['max'], $k['max_per_core'], $k['max'], \
$k['change'], [s['max'] for s in $k['other_sizes'] if s['cores'] in (2, 32)]" \
	<"$tmp/b.json")
[ "$got" = "1200128 75008 1200128 True [150016, 2400256]" ] ||
	fail "peak 900000 on 16 CPUs: got '$got'"
# flags without --config: the flags line is offered
grep -v -e '--config=' -e 'Version info' $node/var_log/kube-proxy.log \
	>"$tmp/flags-kube-proxy.log"
mkdir -p "$tmp/nocfg"
cp -r $node/networking $node/sysctls $node/kernel "$tmp/nocfg/"
mkdir -p "$tmp/nocfg/var_log" && cp "$tmp/flags-kube-proxy.log" "$tmp/nocfg/var_log/kube-proxy.log"
run --peak 900000 --cores 16 "$tmp/nocfg" >"$tmp/b.txt" 2>&1
grep -q '^  --conntrack-max-per-core=75008 --conntrack-min=131072$' \
	"$tmp/b.txt" || fail "16 CPUs: flags line missing"
run --cores 16 "$tmp/nocfg" >"$tmp/b0.txt" 2>&1
joined "$tmp/b0.txt" |
	grep -q 'depends on its version, not in the input' &&
	joined "$tmp/b0.txt" | grep -q 'maxPerCore: 0 so that sysctl.d owns it' ||
	fail "no version: both rules and the robust way not said"
grep -q '^  # on this node (16 CPUs) it sets nf_conntrack_max = 1200128' \
	"$tmp/b.txt" || fail "16 CPUs: what kube-proxy sets missing"

# ---- a KubeProxyConfiguration in the bundle (the ConfigMap form,
# indented under config.conf) wins over the flags
mkdir -p "$tmp/cm"
cat >"$tmp/cm/kube-proxy-configmap.yaml" <<'EOF'
apiVersion: v1
data:
  config.conf: |-
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    bindAddress: 0.0.0.0
    conntrack:
      maxPerCore: 65536
      min: 262144
      tcpCloseWaitTimeout: 1h0m0s
    mode: iptables
kind: ConfigMap
EOF
run --format json $node "$tmp/cm" >"$tmp/c.json" 2>/dev/null
got=$(q "$k['max_per_core_current'], $k['max_per_core_source'], \
$k['min_current'], $k['min_source'], $k['max_now']" <"$tmp/c.json")
[ "$got" = "65536 configuration 262144 configuration 262144" ] ||
	fail "configuration over flags: got '$got'"

# ---- maxPerCore 0: kube-proxy leaves the max, the sysctl.d line applies
printf 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nconntrack:\n  maxPerCore: 0\n  min: null\nkind: KubeProxyConfiguration\n' \
	>"$tmp/config.conf"
run --format json $node "$tmp/config.conf" >"$tmp/d.json" 2>/dev/null
got=$(q "$k['leaves_max'], $k['max_now']" <"$tmp/d.json")
[ "$got" = "True None" ] || fail "maxPerCore 0: got '$got'"
run --peak 900000 $node "$tmp/config.conf" >"$tmp/d.txt" 2>&1
grep -q '^  net.netfilter.nf_conntrack_max = ' "$tmp/d.txt" ||
	fail "maxPerCore 0: the sysctl.d line is missing"

# ---- an old kube-proxy's log ("Setting nf_conntrack_max to N")
mkdir -p "$tmp/old/var_log"
printf 'I0301 10:00:00.000000       1 conntrack.go:52] Setting nf_conntrack_max to 262144\n' \
	>"$tmp/old/var_log/kube-proxy.log"
cp samples/lab-6.18/conntrack_-S samples/lab-6.18/sysctl_-a "$tmp/old/"
run --format json "$tmp/old" >"$tmp/e.json" 2>/dev/null
got=$(q "$k['node'], $k['log_set_max'], $k['max_per_core_source']" \
	<"$tmp/e.json")
[ "$got" = "yes 262144 default" ] || fail "old log: got '$got'"

# ---- pod addresses only: weak; the sysctl lines stay
printf 'tcp      6 86 ESTABLISHED src=10.244.1.5 dst=10.96.0.10 sport=40000 dport=53 src=10.244.2.7 dst=10.244.1.5 sport=53 dport=40000 [ASSURED] mark=0 use=1\n' \
	>"$tmp/pods"
run --format json --cores 4 "$tmp/pods" samples/lab-6.18/sysctl_-a \
	>"$tmp/f.json" 2>/dev/null
got=$(q "$k['node']" <"$tmp/f.json")
[ "$got" = "maybe" ] || fail "pod addresses: got '$got'"
q "$k['evidence']" <"$tmp/f.json" | grep -q 'weak evidence' ||
	fail "pod addresses: not called weak"
run --peak 900000 --cores 4 "$tmp/pods" samples/lab-6.18/sysctl_-a >"$tmp/f.txt" 2>&1
grep -q '^  net.netfilter.nf_conntrack_max = ' "$tmp/f.txt" ||
	fail "pod addresses: the sysctl.d line is missing"

# ---- an ordinary host: no kube_proxy at all
run --format json samples/lab-6.18 >"$tmp/g.json" 2>/dev/null
[ "$(q "$k" <"$tmp/g.json")" = "None" ] || fail "lab host: kube_proxy is not null"
finish "kube: Kubernetes node advice on 13 cases"
