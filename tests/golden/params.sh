#!/bin/sh
# SPDX-License-Identifier: MIT
# params.sh - `difs params` on the seed example:
# cycle 20261125120500 in Asia/Shanghai gives start_time=20261125115500,
# end_time=20261125120000, date=20261124, then a blank line and the resolved
# job with secrets masked.  Output is TAP.
#   params.sh DIFS EXAMPLES_DIR
set -u
difs=$1
ex=$2
out=$(mktemp) || exit 1
err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT
n=0
fail=0
t() {	# t DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		fail=$((fail + 1))
	fi
}

"$difs" params "$ex/seed-job.json" --cycle 20261125120500 \
    "$ex/ots-source.json" "$ex/oss-source.json" >"$out" 2>"$err"
rc=$?
t "exit status 0" [ "$rc" -eq 0 ]
t "no diagnostics" [ ! -s "$err" ]
t "parameter lines" [ "$(head -n 3 "$out")" = "start_time=20261125115500
end_time=20261125120000
date=20261124" ]
t "then a blank line and the job" sh -c '[ "$(sed -n 4p "$1")" = "" ] && [ "$(sed -n 5p "$1")" = "{" ]' _ "$out"
t "resolved start" grep -q '"startTimestampMillis": "20261125115500"' "$out"
t "resolved end" grep -q '"endTimestampMillis": "20261125120000"' "$out"
t "resolved object" grep -q '"object": "instance/orders/20261124/20261125115500"' "$out"
secret=$(sed -n 's/.*"accessKey": *"\([^"]*\)".*/\1/p' "$ex/ots-source.json")
t "no secret in the output" sh -c "! grep -qF '$secret' '$out'"

# --source spelling and a cycle in the night: windows cross midnight
"$difs" params "$ex/seed-job.json" --cycle 20261126000500 --source "$ex/ots-source.json" \
    --source "$ex/oss-source.json" >"$out" 2>"$err"
t "--source works" [ $? -eq 0 ]
t "window across midnight" [ "$(head -n 3 "$out")" = "start_time=20261125235500
end_time=20261126000000
date=20261125" ]

# usage errors exit 2
"$difs" params "$ex/seed-job.json" >/dev/null 2>&1
t "missing --cycle is a usage error" [ $? -eq 2 ]
"$difs" params "$ex/seed-job.json" --cycle 2026112512 >/dev/null 2>&1
t "bad cycle id is a usage error" [ $? -eq 2 ]
"$difs" check >/dev/null 2>&1
t "check without files is a usage error" [ $? -eq 2 ]
"$difs" check "$ex"/*.json >"$out" 2>&1
t "difs check contrib/examples/*.json exits 0" [ $? -eq 0 ]
t "and prints nothing" [ ! -s "$out" ]
# --state: an empty state directory knows no datasource
st=$(mktemp -d) || exit 1
"$difs" check --state "$st" "$ex/seed-job.json" >"$out" 2>&1
t "--state with no stored sources fails" [ $? -eq 1 ]
t "and names the datasource" grep -q 'datasource "ots-source" is not among the valid sources' "$out"
"$difs" check --state "$st" "$ex"/*.json >"$out" 2>&1
t "--state plus source files passes" [ $? -eq 0 ]
rm -rf "$st"
"$difs" check --state "$st" "$ex/seed-job.json" >"$out" 2>&1
t "a missing state directory is a usage error" [ $? -eq 2 ]
t "and is not created" [ ! -e "$st" ]
# difs params NAME: a job's name reads the state directory's definitions
st=$(mktemp -d) || exit 1
"$difs" params orders --state "$st" --cycle 20261125120500 >"$out" 2>"$err"
t "params NAME without a store in --state fails (exit 1)" [ $? -eq 1 ]
t "and says the directory holds no state store" grep -q 'no job "orders": .* holds no state store' "$err"
"$difs" check --state "$st" "$ex"/*.json >/dev/null 2>&1	# creates an empty store
"$difs" params orders --state "$st" --cycle 20261125120500 >"$out" 2>"$err"
t "params NAME of an unknown job fails (exit 1)" [ $? -eq 1 ]
t "and names the job and the directory" grep -q "no job \"orders\" in the state directory $st" "$err"
t "and prints nothing on stdout" [ ! -s "$out" ]
rm -rf "$st"
"$difs" params "$ex/seed-job.json" --cycle 20261125120500 --state "$st" "$ex/ots-source.json" >/dev/null 2>&1
t "params PATH with a missing --state is a usage error" [ $? -eq 2 ]

# dependsOn: cycles among the job files given together
jd=$(mktemp -d) || exit 1
mkjob() {	# mkjob NAME DEPENDSON_JSON
	cat >"$jd/$1.json" <<EOF
{"type": "job", "configuration": {
  "reader": {"plugin": "stream", "parameter": {"column": [{"type": "long", "value": "1"}], "sliceRecordCount": 1}},
  "writer": {"plugin": "txtfile", "parameter": {"path": "/tmp/o", "fileName": "$1", "writeMode": "append", "nullFormat": ""}}},
 "schedule": {"cycle": "daily",
  "dependsOn": $2}}
EOF
}
mkjob a '[{"job": "c"}]'
mkjob b '[{"job": "a"}]'
mkjob c '[{"job": "b", "cycle": "latest"}, {"job": "zz"}]'
"$difs" check "$jd/a.json" "$jd/b.json" "$jd/c.json" >"$out" 2>&1
t "check of three jobs in a cycle fails (exit 1)" [ $? -eq 1 ]
t "a's error names the cycle at \"dependsOn\"" grep -qF "$jd/a.json:5:3: error: \"dependsOn\": dependency cycle: a -> c -> b -> a; remove one of these dependencies" "$out"
t "each job of the cycle gets it" [ "$(grep -c 'dependency cycle' "$out")" -eq 3 ]
t "an upstream none of the files defines is a warning" grep -qF "$jd/c.json:5:58: warning: upstream job \"zz\" is not defined" "$out"
"$difs" check "$jd/c.json" >"$out" 2>&1
t "one job alone: no cycle, exit 0" [ $? -eq 0 ]
t "and no warning (the set of jobs is not known)" [ ! -s "$out" ]
mkjob a '[]'
"$difs" check "$jd/a.json" "$jd/b.json" "$jd/c.json" >"$out" 2>&1
t "without a -> c no cycle (exit 0)" [ $? -eq 0 ]
t "only the warning is left" [ "$(grep -c . "$out")" -eq 1 ]
rm -rf "$jd"
echo "1..$n"
[ "$fail" -eq 0 ]
