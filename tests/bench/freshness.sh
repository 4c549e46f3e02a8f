#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# freshness.sh - write-to-object latency through the mount, run on
# demand:
#
#   tests/bench/freshness.sh BUILD_DIR [SECONDS] [RATE]
#
# difs-emu + difs-load (RATE changes/s, default 50, --record) for SECONDS
# (default 1800); difs mounted with the seed's job on a 1-minute cycle, the
# window [cycle-90s, cycle-30s) and safetyMarginSeconds 30.  After the load
# stops it waits for the cycle that covers the last write, unmounts, and
# for every put/update difs-load committed computes
#   latency = completion time of the object holding its line (the object
#             file's mtime in the emulator) - the time its write was answered
# and prints p50 / p99 / max as a markdown section for RESULTS.md, with the
# number of rows not found (must be 0).  Needs /dev/fuse and python3.
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR [SECONDS] [RATE]}" && pwd)
secs=${2:-1800}
rate=${3:-50}
difs=$build/difs emu=$build/difs-emu load=$build/difs-load
[ -e /dev/fuse ] || { echo "no /dev/fuse" >&2; exit 1; }
work=$(mktemp -d /tmp/difs-fresh-XXXXXX)
mnt=$work/di
mkdir -p "$mnt" "$work/tmp"
export TMPDIR=$work/tmp
emu_pid="" load_pid=""
cleanup() {
	fusermount3 -u "$mnt" 2>/dev/null || true
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$emu" --ots 127.0.0.1:0 --oss 127.0.0.1:0 --data "$work/data" --access-key fid:fsecret \
	--instance fresh --bucket fresh-bucket --log-level warn > "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 100); do grep -qx ready "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
ots=$(awk '$1 == "ots" { print $2 }' "$work/emu.out")
oss=$(awk '$1 == "oss" { print $2 }' "$work/emu.out")

"$difs" mount "$mnt" --state "$work/state"
for _ in $(seq 50); do [ -d "$mnt/jobs" ] && break; sleep 0.1; done
cat > "$mnt/sources/ots-source.json" <<EOF
{ "type": "ots", "endpoint": "$ots", "instanceName": "fresh", "accessId": "fid", "accessKey": "fsecret" }
EOF
cat > "$mnt/sources/oss-source.json" <<EOF
{ "type": "oss", "endpoint": "$oss", "bucket": "fresh-bucket", "accessId": "fid", "accessKey": "fsecret" }
EOF
"$load" --endpoint "$ots" --instance fresh --access-key fid:fsecret --table orders --create \
	--rate "$rate" --keys 100000 --record "$work/record.tsv" --quiet > "$work/load.out" 2>&1 &
load_pid=$!
cat > "$mnt/jobs/orders.json" <<'EOF'
{
  "type": "job", "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "2" } },
    "reader": { "plugin": "otsstream", "parameter": {
        "datasource": "ots-source", "dataTable": "orders",
        "statusTable": "TableStoreStreamReaderStatusTable",
        "startTimestampMillis": "${start_time}", "endTimestampMillis": "${end_time}",
        "mode": "single_version_and_update_only", "column": [ { "name": "uid" }, { "name": "name" } ],
        "isExportSequenceInfo": false, "maxRetries": 30, "safetyMarginSeconds": 30 } },
    "writer": { "plugin": "oss", "parameter": {
        "datasource": "oss-source", "object": "fresh/${start_time}", "writeMode": "truncate",
        "fileFormat": "csv", "encoding": "UTF-8", "nullFormat": "null", "fieldDelimiter": "," } }
  },
  "schedule": {
    "cycle": "1m", "timezone": "UTC",
    "params": { "start_time": "$[yyyymmddhh24miss-90/24/60/60]",
                "end_time": "$[yyyymmddhh24miss-30/24/60/60]" },
    "rerun": { "times": 3, "interval": "30s" },
    "selfDependent": true
  }
}
EOF
[ ! -e "$mnt/jobs/orders.json.error" ] || { cat "$mnt/jobs/orders.json.error" >&2; exit 1; }
echo "# load for $secs s at $rate/s" >&2
sleep "$secs"
kill "$load_pid"; wait "$load_pid" || true; load_pid=""
t_end=$(date +%s)
# the cycle whose window ends after the last write: first cycle c with c-30 > t_end
last=$(( (t_end + 30) / 60 * 60 + 60 ))
while [ "$(date +%s)" -lt $((last + 20)) ]; do sleep 5; done
states=$(cat "$mnt"/instances/orders/*/state | sort | uniq -c | tr '\n' ' ')
fusermount3 -u "$mnt"
sleep 1

python3 - "$work/record.tsv" "$work/data/oss/fresh-bucket/fresh" "$secs" "$rate" "$states" <<'PY'
import os, sys, datetime
rec, objdir, secs, rate, states = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
where = {}
objects = 0
for d, _, files in os.walk(objdir):
    for fn in files:
        p = os.path.join(d, fn)
        objects += 1
        m = os.stat(p).st_mtime
        for l in open(p):
            where[l.rstrip("\n")] = m
lat, missing = [], 0
for line in open(rec):
    _, state, op, uid, name, send, ack = line.rstrip("\n").split("\t")
    if state != "c" or op == "delete":
        continue
    m = where.get(uid + "," + name)
    if m is None:
        missing += 1
        continue
    lat.append(m - int(ack) / 1e6)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"## `tests/bench/freshness.sh` — write-to-object latency through the mount\n")
print(f"{datetime.date.today()}: {secs} s of load at {rate} changes/s; 1-minute cycles, window "
      f"[cycle-90s, cycle-30s), safetyMarginSeconds 30; {objects} objects; instances: {states}\n")
print("| rows | p50 s | p99 s | max s | rows not exported |")
print("|---:|---:|---:|---:|---:|")
print(f"| {len(lat):,} | {q(0.50):.1f} | {q(0.99):.1f} | {lat[-1]:.1f} | {missing} |")
print(f"\nTarget p99 <= 120 s: {'met' if q(0.99) <= 120 and missing == 0 else 'NOT met'}.")
PY
