#!/usr/bin/env bash
# The text report read as an operator reads it (issue 17): no line over
# 100 columns for any sample or host, long input paths cut in the middle
# (the archive and the file name stay), one order of findings (severity,
# then code) in every format, and the zone shown where two NAT groups
# would otherwise look alike.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1

# a bundle deep in a long folder, named as sos names them
b=sosreport-db-prod-07-2026-12-07-abcdef
mkdir -p "$tmp/$b/sos_commands/conntrack" "$tmp/$b/sos_commands/kernel" \
	"$tmp/a/rather/long/folder/of/bundles/from/the/fleet"
cp samples/lab-6.18/conntrack_-L_-o_extended samples/lab-6.18/conntrack_-S \
	"$tmp/$b/sos_commands/conntrack/"
cp samples/lab-6.18/sysctl_-a samples/lab-6.18/uname_-a \
	"$tmp/$b/sos_commands/kernel/"
arch=$tmp/a/rather/long/folder/of/bundles/from/the/fleet/$b.tar.gz
tar -C "$tmp" -czf "$arch" "$b"

# ---- no line over 100 columns, every sample and host, every option set
n=0
for p in samples/* tests/cli/hosts/*/ "$arch"; do
	for opts in "" "--keys 2 --max-groups 20" "--no-hash"; do
		# shellcheck disable=SC2086
		"$ctplan" analyze -q --color never $opts "$p" >"$tmp/r.txt" \
			2>/dev/null || continue
		n=$((n + 1))
		awk -v p="$p" -v o="$opts" 'length($0) > 100 {
			printf "FAIL: %s %s: %d columns: %s\n", p, o,
				length($0), substr($0, 1, 60); bad = 1 }
			END { exit bad }' "$tmp/r.txt" || fails=$((fails + 1))
	done
done
[ "$n" -ge 15 ] || fail "only $n text reports were read"

# ---- paths: the archive and the file name stay
"$ctplan" analyze -q --color never "$arch" >"$tmp/r.txt"
sed -n '/^Inputs/,/^$/p' "$tmp/r.txt" >"$tmp/inputs"
grep -q "$b.tar.gz!" "$tmp/inputs" ||
	fail "Inputs: the archive's name is lost: $(cat "$tmp/inputs")"
for f in conntrack_-L_-o_extended conntrack_-S sysctl_-a uname_-a; do
	grep -q "/$f " "$tmp/inputs" || fail "Inputs: file name $f is lost"
done
grep -q 'CPU rows from .*conntrack_-S)$' "$tmp/r.txt" ||
	fail "Counters: the file name of the source is lost"
"$ctplan" analyze -q --color never samples/lab-6.18 >"$tmp/r.txt"
grep -q '^  under samples/lab-6.18/$' "$tmp/r.txt" ||
	fail "Inputs: the shared folder is not named once"
grep -q '^  conntrack_-L_-o_labels+connlabel ' "$tmp/r.txt" ||
	fail "Inputs: a file name was cut"

# ---- one order of findings in every format: severity, then code
for p in samples/* tests/cli/hosts/*/; do
	"$ctplan" analyze -q --keys 2 --format json "$p" >"$tmp/r.json" \
		2>/dev/null || continue
	"$ctplan" analyze -q --keys 2 --color never "$p" >"$tmp/r.txt"
	"$ctplan" analyze -q --keys 2 --format html "$p" >"$tmp/r.html"
	"$ctplan" analyze -q --keys 2 --csv-dir "$tmp/csv" "$p" >/dev/null
	python3 - "$tmp/r.json" "$tmp/r.txt" "$tmp/r.html" \
		"$tmp/csv/findings.csv" <<'PY' || fail "$p: order of findings"
import csv, json, re, sys
j = json.load(open(sys.argv[1]))["findings"]
rank = {"critical": 0, "warning": 1, "info": 2}
want = [(f["severity"], f["code"]) for f in j]
assert want == sorted(want, key=lambda x: (rank[x[0]], x[1])), want
txt = open(sys.argv[2]).read().split("\nFindings\n", 1)[1]
t = re.findall(r"^  (critical|warning|info) +(\S+)", txt, re.M)
assert t == want, (t, want)
h = re.findall(r'<td class="sev \w+">(\w+)</td><td>([^<]+)</td>',
               open(sys.argv[3]).read())
assert h == want, (h, want)
c = [(r["severity"], r["code"]) for r in csv.DictReader(open(sys.argv[4]))]
assert c == want, (c, want)
PY
	rm -rf "$tmp/csv"
done

# ---- two NAT groups that differ by zone only
mkdir "$tmp/zones"
for z in 0 7; do
	for i in $(seq 1 40); do
		zf=""
		[ "$z" = 0 ] || zf=" zone=$z"
		echo "tcp      6 117 ESTABLISHED src=198.18.0.$i dst=198.51.100.7 sport=$((40000 + i)) dport=443 src=198.51.100.7 dst=203.0.113.1 sport=443 dport=$((1024 + i + z)) [ASSURED] mark=0$zf use=1"
	done
done >"$tmp/zones/conntrack_-L"
printf 'net.netfilter.nf_conntrack_max = 1000\nnet.netfilter.nf_conntrack_buckets = 1024\n' \
	>"$tmp/zones/sysctl"
"$ctplan" analyze -q --color never --nat-range 1024-1100 "$tmp/zones" \
	>"$tmp/z.txt" || fail "zones: exit $?"
sed -n '/^NAT ports/,/^  p_fail/p' "$tmp/z.txt" >"$tmp/z.nat"
grep -q '^  proto  zone peer ' "$tmp/z.nat" || fail "zones: no zone column"
grep -q '^  tcp       0 198.51.100.7:443 ' "$tmp/z.nat" &&
	grep -q '^  tcp       7 198.51.100.7:443 ' "$tmp/z.nat" ||
	fail "zones: the groups do not show their zone: $(cat "$tmp/z.nat")"
"$ctplan" analyze -q --format html --nat-range 1024-1100 "$tmp/zones" \
	>"$tmp/z.html"
grep -q '198.51.100.7:443 (zone 7)' "$tmp/z.html" ||
	fail "zones: the HTML chart does not name zone 7"
# no zone column where every group is in zone 0
"$ctplan" analyze -q --color never tests/cli/hosts/docker >"$tmp/d.txt"
grep -q '^  proto  zone' "$tmp/d.txt" && fail "zone column without zones"

finish "text: all checks passed"
