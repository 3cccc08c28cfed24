#!/usr/bin/env bash
# Support bundles on the real lab capture: samples/lab-6.18 laid out the
# way sos lays out a report (sos_commands/conntrack/conntrack_-L_-o_extended,
# sos_commands/kernel/sysctl_-a, proc/meminfo, ...; sosreport/sos 4.x
# plugins conntrack, kernel, memory, system), with a per-namespace dump,
# files sos has that must not be read, and sos's root symlink.  The
# directory and its .tar, .tar.gz and .tar.xz must give the same report
# as the loose files; a gzip-compressed single dump the same as the dump;
# unsafe members are skipped with a warning; a compression bomb stops
# with an error.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1
s=samples/lab-6.18
run() { "$ctplan" analyze -q --keys 4 --format json "$@"; }

# ---- the sosreport, as sos names its files
r=$tmp/sosreport-lab-2026-11-26-abcdef
mkdir -p "$r/sos_commands/conntrack" "$r/sos_commands/kernel" \
	"$r/sos_commands/networking/namespaces/web-1" "$r/sos_logs" \
	"$r/sos_reports" "$r/proc/sys/net/netfilter" "$r/etc" \
	"$r/sys/module/nf_conntrack/parameters"
echo "sos report: 4.5.6" >"$r/version.txt"
echo "{}" >"$r/sos_reports/manifest.json"
cp $s/conntrack_-L_-o_extended $s/conntrack_-S "$r/sos_commands/conntrack/"
cp $s/conntrack_-L_-o_extended \
	"$r/sos_commands/conntrack/ip_netns_exec_web-1_conntrack_-L_-o_extended"
cp $s/sysctl_-a $s/uname_-a "$r/sos_commands/kernel/"
cp $s/meminfo "$r/proc/meminfo"
cp $s/nf_conntrack_count "$r/proc/sys/net/netfilter/nf_conntrack_count"
cp $s/hashsize "$r/sys/module/nf_conntrack/parameters/hashsize"
ln -s sos_commands/kernel/uname_-a "$r/uname"
# look like ours, are not: a namespace's own count, a sysctl.conf
printf 'net.netfilter.nf_conntrack_count = 999\nkernel.hostname = other\n' \
	>"$r/sos_commands/networking/namespaces/web-1/ip_netns_exec_web-1_sysctl_-a"
echo "net.netfilter.nf_conntrack_max = 1" >"$r/etc/sysctl.conf"

# sos packs version.txt, sos_reports and sos_logs first (sos/archive.py)
base=$(basename "$r")
members=("$base/version.txt" "$base/sos_reports" "$base/sos_logs")
tar -C "$tmp" -cf "$tmp/b.tar" "${members[@]}"
tar -C "$tmp" -rf "$tmp/b.tar" --sort=name --exclude="$base/version.txt" \
	--exclude="$base/sos_reports" --exclude="$base/sos_logs" "$base"
gzip -c "$tmp/b.tar" >"$tmp/b.tar.gz"
xz -c "$tmp/b.tar" >"$tmp/b.tar.xz"
# a plain tar sorted by name: etc/ and proc/ come before sos_commands/
tar -C "$tmp" -cJf "$tmp/sorted.tar.xz" --sort=name "$base"

# the loose files, in the archive's order, the namespace by --ns
mkdir "$tmp/loose"
cp $s/conntrack_-L_-o_extended \
	"$tmp/loose/ip_netns_exec_web-1_conntrack_-L_-o_extended"
run $s/meminfo $s/nf_conntrack_count $s/conntrack_-L_-o_extended \
	$s/conntrack_-S $s/sysctl_-a $s/uname_-a $s/hashsize \
	--ns web-1 "$tmp/loose/ip_netns_exec_web-1_conntrack_-L_-o_extended" \
	>"$tmp/loose.json" || fail "loose files"

# A report with every path reduced to its file name; the rest as is.
norm() {
	python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
base = lambda p: re.split(r"[/!]", p)[-1]
for i in d["inputs"]:
    i["path"] = base(i["path"])
    i["overlaps"] = sorted(base(p) for p in i["overlaps"])
d["inputs"].sort(key=lambda i: (i["path"], i["namespace"]))
d["stats"]["source"] = base(d["stats"]["source"])
json.dump(d, sys.stdout, indent=1, sort_keys=True)' "$1"
}
norm "$tmp/loose.json" >"$tmp/loose.norm"
grep -q '"namespace": "web-1"' "$tmp/loose.norm" || fail "loose run has no web-1"

