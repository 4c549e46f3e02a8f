#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Peak memory of `difs run` for a stream -> oss job written to difs-emu, at
# 1 M and 10 M records: the oss writer stages parts in its spool on disk and
# uploads them from there, so its memory must not grow with the object (the
# target: 10 M within 10 % of 1 M, and below 64 MiB).  Prints one line per
# size: status, records, seconds, records/s, object MiB, peak RSS MiB, CPU s.
#
# usage: tests/bench/osswriter_rss.sh PATH/TO/difs PATH/TO/difs-emu [channels] [blockSizeInMB]
set -eu
difs=${1:-build/difs}
emu=${2:-build/difs-emu}
ch=${3:-1}
block=${4:-8}
work=$(mktemp -d)
emupid=
cleanup() { [ -n "$emupid" ] && kill "$emupid" 2>/dev/null && wait "$emupid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/emu" "$work/tmp"
"$emu" --data "$work/emu" --access-key AKID:SECRET --oss 127.0.0.1:0 --bucket bench \
  --sync off > "$work/emu.out" 2>/dev/null &
emupid=$!
for _ in $(seq 1 150); do grep -q ready "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*oss http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/emu.out" | head -1)
[ -n "$port" ] || { echo "difs-emu did not start"; exit 1; }
cat > "$work/job.json" <<JSON
{"type":"job","version":"2.0","configuration":{
 "setting":{"errorLimit":{"record":"0"},"speed":{"concurrent":"$ch"}},
 "reader":{"plugin":"stream","parameter":{"sliceRecordCount":"\${count}","column":[
   {"type":"long","incr":"1,1"},{"type":"string","value":"a fairly ordinary string value, with a comma"},
   {"type":"double","value":"3.25"},{"type":"date","incr":"2026-01-01 00:00:00,1,s"},
   {"type":"bool","value":"false"}]}},
 "writer":{"plugin":"oss","parameter":{"endpoint":"http://127.0.0.1:$port","bucket":"bench",
   "accessId":"AKID","accessKey":"SECRET","object":"rss/\${count}/part","writeMode":"truncate",
   "fileFormat":"csv","nullFormat":"","blockSizeInMB":$block}}}}
JSON
run() {
  TMPDIR="$work/tmp" python3 - "$difs" "$work/job.json" "$1" "$work/emu" <<'PY'
import resource, subprocess, sys, time, os
difs, job, count, data = sys.argv[1:5]
t = time.time()
p = subprocess.run([difs, "run", job, "--cycle", "20260101000000", "-p", "count=" + count],
                   stderr=subprocess.PIPE, text=True)
dt = time.time() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
size = 0
for line in p.stderr.splitlines():
    if "oss writer: wrote" in line and "(" in line:
        size += int(line.rsplit("(", 1)[1].split()[0])
if p.returncode != 0:
    sys.stderr.write(p.stderr[-2000:])
print("%s %d %.2f %.0f %.1f %.1f %.2f" % ("ok" if p.returncode == 0 else "FAILED", int(count), dt,
      int(count) / dt, size / 1048576.0, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime))
PY
}
echo "# difs run stream->oss (difs-emu), channels=$ch, blockSizeInMB=$block, $(nproc) cores, $(date -u +%FT%TZ)"
echo "# status records seconds records/s object_MiB peak_rss_MiB cpu_s"
a=$(run 1000000); echo "$a"
b=$(run 10000000); echo "$b"
python3 -c "
a='$a'.split(); b='$b'.split()
r=float(b[5])/float(a[5])
print('rss ratio 10M/1M = %.3f (target <= 1.10); 10M peak %.1f MiB (target < 64)' % (r, float(b[5])))
"
