# Sourced by the tests/cli/*.sh scripts after `set`: their arguments
# (ctplan=$1, the binary; src=$2, the source tree), a temporary directory
# $tmp removed on exit, fail() to count a failure, and finish MESSAGE to
# end: exit 1 with the count, else print MESSAGE.
ctplan=$1
src=$2
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails failure(s)"
		exit 1
	fi
	echo "$*"
}
