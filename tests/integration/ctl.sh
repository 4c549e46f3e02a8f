#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every ctl command through the mount: job ctl run [CYCLE], backfill FROM
# TO, pause, resume; instance ctl rerun, kill, set-success, freeze,
# unfreeze; an unknown command or wrong arguments fail the write with
# EINVAL and leave a message in the job's log; reading ctl (mode 0600)
# shows the commands it takes and the last command's result ("ok: ..." or
# "refused: REASON"), so a refused write can be explained by cat ctl.
. "$(dirname "$0")/lib.sh"
require_prog python3
it_setup
it_mount
I=$MNT/instances

# job_sched NAME RECORDS [MBPS]: a daily (UTC) job writing to $WORK/out
job_sched() {
	job_json "$2" "${3:-0}" "$WORK/out" "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
j["schedule"] = {"cycle": "daily", "timezone": "UTC"}
print(json.dumps(j, indent=2))'
}
state() { cat "$I/$1/$2/state" 2>/dev/null; }
# wait_state JOB CYCLE STATE [SECONDS]
wait_state() {
	wait_for "${4:-20}" sh -c "grep -qx '$3' '$I/$1/$2/state' 2>/dev/null"
}
ctl() {	# ctl PATH LINE: write one command, print OK or the errno name
	python3 - "$1" "$2" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    try:
        os.write(fd, (sys.argv[2] + "\n").encode())
    finally:
        os.close(fd)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
expect_ctl() {	# expect_ctl WANT PATH LINE
	local got
	got=$(ctl "$2" "$3")
	if [ "$got" = "$1" ]; then ok "ctl '$3' -> $got"; else notok "ctl '$3': expected $1, got $got"; fi
}

job_sched ctljob 3 > "$MNT/jobs/ctljob.json" || bail "cannot write the job"
wait_for 5 test -d "$I/ctljob" || bail "instances/ctljob did not appear"
check "job ctl is owner read+write (mode 0600)" test "$(stat -c %a "$I/ctljob/ctl")" = 600
check "reading job ctl shows its commands" grep -q '^#   backfill FROM TO' "$I/ctljob/ctl"
check "and that no command was written yet" sh -c "tail -n 1 '$I/ctljob/ctl' | grep -qx '# last command: none'"

# run CYCLE
expect_ctl OK "$I/ctljob/ctl" "run 20250101000000"
wait_state ctljob 20250101000000 SUCCESS && ok "run CYCLE: instance SUCCESS" ||
	notok "run CYCLE: instance SUCCESS (state $(state ctljob 20250101000000))"
check "latest points at the new instance" test "$(readlink "$I/ctljob/latest")" = 20250101000000
check "status is JSON with job, cycle, state, attempt" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["job"]=="ctljob" and s["cycle"]=="20250101000000" and s["state"]=="SUCCESS" and s["attempt"]==1, s' \
	"$I/ctljob/20250101000000/status"
check "instance log has timestamps" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$I/ctljob/20250101000000/log"
check "job.json of the instance is JSON" \
	sh -c "python3 -m json.tool '$I/ctljob/20250101000000/job.json' >/dev/null"
check "params is readable" sh -c "cat '$I/ctljob/20250101000000/params' >/dev/null"

# backfill FROM TO: every cycle in [FROM, TO), in order
expect_ctl OK "$I/ctljob/ctl" "backfill 20250102000000 20250105000000"
check "cat ctl: ok and what the backfill queued" sh -c "tail -n 1 '$I/ctljob/ctl' | grep -qx 'ok: backfill 20250102000000 20250105000000: 3 instances queued in cycle order'"
check "cat ctl: who wrote it" grep -q '^# last command at .* by python3 (pid [0-9]*): backfill 20250102000000 20250105000000$' "$I/ctljob/ctl"
check "ctl's size is true" test "$(stat -c %s "$I/ctljob/ctl")" = "$(wc -c <"$I/ctljob/ctl")"
for c in 20250102000000 20250103000000 20250104000000; do
	wait_state ctljob $c SUCCESS && ok "backfill: $c SUCCESS" || notok "backfill: $c SUCCESS ($(state ctljob $c))"
done
assert_absent "$I/ctljob/20250105000000" "backfill: TO is exclusive"
check "ls lists instances in cycle order" \
	test "$(ls "$I/ctljob" | grep '^2' | tr '\n' ' ')" = "20250101000000 20250102000000 20250103000000 20250104000000 "
starts=$(for c in 20250102000000 20250103000000 20250104000000; do
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["started"])' "$I/ctljob/$c/status"; done)
check "backfill ran the cycles in order" test "$starts" = "$(echo "$starts" | sort)"

# rerun: a new attempt of a finished instance
expect_ctl OK "$I/ctljob/20250101000000/ctl" "rerun"
if wait_for 20 python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["state"]=="SUCCESS" and s["attempt"]>=2 else 1)' \
    "$I/ctljob/20250101000000/status"; then
	ok "rerun: attempt 2 succeeded"
