# Sourced by lab tests and lab scripts: serialize every run that touches
# the real kernel on this machine (ctest's RESOURCE_LOCK covers one ctest
# run only; this covers manual runs and several checkouts too).  Some lab
# tests change global settings (nf_conntrack_buckets, nf_conntrack_max in
# the root namespace); holding this lock means no other lab run sees them.
#
#   . "$src/tests/lab/lab_lock.sh"    # blocks until the lock is ours
#
# The lock is released when the sourcing shell exits (fd 9 closes).
# A script run by a lock holder (CTPLAN_LAB_LOCKED=1, inherited) is
# covered by its parent's lock; taking it again would deadlock.
if [ "${CTPLAN_LAB_LOCKED:-0}" != 1 ]; then
ctplan_lab_lock=${CTPLAN_LAB_LOCK:-/run/lock/ctplan-lab.lock}
exec 9>>"$ctplan_lab_lock" || {
	echo "SKIP: cannot open lab lock $ctplan_lab_lock" >&2
	exit 77
}
if ! flock -w 900 9; then
	echo "lab lock $ctplan_lab_lock: still held after 900 s" >&2
	exit 1
fi
export CTPLAN_LAB_LOCKED=1
fi
