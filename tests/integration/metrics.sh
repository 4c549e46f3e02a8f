#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# MOUNT/metrics and `difs mount --metrics PORT`: after a job succeeded, both
# the file and the HTTP body are parsed by an npm Prometheus text parser
# (tests/conformance/prom_parse.js: every family typed, histograms
# consistent, the job's SUCCESS and attempts counted); GET /metrics is 200
# with the 0.0.4 content type, HEAD too, other paths 404, other methods
# 405; the server listens on 127.0.0.1 only; a port in use makes a second
# `difs mount --metrics` fail before mounting, with a message naming the
# port; the file is 0444, read-only, its size is its bytes, stat twice
# gives the same answer while nothing changes, and a new run changes it
# (bytes and mtime).  README.md's table lists every family served.
#
# node and tests/conformance/node_modules are needed: like
# tests/conformance/run.sh this runs `npm ci` when node_modules is missing
# or stale; without node, or when npm ci fails, the test FAILS (the test
# command installs them).
. "$(dirname "$0")/lib.sh"
require_prog python3 curl node npm tar
CONF=$(cd "$(dirname "$0")/../conformance" && pwd)
if [ ! -f "$CONF/node_modules/.package-lock.json" ] ||
    [ "$CONF/package-lock.json" -nt "$CONF/node_modules/.package-lock.json" ] ||
    [ ! -d "$CONF/node_modules/parse-prometheus-text-format" ]; then
	echo "# npm ci in $CONF (node_modules missing or out of date)"
	(cd "$CONF" && npm ci --no-audit --no-fund >&2) ||
		bail "npm ci in tests/conformance failed: the Prometheus parser is not installed"
fi
it_setup
I=$MNT/instances

# a free port on 127.0.0.1 (the kernel picks it; nothing holds it after)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
it_mount --metrics "$PORT"
diag "metrics on $URL"

# prom JOB FILE DESCRIPTION: prom_parse.js accepts FILE; its digest in FILE.json
prom() {
	if node "$CONF/prom_parse.js" "$1" <"$2" >"$2.json" 2>"$2.err"; then
		ok "$3: parsed, every family typed, histograms consistent, $1 counted"
	else
		notok "$3: parsed and checked"
		diag "$(head -n 20 "$2.err")" "$(head -c 600 "$2")"
	fi
}
# fig FILE KEY: one figure of the job from prom's digest
fig() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["job"].get(sys.argv[2], "absent"))' \
	    "$1.json" "$2"
}

# ---- a job that succeeds (as ctl.sh) --------------------------------------------
job_json 3 0 "$WORK/out" metjob >"$MNT/jobs/metjob.json" || bail "cannot write the job"
wait_for 5 test -d "$I/metjob" || bail "instances/metjob did not appear"
echo 'run 20250101000000' >"$I/metjob/ctl" || bail "ctl run"
wait_for 30 grep -qx SUCCESS "$I/metjob/20250101000000/state" 2>/dev/null ||
	bail "the run did not succeed ($(cat "$I/metjob/20250101000000/state" 2>&1))"
ok "the job ran: SUCCESS"

# ---- MOUNT/metrics ------------------------------------------------------------------
check "the root lists metrics" sh -c "ls '$MNT' | grep -qx metrics"
check "metrics is a regular file, mode 0444" test "$(stat -c '%F %a' "$MNT/metrics")" = "regular file 444"
cat "$MNT/metrics" >"$WORK/file.prom" || notok "cat MNT/metrics"
check "its size is its bytes" test "$(stat -c %s "$MNT/metrics")" = "$(wc -c <"$WORK/file.prom")"
prom metjob "$WORK/file.prom" "cat MNT/metrics"
check "file: SUCCESS instances = 1" test "$(fig "$WORK/file.prom" 'difs_job_instances{state=SUCCESS}')" = 1
check "file: attempts_total = 1" test "$(fig "$WORK/file.prom" difs_job_attempts_total)" = 1
check "file: records written = 3" test "$(fig "$WORK/file.prom" difs_job_records_written_total)" = 3
check "file: a freshness lag once the job succeeded" \
	sh -c "[ '$(fig "$WORK/file.prom" difs_job_freshness_lag_seconds)' != absent ]"
check "file: the worker limit" grep -qx 'difs_workers 4' "$WORK/file.prom"
check "file: the daemon's RSS" grep -Eq '^difs_process_resident_memory_bytes [1-9][0-9]*$' "$WORK/file.prom"
s1=$(stat -c '%s %Y %Z' "$MNT/metrics")
sleep 1.2
s2=$(stat -c '%s %Y %Z' "$MNT/metrics")
check "stat twice, 1 s apart, nothing changed: identical ($s1)" test "$s1" = "$s2"
check "the bytes too" cmp -s "$WORK/file.prom" "$MNT/metrics"
assert_errno 'EACCES|EROFS|EPERM' "open MNT/metrics for writing" 'os.open(p + "/metrics", os.O_WRONLY)'
assert_errno 'EPERM|EACCES' "rm MNT/metrics" 'os.unlink(p + "/metrics")'
tar -cf "$WORK/m.tar" -C "$MNT" metrics 2>"$WORK/tar.err"
check "tar of MNT/metrics: exit 0, no warning" sh -c "[ $? = 0 ] && [ ! -s '$WORK/tar.err' ]"
check "tar keeps its bytes" sh -c "tar -xOf '$WORK/m.tar' metrics | cmp -s - '$WORK/file.prom'"