else
	notok "rerun: attempt 2 succeeded ($(cat "$I/ctljob/20250101000000/status" | tr -d '\n' | cut -c1-200))"
fi

# pause: a run is created but not started; freeze/unfreeze it; resume runs it
expect_ctl OK "$I/ctljob/ctl" "pause"
expect_ctl OK "$I/ctljob/ctl" "run 20250110000000"
wait_for 5 test -d "$I/ctljob/20250110000000" && ok "paused: instance created" || notok "paused: instance created"
sleep 2
check "paused: instance not started (WAITING)" test "$(state ctljob 20250110000000)" = WAITING
expect_ctl OK "$I/ctljob/20250110000000/ctl" "freeze"
wait_state ctljob 20250110000000 FROZEN 5 && ok "freeze: FROZEN" || notok "freeze: FROZEN ($(state ctljob 20250110000000))"
expect_ctl OK "$I/ctljob/ctl" "resume"
sleep 2
check "frozen instance does not run after resume" test "$(state ctljob 20250110000000)" = FROZEN
expect_ctl OK "$I/ctljob/20250110000000/ctl" "unfreeze"
wait_state ctljob 20250110000000 SUCCESS && ok "unfreeze: the instance runs" ||
	notok "unfreeze: the instance runs ($(state ctljob 20250110000000))"

# kill a running instance, then set-success
job_sched slowjob 100000 0.01 > "$MNT/jobs/slowjob.json"
wait_for 5 test -d "$I/slowjob" || bail "instances/slowjob did not appear"
expect_ctl OK "$I/slowjob/ctl" "run 20250101000000"
wait_state slowjob 20250101000000 RUNNING 10 && ok "slow run is RUNNING" ||
	notok "slow run is RUNNING ($(state slowjob 20250101000000))"
expect_ctl OK "$I/slowjob/20250101000000/ctl" "kill"
wait_state slowjob 20250101000000 KILLED 10 && ok "kill: KILLED" ||
	notok "kill: KILLED ($(state slowjob 20250101000000))"
expect_ctl OK "$I/slowjob/20250101000000/ctl" "set-success"
wait_state slowjob 20250101000000 SUCCESS 5 && ok "set-success: SUCCESS" ||
	notok "set-success: SUCCESS ($(state slowjob 20250101000000))"

# refusals: EINVAL and a message in the log
expect_ctl EINVAL "$I/ctljob/ctl" "bogus"
check "job log names the unknown command" grep -q "bogus" "$I/ctljob/log"
check "cat ctl explains the refusal" sh -c "tail -n 1 '$I/ctljob/ctl' | grep -q \"^refused: unknown control message 'bogus'\""
expect_ctl EINVAL "$I/ctljob/ctl" "backfill 20250101000000"
expect_ctl EINVAL "$I/ctljob/ctl" "run notacycle"
expect_ctl EINVAL "$I/ctljob/ctl" "pause now"
expect_ctl EINVAL "$I/ctljob/20250101000000/ctl" "explode"
check "instance log names the unknown command" grep -q "explode" "$I/ctljob/20250101000000/log"
expect_ctl EINVAL "$I/ctljob/20250101000000/ctl" "rerun twice"
check "cat of the instance ctl explains the refusal" sh -c "tail -n 1 '$I/ctljob/20250101000000/ctl' | grep -q '^refused: bad # args'"
expect_ctl EBUSY "$I/slowjob/20250101000000/ctl" "freeze"
check "a state refusal (EBUSY) is explained by cat ctl" sh -c "tail -n 1 '$I/slowjob/20250101000000/ctl' | grep -qx 'refused: only a WAITING or RETRY_WAIT instance can be frozen'"
assert_errno "ENOENT|EROFS|EACCES" "ctl of a job that does not exist" 'open(p + "/instances/nojob/ctl", "w").write("run\n")'

it_unmount
it_done
