#!/usr/bin/env bash
# Golden reports: every output format of ctplan analyze (json, text, csv,
# prom, html) on every sample
# and on the synthetic hosts of tests/cli/hosts/ equals the file under
# tests/cli/golden/, byte for byte.  A refactor of the models or the
# renderers must leave them unchanged; a deliberate change of the output
# regenerates them (UPDATE=1 test_golden.sh CTPLAN SRCDIR) and the diff
# shows in review what changed.
#   usage: test_golden.sh CTPLAN SRCDIR
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
golden=tests/cli/golden
# name: the inputs of one report
cases=(
	"lab-6.18|samples/lab-6.18"
	"lab-6.18-acct|samples/lab-6.18-acct"
	"lab-6.18-overflow|samples/lab-6.18-overflow"
	"kmsg-before|samples/kmsg/lab-6.18/before-flush"
	"kmsg-after|samples/kmsg/lab-6.18/after-flush"
	"eks-style|samples/lab-6.18/conntrack.txt samples/lab-6.18/sysctl_-a"
	"docker|tests/cli/hosts/docker"
	"openstack|tests/cli/hosts/openstack"
	"eks-node|tests/cli/hosts/eks-node"
	"sos-netns|tests/cli/hosts/sos-netns"
)
mkdir -p "$golden"
for c in "${cases[@]}"; do
	name=${c%%|*}
	read -r -a paths <<<"${c#*|}"
	for f in json text csv prom html; do
		out=$tmp/$name.$f
		"$ctplan" analyze -q --keys 2 --max-groups 20 --color never --format "$f" \
			"${paths[@]}" >"$out" 2>"$tmp/err" ||
			fail "$name $f: exit $? ($(head -c 200 "$tmp/err"))"
		if [ "${UPDATE:-0}" = 1 ]; then
			cp "$out" "$golden/$name.$f"
		elif ! cmp -s "$golden/$name.$f" "$out"; then
			fail "$name $f differs from $golden/$name.$f:"
			diff -u "$golden/$name.$f" "$out" | head -20
		fi
	done
done
finish "golden: $((${#cases[@]} * 5)) reports as recorded"
