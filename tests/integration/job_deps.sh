#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# schedule.dependsOn through the mount: jobs a <- b <- c are valid; a new
# version of a that depends on c closes the cycle a -> c -> b -> a, so its
# write succeeds but gets jobs/a.json.error naming the cycle, and a keeps
# running its last valid definition; after a remount the .error is still
# there.  A job depending on itself is invalid with a pointer to
# selfDependent.  `difs params NAME --state DIR` reads a job's running
# definition from the state of the running daemon, and says so clearly
# when there is no such job.
. "$(dirname "$0")/lib.sh"
require_prog jq
it_setup
it_mount
J=$MNT/jobs

# dep_job NAME DEPS_JSON: a daily stream -> txtfile job named NAME
dep_job() {
	job_json 3 0 "$WORK/out" "$1" |
	    jq --argjson deps "$2" '. + {schedule: {cycle: "daily", start: "23:59", dependsOn: $deps}}'
}

dep_job a '[]' > "$J/a.json" || bail "cannot write a.json"
dep_job b '[{"job": "a"}]' > "$J/b.json" || bail "cannot write b.json"
dep_job c '[{"job": "b", "cycle": "latest"}]' > "$J/c.json" || bail "cannot write c.json"
for j in a b c; do
	assert_valid_def jobs "$j" "a chain a <- b <- c"
done

# the write that closes the cycle succeeds; the definition is refused
if dep_job a '[{"job": "c"}]' > "$J/a.json"; then
	ok "writing a.json that closes a cycle succeeds (exit 0)"
else
	notok "writing a.json that closes a cycle succeeds (exit 0)"
fi
wait_for 5 test -f "$J/a.json.error" || notok "a.json.error appears"
assert_invalid_def jobs a "a cycle"
check "a.json.error names the cycle at \"dependsOn\" with the fix" \
	grep -Eq '^jobs/a\.json:[0-9]+:[0-9]+: error: "dependsOn": dependency cycle: a -> c -> b -> a; remove one of these dependencies$' \
	"$J/a.json.error"
diag "$(cat "$J/a.json.error" 2>/dev/null)"
check "instances/a is still there (the last valid definition runs)" test -d "$MNT/instances/a"
check "the job's log says INVALID" wait_for 5 grep -q 'INVALID' "$MNT/instances/a/log"

# a job that depends on itself
dep_job d '[{"job": "d"}]' > "$J/d.json" || notok "writing d.json succeeds"
wait_for 5 test -f "$J/d.json.error" || true
check "d.json.error points to selfDependent" grep -q 'use "selfDependent": true' "$J/d.json.error"

# difs params NAME: the running definition, read while the daemon runs
if "$DIFS" params b --state "$STATE" --cycle 20250101235900 >"$WORK/params.out" 2>"$WORK/params.err"; then
	ok "difs params b --state reads the running daemon's state"
else
	notok "difs params b --state reads the running daemon's state"
	diag "$(cat "$WORK/params.err")"
fi
check "it prints b's resolved job" grep -q '"fileName": "b"' "$WORK/params.out"
check "with its dependsOn" grep -q '"job": "a"' "$WORK/params.out"
"$DIFS" params nosuch --state "$STATE" --cycle 20250101235900 >/dev/null 2>"$WORK/params.err"
rc=$?
check "difs params of an unknown job fails (exit 1)" [ "$rc" -eq 1 ]
check "and says there is no such job" grep -q 'no job "nosuch" in the state directory' "$WORK/params.err"
"$DIFS" params d --state "$STATE" --cycle 20250101235900 >/dev/null 2>"$WORK/params.err"
check "difs params of a job with no valid definition points to its .error" \
	grep -q 'job "d" has no valid definition .*jobs/d.json.error' "$WORK/params.err"

# difs check --state: the cycle with the jobs the running daemon has defined
dep_job b '[{"job": "c"}]' > "$WORK/b.json"
"$DIFS" check --state "$STATE" "$WORK/b.json" >"$WORK/check.out" 2>&1
rc=$?
check "difs check --state of a b.json closing a cycle with the stored c fails (exit 1)" [ "$rc" -eq 1 ]
check "and names the cycle b -> c -> b" grep -q '"dependsOn": dependency cycle: b -> c -> b;' "$WORK/check.out"
diag "$(cat "$WORK/check.out")"
dep_job e '[{"job": "c"}, {"job": "nosuch"}]' > "$WORK/e.json"
"$DIFS" check --state "$STATE" "$WORK/e.json" >"$WORK/check.out" 2>&1
check "difs check --state of a new job below c passes (exit 0)" [ $? -eq 0 ]
check "with a warning for the upstream the state does not define" \
	grep -q 'warning: upstream job "nosuch" is not defined' "$WORK/check.out"
check "but none for c, which it defines" sh -c "! grep -q 'job \"c\" is not defined' '$WORK/check.out'"

# the cycle check at daemon start: a.json is still invalid
it_unmount
it_mount
check "after a remount a.json.error still names the cycle" \
	grep -q '"dependsOn": dependency cycle: a -> c -> b -> a' "$J/a.json.error"
for j in b c; do
	assert_valid_def jobs "$j" "after a remount"
done

# removing the dependency makes a valid again
dep_job a '[]' > "$J/a.json" || notok "writing a.json without dependencies"
wait_for 5 sh -c "! test -e '$J/a.json.error'" || true
assert_valid_def jobs a "a without the dependency"
it_unmount
it_done
