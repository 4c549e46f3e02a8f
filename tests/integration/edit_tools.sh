#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shell tools write definitions: `sed -i` (temp file + rename, no fsync),
# `cp` (O_TRUNC + write), ed (in place), `>` (bash sends FLUSH before
# WRITE) and `>>`, python open().write() and mkstemp + fsync + os.replace
# (the atomic-rename writer), `mv` of a temp file over a job and from
# another filesystem.  Each is checked with cat + cmp and the definition's
# state.  For sed -i, cp, ed, >, >> and os.replace an invalid and then a
# valid save of a running job (def_edit_cycle in lib.sh): every save exits
# 0, the bytes read back, the invalid one gets NAME.json.error and a WARN
# line naming the tool's process in the job log while the old definition
# keeps running, the valid one removes the .error and runs.
. "$(dirname "$0")/lib.sh"
require_prog python3 sed ed jq
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

# echo > a brand-new job's first line (invalid), cat >> the rest (valid)
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
# a truncating open with nothing written: ": >" exits 0; the emptied file
# is a change like any other (an empty job is invalid: .error and a WARN
# line by bash), and the running definition stays (instances/echojob stays)
check "truncated job still has its instances dir" test -d "$MNT/instances/echojob"
assert_invalid_def jobs echojob "': >' empties the job"
check "the job log says bash emptied it" grep -q "WARN definition: jobs/echojob.json saved by bash (pid [0-9]*): INVALID" "$MNT/instances/echojob/log"

# python open().write(), valid and invalid: write and close succeed
sed 's/hello, world/hello, python/' "$WORK/t1.json" | sed 's/tooljob/pyjob/' > "$WORK/py.json"
python3 -c 'import sys; open(sys.argv[2], "w").write(open(sys.argv[1]).read())' \
	"$WORK/py.json" "$J/pyjob.json" && ok "python write: exit 0" || notok "python write: exit 0"
assert_same "$J/pyjob.json" "$WORK/py.json" "python open().write()"
assert_valid_def jobs pyjob "python open().write()"
assert_errno OK "python write of an invalid job: write and close succeed" \
	'with open(p + "/jobs/pyjob.json", "w") as h: h.write("{\"type\": \"job\"}\n")'
check "python write of an invalid job: bytes read back" \
	test "$(cat "$J/pyjob.json")" = '{"type": "job"}'
assert_invalid_def jobs pyjob "python write of an invalid job"
cp "$WORK/py.json" "$J/pyjob.json"
assert_valid_def jobs pyjob "python: valid again"
# identical content re-saved is not a change
cp "$WORK/py.json" "$J/pyjob.json" && ok "re-saving identical bytes: exit 0" || notok "re-saving identical bytes"

# ---- an invalid then a valid save of a running job, tool by tool ----------
# Each SAVE_FN MODE JOB OLD NEW saves def_edit_cycle's edit and checks the
# tool's exit status and what it printed (tool_ok).

# tool_ok WHAT: the command just run exited 0 and wrote nothing to tool.err
tool_ok() {
	local rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$WORK/tool.err" ]; then
		ok "$1: exit 0, no message"
	else
		notok "$1: exit 0, no message (exit $rc: $(cat "$WORK/tool.err"))"
	fi
}

# sed -i: temp file in jobs/ + rename onto the job, no temp file left
sed_i() {
	sed -i "$(def_sed "$1" "$3" "$4")" "$J/$2.json" 2>"$WORK/tool.err"
	tool_ok "sed -i $1"
	check "sed -i $1: no temp file left" sh -c "! ls -a '$J' | grep -Eq '^sed[[:alnum:]]{6}\$'"
}
def_start sedjob
def_edit_cycle sedjob sed sed_i

# cp over the job (O_TRUNC + write + close); the .error is read-only
cp_file() {
	local src=$WORK/def/$4.json
	[ "$1" = invalid ] && src=$WORK/def/$3.bad.json
	cp "$src" "$J/$2.json" 2>"$WORK/tool.err"
	tool_ok "cp $1"
	[ "$1" = invalid ] || return 0
	check "cp invalid: $2.json.error is read-only" test "$(stat -c %a "$J/$2.json.error")" = 444
	assert_errno "EACCES|EPERM|EROFS" "writing $2.json.error" \
		'open(p + "/jobs/'"$2"'.json.error", "w").write("x")'
}
def_start cpjob
def_edit_cycle cpjob cp cp_file

# ed: ,s/FROM/TO/ per substitution, w, q (rewrites the file in place)
ed_s() {
	{ def_sed "$1" "$3" "$4" | sed 's/^/,/'; printf 'w\nq\n'; } |
		ed -s "$J/$2.json" >"$WORK/tool.err" 2>&1
	tool_ok "ed $1"
}
def_start edjob
def_edit_cycle edjob ed ed_s

# > : bash opens with O_TRUNC, its builtin printf writes (so the saving
# process is bash)
redirect_gt() {
	local src=$WORK/def/$4.json
	[ "$1" = invalid ] && src=$WORK/def/$3.bad.json
	printf '%s\n' "$(cat "$src")" > "$J/$2.json" 2>"$WORK/tool.err"
	tool_ok "> $1"
}
def_start gtjob
def_edit_cycle gtjob bash redirect_gt

# >> : ': >' empties the running job (an invalid save of its own), then
# >> appends the first 10 lines of the new version (invalid: the JSON is
# cut short) and >> appends the rest (valid: the new version)
redirect_append() {
	local src=$WORK/def/$4.json
	if [ "$1" = invalid ]; then
		: > "$J/$2.json" || notok "': >' of the running job"
		printf '%s\n' "$(head -n 10 "$src")" >> "$J/$2.json" 2>"$WORK/tool.err"
	else
		printf '%s\n' "$(tail -n +11 "$src")" >> "$J/$2.json" 2>"$WORK/tool.err"
	fi
	tool_ok ">> $1"
}
def_start appjob
head -n 10 "$WORK/def/appjob-b.json" > "$WORK/def/appjob-b.head.json"
def_edit_cycle appjob bash redirect_append "$WORK/def/appjob-b.head.json"

# python: mkstemp in jobs/ + write + fsync + os.replace onto the job
py_replace() {
	local src=$WORK/def/$4.json
	[ "$1" = invalid ] && src=$WORK/def/$3.bad.json
	python3 - "$src" "$J/$2.json" <<'PY' 2>"$WORK/tool.err"
import os, sys, tempfile
data = open(sys.argv[1], "rb").read()
d, base = os.path.split(sys.argv[2])
fd, tmp = tempfile.mkstemp(dir=d, prefix="." + base + ".")
os.write(fd, data)
os.fsync(fd)
os.close(fd)
os.replace(tmp, sys.argv[2])
PY
	tool_ok "python os.replace $1"
	check "python os.replace $1: no temp file left" \
		sh -c "! ls -a '$J' | grep -q '^\\.$2\\.json\\.'"
}
def_start pyrjob
def_edit_cycle pyrjob 'python3[.0-9]*' py_replace

it_unmount
it_done
