#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Remount persistence: definitions (valid and invalid, with their .error),
# scratch files, symlinks, sources, instance history (state, status, log)
# and the job's definition survive `fusermount3 -u` + mount on the same
# state directory; the remounted job runs from ctl at once.
. "$(dirname "$0")/lib.sh"
require_prog python3
it_setup
it_mount
J=$MNT/jobs
I=$MNT/instances

job_json 3 0 "$WORK/out" keep > "$WORK/keep.json"
cp "$WORK/keep.json" "$J/keep.json" || bail "cannot write keep.json"
job_json_invalid 3 0 "$WORK/out" broken > "$WORK/broken.json"
cp "$WORK/broken.json" "$J/broken.json" 2>/dev/null
printf 'notes\n\0binary\377' > "$WORK/notes"
cp "$WORK/notes" "$J/notes.txt"
ln -s 'user@host.1:2' "$J/.#keep.json"
cat > "$WORK/src.json" <<'JSON'
{
  "type": "oss",
  "endpoint": "http://127.0.0.1:1",
  "bucket": "difs-remount",
  "accessId": "id",
  "accessKey": "remount-secret-value"
}
JSON
cp "$WORK/src.json" "$MNT/sources/s.json" || notok "cannot write sources/s.json"
wait_for 5 test -d "$I/keep" || bail "instances/keep did not appear"
echo 'run 20250101000000' > "$I/keep/ctl"
wait_for 20 grep -qx SUCCESS "$I/keep/20250101000000/state" || notok "first run succeeded"
status1=$(cat "$I/keep/20250101000000/status")
log1=$(cat "$I/keep/20250101000000/log")
srcview1=$(cat "$MNT/sources/s.json")
listing1=$(ls -la "$J" "$I/keep" | grep -v ' \.\.\?$' | awk '{print $1, $5, $NF}')
it_unmount

it_mount
listing2=$(ls -la "$J" "$I/keep" | grep -v ' \.\.\?$' | awk '{print $1, $5, $NF}')
if [ "$listing1" = "$listing2" ]; then
	ok "listing of jobs/ and instances/keep identical after remount"
else
	notok "listing of jobs/ and instances/keep identical after remount"
	diag "before:" "$listing1" "after:" "$listing2"
fi
assert_same "$J/keep.json" "$WORK/keep.json" "valid job after remount"
assert_same "$J/broken.json" "$WORK/broken.json" "invalid job bytes after remount"
assert_invalid_def jobs broken "invalid job after remount"
assert_valid_def jobs keep "valid job after remount"
assert_same "$J/notes.txt" "$WORK/notes" "scratch binary file after remount"
check "lock symlink after remount" test "$(readlink "$J/.#keep.json")" = 'user@host.1:2'
check "source view after remount" test "$(cat "$MNT/sources/s.json")" = "$srcview1"
check "instance status after remount" test "$(cat "$I/keep/20250101000000/status")" = "$status1"
log2=$(cat "$I/keep/20250101000000/log")
case "$log2" in "$log1"*) ok "instance log kept (and only appended to)" ;;
*) notok "instance log kept after remount" ;; esac
check "latest after remount" test "$(readlink "$I/keep/latest")" = 20250101000000
echo 'run 20250102000000' > "$I/keep/ctl" && ok "ctl of the remounted job" || notok "ctl of the remounted job"
wait_for 20 grep -qx SUCCESS "$I/keep/20250102000000/state" &&
	ok "remounted job runs" || notok "remounted job runs"
it_unmount
it_done
