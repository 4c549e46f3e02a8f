#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Peak memory of `difs run` for a stream -> txtfile job at 1 M and 10 M
# records (issue: below 64 MiB whatever the record count).  Prints one line
# per size: records, seconds, records/s, output MiB, peak RSS MiB, and the
# 10M/1M RSS ratio (the baseline is the 1 M run of the same invocation).
#
# usage: tests/bench/pipe_rss.sh [PATH/TO/difs] [channels]
set -eu
difs=${1:-build/difs}
ch=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/job.json" <<JSON
{"type":"job","version":"2.0","configuration":{
 "setting":{"errorLimit":{"record":"0"},"speed":{"concurrent":"$ch"}},
 "reader":{"plugin":"stream","parameter":{"sliceRecordCount":"\${count}","column":[
   {"type":"long","incr":"1,1"},{"type":"string","value":"a fairly ordinary string value, with a comma"},
   {"type":"double","value":"3.25"},{"type":"date","incr":"2026-01-01 00:00:00,1,s"},
   {"type":"bool","value":"false"}]}},
 "writer":{"plugin":"txtfile","parameter":{"path":"$work/out","fileName":"b","writeMode":"truncate","fileFormat":"csv"}}}}
JSON
run() {
  python3 - "$difs" "$work/job.json" "$1" "$work/out" <<'PY'
import resource, subprocess, sys, time, os
difs, job, count, out = sys.argv[1:5]
t = time.time()
p = subprocess.run([difs, "run", job, "--cycle", "20260101000000", "-p", "count=" + count, "-p", "out=" + out],
                   stderr=subprocess.DEVNULL)
dt = time.time() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
print("%s %d %.2f %.0f %.1f %.1f %.2f" % ("ok" if p.returncode == 0 else "FAILED", int(count), dt,
      int(count) / dt, size / 1048576.0, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime))
PY
}
echo "# difs run stream->txtfile, channels=$ch, $(nproc) cores, $(date -u +%FT%TZ)"
echo "# status records seconds records/s output_MiB peak_rss_MiB cpu_s"
a=$(run 1000000); echo "$a"
b=$(run 10000000); echo "$b"
python3 -c "
a='$a'.split(); b='$b'.split()
r=float(b[5])/float(a[5])
print('rss ratio 10M/1M = %.3f (target <= 1.10); 10M peak %.1f MiB (target < 64)' % (r, float(b[5])))
"
