#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tail -f instances/JOB/latest/log` shows new lines within a second while
# a run writes them.  GNU tail polls fstat() sizes on FUSE (no inotify):
# the daemon must keep sizes fresh (the engine invalidates the log's inode
# after each append; fs/ sends the invalidations from its own thread).
# The run is slowed down with speed.mbps so that it lasts ~22 s and writes
# progress lines (every 10 s by default) while tail follows it.  A poller
# reads the log with cat every 50 ms and records when each line first
# appeared; tail's output must show it within 1 s.  status (jq) must show
# the live record count growing during the run.
. "$(dirname "$0")/lib.sh"
require_prog python3 jq tail
it_setup
it_mount
I=$MNT/instances
RECORDS=${RECORDS:-10000}	# about 22 s at 0.01 MiB/s

job_json "$RECORDS" 0.01 "$WORK/out" tailjob > "$MNT/jobs/tailjob.json" || bail "cannot write the job"
wait_for 5 test -d "$I/tailjob" || bail "instances/tailjob did not appear"
echo 'run 20250101000000' > "$I/tailjob/ctl" || bail "ctl run"
wait_for 10 grep -qx RUNNING "$I/tailjob/20250101000000/state" || bail "the run did not start"

tail -n +1 -f "$I/tailjob/latest/log" > "$WORK/tail.out" 2>"$WORK/tail.err" &
TAILPID=$!
r1=$(jq .records.read "$I/tailjob/20250101000000/status")

python3 - "$I/tailjob/20250101000000" "$WORK/tail.out" <<'PY' >"$WORK/poll.out"
import sys, time
d, tailf = sys.argv[1], sys.argv[2]
first_seen = {}		# line index -> time cat saw it
tail_seen = {}		# line index -> time tail.out had it
t0 = time.monotonic()
done_at = None
while True:
    now = time.monotonic()
    with open(d + "/log", "rb") as h:
        n = len(h.read().splitlines())
    for i in range(n):
        first_seen.setdefault(i, now)
    with open(tailf, "rb") as h:
        m = len(h.read().splitlines())
    for i in range(m):
        tail_seen.setdefault(i, now)
    state = open(d + "/state").read().strip()
    if state not in ("RUNNING", "WAITING") and done_at is None:
        done_at = now
    if done_at is not None and (m >= n or now - done_at > 3):
        break
    if now - t0 > 120:
        break
    time.sleep(0.05)
late = [(i, tail_seen.get(i, now + 99) - first_seen[i]) for i in sorted(first_seen)]
worst = max(l for _, l in late) if late else 99
new = sum(1 for i in first_seen if first_seen[i] > t0 + 0.3)
print(f"lines {len(first_seen)} tail {len(tail_seen)} worst {worst:.2f} state {state} new {new}")
for i, l in late:
    print(f"line {i}: tail latency {l:.2f} s")
PY
kill "$TAILPID" 2>/dev/null
wait "$TAILPID" 2>/dev/null
r2=$(jq .records.read "$I/tailjob/20250101000000/status")
head -n 1 "$WORK/poll.out" | sed 's/^/# /'
read -r _ nlines _ ntail _ worst _ state _ nnew < "$WORK/poll.out"
check "run finished SUCCESS" test "$state" = SUCCESS
check "the log grew while tail followed it ($nnew new lines of $nlines)" test "$nnew" -ge 2
# GNU tail sleeps 1 s between its fstat polls; this test samples every
# 50 ms: allow 1 s + 2 samples
check "every line appeared in tail -f within a second (worst ${worst} s)" \
	python3 -c "import sys; sys.exit(0 if float('$worst') <= 1.1 else 1)"
[ "$IT_FAIL" = 0 ] || sed 's/^/# /' "$WORK/poll.out"
check "tail -f output equals the final log" cmp -s "$WORK/tail.out" "$I/tailjob/20250101000000/log"
check "a progress line was followed live" grep -q -i 'progress\|records' "$WORK/tail.out"
check "status shows live counters (records.read $r1 -> $r2)" test "$r1" != "$r2"
it_unmount
it_done