# ---- HTTP -----------------------------------------------------------------------------
code=$(curl -s -o "$WORK/http.prom" -D "$WORK/http.hdr" -w '%{http_code}' "$URL/metrics")
check "GET /metrics: 200 (got $code)" test "$code" = 200
check "content type text/plain; version=0.0.4; charset=utf-8" \
	grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/http.hdr"
prom metjob "$WORK/http.prom" "curl $URL/metrics"
check "http: SUCCESS instances = 1" test "$(fig "$WORK/http.prom" 'difs_job_instances{state=SUCCESS}')" = 1
README=$(cd "$(dirname "$0")/../.." && pwd)/README.md
undoc=$(awk '/^# TYPE/ {print $3}' "$WORK/http.prom" | while read -r f; do
	grep -q "^$f  *\(gauge\|counter\|histogram\) " "$README" || echo "$f"; done)
check "README.md's Metrics table has every family (missing: ${undoc:-none})" test -z "$undoc"
check "http and file list the same families" \
	test "$(grep '^# TYPE' "$WORK/http.prom")" = "$(grep '^# TYPE' "$WORK/file.prom")"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/metrics")
check "HEAD /metrics: 200 (got $code)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/")
check "GET /: 404 (got $code)" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics/x")
check "GET /metrics/x: 404 (got $code)" test "$code" = 404
code=$(curl -s -o /dev/null -D "$WORK/post.hdr" -w '%{http_code}' -X POST -d 'x=1' "$URL/metrics")
check "POST /metrics: 405 (got $code)" test "$code" = 405
check "405 says Allow: GET, HEAD" grep -qi '^allow: GET, HEAD' "$WORK/post.hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/metrics")
check "DELETE /metrics: 405 (got $code)" test "$code" = 405
# /proc/net/tcp: the listening socket is bound to 127.0.0.1 (0100007F), not 0.0.0.0
check "listens on 127.0.0.1 only by default" python3 - "$PORT" <<'PY'
import sys
port = "%04X" % int(sys.argv[1])
found = [l.split()[1] for l in open("/proc/net/tcp").read().splitlines()[1:]
         if l.split()[3] == "0A" and l.split()[1].endswith(":" + port)]
sys.exit(0 if found == ["0100007F:" + port] else 1)
PY

# ---- a port in use: the second daemon fails before mounting -------------------------
mkdir -p "$WORK/mnt2"
out=$("$DIFS" mount "$WORK/mnt2" --state "$WORK/state2" --metrics "127.0.0.1:$PORT" 2>&1)
rc=$?
check "--metrics on a port in use: exit 1 (got $rc)" test "$rc" = 1
case "$out" in *"127.0.0.1:$PORT"*"in use"*) ok "the message names the port: $out" ;;
*) notok "the message names the port in use: $out" ;; esac
check "and nothing was mounted" sh -c "! grep -q ' $WORK/mnt2 fuse' /proc/self/mounts"
out=$("$DIFS" mount "$WORK/mnt2" --state "$WORK/state2" --metrics "localhost:$PORT" 2>&1)
rc=$?
check "--metrics localhost:PORT: a usage error, exit 2 (got $rc: $out)" test "$rc" = 2

# ---- a change shows: another run moves the file -----------------------------------------
m1=$(stat -c %Y "$MNT/metrics")
sleep 1.1
echo 'run 20250102000000' >"$I/metjob/ctl" || notok "ctl run 2"
wait_for 30 grep -qx SUCCESS "$I/metjob/20250102000000/state" 2>/dev/null ||
	notok "the second run succeeded"
# the counters follow the record: give the scheduler a moment
wait_for 5 grep -qx 'difs_job_attempts_total{job_name="metjob"} 2' "$MNT/metrics"
cat "$MNT/metrics" >"$WORK/file2.prom"
prom metjob "$WORK/file2.prom" "MNT/metrics after a second run"
check "attempts_total = 2" test "$(fig "$WORK/file2.prom" difs_job_attempts_total)" = 2
check "SUCCESS instances = 2" test "$(fig "$WORK/file2.prom" 'difs_job_instances{state=SUCCESS}')" = 2
m2=$(stat -c %Y "$MNT/metrics")
check "its mtime moved ($m1 -> $m2)" test "$m2" -gt "$m1"
check "its size is still its bytes" test "$(stat -c %s "$MNT/metrics")" = "$(wc -c <"$WORK/file2.prom")"
curl -s "$URL/metrics" >"$WORK/http2.prom"
check "http: attempts_total = 2" grep -qx 'difs_job_attempts_total{job_name="metjob"} 2' "$WORK/http2.prom"

it_unmount
check "the port is free after the unmount" python3 - "$PORT" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # TIME_WAIT is not a listener
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
PY
it_done
