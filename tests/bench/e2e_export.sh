#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# e2e_export.sh - end-to-end export benchmark, run on demand:
#
#   tests/bench/e2e_export.sh BUILD_DIR [RECORDS] [SHARDS]
#
# In one run, on the same data:
#   1. difs-emu (sync off) with a table of SHARDS stream shards (default 4);
#      difs-load writes RECORDS changes (default 1,000,000; ~200-byte rows,
#      put=60,update=30,delete=10 over 200,000 keys) as fast as it can; the
#      window [T0, T1) brackets the load, so it holds exactly RECORDS stream
#      records;
#   2. the read ceiling: tests/stream_ceiling reads every record, one thread
#      per shard, nothing else;
#   3. difs: `difs run` of a seed-like job (otsstream row mode uid,name ->
#      oss csv, one channel per shard, no mbps cap, safetyMarginSeconds 0)
#      under /usr/bin/time: seconds, peak RSS, CPU;
#   4. the peer: tests/bench/peer_export.js (Node.js, official SDKs) under
#      /usr/bin/time;
#   5. the upload ceiling: curl PUTs the same bytes difs wrote (its objects,
#      one curl per object in parallel) to the emulator, V1-signed with
#      openssl;
#   6. difs' and the peer's CSV lines are compared (same multiset).
# Prints a markdown section for tests/bench/RESULTS.md.  Needs node,
# tests/conformance/node_modules (npm ci there), curl, openssl, python3.
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR [RECORDS] [SHARDS]}" && pwd)
records=${2:-1000000}
shards=${3:-4}
here=$(cd "$(dirname "$0")" && pwd)
difs=$build/difs emu=$build/difs-emu load=$build/difs-load ceil=$build/tests/stream_ceiling
for b in "$difs" "$emu" "$load" "$ceil"; do [ -x "$b" ] || { echo "missing $b (ninja -C $build)" >&2; exit 1; }; done
for c in node curl openssl python3 /usr/bin/time; do command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 1; }; done
[ -d "$here/../conformance/node_modules/tablestore" ] || { echo "run npm ci in tests/conformance" >&2; exit 1; }

ID=benchid SECRET=benchsecret INST=bench BUCKET=bench-bucket TABLE=bench
work=$(mktemp -d /tmp/difs-bench-XXXXXX)
mkdir -p "$work/tmp"
export TMPDIR=$work/tmp	# the oss writer's spool of `difs run`: private to this run
emu_pid=""
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
now_ms() { date +%s%3N; }

"$emu" --ots 127.0.0.1:0 --oss 127.0.0.1:0 --data "$work/data" --access-key "$ID:$SECRET" \
	--instance "$INST" --bucket "$BUCKET" --shards "$TABLE=$shards" --sync off \
	--log-level warn > "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 100); do grep -qx ready "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
ots=$(awk '$1 == "ots" { print $2 }' "$work/emu.out")
oss=$(awk '$1 == "oss" { print $2 }' "$work/emu.out")

echo "# loading $records changes into $TABLE ($shards shards)" >&2
T0=$(now_ms)
"$load" --endpoint "$ots" --instance "$INST" --access-key "$ID:$SECRET" --table "$TABLE" \
	--create --count "$records" --keys 200000 --row-bytes 200 --seed 42 --quiet > "$work/load.out"
T1=$(( $(now_ms) + 1 ))
cat "$work/load.out" >&2
while [ "$(now_ms)" -lt $((T1 + 1500)) ]; do sleep 0.1; done

# ---- read ceiling -------------------------------------------------------------------
echo "# read ceiling" >&2
/usr/bin/time -o "$work/ceil.time" -f "%e %M %U %S" "$ceil" "$ots" "$INST" "$ID:$SECRET" "$TABLE" > "$work/ceil.out"
cat "$work/ceil.out" >&2

