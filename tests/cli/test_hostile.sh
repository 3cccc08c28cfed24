#!/usr/bin/env bash
# Hostile input through the command line (issue 9): a line past the
# 64 KiB limit is rejected with its position and reading goes on (file,
# stdin, archive member); binary garbage and empty files end cleanly with
# exit 0 or 2 and a message naming the file.  The mutation test
# (test_mutation.sh) and tests/parsers/test_hostile.c cover the rest.
set -u
. "$(dirname "$0")/lib.sh"

s=$src/samples/lab-6.18/conntrack_-L
long() { head -c "$1" /dev/zero | tr '\0' x; echo; }

# field of inputs[i] of the JSON report on stdin
field() {
	python3 -c 'import json, sys
print(json.load(sys.stdin)["inputs"][int(sys.argv[1])][sys.argv[2]])' "$1" "$2"
}

{ head -3 "$s"; long 70000; tail -n +4 "$s"; } >"$tmp/long"
total=$(wc -l <"$tmp/long")
"$ctplan" analyze -q --no-hash --format json "$tmp/long" >"$tmp/out" \
	2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] || fail "long line: exit $rc"
grep -qx "$tmp/long:4:1: line longer than 65536 bytes" "$tmp/err" ||
	{ fail "long line: no error at 4:1"; head -3 "$tmp/err"; }
[ "$(field 0 lines <"$tmp/out")" = "$total" ] || fail "long line: lines"
[ "$(field 0 rejected <"$tmp/out")" = 1 ] || fail "long line: rejected"
base=$("$ctplan" analyze -q --no-hash --format json "$s" | field 0 records)
[ "$(field 0 records <"$tmp/out")" = "$base" ] ||
	fail "long line: records $(field 0 records <"$tmp/out"), want $base"

"$ctplan" analyze -q --no-hash --strict "$tmp/long" >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "--strict long line: not exit 2"
grep -q "^$tmp/long:4:1: line longer" "$tmp/err" || fail "--strict: message"

# stdin: 10 MiB without a newline after the dump
{ cat "$s"; long 10485760; } |
	"$ctplan" analyze -q --no-hash --format json - >"$tmp/out" 2>"$tmp/err"
[ $? = 0 ] || fail "stdin long line: exit"
grep -q "^-:$total:1: line longer than 65536 bytes" "$tmp/err" ||
	{ fail "stdin long line: message"; head -3 "$tmp/err"; }
[ "$(field 0 records <"$tmp/out")" = "$base" ] || fail "stdin: records"

# an archive member with a long line
mkdir "$tmp/a" && cp "$tmp/long" "$tmp/a/conntrack_-L" &&
	tar -C "$tmp/a" -czf "$tmp/a.tar.gz" conntrack_-L
"$ctplan" analyze -q --no-hash --format json "$tmp/a.tar.gz" >"$tmp/out" \
	2>"$tmp/err"
[ $? = 0 ] || fail "archive long line: exit"
grep -q "^$tmp/a.tar.gz!conntrack_-L:4:1: line longer than 65536 bytes" \
	"$tmp/err" || { fail "archive long line: message"; head -3 "$tmp/err"; }

# garbage: exit 2 naming the file, never a crash
python3 -c 'import random, sys; r = random.Random(1)
sys.stdout.buffer.write(b"\xff" + bytes(r.randrange(256) for _ in range(100000)))' \
	>"$tmp/random"
printf '\0\0\0\n\0' >"$tmp/nuls"
: >"$tmp/empty"
# (random bytes may hold a line that sniffs as sysctl: then the file is
# read and every other line is rejected, with its position)
for f in random nuls; do
	"$ctplan" analyze -q --no-hash "$tmp/$f" >/dev/null 2>"$tmp/err"
	rc=$?
	case $rc in 0 | 2) ;; *) fail "$f: exit $rc, want 0 or 2" ;; esac
	grep -q "^$tmp/$f:" "$tmp/err" || fail "$f: message names no file"
done
# nothing to analyze (an empty file, an empty folder, an unknown .gz)
# stops automation: exit 2, no report, what was found and skipped
mkdir "$tmp/emptydir"
echo 'not a capture' | gzip >"$tmp/unknown.gz"
for f in empty emptydir unknown.gz; do
	"$ctplan" analyze -q --no-hash --format json "$tmp/$f" >"$tmp/out" \
		2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] || fail "$f: nothing to analyze: exit $rc, want 2"
	[ -s "$tmp/out" ] && fail "$f: nothing to analyze: a report on stdout"
	grep -q "^$tmp/$f: nothing to analyze: [0-9]* file(s) found" \
		"$tmp/err" || fail "$f: message: $(cat "$tmp/err")"
