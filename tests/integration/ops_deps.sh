#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ops_deps.sh - issue 13 through the mount: two dependent jobs on difs-emu,
# an alert command, and `rerun descendants`.
#
#   tests/integration/ops_deps.sh PATH/TO/difs [BASEDIR]   (difs-emu, difs-load next to difs)
#
# difs-emu serves Table Store (table `orders` with a stream, filled by
# difs-load) and OSS.  The mount gets an ots and an oss source and two jobs
# on a 1-minute cycle:
#   up    otsstream -> oss over the cycle's minute [C - 1 min, C), objects
#         deps/up/C/; schedule.alert on failed and exhausted runs
#         /bin/sh -c 'env | grep ^DIFS_ > $ALERTDIR/JOB.CYCLE.EVENT'
#         (ALERTDIR is in the daemon's environment);
#   down  stream -> oss, objects deps/down/C/, dependsOn up (same cycle).
# up is defined with a data table that does not exist, so its first
# cycle C fails at once (not found is not retryable).  Then:
#   - up/C is FAILED with the error; both alert files exist with DIFS_JOB,
#     DIFS_CYCLE, DIFS_STATE=FAILED, DIFS_ERROR, DIFS_EVENT; the instance
#     log has each delivery's line; down/C is WAITING with the reason
#     "waiting for upstream job up: its instance C is FAILED";
#   - jobs/up.json is fixed with sed -i, `rerun descendants` goes to
#     up/C's ctl (its result reads back); up/C and then down/C are SUCCESS,
#     down's only attempt (trigger "ctl") started after up's last one
#     finished; up's attempts are failed (scheduled) then success (ctl);
#   - both jobs' objects are in the emulator's bucket (up: one line per
#     change difs-load made in the window; down: its records);
#   - MOUNT/metrics counts the alerts sent for up.
# The first cycle is the next minute: the test takes 15-80 s.
. "$(dirname "$0")/lib.sh"
require_prog jq date
LOAD=$(dirname "$DIFS")/difs-load
it_setup
[ -x "$LOAD" ] || bail "difs-load must be built next to $DIFS"
AID=LTAIdepsid
KEY=DependsOnSecret-4711
NREC=40		# changes difs-load writes into up's window
it_emu --ots 127.0.0.1:0 --oss 127.0.0.1:0 --access-key "$AID:$KEY" \
    --instance deps --bucket deps-bucket --shards orders=2 --sync off
BUCKET=$WORK/emu/oss/deps-bucket	# where difs-emu keeps the bucket's objects

export ALERTDIR=$WORK/alerts
mkdir -p "$ALERTDIR"
it_mount
S=$MNT/sources J=$MNT/jobs I=$MNT/instances
cat > "$S/ots.json" <<JSON || bail "sources/ots.json written"
{ "type": "ots", "endpoint": "$OTS", "instanceName": "deps", "accessId": "$AID", "accessKey": "$KEY" }
JSON
cat > "$S/oss.json" <<JSON || bail "sources/oss.json written"
{ "type": "oss", "endpoint": "$OSS", "bucket": "deps-bucket", "accessId": "$AID", "accessKey": "$KEY" }
JSON
assert_valid_def sources ots "the ots source"
assert_valid_def sources oss "the oss source"

# the window [C - 1 min, C) of cycle C; safetyMarginSeconds 0: C is past
# when the scheduler starts the instance
ots_oss_job no_such_table '${s}' '${e}' 'deps/up/${cyc}/part' 0 |
    jq '.schedule = {"cycle": "1m", "timezone": "UTC",
      "params": {"s": "$[yyyymmddhh24miss-1/24/60]", "e": "$[yyyymmddhh24miss]",
                 "cyc": "$[yyyymmddhh24miss]"},
      "alert": {"on": ["failed", "exhausted"],
                "exec": ["/bin/sh", "-c",
                         "env | grep ^DIFS_ > $ALERTDIR/$DIFS_JOB.$DIFS_CYCLE.$DIFS_EVENT"]}}' \
    > "$WORK/up.json"
job_json 5 | jq '.configuration.writer = {"plugin": "oss", "parameter": {"datasource": "oss",
    "object": "deps/down/${cyc}/part", "writeMode": "truncate", "nullFormat": ""}}
    | .schedule = {"cycle": "1m", "timezone": "UTC", "params": {"cyc": "$[yyyymmddhh24miss]"},
                   "dependsOn": [{"job": "up"}]}' > "$WORK/down.json"