# ---- difs ---------------------------------------------------------------------------
cat > "$work/ots.json" <<EOF
{ "type": "ots", "endpoint": "$ots", "instanceName": "$INST", "accessId": "$ID", "accessKey": "$SECRET" }
EOF
cat > "$work/oss.json" <<EOF
{ "type": "oss", "endpoint": "$oss", "bucket": "$BUCKET", "accessId": "$ID", "accessKey": "$SECRET" }
EOF
cat > "$work/job.json" <<EOF
{
  "type": "job", "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "$shards" } },
    "reader": { "plugin": "otsstream", "parameter": {
        "datasource": "ots", "dataTable": "$TABLE", "statusTable": "BenchStatus",
        "startTimestampMillis": "\${start_ms}", "endTimestampMillis": "\${end_ms}",
        "mode": "single_version_and_update_only", "column": [ { "name": "uid" }, { "name": "name" } ],
        "isExportSequenceInfo": false, "maxRetries": 30, "safetyMarginSeconds": 0 } },
    "writer": { "plugin": "oss", "parameter": {
        "datasource": "oss", "object": "difs/out", "writeMode": "truncate", "fileFormat": "csv",
        "encoding": "UTF-8", "nullFormat": "null", "fieldDelimiter": "," } }
  }
}
EOF
echo "# difs run" >&2
/usr/bin/time -o "$work/difs.time" -f "%e %M %U %S" "$difs" run "$work/job.json" \
	-p "start_ms=$T0" -p "end_ms=$T1" --source "$work/ots.json" --source "$work/oss.json" \
	--state "$work/state" 2> "$work/difs.log"
grep summary "$work/difs.log" >&2

# ---- peer ---------------------------------------------------------------------------
echo "# peer (Node.js, official SDKs)" >&2
/usr/bin/time -o "$work/peer.time" -f "%e %M %U %S" node "$here/peer_export.js" "$ots" "$INST" \
	"$oss" "$BUCKET" "$ID" "$SECRET" "$TABLE" "$T0" "$T1" peer/out > "$work/peer.out"
cat "$work/peer.out" >&2