done
grep -q "1 not in a known format" "$tmp/err" ||
	fail "unknown.gz: the skipped file is not counted: $(cat "$tmp/err")"

# --csv-dir: a symlink planted under an output's name (issue 18) is
# replaced by the file, never followed: its target keeps its content
mkdir "$tmp/csvd"
echo precious >"$tmp/precious"
for f in findings.csv nat_groups.csv flows.csv histogram.csv; do
	ln -s "$tmp/precious" "$tmp/csvd/$f"
done
"$ctplan" analyze -q --keys 2 --csv-dir "$tmp/csvd" "$src/samples/lab-6.18" \
	>/dev/null 2>"$tmp/err" || fail "--csv-dir over symlinks: exit $?"
[ "$(cat "$tmp/precious")" = precious ] ||
	fail "--csv-dir followed a symlink and overwrote its target"
for f in findings.csv nat_groups.csv flows.csv histogram.csv; do
	[ -L "$tmp/csvd/$f" ] && fail "--csv-dir: $f is still a symlink"
	[ -s "$tmp/csvd/$f" ] || fail "--csv-dir: $f not written"
done
[ -z "$(ls -A "$tmp/csvd" | grep -v '\.csv$')" ] ||
	fail "--csv-dir left temporary files: $(ls -A "$tmp/csvd")"

# the exit codes are documented where a user looks: --help, each
# command's --help, README.md
"$ctplan" --help >"$tmp/help"
for c in "0  success" "1  a check failed" "2  bad input or usage"; do
	grep -q "^  $c" "$tmp/help" || fail "--help lacks exit status '$c'"
done
want="exit status: 0 success, 1 a check failed, 2 bad input or usage"
"$ctplan" check --help | grep -qx "$want" ||
	fail "check --help lacks the exit status"
# the others never exit 1: their help does not promise a check
want="exit status: 0 success, 2 bad input or usage"
for cmd in analyze fleet diff plan buckets; do
	"$ctplan" "$cmd" --help | grep -qx "$want" ||
		fail "$cmd --help lacks the exit status"
done
for c in "| 0 | success |" "| 1 | a check failed" \
	"| 2 | bad input or usage |"; do
	grep -qF "$c" "$src/README.md" ||
		fail "README.md lacks exit status '$c'"
done

# an empty folder: nothing to sort (qsort is never handed a null array)
mkdir -p "$tmp/emptydir"
"$ctplan" analyze -q --format json "$tmp/emptydir" >"$tmp/out" 2>&1
[ $? -le 2 ] || fail "empty folder: crashed"
# diff of settings at the ends of the integer range: the one the kernel
# cannot hold is refused, and no difference is computed in a type that
# overflows (render/diff.c falls back to reals)
mkdir -p "$tmp/d1" "$tmp/d2"
echo "net.netfilter.nf_conntrack_max = 18446744073709551615" >"$tmp/d1/sysctl"
echo "net.netfilter.nf_conntrack_max = 9223372036854775807" >"$tmp/d2/sysctl"
head -1 "$src/samples/lab-6.18/conntrack_-L" | tee "$tmp/d1/l" >"$tmp/d2/l"
"$ctplan" diff --format json "$tmp/d1" "$tmp/d2" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -le 2 ] || fail "diff at the integer range's ends: exit $rc"

# settings the kernel's unsigned int cannot hold are line errors with
# FILE:LINE:COL, not a max of -7 that passes the gate
printf 'net.netfilter.nf_conntrack_max = 18446744073709551609\nnet.netfilter.nf_conntrack_tcp_timeout_established = -5\nnet.netfilter.nf_conntrack_buckets = 65536\n' \
	>"$tmp/bigmax.conf"
"$ctplan" analyze -q --format json "$tmp/bigmax.conf" \
	"$src/samples/lab-6.18/conntrack_-L" >"$tmp/out" 2>"$tmp/err"
grep -q "bigmax.conf:1:34: value '18446744073709551609' of 'net.netfilter.nf_conntrack_max' is not a number" \
	"$tmp/err" || fail "max above UINT_MAX: no line error"
