#!/usr/bin/env bash
# The command line: exit codes, --help, usage errors, and that --help,
# the option table and README.md list the same options.
set -u
. "$(dirname "$0")/lib.sh"

expect() { # expect CODE DESCRIPTION -- CMD...
	local want=$1 what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  stderr: /' "$tmp/err" | head -5
		fails=$((fails + 1))
	fi
}

expect 0 "top-level --help" -- "$ctplan" --help
grep -q '^  analyze ' "$tmp/out" || { echo "FAIL: --help lists no analyze"; fails=$((fails+1)); }
expect 2 "no command" -- "$ctplan"
expect 2 "unknown command" -- "$ctplan" frobnicate
grep -q "unknown command 'frobnicate'" "$tmp/err" || { echo "FAIL: unknown command message"; fails=$((fails+1)); }
expect 0 "analyze --help" -- "$ctplan" analyze --help
cp "$tmp/out" "$tmp/help"
expect 2 "unknown option" -- "$ctplan" analyze --bogus x
grep -q "unknown option '--bogus'" "$tmp/err" || { echo "FAIL: unknown option message"; fails=$((fails+1)); }
expect 2 "no input" -- "$ctplan" analyze
# number options: a bad value exits 2 and says what the option takes
while IFS='|' read -r opt val takes; do
	expect 2 "--$opt $val" -- "$ctplan" analyze "--$opt" "$val" \
		"$src/samples/lab-6.18/conntrack_-L"
	grep -qF -- "ctplan analyze: --$opt takes $takes, not '$val'" "$tmp/err" ||
		{ echo "FAIL: --$opt $val message: $(head -1 "$tmp/err")"; fails=$((fails+1)); }
done <<'ROWS'
keys|0|a number from 1 to 65536
keys|65537|a number from 1 to 65536
keys|x|a number from 1 to 65536
seed|-1|a number
seed|18446744073709551616|a number
max-errors|1e3|a number
burst-gap|31622401|seconds from 0 to 31622400
max-groups|-1|a number (0: all)
max-groups||a number (0: all)
ROWS
expect 2 "missing file" -- "$ctplan" analyze /nonexistent/file
grep -q "^/nonexistent/file: cannot read" "$tmp/err" || { echo "FAIL: missing file message"; fails=$((fails+1)); }
expect 2 "bad format" -- "$ctplan" analyze --format yaml "$src/samples/lab-6.18/conntrack_-L"
printf 'hello\nworld\n' >"$tmp/junk"
expect 2 "file in no known format" -- "$ctplan" analyze "$tmp/junk"
grep -q "$tmp/junk: not a conntrack" "$tmp/err" || { echo "FAIL: unknown format names the file"; fails=$((fails+1)); }

# a malformed line: reported as file:line:col, counted, not fatal
{ head -3 "$src/samples/lab-6.18/conntrack_-L"; echo "tcp      6 10 CLOSE src=1.2.3.4 dst=1.2.3.5 sport=1 dport=99999 src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1"; } >"$tmp/bad"
expect 0 "malformed line is not fatal" -- "$ctplan" analyze --format json "$tmp/bad"
grep -q "^$tmp/bad:4:53: cannot parse 'dport=99999': number out of range" "$tmp/err" || { echo "FAIL: line error position"; cat "$tmp/err"; fails=$((fails+1)); }
expect 2 "--strict makes it fatal" -- "$ctplan" analyze --strict "$tmp/bad"

# stdin
expect 0 "stdin" -- sh -c "\"$ctplan\" analyze --format json - < \"$src/samples/lab-6.18/conntrack_-L\""

# every option in the table is in --help and in README.md, and back
opts=$(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u | grep -v -- '--help')
for o in $opts; do
	grep -q -- "\`[^\`]*$o" "$src/README.md" || { echo "FAIL: README lacks $o"; fails=$((fails+1)); }
done
readme=$(sed -n '/^ctplan analyze/,/^### Exit/p' "$src/README.md" | grep -o -- '`-*[a-z, -]*--[a-z-]*' | grep -o -- '--[a-z-]*' | sort -u)
for o in $readme; do
	grep -q -- "$o" "$tmp/help" || { echo "FAIL: README documents $o, --help does not"; fails=$((fails+1)); }
done

finish "usage: all checks passed"
