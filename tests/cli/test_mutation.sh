#!/usr/bin/env bash
# Mutation test (issue 9): a few hundred seeded mutants of the real
# samples through this build's ctplan (the ASan one in the ASan build):
# no crash or sanitizer report, exit 0 or 2, every rejected line
# reported with its position, every unmutated line still counted.
# tests/fuzz/mutate.py says what is checked.
set -u
ctplan=$1
src=$2
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }
exec python3 "$src/tests/fuzz/mutate.py" "$ctplan" "$src" --count 300 \
	--seed 9
