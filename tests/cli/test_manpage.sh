#!/usr/bin/env bash
# man/ctplan.1 against the binary: the man page lists exactly the commands
# of 'ctplan --help', and under each command exactly the options its
# --help prints; every long option the page names anywhere exists (or is
# another tool's, listed below); the collector's options match its -h;
# the page has the sections an operator looks for; and groff renders it
# without a warning (-ww), when groff is installed (Debian: groff-base).
set -u
. "$(dirname "$0")/lib.sh"
man=$src/man/ctplan.1
collect=$src/scripts/ctplan-collect

# options of a --help text: the leading -x / --long words of option lines
help_opts() {
	awk '/^ +-/ { for (i = 1; i <= NF; i++) { w = $i; sub(/,$/, "", w)
		if (w !~ /^-/) break; print w } }' | sort -u
}
# the man page with \- turned into -, one section per command:
# "CMD<TAB>OPTION" for every option word on a .TP tag line of its .SS
man_opts() {
	sed 's/\\-/-/g' "$man" | awk '
		/^\.S[HS]/ { cmd = "" }
		/^\.SS "ctplan [a-z]+ / { split($0, f, /[ "]+/); cmd = f[3] }
		/^\.SH COLLECTOR/ { cmd = "ctplan-collect" }
		/^\.TP/ { tag = 1; next }
		tag { tag = 0
		      if (cmd == "") next
		      for (i = 2; i <= NF; i++) { w = $i; gsub(/"/, "", w)
			  if (w ~ /^--?[a-zA-Z][a-zA-Z0-9-]*$/) print cmd "\t" w } }' |
		sort -u
}

"$ctplan" --help >"$tmp/top" 2>&1 || fail "ctplan --help exits non-zero"
cmds=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' \
	"$tmp/top")
[ -n "$cmds" ] || fail "no commands in ctplan --help"
man_opts >"$tmp/man_opts"
cut -f1 "$tmp/man_opts" | sort -u | grep -vx ctplan-collect >"$tmp/man_cmds"
if ! diff <(printf '%s\n' $cmds | sort) "$tmp/man_cmds" >"$tmp/d"; then
	fail "commands of ctplan --help (<) and man/ctplan.1's sections (>) differ:"
	cat "$tmp/d"
fi

: >"$tmp/all_help"
for c in $cmds; do
	"$ctplan" "$c" --help >"$tmp/h" 2>&1 || fail "ctplan $c --help exits non-zero"
	help_opts <"$tmp/h" | tee -a "$tmp/all_help" >"$tmp/h_opts"
	awk -F'\t' -v c="$c" '$1 == c { print $2 }' "$tmp/man_opts" |
		sort -u >"$tmp/m_opts"
	[ -s "$tmp/h_opts" ] || fail "ctplan $c --help lists no option"
	if ! diff "$tmp/h_opts" "$tmp/m_opts" >"$tmp/d"; then
		fail "ctplan $c: --help (<) and the man page (>) list different options:"
		cat "$tmp/d"
	fi
done

# long options named anywhere in the page (prose, examples): ctplan's, or
# another tool's (iptables' --to-ports, sosreport's names), nothing else
foreign='--to-ports'
sed 's/\\-/-/g' "$man" | grep -v '^\.\\"' |
	grep -oE '(^|[^a-zA-Z0-9-])--[a-z][a-z0-9-]*' | sed 's/^[^-]*//' |
	sort -u >"$tmp/named"
sort -u "$tmp/all_help" >"$tmp/known"
printf '%s\n' $foreign >>"$tmp/known"
sort -u -o "$tmp/known" "$tmp/known"
unknown=$(comm -23 "$tmp/named" "$tmp/known")
[ -z "$unknown" ] || fail "the man page names options no command has:" $unknown

# the collector: its -h lists -o -n -h, as the man page's COLLECTOR does
if sh "$collect" -h >"$tmp/ch" 2>&1; then
	grep -oE '^ +-[a-z]' "$tmp/ch" | tr -d ' ' | sort -u >"$tmp/c_opts"
	awk -F'\t' '$1 == "ctplan-collect" { print $2 }' "$tmp/man_opts" |
		sort -u >"$tmp/m_opts"
	diff "$tmp/c_opts" "$tmp/m_opts" >"$tmp/d" ||
		{ fail "ctplan-collect -h (<) and the man page (>) differ:"; cat "$tmp/d"; }
else
	fail "ctplan-collect -h exits non-zero"
fi

for s in NAME SYNOPSIS DESCRIPTION COMMANDS COLLECTOR '"EXIT STATUS"' \
	ENVIRONMENT FILES EXAMPLES '"SEE ALSO"'; do
	grep -q "^\.SH $s\$" "$man" || fail "the man page has no section $s"
done

if command -v groff >/dev/null 2>&1; then
	groff -man -ww -Tutf8 "$man" >"$tmp/render" 2>"$tmp/warn" ||
		fail "groff fails on the man page"
	[ -s "$tmp/warn" ] && { fail "groff -ww warns:"; head "$tmp/warn"; }
	sed "s/.\x08//g" "$tmp/render" | grep -q "EXIT STATUS" || fail "the rendered page has no EXIT STATUS"
else
	echo "note: groff not installed (Debian: groff-base), rendering not checked"
fi
finish "man page: $(printf '%s\n' $cmds | wc -l) commands, $(wc -l <"$tmp/man_opts") options, in sync with --help"
