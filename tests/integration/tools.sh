#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The mount's third kind of user: backup scripts and shell tools walking the
# whole tree.  A job that has run several instances (and an invalid job file
# with its .error, a source with a secret, an editor's swap file), then:
# tar -c + tar -t (sizes = wc -c), cp -a + diff -r, rsync -a twice (the
# second transfers nothing), grep -r, find -newer, du -s, ls -lR, stat twice
# equal, jq over summary and status.  Every tool must exit 0 (grep: 1 for
# "no match") with nothing on stderr.
. "$(dirname "$0")/lib.sh"
require_prog python3 jq tar rsync find du stat grep diff cp
it_setup
it_mount
I=$MNT/instances
SECRET=s3cr3t-tools-$$

# a scheduled job (5-minute cycles, UTC) writing to $WORK/out
job_json 4 0 "$WORK/out" data | python3 -c '
import json, sys
j = json.load(sys.stdin)
j["schedule"] = {"cycle": "5m", "timezone": "UTC"}
print(json.dumps(j, indent=2))' >"$MNT/jobs/orders.json" || bail "cannot write the job"
printf '{"type": "oss", "endpoint": "http://127.0.0.1:9", "bucket": "b1",\n "accessId": "id", "accessKey": "%s"}\n' \
	"$SECRET" >"$MNT/sources/oss-b.json" || bail "cannot write the source"
job_json_invalid >"$MNT/jobs/broken.json" || bail "cannot write the invalid job"
printf 'swap' >"$MNT/jobs/.orders.json.swp"
wait_for 5 test -d "$I/orders" || bail "instances/orders did not appear"
echo 'backfill 20261125000000 20261125001500' >"$I/orders/ctl" || bail "backfill"
for c in 20261125000000 20261125000500 20261125001000; do
	wait_for 30 grep -qx SUCCESS "$I/orders/$c/state" 2>/dev/null ||
		bail "instance $c did not succeed ($(cat "$I/orders/$c/state" 2>&1))"
done
ok "three instances ran"
check "broken.json.error is there" test -s "$MNT/jobs/broken.json.error"

# quiet TOOL ARGS...: the command exits 0 and prints nothing on stderr
quiet() {
	local d=$1 rc
	shift
	"$@" >"$WORK/tmp/out" 2>"$WORK/tmp/err"
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$WORK/tmp/err" ]; then
		ok "$d: exit 0, no warning"
	else
		notok "$d: exit $rc"
		diag "$(head -n 20 "$WORK/tmp/err")"
	fi
}

# ---- every file readable -----------------------------------------------------
check "ctl is mode 0600" test "$(stat -c %a "$I/orders/ctl")" = 600
check "cat ctl: the help and the last command's result" \
	sh -c "cat '$I/orders/ctl' | grep -q '^#   backfill FROM TO' && tail -n 1 '$I/orders/ctl' | grep -q '^ok: backfill 20261125000000 20261125001500: 3 instances queued'"
check "the job log has its true size" \
	test "$(stat -c %s "$I/orders/log")" = "$(cat "$I/orders/log" | wc -c)"
check "the job log is not empty" test -s "$I/orders/log"

# ---- tar -----------------------------------------------------------------------
quiet "tar -cf of the whole mount" tar -cf "$WORK/b.tar" -C "$MNT" .
quiet "tar -tvf" tar -tvf "$WORK/b.tar"
bad=0
while read -r mode _ size _ _ name _; do
	case "$mode" in -*) ;; *) continue ;; esac
	real=$(wc -c <"$MNT/${name#./}")
	[ "$real" = "$size" ] || { bad=$((bad + 1)); diag "$name: tar $size, wc -c $real"; }
done <"$WORK/tmp/out"
check "tar's sizes match wc -c for every file ($(grep -c '^-' "$WORK/tmp/out") files)" test "$bad" = 0
check "tar has the ctl files" grep -q 'instances/orders/20261125000000/ctl$' "$WORK/tmp/out"
check "tar has no secret" sh -c "! tar -xOf '$WORK/b.tar' | grep -q '$SECRET'"

# ---- cp -a, diff -r ------------------------------------------------------------
quiet "cp -a of the whole mount" cp -a "$MNT" "$WORK/copy"
quiet "diff -r instances/ against the copy" diff -r "$MNT/instances" "$WORK/copy/instances"
check "the copy's sources are masked" sh -c "! grep -rq '$SECRET' '$WORK/copy'"
check "the copy keeps mtimes" test "$(stat -c %Y "$I/orders/20261125000000/status")" = \
	"$(stat -c %Y "$WORK/copy/instances/orders/20261125000000/status")"

