#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# difs run: a stream -> txtfile job of 1,000,000 records produces exactly
# the bytes an independent generator (Python, below) produces; errorLimit
# and mbps behave as documented.
#
# usage: run_stream_txtfile.sh PATH/TO/difs
set -u
difs=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

cat > "$work/job.json" <<'JSON'
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "1" } },
    "reader": {
      "plugin": "stream",
      "parameter": {
        "sliceRecordCount": "${count}",
        "column": [
          { "type": "long", "incr": "1,1" },
          { "type": "string", "value": " hello, world " },
          { "type": "double", "value": "2.5" },
          { "type": "date", "incr": "2026-01-01 00:00:00,1,s", "dateFormat": "yyyy-MM-dd HH:mm:ss" },
          { "type": "string", "value": null },
          { "type": "bool", "value": "true" },
          { "type": "string", "value": "say \"hi\"" }
        ]
      }
    },
    "writer": {
      "plugin": "txtfile",
      "parameter": {
        "path": "${out}",
        "fileName": "data",
        "writeMode": "truncate",
        "fileFormat": "csv",
        "nullFormat": "\\N",
        "header": ["id", "msg", "amount", "at", "none", "flag", "quote"],
        "suffix": "csv"
      }
    }
  }
}
JSON

python3 - "$work/expected.csv" <<'PY'
import datetime, sys
base = datetime.datetime(2026, 1, 1)
with open(sys.argv[1], "w", newline="") as f:
    f.write("id,msg,amount,at,none,flag,quote\n")
    for i in range(1000000):
        at = (base + datetime.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S")
        f.write('%d,"hello, world",2.5,%s,\\N,true,"say ""hi"""\n' % (i + 1, at))
PY

# 1. one million records, byte-exact
if "$difs" run "$work/job.json" --cycle 20260101000000 -p count=1000000 -p out="$work/out" \
    2> "$work/log1"; then
  ok "difs run of 1,000,000 records exits 0"
else
  notok "difs run of 1,000,000 records exits 0"; cat "$work/log1"
fi
f="$work/out/data__20260101000000_0.csv"
if cmp "$f" "$work/expected.csv"; then
  ok "output is byte-identical to the independent generator ($(wc -c < "$f") bytes)"
else
  notok "output differs from the independent generator"
fi
grep -q 'summary: succeeded' "$work/log1" && ok "log has the final summary" || notok "log has the final summary"
grep -q 'records read 1000000, written 1000000, dirty 0' "$work/log1" \
  && ok "summary counts 1,000,000 records" || notok "summary counts 1,000,000 records"
ls -a "$work/out" | grep -q '\.tmp' && notok "no temporary file left" || ok "no temporary file left"

# 2. unknown parameter: exit 2, message names it
"$difs" run "$work/job.json" --cycle 20260101000000 -p count=10 2> "$work/log2"; rc=$?
[ "$rc" -eq 2 ] && ok "unknown \${out} exits 2" || notok "unknown \${out} exits 2 (got $rc)"
grep -q 'out' "$work/log2" && ok "message names the parameter" || notok "message names the parameter"

# 3. errorLimit: records that cannot be encoded in GBK are dirty
sed -e 's/"nullFormat"/"encoding": "GBK", "nullFormat"/' \
    -e 's/ hello, world /\\ud83d\\ude00/' "$work/job.json" > "$work/dirty.json"
"$difs" run "$work/dirty.json" --cycle 20260101000000 -p count=20 -p out="$work/out3" 2> "$work/log3"; rc=$?
[ "$rc" -eq 1 ] && ok "dirty records over errorLimit.record=0 fail the run" || notok "errorLimit 0 fails (got $rc)"
grep -q 'exceed setting.errorLimit.record = 0' "$work/log3" \
  && ok "message names the limit" || { notok "message names the limit"; cat "$work/log3"; }
[ -z "$(ls "$work/out3" 2>/dev/null)" ] && ok "a failed run leaves no output file" || notok "a failed run leaves no output file"
sed -e 's/"record": "0"/"record": "100"/' "$work/dirty.json" > "$work/dirty100.json"
"$difs" run "$work/dirty100.json" --cycle 20260101000000 -p count=20 -p out="$work/out4" 2> "$work/log4"; rc=$?
[ "$rc" -eq 0 ] && ok "20 dirty records within errorLimit.record=100 succeed" || notok "within limit succeeds (got $rc)"
grep -q 'dirty 20' "$work/log4" && ok "dirty records are counted" || notok "dirty records are counted"
[ "$(grep -c 'dirty record [0-9]*:' "$work/log4")" -eq 10 ] \
  && ok "the first 10 dirty records are logged in full" || notok "first 10 dirty records logged"
[ "$(wc -l < "$work/out4/data__20260101000000_0.csv")" -eq 1 ] \
  && ok "only the header was written" || notok "only the header was written"

# 4. mbps: ~3 MiB at 1 MiB/s takes at least 2 s; the log shows the limit
sed -e 's/"concurrent": "1"/"concurrent": "1", "mbps": "1"/' "$work/job.json" > "$work/slow.json"
start=$(date +%s.%N)
"$difs" run "$work/slow.json" --cycle 20260101000000 -p count=50000 -p out="$work/out5" 2> "$work/log5"; rc=$?
end=$(date +%s.%N)
size=$(wc -c < "$work/out5/data__20260101000000_0.csv")
secs=$(python3 -c "print(round($end - $start, 2))")
[ "$rc" -eq 0 ] && ok "throttled run succeeds" || notok "throttled run succeeds"
python3 -c "import sys; sys.exit(0 if $secs >= ($size / 1048576.0) - 1.2 else 1)" \
  && ok "mbps 1 throttles: $size bytes took $secs s" || notok "mbps 1 throttles: $size bytes took only $secs s"
grep -q 'mbps limit 1 MiB/s' "$work/log5" && ok "summary shows the mbps limit" || notok "summary shows the mbps limit"

echo "1..$n"
exit $fail