# ---- upload ceiling: curl PUTs of difs' objects ---------------------------------------
echo "# upload ceiling (curl)" >&2
mkdir -p "$work/payload"
i=0
for f in "$work/data/oss/$BUCKET"/difs/*; do cp "$f" "$work/payload/$i"; i=$((i + 1)); done
put() {	# FILE KEY
	local d sig
	d=$(LC_ALL=C date -u +"%a, %d %b %Y %H:%M:%S GMT")
	sig=$(printf 'PUT\n\napplication/octet-stream\n%s\n/%s/%s' "$d" "$BUCKET" "$2" |
		openssl dgst -sha1 -hmac "$SECRET" -binary | base64)
	curl -sf -o /dev/null -X PUT -T "$1" -H "Date: $d" -H "Content-Type: application/octet-stream" \
		-H "Authorization: OSS $ID:$sig" -H "Expect:" "$oss/$BUCKET/$2"
}
t_up0=$(now_ms)
pids=()
for f in "$work/payload"/*; do put "$f" "curl/$(basename "$f")" & pids+=($!); done
up_ok=1
for p in "${pids[@]}"; do wait "$p" || up_ok=0; done
t_up1=$(now_ms)
[ $up_ok -eq 1 ] || { echo "curl upload failed" >&2; exit 1; }

# the read ceiling again, now that the emulator's pages are warm for it too
# (the better of the two runs counts)
/usr/bin/time -o "$work/ceil2.time" -f "%e %M %U %S" "$ceil" "$ots" "$INST" "$ID:$SECRET" "$TABLE" > "$work/ceil2.out"
cat "$work/ceil2.out" >&2

# ---- same output? ---------------------------------------------------------------------
same=no
if [ "$(cat "$work/data/oss/$BUCKET"/difs/* | sort | md5sum)" = "$(cat "$work/data/oss/$BUCKET"/peer/* | sort | md5sum)" ]; then
	same=yes
fi

python3 - "$work" "$records" "$shards" "$same" "$t_up0" "$t_up1" <<'PY'
import json, os, re, sys, platform, datetime, subprocess
work, records, shards, same, up0, up1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
def tm(name):
    e, m, u, s = open(os.path.join(work, name + ".time")).read().split()[-4:]
    return float(e), int(m) / 1024.0, float(u) + float(s)
bucket = os.path.join(work, "data", "oss", "bench-bucket")
def size(d):
    return sum(os.path.getsize(os.path.join(bucket, d, f)) for f in os.listdir(os.path.join(bucket, d)))
difs_bytes, peer_bytes, up_bytes = size("difs"), size("peer"), size("curl")
de, dm, dc = tm("difs")
pe, pm, pc = tm("peer")
ce, cm, cc = tm("ceil")
crec, csec = 0, 1e9
for f in ("ceil.out", "ceil2.out"):
    cl = open(os.path.join(work, f)).read()
    r, s = int(re.search(r"records (\d+)", cl).group(1)), float(re.search(r"seconds ([0-9.]+)", cl).group(1))
    if s < csec:
        crec, csec = r, s
peer = json.loads(open(os.path.join(work, "peer.out")).read())
log = open(os.path.join(work, "difs.log")).read()
m = re.search(r"records read (\d+), written (\d+)", log)
lines = int(m.group(2)) if m else -1
MB = 1e6
difs_rps, peer_rps = records / de, records / pe
difs_mbs, peer_mbs = difs_bytes / MB / de, peer_bytes / MB / pe
bpr = difs_bytes / records                     # CSV bytes per stream record
read_ceiling_mbs = crec / csec * bpr / MB       # read ceiling in CSV MB/s
up_sec = (up1 - up0) / 1000.0
up_mbs = up_bytes / MB / up_sec
lower = min(read_ceiling_mbs, up_mbs)
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p' | head -1"], capture_output=True, text=True).stdout.strip()
print(f"## `tests/bench/e2e_export.sh` — export of a window of {records:,} stream records, difs-emu -> difs-emu\n")
print(f"{datetime.date.today()}, machine: {os.cpu_count()} cores ({cpu}), "
      f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}; "
      f"{shards} shards, one channel per shard; ~200-byte rows, put=60,update=30,delete=10; "
      f"row mode (uid,name): {lines:,} CSV lines (deletes produce none). Emulator, exporter and "
      f"load share the machine.\n")
print("| exporter | seconds | records/s | CSV MB | CSV MB/s | peak RSS MiB | CPU s |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| difs | {de:.2f} | {difs_rps:,.0f} | {difs_bytes/MB:.1f} | {difs_mbs:.1f} | {dm:.1f} | {dc:.2f} |")
print(f"| peer (Node.js: tablestore + own PlainBuffer decoder, ali-oss multipart) | {pe:.2f} | {peer_rps:,.0f} | {peer_bytes/MB:.1f} | {peer_mbs:.1f} | {pm:.1f} | {pc:.2f} |")
print()
print(f"- difs/peer: **{difs_rps/peer_rps:.2f}x** (target >= 3x); same CSV lines: {same}")
print(f"- read ceiling (GetStreamRecord only, {shards} threads, better of a run before and after the exports): {crec:,} records in {csec:.2f} s = "
      f"{crec/csec:,.0f} records/s = {read_ceiling_mbs:.1f} MB/s of CSV")
print(f"- upload ceiling (curl PUT of difs' {len(os.listdir(os.path.join(bucket, 'curl')))} objects in parallel): "
      f"{up_bytes/MB:.1f} MB in {up_sec:.2f} s = {up_mbs:.1f} MB/s")
print(f"- difs / lower ceiling ({'read' if read_ceiling_mbs <= up_mbs else 'upload'}, {lower:.1f} MB/s): "
      f"**{100*difs_mbs/lower:.0f} %** (target >= 70 %)")
PY
