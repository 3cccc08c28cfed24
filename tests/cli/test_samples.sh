#!/usr/bin/env bash
# End to end on samples/: the inventory sections of ctplan's JSON report
# on the real lab capture equal the expected file (git's test_cmp way).
# Other sections (hash, nat, ...) are tested by their own tests.
# Regenerate after a deliberate change with: UPDATE=1 test_samples.sh ...
set -euo pipefail
ctplan=$1
src=$2
cd "$src"

extract() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
json.dump({k: d[k] for k in ("inputs", "entries", "table", "stats")},
          sys.stdout, indent=1, sort_keys=True)'
}

status=0
for sample in lab-6.18; do
	want=tests/cli/expected/$sample.inventory.json
	got=$(mktemp)
	"$ctplan" analyze --format json -q "samples/$sample" | extract >"$got"
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$got" "$want"
	elif ! diff -u "$want" "$got"; then
		echo "FAIL: samples/$sample differs from $want"
		status=1
	fi
	rm -f "$got"
done
exit $status
