#!/usr/bin/env bash
# Nothing runs (issue 9): ctplan never executes a program or a shell and
# never opens the network.  Every command, and archives of every
# compression it reads (libarchive runs an external "gzip -d", "zstd -d"
# ... where it was built without the library), under strace: one execve
# (ctplan itself), no socket or connect, no new process (a clone that
# shares memory is a thread, or LeakSanitizer's tracer in the ASan
# build).  Skips (77) where strace or ptrace is not available.
set -u
. "$(dirname "$0")/lib.sh"

# LeakSanitizer cannot run under ptrace; the other tests look for leaks
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
command -v strace >/dev/null || { echo "strace missing: skip"; exit 77; }
strace -f -qq -o /dev/null true 2>/dev/null ||
	{ echo "ptrace not permitted: skip"; exit 77; }

# archives of the lab samples, in every compression bundle.c takes
python3 - "$src/samples/lab-6.18" "$tmp" <<'PY' || exit 1
import bz2, gzip, io, lzma, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for f in ("conntrack_-L", "conntrack_-S", "sysctl_-a", "uname_-a"):
        t.add(os.path.join(src, f), arcname="lab/" + f)
tar = buf.getvalue()
for name, data in (("b.tar", tar), ("b.tar.gz", gzip.compress(tar)),
                   ("b.tar.xz", lzma.compress(tar)),
                   ("b.tar.bz2", bz2.compress(tar)),
                   ("b.lzma", lzma.compress(tar, format=lzma.FORMAT_ALONE))):
    open(os.path.join(out, name), "wb").write(data)
PY
archives="$tmp/b.tar $tmp/b.tar.gz $tmp/b.tar.xz $tmp/b.tar.bz2 $tmp/b.lzma"
if command -v zstd >/dev/null; then
	zstd -q "$tmp/b.tar" -o "$tmp/b.tar.zst" &&
		archives="$archives $tmp/b.tar.zst"
fi

n=0
traced() { # traced DESCRIPTION -- CMD...: run under strace, check the log
	local what=$1 log rc execs
	shift 2
	n=$((n + 1))
	log=$tmp/strace.$n
	strace -f -qq -o "$log" \
		-e trace=execve,execveat,fork,vfork,clone,clone3,socket,connect \
		"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $rc in
	0 | 1 | 2) ;;
	*) fail "$what: exit $rc"; head -5 "$tmp/err" ;;
	esac
	execs=$(grep -cE 'execve(at)?\(' "$log")
	if [ "$execs" != 1 ]; then
		fail "$what: $execs execve calls"
		grep -E 'execve' "$log" | head -5
	fi
	if grep -qE '(socket|connect)\(' "$log"; then
		fail "$what: opens a socket"
		grep -E 'socket|connect' "$log" | head -3
	fi
	if grep -E '(v?fork\(|clone3?\()' "$log" | grep -qv 'CLONE_VM'; then
		fail "$what: starts a process"
		grep -E 'fork|clone' "$log" | grep -v CLONE_VM | head -3
	fi
}

s=$src/samples/lab-6.18
traced "analyze json" -- "$ctplan" analyze --format json "$s" \
	"$src/samples/kmsg"
traced "analyze html" -- "$ctplan" analyze --no-hash --format html \
	-o "$tmp/r.html" "$s"
traced "analyze csv" -- "$ctplan" analyze --no-hash --format csv \
	--csv-dir "$tmp/csv" "$s"
for a in $archives; do
	traced "analyze $(basename "$a")" -- "$ctplan" analyze --no-hash \
		--format json "$a"
	grep -q '"records": [1-9]' "$tmp/out" ||
		fail "$(basename "$a"): nothing read"
done
traced "analyze stdin" -- "$ctplan" analyze --no-hash --format json - \
	<"$s/conntrack_-L"
traced "buckets" -- "$ctplan" buckets \
	--key 000102030405060708090a0b0c0d0e0f \
	"$s/conntrack_-L" "$s/sysctl_-a"
traced "fleet" -- "$ctplan" fleet --no-hash "$s" "$src/samples/lab-6.18-acct"
traced "diff" -- "$ctplan" diff "$s" "$src/samples/lab-6.18-acct"
traced "plan" -- "$ctplan" plan --entries 100000
traced "check" -- "$ctplan" check "$s"
traced "bad input" -- "$ctplan" analyze /nonexistent

finish "no_exec: $n runs: one execve each, no socket, no process started"
