#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ls -l through the mount while the scheduler catches up N cycles of a job
# (default 100,000), next to the same ls -l when nothing happens (idle),
# measured in the same run; optionally the same for a baseline build.
#
# The catch-up is made as it happens to a user: the daemon is down while
# a job's cycles fall due.  The job "big" (a 1-minute UTC schedule,
# "catchup": "1m", so all but the newest cycles are created SKIPPED and
# nothing runs) is defined by a daemon started under faketime N minutes
# in the past; the daemon is then mounted again at the real time, and its
# first scheduler step creates N instances.  A second job, "other"
# (paused, 1,000 instances made by a backfill), is listed all along: its
# listing has the same size idle and during the catch-up.
#
# Printed: ls -l of instances/other idle (median of 5) and during the
# catch-up (median and worst), ls -l of instances/big during the catch-up
# (worst, with the entries it listed) and idle afterwards, how long the
# catch-up took, and the ratios.  Exit 1 when the worst ls -l of
# instances/other during the catch-up takes more than 2x its idle time
# (and at least 0.2 s: below that the ratio is noise), or when the worst
# ls -l of instances/big during it takes more than 2x the idle ls -l of
# the whole finished directory (the same floor); 77 without
# /dev/fuse, fusermount3 or faketime.  Store commits are disk-synced, as
# in production (the point: no FUSE request waits for them).
#
# usage: catchup_ls.sh PATH/TO/difs [N] [PATH/TO/baseline-difs]
set -u
DIFS=${1:?usage: catchup_ls.sh PATH/TO/difs [N] [PATH/TO/baseline-difs]}
N=${2:-100000}
BASE_DIFS=${3:-}
case "$DIFS" in /*) ;; *) DIFS=$PWD/$DIFS ;; esac
case "$BASE_DIFS" in ''|/*) ;; *) BASE_DIFS=$PWD/$BASE_DIFS ;; esac
. "$(dirname "$0")/mount_lib.sh"
bench_require_fuse
command -v faketime >/dev/null || { echo "SKIP: faketime missing (apt-get install faketime)"; exit 77; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/difs-catchup.XXXXXX")
MNT=$WORK/mnt
trap bench_cleanup EXIT
mkdir -p "$MNT"

# timed_ls DIR: "SECONDS ENTRIES"
timed_ls() {
	local a b n
	a=$(now)
	n=$(ls -l "$1" | grep -c '^d')
	b=$(now)
	python3 -c "print(f'{$b - $a:.3f}', $n)"
}
job() {	# job NAME OUTDIR [extra schedule JSON]
	cat <<JSON
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "1" } },
    "reader": { "plugin": "stream", "parameter": { "sliceRecordCount": "1",
      "column": [ { "type": "long", "value": "1" } ] } },
    "writer": { "plugin": "txtfile", "parameter": { "path": "$2",
      "fileName": "$1", "writeMode": "truncate", "fileFormat": "csv" } }
  },
  "schedule": { "cycle": "1m", "timezone": "UTC"${3:-} }
}
JSON
}

# run_one LABEL DIFS: prints the figures, sets FAILED=1 on a miss
run_one() {
	local label=$1 difs=$2 state=$WORK/state-$1 past from to t0 t1 r sec n
	local -a during_other=() during_big=()
	local big_worst=0 big_worst_n=0 done_at prev=-1 stable=0
	rm -rf "$state" "$WORK/out"
	mkdir -p "$WORK/out"
	# N minutes (and one for the set-up) before now, on a minute
	past=$(python3 -c "import time; t = int(time.time()) // 60 * 60 - ($N + 1) * 60; print(time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t)))")
	read -r from to < <(python3 -c "
import datetime as d
a = d.datetime(2024, 1, 1)
print(a.strftime('%Y%m%d%H%M%S'), (a + d.timedelta(minutes=1000)).strftime('%Y%m%d%H%M%S'))")
	bench_mount "$state" faketime "$past" "$difs"
	job other "$WORK/out" > "$MNT/jobs/other.json"
	echo pause > "$MNT/instances/other/ctl"
	echo "backfill $from $to" > "$MNT/instances/other/ctl" || { echo "backfill refused"; exit 1; }
	job big "$WORK/out" ', "catchup": "1m"' > "$MNT/jobs/big.json"
	sleep 2
	bench_umount

	bench_mount "$state" "$difs"
	t0=$(now)
	# during: until instances/big stops growing (two listings alike)
	while :; do
		r=$(timed_ls "$MNT/instances/other"); during_other+=("${r% *}")
		r=$(timed_ls "$MNT/instances/big"); sec=${r% *}; n=${r#* }
		during_big+=("$sec")
		if python3 -c "import sys; sys.exit(0 if $sec > $big_worst else 1)"; then
			big_worst=$sec; big_worst_n=$n
		fi
		if [ "$n" -ge "$N" ] && [ "$n" -eq "$prev" ]; then
			stable=$((stable + 1))
			[ "$stable" -ge 1 ] && break
		fi
		prev=$n
		python3 -c "import sys; sys.exit(0 if $(now) - $t0 < 1800 else 1)" ||
			{ echo "$label: the catch-up did not finish within 30 min ($n instances)"; exit 1; }
	done
	done_at=$(python3 -c "print(f'{$(now) - $t0:.1f}')")
	# idle
	local -a idle_other=() idle_big=()
	for _ in 1 2 3 4 5; do r=$(timed_ls "$MNT/instances/other"); idle_other+=("${r% *}"); done
	for _ in 1 2 3; do r=$(timed_ls "$MNT/instances/big"); idle_big+=("${r% *}"); done
	bench_umount
	python3 - "$label" "$N" "$done_at" "$big_worst" "$big_worst_n" \
	    "${during_other[*]}" "${idle_other[*]}" "${idle_big[*]}" "${#during_big[@]}" <<'PY' || FAILED=1
import statistics as st, sys
label, n, done_at, bw, bwn, dur_o, idle_o, idle_b, nb = sys.argv[1:]
dur_o = [float(x) for x in dur_o.split()]
idle_o = [float(x) for x in idle_o.split()]
idle_b = [float(x) for x in idle_b.split()]
bw = float(bw)
io, ib = st.median(idle_o), st.median(idle_b)
print(f"{label}: catch-up of {n} cycles listed done after {done_at} s ({nb} rounds of ls -l)")
print(f"{label}: ls -l instances/other (1000 entries): idle {io:.3f} s, during the catch-up "
      f"median {st.median(dur_o):.3f} s, worst {max(dur_o):.3f} s = {max(dur_o) / io:.1f}x idle")
print(f"{label}: ls -l instances/big: worst during the catch-up {bw:.3f} s ({bwn} entries), "
      f"idle {ib:.3f} s ({n}+ entries) = {bw / ib:.1f}x idle")
ok = (max(dur_o) <= max(2 * io, 0.2)) and (bw <= max(2 * ib, 0.2))
print(f"{label}: {'PASS' if ok else 'FAIL'}: within 2x of idle")
sys.exit(0 if ok else 1)
PY
}

FAILED=0
run_one difs "$DIFS"
if [ -n "$BASE_DIFS" ]; then
	BF=$FAILED
	run_one baseline "$BASE_DIFS"
	FAILED=$BF	# the baseline is reported, not judged
fi
exit "$FAILED"