# ---- rsync -a twice ---------------------------------------------------------------
quiet "rsync -a (first)" rsync -a "$MNT/" "$WORK/rs/"
quiet "rsync -a --itemize-changes (second)" rsync -a --itemize-changes "$MNT/" "$WORK/rs/"
if [ ! -s "$WORK/tmp/out" ]; then
	ok "the second rsync transfers nothing"
else
	notok "the second rsync transfers nothing"
	diag "$(head -n 20 "$WORK/tmp/out")"
fi

# ---- grep -r, find, du, ls -lR -----------------------------------------------------
quiet "grep -r SUCCESS over the mount" grep -r SUCCESS "$MNT"
check "grep -r finds the three state files" \
	test "$(grep -rlx SUCCESS "$I/orders" | grep -c '/state$')" = 3
grep -r no-such-text-anywhere "$MNT" >/dev/null 2>"$WORK/tmp/err"
rc=$?
check "grep -r without a match exits 1, no error (rc $rc)" sh -c "[ $rc = 1 ] && [ ! -s '$WORK/tmp/err' ]"
quiet "du -s" du -s "$MNT"
quiet "ls -lR" ls -lR "$MNT"
check "ls -lR shows no unreadable entry" sh -c "! grep -q '?' '$WORK/tmp/out'"
quiet "find over the mount" find "$MNT"

# ---- stat twice equal ------------------------------------------------------------
snap() { find "$MNT" -exec stat -c '%n %s %Y %Z %a %F' {} + | sort; }
snap >"$WORK/s1"
sleep 1.2
snap >"$WORK/s2"
if cmp -s "$WORK/s1" "$WORK/s2"; then
	ok "stat of every file twice, 1 s apart: identical ($(wc -l <"$WORK/s1") entries)"
else
	notok "stat of every file twice: identical"
	diag "$(diff "$WORK/s1" "$WORK/s2" | head -n 20)"
fi

# ---- find -newer sees exactly what changed -----------------------------------------
touch "$WORK/ref"
sleep 1.1
echo pause >"$I/orders/ctl" || notok "pause"
find "$MNT" -newer "$WORK/ref" | sed "s|^$MNT/||" | sort >"$WORK/newer"
check "find -newer: the job's ctl changed" grep -qx 'instances/orders/ctl' "$WORK/newer"
check "find -newer: the job's log changed" grep -qx 'instances/orders/log' "$WORK/newer"
check "find -newer: no instance file changed" sh -c "! grep -q 'instances/orders/2026' '$WORK/newer'"
check "find -newer: no job file changed" sh -c "! grep -q '^jobs/' '$WORK/newer'"
diag "changed: $(tr '\n' ' ' <"$WORK/newer")"
echo resume >"$I/orders/ctl"

# a new instance moves the job directory's mtime (rsync/find notice it)
touch "$WORK/ref"
sleep 1.1
echo 'run 20261125001500' >"$I/orders/ctl" || notok "run"
wait_for 30 grep -qx SUCCESS "$I/orders/20261125001500/state" 2>/dev/null || notok "run 001500"
check "find -newer: instances/orders/ moved with the new instance" \
	sh -c "find '$I' -newer '$WORK/ref' -type d | grep -qx '$I/orders'"
quiet "rsync -a --itemize-changes after the new instance" rsync -a --itemize-changes "$MNT/" "$WORK/rs/"
check "rsync sends the new instance" grep -q 'instances/orders/20261125001500/' "$WORK/tmp/out"
check "rsync does not resend the old instances" sh -c "! grep -q 'instances/orders/20261125000000/' '$WORK/tmp/out'"

# ---- summary and status for jq -----------------------------------------------------
check "summary: 4 SUCCESS, health ok, valid definition" \
	jq -e '.instances.SUCCESS == 4 and .health == "ok" and .definition.valid == true and .last_success.cycle == "20261125001500"' \
	"$I/orders/summary" >/dev/null
check "summary of the invalid job: valid false, its errors" \
	jq -e '.definition.valid == false and (.definition.errors | length) > 0 and .health == "invalid" and .defined == false' \
	"$I/broken/summary" >/dev/null
check "MOUNT/status: version, pid, jobs by health" \
	jq -e '.version != null and .pid > 0 and .jobs.total == 2 and .jobs.ok == 1 and .jobs.invalid == 1 and .instances.running == 0' \
	"$MNT/status" >/dev/null
check "summary's mtime is its as_of" test "$(stat -c %Y "$I/orders/summary")" = \
	"$(date -d "$(jq -r .as_of "$I/orders/summary")" +%s)"

it_unmount
it_done