grep -q "bigmax.conf:2:" "$tmp/err" || fail "negative timeout: no line error"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["table"]["max"] is None, d["table"]' \
	"$tmp/out" || fail "max above UINT_MAX still in the report"
"$ctplan" check "$tmp/bigmax.conf" "$src/samples/lab-6.18/conntrack_-L" \
	>"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "check with an impossible max: not exit 2"

# --ns LABEL without a path after it is no input
"$ctplan" analyze --ns x >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "analyze --ns x without a path: not exit 2"
grep -q "no input given" "$tmp/err" || fail "analyze --ns x: message"

# --strict stops at the first malformed line and says so once
printf 'tcp 6 10 ESTABLISHED src=198.51.100.1 dst=203.0.113.8 sport=x\n' \
	>"$tmp/badline"
"$ctplan" analyze --strict "$tmp/badline" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--strict on a bad line: not exit 2"
[ "$(grep -c "badline:1:" "$tmp/err")" -eq 1 ] ||
	fail "--strict: the error printed $(grep -c "badline:1:" "$tmp/err") times"

# ---- issue 18: memory safety, and a broken input loses nothing else ----
# Each input below once freed the name an error pointed at before the
# error printed (ctp_error now keeps a copy); run under the ASan build,
# any use after free aborts.  A broken part is an error naming it, counted
# in the report (inputs[].error, entries.read_errors), the rest is read,
# and the exit status is 2 after the full report.
jfield() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"d": d}))' "$@"; }
s=$src/samples/lab-6.18/conntrack_-L
mkdir -p "$tmp/ms/a" "$tmp/ms/f"
cp "$s" "$tmp/ms/a/conntrack_-L" && cp "$s" "$tmp/ms/f/dump"
python3 - "$tmp/ms" "$s" <<'PY'
import io, random, sys, tarfile
d, s = sys.argv[1], sys.argv[2]
r = random.Random(1)
with tarfile.open(d + '/two.tgz', 'w:gz') as t:
    t.add(s, arcname='conntrack_-L')
    # lines of high bytes: in no known format, and do not compress
    data = b''.join(bytes(r.randrange(128, 255) for _ in range(99)) + b'\n'
                    for _ in range(2000))
    ti = tarfile.TarInfo('big'); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
raw = open(d + '/two.tgz', 'rb').read()
open(d + '/cut.tgz', 'wb').write(raw[:100000])
open(d + '/f/broken.tgz', 'wb').write(raw[:300])
PY
# a truncated archive beside another path: the member read before the cut
# and the other path are in the report, the error names archive and member
"$ctplan" analyze -q --no-hash --format json "$tmp/ms/cut.tgz" "$s" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "truncated tgz beside a path: exit $rc, want 2"
grep -q "cut.tgz!big: archive member cut short: truncated gzip input" \
	"$tmp/err" || { fail "truncated tgz: no error naming the member"; cat "$tmp/err"; }
[ "$(jfield "$tmp/out" 'd["entries"]["read_errors"]')" = 1 ] ||
	fail "truncated tgz: read_errors"
[ "$(jfield "$tmp/out" '[i["path"].split("/")[-1] for i in d["inputs"] if i["records"]]')" = \
	"['cut.tgz!conntrack_-L', 'conntrack_-L']" ] ||
	fail "truncated tgz: what was read is not all in the report"
# a broken archive inside a folder, a folder nested 40 deep: the rest of
# the folder is read; libarchive's own message, not a stale errno
d=$tmp/ms/f/deep; for i in $(seq 40); do d=$d/d; done
mkdir -p "$d" && cp "$s" "$d/dump"
"$ctplan" analyze -q --no-hash --format json "$tmp/ms/f" >"$tmp/out" \
	2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "broken archive in a folder: exit $rc"
grep -q "broken.tgz: cannot read archive: truncated gzip input" "$tmp/err" ||
	{ fail "broken archive in a folder: message"; cat "$tmp/err"; }
grep -q "directories nested too deep" "$tmp/err" ||
	fail "nested folders: message"
grep -q "Inappropriate ioctl\|No such file" "$tmp/err" &&
	fail "a stale errno names the cause"
[ "$(jfield "$tmp/out" 'd["entries"]["read_errors"]')" = 2 ] ||
	fail "folder: read_errors"