for b in "$r" "$tmp/b.tar" "$tmp/b.tar.gz" "$tmp/b.tar.xz" "$tmp/sorted.tar.xz"; do
	name=${b#"$tmp/"}
	"$ctplan" analyze --keys 4 --format json "$b" >"$tmp/b.json" 2>"$tmp/err" ||
		{ fail "$name: exit $?: $(head -3 "$tmp/err")"; continue; }
	norm "$tmp/b.json" >"$tmp/b.norm"
	diff -u "$tmp/loose.norm" "$tmp/b.norm" >"$tmp/d" ||
		{ fail "$name: report differs from the loose files'"; head -40 "$tmp/d"; }
	grep -q "sosreport: 8 files used, 0 in no known format" "$tmp/err" ||
		fail "$name: no summary of the files used: $(cat "$tmp/err")"
	python3 - "$tmp/b.json" "$b" <<'EOF' || fail "$name: input names"
import json, sys
d = json.load(open(sys.argv[1]))
paths = [i["path"] for i in d["inputs"]]
arc = sys.argv[2]
sep = "/" if arc.endswith("abcdef") else "!"
want = ["proc/meminfo", "proc/sys/net/netfilter/nf_conntrack_count",
        "sos_commands/conntrack/conntrack_-L_-o_extended",
        "sos_commands/conntrack/conntrack_-S",
        "sos_commands/conntrack/ip_netns_exec_web-1_conntrack_-L_-o_extended",
        "sos_commands/kernel/sysctl_-a", "sos_commands/kernel/uname_-a",
        "sys/module/nf_conntrack/parameters/hashsize"]
prefix = arc + sep + ("" if sep == "/" else "sosreport-lab-2026-11-26-abcdef/")
assert paths == [prefix + w for w in want], paths
ns = {i["path"].split("/")[-1]: i["namespace"] for i in d["inputs"]}
assert ns["ip_netns_exec_web-1_conntrack_-L_-o_extended"] == "web-1"
assert ns["conntrack_-L_-o_extended"] == ""
# the namespace's sysctl -a and etc/sysctl.conf were not read
assert d["table"]["count"] == 35 and d["table"]["max"] == 262144, d["table"]
assert d["entries"]["total"] == 70
EOF
done
grep -q "member 'sosreport-lab-2026-11-26-abcdef/uname' skipped: a symbolic link" "$tmp/err" ||
	fail "the root symlink not reported"

# the report of an archive names the bundle's host in csv and fleet
"$ctplan" analyze -q --no-hash --format csv "$tmp/b.tar.xz" | tail -1 | grep -q '^"vm",' ||
	fail "csv host of a bundle"

# ---- a gzip-compressed single dump reads like the dump
gzip -c $s/conntrack_-L >"$tmp/conntrack_-L.gz"
run $s/conntrack_-L >"$tmp/plain.json"
run "$tmp/conntrack_-L.gz" >"$tmp/gz.json" || fail "gzip dump"
python3 - "$tmp/plain.json" "$tmp/gz.json" <<'EOF' || fail "gzip dump differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert b["inputs"][0]["path"].endswith("conntrack_-L.gz"), b["inputs"]
for k in ("entries", "table", "hash", "nat"):
    assert a[k] == b[k], k
for k in ("format", "lines", "records", "rejected", "other", "flows"):
    assert a["inputs"][0][k] == b["inputs"][0][k], k
EOF
# a compressed settings file keeps its path rules (nf_conntrack_count)
xz -c $s/sysctl_-a >"$tmp/sysctl_-a.xz"
"$ctplan" analyze -q --no-hash --format json $s/conntrack_-L "$tmp/sysctl_-a.xz" |
	python3 -c 'import json,sys; t=json.load(sys.stdin)["table"]; assert t["max"] == 262144, t' ||
	fail "xz sysctl -a"

# ---- unsafe members: skipped with a warning, never used
python3 - "$tmp/evil.tar" "$s/conntrack_-S" <<'EOF'
import io, sys, tarfile
stats = open(sys.argv[2], "rb").read()
with tarfile.open(sys.argv[1], "w") as t:
    for name in ("../../etc/conntrack_-S", "/abs/conntrack_-S"):
        ti = tarfile.TarInfo(name); ti.size = len(stats)
        t.addfile(ti, io.BytesIO(stats))
    ti = tarfile.TarInfo("dev/ttyX"); ti.type = tarfile.CHRTYPE
    t.addfile(ti)
    ti = tarfile.TarInfo("fifo"); ti.type = tarfile.FIFOTYPE
    t.addfile(ti)
    ti = tarfile.TarInfo("ok/conntrack_-S"); ti.size = len(stats)
    t.addfile(ti, io.BytesIO(stats))
    ti = tarfile.TarInfo("ok/hard"); ti.type = tarfile.LNKTYPE
    ti.linkname = "ok/conntrack_-S"
    t.addfile(ti)
EOF
"$ctplan" analyze --no-hash --format json "$tmp/evil.tar" >"$tmp/evil.json" 2>"$tmp/err" ||
	fail "archive with unsafe members: exit $?"
for w in "member '../../etc/conntrack_-S' skipped: '..' in the path" \
	"member '/abs/conntrack_-S' skipped: absolute path" \
	"member 'dev/ttyX' skipped: a device" "member 'fifo' skipped: a fifo" \
	"member 'ok/hard' skipped: a hard link"; do
	grep -qF "$tmp/evil.tar: $w" "$tmp/err" || fail "no warning: $w"
done
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [i["path"].split("!")[1] for i in d["inputs"]] == ["ok/conntrack_-S"], d["inputs"]' "$tmp/evil.json" ||
	fail "unsafe members read"

# ---- a compression bomb: a tar member of 1.2 GiB of zeros in 1.2 MiB
python3 - "$tmp/bomb.tar.gz" <<'EOF'
import gzip, sys, tarfile
hdr = tarfile.TarInfo("sosreport-x/var/log/zeros")
hdr.size = 1200 << 20
z = gzip.compress(b"\0" * (1 << 20), 1)
with open(sys.argv[1], "wb") as f:
    f.write(gzip.compress(hdr.tobuf(format=tarfile.GNU_FORMAT), 1))
    for _ in range(1200):   # gzip members concatenate
        f.write(z)
EOF
"$ctplan" analyze -q --no-hash "$tmp/bomb.tar.gz" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "bomb: exit $rc, want 2"
grep -q "bomb.tar.gz: archive expands past 1073741824 bytes" "$tmp/err" ||
	fail "bomb: no error: $(cat "$tmp/err")"

# ---- a truncated archive is an error, not a partial report
head -c 3000 "$tmp/b.tar.gz" >"$tmp/cut.tar.gz"
"$ctplan" analyze -q --no-hash "$tmp/cut.tar.gz" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "truncated archive: exit $rc, want 2"
grep -q "cut.tar.gz" "$tmp/err" || fail "truncated archive: message names no file"

finish "bundle: all checks passed"
