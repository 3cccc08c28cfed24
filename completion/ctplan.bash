# bash completion for ctplan(1) and ctplan-collect.
# The commands and each command's options are read from the installed
# binary's own --help (so they never drift from it), once per shell.

_ctplan_help_words()
{
	# $1: "" for the command list, else a command: its options
	local cmd=$1 var
	var=_ctplan_cache_${cmd:-commands}
	if [[ -z ${!var+set} ]]; then
		if [[ -z $cmd ]]; then
			# "commands:" block of 'ctplan --help': the first word
			printf -v "$var" '%s' "$(ctplan --help 2>/dev/null |
				awk '/^commands:/ { on = 1; next }
				     on && /^$/ { exit }
				     on { print $1 }')"
		else
			# option lines of 'ctplan CMD --help': "-f, --format FMT";
			# an option followed by an upper-case word takes a value
			# and is printed with a trailing '='
			printf -v "$var" '%s' "$(ctplan "$cmd" --help 2>/dev/null |
				awk '/^ +-/ { n = 0
					for (i = 1; i <= NF; i++) {
						w = $i; sub(/,$/, "", w)
						if (w !~ /^-/) break
						o[++n] = w }
					v = (i <= NF && $i ~ /^[A-Z][A-Z0-9_-]*$/) ? "=" : ""
					for (j = 1; j <= n; j++) print o[j] v }')"
		fi
	fi
	printf '%s\n' "${!var}"
}

_ctplan()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} != -* ]]; then
			cmd=${COMP_WORDS[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
			"$(_ctplan_help_words '') --help" -- "$cur")
		return
	fi

	# values of the options that take one
	case $prev in
	-f | --format)
		case $cmd in
		analyze) mapfile -t COMPREPLY < <(compgen -W \
			'text json csv html prom' -- "$cur") ;;
		fleet) mapfile -t COMPREPLY < <(compgen -W 'csv text' -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -W 'text json' -- "$cur") ;;
		esac
		return ;;
	--color)
		mapfile -t COMPREPLY < <(compgen -W 'auto always never' -- "$cur")
		return ;;
	-o | --output)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--csv-dir)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return ;;
	-*)
		# any other option that takes a value: nothing to offer
		if _ctplan_help_words "$cmd" | grep -qxF -- "$prev="; then
			return
		fi ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
			"$(_ctplan_help_words "$cmd" | sed 's/=$//')" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
	fi
}
complete -F _ctplan ctplan

_ctplan_collect()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	-o)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		return ;;
	-n) return ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W '-o -n -h' -- "$cur")
}
complete -F _ctplan_collect ctplan-collect