[ "$(jfield "$tmp/out" 'd["entries"]["total"]')" = 35 ] ||
	fail "folder: the dump beside the broken archive is lost"
# a cut single .gz: the decompressor's failure is named
gzip -c "$s" | head -c 500 >"$tmp/ms/cut.gz"
"$ctplan" analyze -q --no-hash "$tmp/ms/cut.gz" "$s" >"$tmp/out" 2>"$tmp/err"
[ $? = 2 ] || fail "cut .gz beside a path: not exit 2"
grep -q "^$tmp/ms/cut.gz: cannot read archive: " "$tmp/err" ||
	fail "cut .gz: message"
grep -q "READ ERROR: cannot read archive" "$tmp/out" ||
	fail "cut .gz: no READ ERROR in the text report"
# a path longer than PATH_MAX (18 folders of 250 bytes)
python3 - "$tmp/ms/long" "$s" <<'PY'
import os, shutil, sys
src = os.path.abspath(sys.argv[2])
os.makedirs(sys.argv[1]); os.chdir(sys.argv[1])
for i in range(18):
    os.mkdir('n' * 250); os.chdir('n' * 250)
shutil.copy(src, 'dump')
PY
"$ctplan" analyze -q --no-hash --format json "$tmp/ms/long" "$s" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -le 2 ] || fail "path over PATH_MAX: exit $rc"
[ "$(jfield "$tmp/out" 'd["entries"]["total"]')" = 35 ] ||
	fail "path over PATH_MAX: the other path is lost"
# a tar of 100k empty members: the input cap is named, nothing crashes
python3 - "$tmp/ms/many.tgz" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as t:
    for i in range(100000):
        ti = tarfile.TarInfo('m%06d' % i); ti.size = 0
        t.addfile(ti)
PY
"$ctplan" analyze -q --no-hash --format json "$tmp/ms/many.tgz" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "100k members: exit $rc, want 2"
grep -q "ctplan reads at most 65535 inputs" "$tmp/err" ||
	fail "100k members: the cap is not named"
# a folder of 70k files (more than the inputs cap) in no known format: skipped files do not fill
# the inputs, the dump beside them is read
mkdir "$tmp/ms/skip" && cp "$s" "$tmp/ms/skip/zz-dump"
python3 -c 'import sys
for i in range(70000):
    open("%s/f%06d" % (sys.argv[1], i), "w").write("\xff not a dump\n")' \
	"$tmp/ms/skip"
"$ctplan" analyze -q --no-hash --format json "$tmp/ms/skip" >"$tmp/out" \
	2>"$tmp/err"
rc=$?
[ $rc = 0 ] || { fail "70k skipped files: exit $rc"; head -3 "$tmp/err"; }
[ "$(jfield "$tmp/out" 'd["entries"]["total"]')" = 35 ] ||
	fail "70k skipped files: the dump is lost"
[ "$(jfield "$tmp/out" 'd["entries"]["skipped_not_listed"]')" = 69744 ] ||
	fail "70k skipped files: skipped_not_listed"
rm -rf "$tmp/ms"

# ---- issue 18: names are data ----
# member and file names with ESC, BEL, a newline and bytes that are not
# UTF-8, and a --ns label likewise: escaped as \xNN in every output and on
# stderr (core/escape.c), JSON keeps them, no "out of memory"
mkdir -p "$tmp/nm/d"
python3 - "$tmp/nm" "$s" <<'PY'
import io, os, shutil, sys, tarfile
d, s = sys.argv[1], sys.argv[2]
with tarfile.open(d + '/evil.tgz', 'w:gz', format=tarfile.PAX_FORMAT) as t:
    t.add(s, arcname='a\x1b]0;pwned\x07\nforged: ok')
    data = b'\xfe\xfe garbage\n'
    ti = tarfile.TarInfo('junk\x1b[2J'); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
shutil.copy(s, os.fsencode(d) + b'/d/x\x1b[31mred\xff\xfe')
PY
ns=$(printf 'n\xff\x1b')
for f in text json csv html prom; do
	"$ctplan" analyze --format "$f" --ns "$ns" "$tmp/nm/evil.tgz" \
		"$tmp/nm/d" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] || { fail "names: --format $f: exit $rc"; head -3 "$tmp/err"; }
	LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$tmp/out" &&
		fail "names: --format $f: a control byte in the output"
	LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$tmp/err" &&
		fail "names: --format $f: a control byte on stderr"
	grep -q "out of memory" "$tmp/err" && fail "names: $f: out of memory"
