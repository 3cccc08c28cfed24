#!/usr/bin/env bash
# Kubernetes nodes: kube-proxy writes nf_conntrack_max at every start
# (maxPerCore x CPUs, at least min; it never lowers it), so the advice is
# its configuration, not a sysctl.d line.  On tests/cli/hosts/eks-node
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

# ---- the node as collected
run --format json $node >"$tmp/a.json" 2>"$tmp/err" || fail "eks-node: exit $?"
k="d['recommendation']['kube_proxy']"
got=$(q "$k['node'], $k['cores'], $k['max_per_core_current'], \
$k['max_per_core_source'], $k['min_current'], $k['log_set_max'], \
$k['max_now'], $k['change']" <"$tmp/a.json")
[ "$got" = "yes 2 32768 flags 131072 131072 131072 False" ] ||
	fail "eks-node kube_proxy: got '$got'"
for ev in "kube-proxy flags" "a kube-proxy log" "kubelet files" \
	"the EKS log collector's layout"; do
	q "$k['evidence']" <"$tmp/a.json" | grep -qF "$ev" ||
		fail "eks-node evidence lacks '$ev'"
done
run $node >"$tmp/a.txt" 2>&1
grep -q '^  net.netfilter.nf_conntrack_max = ' "$tmp/a.txt" &&
	fail "eks-node: a sysctl.d line for the max on a Kubernetes node"
grep -q '^  Kubernetes node: ' "$tmp/a.txt" ||
	fail "eks-node: no 'Kubernetes node' line"
grep -q '^    maxPerCore: 32768$' "$tmp/a.txt" ||
	fail "eks-node: today's maxPerCore not shown"
run --format html $node >"$tmp/a.html" 2>/dev/null
grep -q '^  maxPerCore: 32768$' "$tmp/a.html" &&
	! grep -q '^net.netfilter.nf_conntrack_max = ' "$tmp/a.html" ||
	fail "eks-node html: sysctl lines instead of kube-proxy's"

# ---- a peak that needs more, on a node of 16 CPUs: maxPerCore =
# ceil(max / 16), and nodes of other sizes scale with it
run --format json --peak 900000 --cores 16 $node >"$tmp/b.json" 2>/dev/null
got=$(q "d['recommendation']['max'], $k['max_per_core'], $k['max'], \
$k['change'], [s['max'] for s in $k['other_sizes'] if s['cores'] in (2, 32)]" \
	<"$tmp/b.json")
[ "$got" = "1200128 75008 1200128 True [150016, 2400256]" ] ||
	fail "peak 900000 on 16 CPUs: got '$got'"
run --peak 900000 --cores 16 $node >"$tmp/b.txt" 2>&1
grep -q '^  --conntrack-max-per-core=75008 --conntrack-min=131072$' \
	"$tmp/b.txt" || fail "16 CPUs: flags line missing"
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
run $node "$tmp/config.conf" >"$tmp/d.txt" 2>&1
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
run --cores 4 "$tmp/pods" samples/lab-6.18/sysctl_-a >"$tmp/f.txt" 2>&1
grep -q '^  net.netfilter.nf_conntrack_max = ' "$tmp/f.txt" ||
	fail "pod addresses: the sysctl.d line is missing"

# ---- an ordinary host: no kube_proxy at all
run --format json samples/lab-6.18 >"$tmp/g.json" 2>/dev/null
[ "$(q "$k" <"$tmp/g.json")" = "None" ] || fail "lab host: kube_proxy is not null"
finish "kube: Kubernetes node advice on 7 cases"
