#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shell tools write definitions: `sed -i` (temp file + rename, no fsync),
# `cp` (O_TRUNC + write; a close error is reported), `mv` of a temp file
# over a job, `echo >` (bash sends FLUSH before WRITE) and `>>`, python
# open().write().  Each is checked with cat + cmp and the definition's
# state (instances/JOB present, NAME.json.error absent or present).
. "$(dirname "$0")/lib.sh"
require_prog python3 sed
it_setup
it_mount
J=$MNT/jobs

job_json 3 0 "$WORK/out" tooljob > "$WORK/t1.json"

# cp of a valid job (new file, then over the existing one)
cp "$WORK/t1.json" "$J/tooljob.json" && ok "cp: exit 0" || notok "cp: exit 0"
assert_same "$J/tooljob.json" "$WORK/t1.json" "cp: new job"
assert_valid_def jobs tooljob "cp: new job"

# sed -i
sed 's/hello, world/hello, sed/' "$WORK/t1.json" > "$WORK/t2.json"
sed -i 's/hello, world/hello, sed/' "$J/tooljob.json" && ok "sed -i: exit 0" || notok "sed -i: exit 0"
assert_same "$J/tooljob.json" "$WORK/t2.json" "sed -i"
assert_valid_def jobs tooljob "sed -i"
ls -a "$J" > "$WORK/ls.out"
check "sed -i: no temp file left" sh -c "! grep -q '^sed' '$WORK/ls.out'"

# sed -i producing an invalid job: the rename succeeds, .error appears
sed -i 's/"plugin": "stream"/"plugin": "nosuchreader"/' "$J/tooljob.json" &&
	ok "sed -i of an invalid edit: rename succeeds (exit 0)" || notok "sed -i of an invalid edit: exit 0"
assert_invalid_def jobs tooljob "sed -i invalid"
sed -i 's/"plugin": "nosuchreader"/"plugin": "stream"/' "$J/tooljob.json"
assert_same "$J/tooljob.json" "$WORK/t2.json" "sed -i back to valid"
assert_valid_def jobs tooljob "sed -i back to valid"

# cp of an invalid file: close fails with EINVAL, cp exits 1
job_json_invalid 3 0 "$WORK/out" tooljob > "$WORK/bad.json"
if cp "$WORK/bad.json" "$J/tooljob.json" 2>"$WORK/cp.err"; then
	notok "cp of an invalid job fails"
else
	ok "cp of an invalid job fails: $(cat "$WORK/cp.err")"
fi
check "cp: the error is EINVAL" grep -q 'Invalid argument' "$WORK/cp.err"
assert_same "$J/tooljob.json" "$WORK/bad.json" "cp invalid: bytes kept"
assert_invalid_def jobs tooljob "cp invalid"
check "cp invalid: .error has file:line:col: error: lines" \
	grep -Eq '^[^:]*tooljob\.json:[0-9]+:[0-9]+: error: ' "$J/tooljob.json.error"
check "cp invalid: .error is read-only" test "$(stat -c %a "$J/tooljob.json.error")" = 444
assert_errno "EACCES|EPERM|EROFS" "writing NAME.json.error" 'open(p + "/jobs/tooljob.json.error", "w").write("x")'

# mv of a temp file over the job
cp "$WORK/t1.json" "$J/.tooljob.tmp"
mv "$J/.tooljob.tmp" "$J/tooljob.json" && ok "mv temp over job: exit 0" || notok "mv temp over job: exit 0"
assert_same "$J/tooljob.json" "$WORK/t1.json" "mv temp over job"
assert_valid_def jobs tooljob "mv temp over job"
# and mv from outside the mount (EXDEV: copy + unlink)
cp "$WORK/t2.json" "$WORK/outside.json"
mv "$WORK/outside.json" "$J/tooljob.json" && ok "mv from another filesystem: exit 0" || notok "mv from another filesystem"
assert_same "$J/tooljob.json" "$WORK/t2.json" "mv from another filesystem"
assert_valid_def jobs tooljob "mv from another filesystem"

# echo > (FLUSH before WRITE) and >>
sed 's/tooljob/echojob/' "$WORK/t1.json" > "$WORK/echo.json"
head -n 1 "$WORK/echo.json" > "$WORK/head.part"
tail -n +2 "$WORK/echo.json" > "$WORK/rest.part"
echo '{' > "$J/echojob.json"
assert_same "$J/echojob.json" "$WORK/head.part" "echo >: partial job"
assert_invalid_def jobs echojob "echo >: partial job"
cat "$WORK/rest.part" >> "$J/echojob.json"
assert_same "$J/echojob.json" "$WORK/echo.json" "cat >> completes the job"
assert_valid_def jobs echojob "cat >> completes the job"
: > "$J/echojob.json"
check "': >' truncates to 0 bytes" test "$(stat -c %s "$J/echojob.json")" = 0
# a truncating open + flush with nothing written: no error, no change of
# the running definition (instances/echojob stays)
check "truncated job still has its instances dir" test -d "$MNT/instances/echojob"
assert_absent "$J/echojob.json.error" "truncate + flush without a write raises no error"

# python open().write()
sed 's/hello, world/hello, python/' "$WORK/t1.json" | sed 's/tooljob/pyjob/' > "$WORK/py.json"
python3 -c 'import sys; open(sys.argv[2], "w").write(open(sys.argv[1]).read())' \
	"$WORK/py.json" "$J/pyjob.json" && ok "python write: exit 0" || notok "python write: exit 0"
assert_same "$J/pyjob.json" "$WORK/py.json" "python open().write()"
assert_valid_def jobs pyjob "python open().write()"
assert_errno EINVAL "python write of an invalid job: close() raises EINVAL" \
	'with open(p + "/jobs/pyjob.json", "w") as h: h.write("{\"type\": \"job\"}\n")'
# python atomic write: mkstemp + fsync + os.replace
assert_invalid_def jobs pyjob "python write of an invalid job"
assert_errno OK "python tempfile + os.replace" '
import tempfile
src = open("'"$WORK/py.json"'").read()
fd, tmp = tempfile.mkstemp(dir=p + "/jobs", prefix=".pyjob.json.")
os.write(fd, src.encode()); os.fsync(fd); os.close(fd)
os.replace(tmp, p + "/jobs/pyjob.json")
'
assert_same "$J/pyjob.json" "$WORK/py.json" "python atomic replace"
assert_valid_def jobs pyjob "python atomic replace"

# identical content re-saved is not a change
cp "$WORK/py.json" "$J/pyjob.json" && ok "re-saving identical bytes: exit 0" || notok "re-saving identical bytes"

it_unmount
it_done
