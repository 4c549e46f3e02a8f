#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ls -l of a job directory with 100,000 instances through the real mount
# (target: under 2 s), printed next to the baseline: ls -l of a local
# directory with 100,000 subdirectories on the filesystem of the work dir,
# measured in the same run.
#
# The instances are made with the job paused (`pause`, then `backfill FROM
# TO` on a 1-minute UTC schedule): they are WAITING records in the store,
# which is what ls -l lists.  The daemon runs with the hidden --nosync (no
# fsync per store transaction): creating 100,000 records is set-up, not
# what is measured.  The kernel has looked up none of them when the first
# ls -l runs ("cold"); the second ("warm") shows the cached case.  Exit 1
# when the cold ls -l takes 2 s or more, 77 without /dev/fuse/fusermount3.
#
# usage: ls_100k.sh PATH/TO/difs [N] [WORKBASE]
set -u
DIFS=${1:?usage: ls_100k.sh PATH/TO/difs [N] [WORKBASE]}
N=${2:-100000}
BASE=${3:-${TMPDIR:-/tmp}}
case "$DIFS" in /*) ;; *) DIFS=$PWD/$DIFS ;; esac
. "$(dirname "$0")/mount_lib.sh"
bench_require_fuse

WORK=$(mktemp -d "$BASE/difs-ls100k.XXXXXX")
MNT=$WORK/mnt
STATE=$WORK/state
BENCH_MOUNT_ARGS=--nosync
trap bench_cleanup EXIT
mkdir -p "$MNT" "$WORK/out" "$WORK/local"

# the cycle range: N minutes from 2025-01-01 00:00 UTC
read -r FROM TO < <(python3 -c "
import datetime as d
a = d.datetime(2025, 1, 1)
b = a + d.timedelta(minutes=$N)
print(a.strftime('%Y%m%d%H%M%S'), b.strftime('%Y%m%d%H%M%S'))")

bench_mount "$STATE" "$DIFS"
cat > "$MNT/jobs/big.json" <<JSON
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "1" } },
    "reader": { "plugin": "stream", "parameter": { "sliceRecordCount": "1",
      "column": [ { "type": "long", "value": "1" } ] } },
    "writer": { "plugin": "txtfile", "parameter": { "path": "$WORK/out",
      "fileName": "big", "writeMode": "truncate", "fileFormat": "csv" } }
  },
  "schedule": { "cycle": "1m", "timezone": "UTC" }
}
JSON
echo pause > "$MNT/instances/big/ctl"
t0=$(now)
echo "backfill $FROM $TO" > "$MNT/instances/big/ctl" || { echo "backfill refused"; exit 1; }
t1=$(now)
echo "created $N instances with one backfill in $(secs "$t0" "$t1") s"

# let the scheduler finish its first pass over the new instances (it
# records why each one waits, under its lock): wait until a ctl write is
# answered at once again, and report how long that took
t0=$(now)
for _ in $(seq 1 600); do
	a=$(now)
	echo pause > "$MNT/instances/big/ctl"
	b=$(now)
	python3 -c "import sys; sys.exit(0 if $b - $a < 0.2 else 1)" && break
	sleep 1
done
t1=$(now)
echo "scheduler settled after $(secs "$t0" "$t1") s"

# the kernel has no dentry of any instance yet (ctl made them): the first
# ls -l is cold, the second warm
t0=$(now); ls -l "$MNT/instances/big" > "$WORK/ls1.out"; t1=$(now)
t2=$(now); ls -l "$MNT/instances/big" > "$WORK/ls2.out"; t3=$(now)
cold=$(secs "$t0" "$t1")
warm=$(secs "$t2" "$t3")
lines=$(grep -c '^d' "$WORK/ls1.out")
bench_umount
[ "$lines" -ge "$N" ] || { echo "only $lines instances listed"; exit 1; }

python3 -c "
import os, sys
d = sys.argv[1]
for i in range($N):
    os.mkdir(os.path.join(d, '%014d' % (20250101000000 + i)))" "$WORK/local"
ls -l "$WORK/local" >/dev/null
t0=$(now); ls -l "$WORK/local" > "$WORK/ls3.out"; t1=$(now)
base=$(secs "$t0" "$t1")
fstype=$(stat -f -c %T "$WORK/local")

echo "ls -l of instances/big ($lines instance dirs) through difs: cold $cold s, warm $warm s"
echo "baseline: ls -l of a local directory with $N subdirectories ($fstype): $base s"
if python3 -c "import sys; sys.exit(0 if $cold < 2.0 else 1)"; then
	echo "PASS: cold ls -l under 2 s"
else
	echo "FAIL: cold ls -l took $cold s (target < 2 s)"
	exit 1
fi
