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
"$ctplan" analyze -q --no-hash --format json "$tmp/empty" >"$tmp/out" \
	2>"$tmp/err"
[ $? = 0 ] || fail "empty file: exit"
[ "$(field 0 lines <"$tmp/out")" = 0 ] || fail "empty file: lines"

# the exit codes are documented where a user looks: --help, each
# command's --help, README.md
"$ctplan" --help >"$tmp/help"
for c in "0  success" "1  a check failed" "2  bad input or usage"; do
	grep -q "^  $c" "$tmp/help" || fail "--help lacks exit status '$c'"
done
want="exit status: 0 success, 1 a check failed, 2 bad input or usage"
for cmd in analyze check fleet diff plan buckets; do
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

finish "hostile: all checks passed"