# The jobs' first cycle C is the next minute, and difs-load's changes must
# fall in [C - 1 min, C): define and load within one minute, not in its
# first 2 s (a job defined at :00 would run that very cycle) nor its last 12.
sec=$((10#$(date -u +%S)))
if [ "$sec" -lt 2 ] || [ "$sec" -ge 48 ]; then
	sleep $(( (62 - sec) % 60 ))
fi
MIN=$(( $(date +%s) / 60 * 60 ))
cat "$WORK/up.json" > "$J/up.json" || bail "jobs/up.json written"
cp "$WORK/down.json" "$J/down.json" || bail "jobs/down.json written"
assert_valid_def jobs up "job up (a missing data table)"
assert_valid_def jobs down "job down (dependsOn up)"
"$LOAD" --endpoint "$OTS" --instance deps --access-key "$AID:$KEY" --table orders --create \
    --count $NREC --keys 100000 --mix put=100,update=0,delete=0 --seed 13 --quiet \
    >"$WORK/load.out" 2>"$WORK/load.err" || bail "difs-load: $(cat "$WORK/load.err")"
[ $(( $(date +%s) / 60 * 60 )) = "$MIN" ] ||
	bail "the jobs and the load took past the minute $(date -u -d "@$MIN" +%H:%M) (a slow machine?)"
C=$(date -u -d "@$((MIN + 60))" +%Y%m%d%H%M%S)
diag "first cycle $C (in $((MIN + 60 - $(date +%s))) s)"

# ---- the upstream fails: alerts, the downstream waits ------------------------------
st() { cat "$I/$1/$C/state" 2>/dev/null; }
# jqe FILE FILTER [jq args]: the filter holds for the JSON file
jqe() {
	local f=$1
	shift
	jq -e "$@" "$f" >/dev/null
}
if wait_for 75 grep -qsx FAILED "$I/up/$C/state"; then
	ok "up/$C is FAILED"
else
	bail "up/$C is FAILED (state: $(st up); log: $(tail -n 3 "$I/up/$C/log" 2>&1))"
fi
check "its status has the error naming the missing table ($(jq -r .error "$I/up/$C/status" | cut -c1-100))" \
	jqe "$I/up/$C/status" '.state == "FAILED" and (.error | test("no table .no_such_table."))'
check "not retried: one attempt, outcome failed, trigger scheduled" \
	jqe "$I/up/$C/status" '(.attempts | length) == 1 and .attempts[0].outcome == "failed" and
	    .attempts[0].trigger == "scheduled"'
# alert_has FILE LINE...: the alert command's environment has every LINE
alert_has() {
	local f=$1 l
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$f" || return 1
	done
}
for ev in failed exhausted; do
	f=$ALERTDIR/up.$C.$ev
	if wait_for 10 test -s "$f"; then
		ok "the alert command ran for ($ev): $f"
	else
		notok "the alert command ran for ($ev): $f"
		diag "$(ls "$ALERTDIR")" "$(tail -n 5 "$I/up/$C/log")"
		continue
	fi
	check "($ev) DIFS_JOB=up, DIFS_CYCLE=$C, DIFS_STATE=FAILED, DIFS_EVENT=$ev" \
		alert_has "$f" DIFS_JOB=up "DIFS_CYCLE=$C" DIFS_STATE=FAILED "DIFS_EVENT=$ev" \
		"DIFS_INSTANCE=instances/up/$C"
	check "($ev) DIFS_ERROR is the error ($(grep '^DIFS_ERROR=' "$f" | cut -c1-80))" \
		grep -q '^DIFS_ERROR=.*no_such_table' "$f"
	if wait_for 10 grep -q " INFO alert $ev: exec /bin/sh: exit status 0$" "$I/up/$C/log"; then
		ok "the instance log has the delivery ($(grep -m1 "alert $ev: exec" "$I/up/$C/log" | cut -c1-120))"
	else
		notok "the instance log has the delivery line 'alert $ev: exec /bin/sh: exit status 0'"
		diag "$(tail -n 6 "$I/up/$C/log")"
	fi
done
WANT="waiting for upstream job up: its instance $C is FAILED"
if wait_for 10 test -d "$I/down/$C" &&
    wait_for 10 sh -c 'jq -e --arg w "$2" ".state == \"WAITING\" and .reason == \$w" "$1" >/dev/null' \
    sh "$I/down/$C/status" "$WANT"; then
	ok "down/$C is WAITING: $WANT"
else
	notok "down/$C is WAITING: $WANT (state $(st down), reason: $(jq -r .reason "$I/down/$C/status" 2>&1))"
fi
check "the state file says WAITING too" test "$(st down)" = WAITING
check "down/$C never ran (no attempt)" \
	jqe "$I/down/$C/status" '(.attempts | length) == 0'
if wait_for 5 grep -Eq '^difs_job_alerts_total\{job_name="up",result="sent"\} [1-9]' "$MNT/metrics"; then
	ok "MOUNT/metrics: $(grep '^difs_job_alerts_total{job_name="up"' "$MNT/metrics" | tr '\n' ' ')"
else
	notok "MOUNT/metrics counts the alerts sent for up"
	diag "$(grep difs_job_alerts "$MNT/metrics")"
fi

# ---- fix up, rerun descendants -----------------------------------------------------
sed -i 's/"dataTable": "no_such_table"/"dataTable": "orders"/' "$J/up.json" ||
	notok "sed -i of jobs/up.json"
check "jobs/up.json now names the table orders" grep -q '"dataTable": "orders"' "$J/up.json"
assert_valid_def jobs up "the fixed up"
if echo 'rerun descendants' > "$I/up/$C/ctl"; then
	ok "echo 'rerun descendants' > instances/up/$C/ctl"
else
	notok "echo 'rerun descendants' > instances/up/$C/ctl: $(tail -n 1 "$I/up/$C/ctl")"
fi
check "ctl reads back the result ($(tail -n 1 "$I/up/$C/ctl"))" \
	grep -qx 'ok: rerun descendants: this instance and 1 descendant instance are WAITING; they run in dependency order' \
	<(tail -n 1 "$I/up/$C/ctl")
for j in up down; do
	if wait_for 30 grep -qsx SUCCESS "$I/$j/$C/state"; then
		ok "$j/$C is SUCCESS"
	else
		notok "$j/$C is SUCCESS (state $(st "$j"), reason $(jq -r .reason "$I/$j/$C/status"))"
		diag "$(tail -n 5 "$I/$j/$C/log")"
	fi
done

check "every line of up/$C's log is an entry (no empty line after an alert's)" \
	test "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[-+][0-9:]+ [A-Z]+ ' "$I/up/$C/log")" = 0

# ---- attempts, order, objects ---------------------------------------------------------
check "up's attempts: 1 failed (scheduled), 2 success (ctl) ($(jq -c '[.attempts[] | [.attempt, .trigger, .outcome]]' "$I/up/$C/status"))" \
	jqe "$I/up/$C/status" '[.attempts[] | [.attempt, .trigger, .outcome]] ==
	    [[1, "scheduled", "failed"], [2, "ctl", "success"]] and
	    (.attempts[0].error | test("no_such_table")) and .error == null'
check "down's attempts: one, trigger ctl, success ($(jq -c '[.attempts[] | [.attempt, .trigger, .outcome]]' "$I/down/$C/status"))" \
	jqe "$I/down/$C/status" '[.attempts[] | [.attempt, .trigger, .outcome]] == [[1, "ctl", "success"]]'
up_fin=$(jq -r '.attempts[-1].finished' "$I/up/$C/status")
down_start=$(jq -r '.attempts[-1].started' "$I/down/$C/status")
a=$(date -d "$up_fin" +%s%3N 2>/dev/null) b=$(date -d "$down_start" +%s%3N 2>/dev/null)
if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge "$a" ]; then
	ok "down's attempt started ($down_start) after up's finished ($up_fin)"
else
	notok "down's attempt started ($down_start) after up's finished ($up_fin)"
fi
# objects: status.objects of each job, every one a file in the emulator's bucket
objs() {	# JOB: the instance's objects (oss://BUCKET/KEY), one a line
	jq -r '.objects[]' "$I/$1/$C/status" 2>/dev/null
}
for j in up down; do
	n=0 miss=0 lines=0
	for o in $(objs "$j"); do
		o=${o#oss://deps-bucket/}
		n=$((n + 1))
		if [ -f "$BUCKET/$o" ]; then
			lines=$((lines + $(wc -l < "$BUCKET/$o")))
		else
			miss=$((miss + 1))
			diag "$j: $o is not in the bucket"
		fi
	done
	found=$(find "$BUCKET/deps/$j/$C" -type f 2>/dev/null | wc -l)
	check "$j/$C: its $n objects are in the bucket under deps/$j/$C/ ($found there)" \
		test "$n" -ge 1 -a "$miss" = 0 -a "$found" = "$n"
	want=$([ "$j" = up ] && echo $NREC || echo 5)
	check "$j/$C: the objects hold $want lines ($lines; status: $(jq -c .records "$I/$j/$C/status"))" \
		test "$lines" = "$want"
done
check "metrics: 2 alerts sent for up, none failed" \
	grep -qx 'difs_job_alerts_total{job_name="up",result="sent"} 2' "$MNT/metrics"
it_unmount
it_done
