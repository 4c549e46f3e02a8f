# SPDX-License-Identifier: MIT
# mount_lib.sh - sourced by the benchmarks that run `difs mount -f` in the
# background (ls_100k.sh, catchup_ls.sh).  The sourcing script sets WORK
# (its work directory) and MNT (the mount point) first.
#
#   bench_require_fuse        exit 77 without /dev/fuse or fusermount3
#   bench_mount STATE CMD...  run CMD... (a difs binary, maybe behind
#                             faketime) as "CMD... mount MNT --state STATE -f"
#                             plus BENCH_MOUNT_ARGS; wait until it serves
#   bench_umount              unmount and reap the daemon
#   bench_cleanup             for trap EXIT: unmount, kill, remove WORK
#   now / secs A B            wall-clock seconds, B - A to 3 decimals

BENCH_DPID=
BENCH_MOUNT_ARGS=${BENCH_MOUNT_ARGS:-}

bench_require_fuse() {
	[ -c /dev/fuse ] || { echo "SKIP: /dev/fuse is absent"; exit 77; }
	command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 missing"; exit 77; }
}

bench_mount() {
	local state=$1; shift
	# shellcheck disable=SC2086 # BENCH_MOUNT_ARGS is a list of words
	"$@" mount "$MNT" --state "$state" -f $BENCH_MOUNT_ARGS >>"$WORK/daemon.err" 2>&1 &
	BENCH_DPID=$!
	for _ in $(seq 1 1200); do
		grep -q " $MNT fuse" /proc/self/mounts && [ -d "$MNT/jobs" ] && return 0
		sleep 0.1
	done
	echo "difs mount did not come up"; cat "$WORK/daemon.err"; exit 1
}

bench_umount() {
	fusermount3 -u "$MNT"
	wait "$BENCH_DPID"
	BENCH_DPID=
}

bench_cleanup() {
	grep -q " $MNT fuse" /proc/self/mounts && fusermount3 -u -z "$MNT"
	[ -n "$BENCH_DPID" ] && kill "$BENCH_DPID" 2>/dev/null
	rm -rf "$WORK"
}

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
