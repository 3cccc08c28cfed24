#!/usr/bin/env bash
# Where reports go (issue 17): -o writes a temporary file next to FILE
# and renames it over FILE once whole (node_exporter's textfile collector
# never reads half a report), keeps FILE's mode or makes a new one 0644
# under umask 022, writes /dev/stdout and the like in place, and every
# write error names the path and the reason.
set -u
. "$(dirname "$0")/lib.sh"
s=$src/samples/lab-6.18-overflow

umask 022
# a new file: 0644, whole, no temporary file left beside it
mkdir "$tmp/d"
"$ctplan" analyze -q --format prom -o "$tmp/d/ctplan.prom" "$s" ||
	fail "-o: exit $?"
[ "$(stat -c %a "$tmp/d/ctplan.prom")" = 644 ] ||
	fail "-o: new file mode $(stat -c %a "$tmp/d/ctplan.prom"), want 644"
[ "$(ls -A "$tmp/d")" = ctplan.prom ] ||
	fail "-o: left behind: $(ls -A "$tmp/d")"
"$ctplan" analyze -q --format prom "$s" | cmp -s - "$tmp/d/ctplan.prom" ||
	fail "-o: not the report stdout gets"

# an existing file keeps its mode, and is replaced (a new inode): a
# reader holding the old file open reads the old report whole
echo old >"$tmp/d/r.json"
chmod 0640 "$tmp/d/r.json"
exec 3<"$tmp/d/r.json"
ino=$(stat -c %i "$tmp/d/r.json")
"$ctplan" analyze -q --format json -o "$tmp/d/r.json" "$s" || fail "-o json"
[ "$(stat -c %a "$tmp/d/r.json")" = 640 ] ||
	fail "-o: mode not kept: $(stat -c %a "$tmp/d/r.json")"
[ "$(stat -c %i "$tmp/d/r.json")" != "$ino" ] ||
	fail "-o: the file was rewritten in place, not renamed over"
[ "$(cat <&3)" = old ] || fail "-o: an open reader saw the file change"
exec 3<&-
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/d/r.json" ||
	fail "-o: the new file is no whole JSON report"

# a symlink the user names is written through, as a shell redirection
# would (/dev/stdout is one): the link stays, its target gets the report
echo target >"$tmp/target"
ln -s "$tmp/target" "$tmp/d/link.prom"
"$ctplan" analyze -q --format prom -o "$tmp/d/link.prom" "$s" || fail "-o link"
[ -L "$tmp/d/link.prom" ] || fail "-o: the symlink was replaced"
cmp -s "$tmp/target" "$tmp/d/ctplan.prom" || fail "-o: link target not written"

# special files are written in place: /dev/stdout onto a file (the
# file the shell opened, not a new one renamed over /dev/stdout)
"$ctplan" analyze -q --format prom -o /dev/stdout "$s" >"$tmp/stdout.prom" ||
	fail "-o /dev/stdout: exit $?"
[ -L /dev/stdout ] || fail "-o /dev/stdout replaced the /dev/stdout link"
cmp -s "$tmp/stdout.prom" "$tmp/d/ctplan.prom" || fail "-o /dev/stdout: output"
"$ctplan" analyze -q --format prom -o /dev/stdout "$s" | cmp -s - "$tmp/d/ctplan.prom" ||
	fail "-o /dev/stdout into a pipe"

# write errors name the path and the reason, exit 2
if [ -w /dev/full ]; then
	"$ctplan" analyze -q -o /dev/full "$s" 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] || fail "-o /dev/full: exit $rc"
	grep -q "cannot write '/dev/full': No space left on device" "$tmp/err" ||
		fail "-o /dev/full: $(cat "$tmp/err")"
	"$ctplan" analyze -q "$s" >/dev/full 2>"$tmp/err"
	[ $? = 2 ] || fail "stdout on /dev/full: exit"
	grep -q "No space left on device" "$tmp/err" ||
		fail "stdout on /dev/full: $(cat "$tmp/err")"
fi
"$ctplan" analyze -q -o "$tmp/nodir/r.txt" "$s" 2>"$tmp/err"
[ $? = 2 ] || fail "-o into a missing folder: exit"
grep -q "cannot write '$tmp/nodir/r.txt': No such file or directory" \
	"$tmp/err" || fail "-o into a missing folder: $(cat "$tmp/err")"
"$ctplan" analyze -q -o "$tmp/d" "$s" 2>"$tmp/err"
[ $? = 2 ] || fail "-o a folder: exit"
grep -q "cannot write '$tmp/d': Is a directory" "$tmp/err" ||
	fail "-o a folder: $(cat "$tmp/err")"
# a failed write leaves the old file as it was
echo keep >"$tmp/d/keep.txt"
if [ "$(id -u)" != 0 ]; then
	chmod 0555 "$tmp/d"
	"$ctplan" analyze -q -o "$tmp/d/keep.txt" "$s" 2>"$tmp/err" &&
		fail "-o in a read-only folder: exit 0"
	chmod 0755 "$tmp/d"
	[ "$(cat "$tmp/d/keep.txt")" = keep ] || fail "-o: the old file changed"
fi

finish "output: all checks passed"