done
"$ctplan" analyze -q --format json --ns "$ns" "$tmp/nm/d" >"$tmp/out"
[ "$(jfield "$tmp/out" 'd["inputs"][0]["namespace"]')" = 'n\xff\x1b' ] ||
	fail "names: --ns not kept escaped in JSON"
[ "$(jfield "$tmp/out" 'd["inputs"][0]["path"].split("/")[-1]')" = \
	'x\x1b[31mred\xff\xfe' ] || fail "names: file name not kept escaped"
"$ctplan" analyze --format text "$tmp/nm/evil.tgz" >"$tmp/out" 2>"$tmp/err"
grep -q 'evil.tgz!junk\\x1b\[2J: skipped' "$tmp/err" ||
	fail "names: the member is not named escaped on stderr"
grep -q '^forged' "$tmp/out" && fail "names: a newline forged a report line"
rm -rf "$tmp/nm"

# ---- issue 18: cost per byte ----
# blank lines after an entry: each is counted, none formats a message
# (256 MB took 46 s); here 64 MiB, with the line count checked
{ head -1 "$s"; head -c 67108864 /dev/zero | tr '\0' '\n'; echo "$(sed -n 2p "$s")"; } \
	>"$tmp/blank"
"$ctplan" analyze -q --no-hash --format json "$tmp/blank" >"$tmp/out" \
	2>"$tmp/err"
[ $? = 0 ] || fail "blank lines: exit"
[ "$(jfield "$tmp/out" '(d["inputs"][0]["lines"], d["inputs"][0]["other"], d["inputs"][0]["records"])')" = \
	"(67108866, 67108864, 2)" ] || fail "blank lines: $(jfield "$tmp/out" 'd["inputs"][0]')"
gzip -1 -c "$tmp/blank" >"$tmp/blank.gz" && rm -f "$tmp/blank"
"$ctplan" analyze -q --no-hash --format json "$tmp/blank.gz" >"$tmp/out" \
	2>"$tmp/err"
[ "$(jfield "$tmp/out" 'd["inputs"][0]["records"]')" = 2 ] ||
	fail "gzip of blank lines: records"
rm -f "$tmp/blank.gz"
# 20,000 table-full lines 61 s apart: 20,000 bursts, the 200 largest
# listed, the rest counted (a million made a 280 MB report)
python3 -c 'import sys
w = sys.stdout.write
for i in range(20000):
    w("[%d.%06d] nf_conntrack: nf_conntrack: table full, dropping packet\n"
      % (1000 + 61 * i, i))' >"$tmp/full.log"
"$ctplan" analyze -q --format json "$tmp/full.log" >"$tmp/out" 2>"$tmp/err"
[ $? = 0 ] || fail "20k bursts: exit"
[ "$(jfield "$tmp/out" '(len(d["history"]["bursts"]), d["history"]["bursts_not_listed"], d["history"]["table_full"]["bursts"], d["history"]["table_full"]["printed"])')" = \
	"(200, {'bursts': 19800, 'messages': 19800}, 20000, 20000)" ] ||
	fail "20k bursts: not bounded as said"
"$ctplan" analyze -q "$tmp/full.log" | grep -q "the 200 largest bursts are listed; 19800 more" ||
	fail "20k bursts: the text report does not say what is left out"
rm -f "$tmp/full.log"

# ---- issue 18: clear errors ----
# CR-only line ends: read as line ends, said in a note
head -5 "$s" | tr '\n' '\r' >"$tmp/cr"
"$ctplan" analyze --no-hash --format json "$tmp/cr" >"$tmp/out" 2>"$tmp/err"
[ $? = 0 ] || fail "CR-only: exit"
grep -q "cr: lines end in CR only: read as line ends" "$tmp/err" ||
	fail "CR-only: no note"
[ "$(jfield "$tmp/out" 'd["inputs"][0]["records"]')" = 5 ] ||
	fail "CR-only: entries lost"
# an archive on stdin: said what it is and what to do, exit 2, no report
tar -C "$src/samples/lab-6.18" -czf - conntrack_-L |
	"$ctplan" analyze -q --no-hash - >"$tmp/out" 2>"$tmp/err"
