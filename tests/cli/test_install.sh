#!/usr/bin/env bash
# cmake --install into a DESTDIR, as a Debian package build does: the
# binary, the collector, the man page, bash completion and the docs land
# under the prefix; the installed binary and collector run; the man page
# renders with groff -ww without a warning (groff: Debian's groff-base,
# which scripts/setup.sh --test installs; without it that part is
# skipped, and said so); the completion completes commands and options.
set -u
. "$(dirname "$0")/lib.sh"
build=$(dirname "$ctplan")
root=$tmp/root
[ -f "$build/cmake_install.cmake" ] || { fail "$build is no CMake build dir"; finish; }

DESTDIR=$root cmake --install "$build" --prefix /usr >"$tmp/log" 2>&1 ||
	{ fail "cmake --install failed"; cat "$tmp/log"; finish; }
for f in bin/ctplan bin/ctplan-collect share/man/man1/ctplan.1 \
	share/bash-completion/completions/ctplan share/doc/ctplan/README.md \
	share/doc/ctplan/LICENSE share/doc/ctplan/docs/report.md \
	share/doc/ctplan/docs/architecture.md share/doc/ctplan/docs/hash-model.md; do
	[ -s "$root/usr/$f" ] || fail "not installed: /usr/$f"
done
for f in bin/ctplan bin/ctplan-collect; do
	[ -x "$root/usr/$f" ] || fail "not executable: /usr/$f"
done
# every docs/*.md of the tree is installed
for f in "$src"/docs/*.md; do
	[ -f "$root/usr/share/doc/ctplan/docs/${f##*/}" ] || fail "doc not installed: ${f##*/}"
done
# nothing outside the prefix
find "$root" -mindepth 1 -maxdepth 1 ! -name usr | grep -q . &&
	fail "files installed outside /usr: $(find "$root" -mindepth 1 -maxdepth 1 ! -name usr)"

# the installed binary runs and reads a sample
"$root/usr/bin/ctplan" analyze -q "$src/samples/lab-6.18" >"$tmp/out" 2>&1 ||
	fail "installed ctplan analyze exits non-zero"
grep -q '^Table and headroom' "$tmp/out" || fail "installed ctplan printed no report"
"$root/usr/bin/ctplan-collect" -h >"$tmp/out" 2>&1 || fail "installed ctplan-collect -h exits non-zero"
grep -q '^usage: ctplan-collect' "$tmp/out" || fail "installed ctplan-collect -h prints no usage"
grep -q 'MIT License' "$root/usr/share/doc/ctplan/LICENSE" || fail "LICENSE is not the MIT license"

# bash completion, with the installed binary first in PATH
PATH=$root/usr/bin:$PATH bash -c '
	. "$1"
	COMP_WORDS=(ctplan an); COMP_CWORD=1; _ctplan; echo "cmd: ${COMPREPLY[*]}"
	COMP_WORDS=(ctplan check --ea); COMP_CWORD=2; _ctplan; echo "opt: ${COMPREPLY[*]}"
	COMP_WORDS=(ctplan analyze --format ""); COMP_CWORD=3; _ctplan; echo "fmt: ${COMPREPLY[*]}"
	COMP_WORDS=(ctplan plan --); COMP_CWORD=2; _ctplan; echo "plan: ${COMPREPLY[*]}"
' sh "$root/usr/share/bash-completion/completions/ctplan" >"$tmp/comp" 2>&1
grep -qx 'cmd: analyze' "$tmp/comp" || fail "completion of 'ctplan an': $(grep cmd: "$tmp/comp")"
grep -qx 'opt: --each' "$tmp/comp" || fail "completion of 'ctplan check --ea': $(grep opt: "$tmp/comp")"
grep -qx 'fmt: text json csv html prom' "$tmp/comp" || fail "completion of --format: $(grep fmt: "$tmp/comp")"
# every long option of plan --help is offered
for o in $("$ctplan" plan --help | grep -oE '^ +(-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
	grep '^plan:' "$tmp/comp" | grep -qw -- "$o" || fail "completion misses plan $o"
done

man=$root/usr/share/man/man1/ctplan.1
if command -v groff >/dev/null 2>&1; then
	groff -man -ww -Tutf8 "$man" >"$tmp/render" 2>"$tmp/warn" || fail "groff fails on ctplan.1"
	[ -s "$tmp/warn" ] && { fail "groff -ww warns on the installed ctplan.1:"; head "$tmp/warn"; }
	[ "$(wc -l <"$tmp/render")" -gt 100 ] || fail "ctplan.1 renders to almost nothing"
else
	[ "$fails" -eq 0 ] || finish
	echo "SKIP: groff is not installed (Debian: groff-base; scripts/setup.sh --test installs it): the man page was not rendered; the rest passed"
	exit 77
fi
finish "install: $(find "$root" -type f | wc -l) files under DESTDIR/usr, binary, collector, man page and completion work"