[ $? = 2 ] || fail "archive on stdin: not exit 2"
grep -q "^-: an archive or compressed file on stdin: not read; give its path" \
	"$tmp/err" || fail "archive on stdin: message"
[ -s "$tmp/out" ] && fail "archive on stdin: a report of nothing"

# ---- issue 18: values are checked ----
# said with FILE:LINE(:COL), the lines still count: a negative timeout, a
# key twice in one entry, a CPU row twice in one -S output, a conntrack
# setting with two values across the inputs of one host
e='src=198.51.100.1 dst=203.0.113.8 sport=1 dport=443 src=203.0.113.8 dst=198.51.100.1 sport=443 dport=1 [ASSURED]'
{ echo "tcp      6 -5 ESTABLISHED $e mark=0 use=1"
  echo "tcp      6 30 ESTABLISHED $e mark=0 use=1 use=2"; } >"$tmp/vals"
printf 'cpu=0 found=1 invalid=2 insert=0\ncpu=1 found=1\ncpu=0 found=1\n' \
	>"$tmp/stats"
printf 'net.netfilter.nf_conntrack_max = 262144\n' >"$tmp/sys1"
printf 'net.netfilter.nf_conntrack_max = 65536\n' >"$tmp/sys2"
"$ctplan" analyze -q --no-hash --format json "$tmp/vals" "$tmp/stats" \
	"$tmp/sys1" "$tmp/sys2" >"$tmp/out" 2>"$tmp/err"
[ $? = 0 ] || fail "values: exit"
for w in "vals:1:12: warning: negative timeout '-5'" \
	"vals:2:[0-9]*: warning: 'use=' given twice in one entry" \
	"stats:3:1: warning: cpu=0 again in this input" \
	"sys2:1: warning: net.netfilter.nf_conntrack_max = 65536 here, 262144 in an input read before"; do
	grep -q "$w" "$tmp/err" || fail "values: no '$w'"
done
[ "$(jfield "$tmp/out" '(d["inputs"][0]["records"], d["table"]["max"])')" = \
	"(2, 65536)" ] || fail "values: the lines do not count"

# a .tgz whose gzip CRC or length trailer is wrong: read, and warned
tar -C "$src/samples/lab-6.18" -czf "$tmp/crc.tgz" conntrack_-L
python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[-6] ^= 0xff
open(sys.argv[1], "wb").write(d)' "$tmp/crc.tgz"
"$ctplan" analyze -q --no-hash --format json "$tmp/crc.tgz" >"$tmp/out" \
	2>"$tmp/err"
[ $? = 0 ] || fail "bad gzip CRC: exit"
grep -q "crc.tgz: warning: the gzip trailer's CRC or length does not match" \
	"$tmp/err" || fail "bad gzip CRC: no warning"
[ "$(jfield "$tmp/out" 'd["entries"]["total"]')" = 35 ] ||
	fail "bad gzip CRC: the entries are lost"
tar -C "$src/samples/lab-6.18" -czf "$tmp/crc.tgz" conntrack_-L
"$ctplan" analyze -q --no-hash "$tmp/crc.tgz" >/dev/null 2>"$tmp/err"
grep -q "warning" "$tmp/err" && fail "a sound .tgz is warned about"

# NAT that rewrites an ICMP echo id is a remap, like a port: conntrack -L
# prints the id per direction (orig id=1234, reply id=5555)
printf 'icmp     1 29 src=10.0.0.5 dst=203.0.113.8 type=8 code=0 id=1234 src=203.0.113.8 dst=198.51.100.1 type=0 code=0 id=5555 mark=0 use=1\nicmp     1 29 src=10.0.0.6 dst=203.0.113.8 type=8 code=0 id=1234 src=203.0.113.8 dst=198.51.100.1 type=0 code=0 id=1234 mark=0 use=1\n' \
	>"$tmp/icmpnat"
"$ctplan" analyze -q --no-hash --format json "$tmp/icmpnat" >"$tmp/out"
[ "$(jfield "$tmp/out" '(d["nat"]["snat"], d["nat"]["port_remapped"], d["nat"]["remaps"][0]["nat_port"], d["nat"]["remaps"][0]["holder"]["src"])')" = \
	"(2, 1, 5555, '10.0.0.6')" ] || fail "ICMP id remap: not counted"

finish "hostile: all checks passed"
