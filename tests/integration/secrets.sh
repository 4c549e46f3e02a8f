#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret masking in sources/: reads show accessKey and securityToken as
# "******"; writing "******" back keeps the stored secret (the source stays
# valid and the stored bytes still hold it), while "******" in a new source
# (nothing to keep) is an error (in NAME.json.error: the save itself
# succeeds); files are 0600 and chmod cannot widen them; the secrets
# appear nowhere in the mount (grep -r) or the daemon log.
# Secrets at rest (issue 14), as the attacker with a copy of data.mdb: no
# secret in it (grep, strings), also after the sources are deleted (free
# pages); STATE/secret.key is 0600; a remounted daemon reads the source; a
# backup holds no secret, says whether it has the key, restores onto the
# key copied into an empty dir, --with-key onto a fresh dir, and another
# key or none is refused with the reason.
. "$(dirname "$0")/lib.sh"
require_prog python3 sed grep
it_setup
it_mount
S=$MNT/sources
KEY=SuperSecretKeyValue4242
TOKEN=StsTokenValue-9f8e7d6c5b

cat > "$WORK/ots.json" <<JSON
{
  "type": "ots",
  "endpoint": "http://127.0.0.1:1",
  "instanceName": "difs-test",
  "accessId": "LTAIexampleid",
  "accessKey": "$KEY",
  "securityToken": "$TOKEN"
}
JSON
cp "$WORK/ots.json" "$S/ots.json" && ok "valid source written" || notok "valid source written"
assert_valid_def sources ots "source with secrets"
sed "s/$KEY/******/; s/$TOKEN/******/" "$WORK/ots.json" > "$WORK/masked.json"
assert_same "$S/ots.json" "$WORK/masked.json" "read shows the secrets as ******"
check "stat size matches the masked view" test "$(stat -c %s "$S/ots.json")" = "$(stat -c %s "$WORK/masked.json")"
check "source file mode is 0600" test "$(stat -c %a "$S/ots.json")" = 600
chmod 0644 "$S/ots.json" 2>/dev/null
check "chmod 0644 cannot widen a source" test "$(stat -c %a "$S/ots.json")" = 600

# write-back of the masked view with an edit (editor round trip)
sed -i 's/difs-test/difs-test2/' "$S/ots.json" && ok "sed -i of the masked view: exit 0" || notok "sed -i of the masked view"
sed 's/difs-test/difs-test2/' "$WORK/masked.json" > "$WORK/masked2.json"
assert_same "$S/ots.json" "$WORK/masked2.json" "edited source still shows ******"
assert_valid_def sources ots "****** written back keeps the secret (source valid)"
python3 - "$WORK/masked2.json" "$S/ots.json" <<'PY' && ok "python write-back of ****** accepted" || notok "python write-back of ****** accepted"
import sys
with open(sys.argv[2], "w") as h:
    h.write(open(sys.argv[1]).read())
PY

# "******" where there is nothing to keep is an error: the save succeeds
# (validation never fails a system call), the bytes read back, and the
# error is in fresh.json.error and the daemon log
cp "$WORK/masked.json" "$S/fresh.json" 2>"$WORK/cp.err" && ok "****** in a new source: cp exits 0" ||
	notok "****** in a new source: cp exits 0 ($(cat "$WORK/cp.err"))"
assert_same "$S/fresh.json" "$WORK/masked.json" "****** in a new source: bytes read back"
assert_invalid_def sources fresh "****** in a new source"
check "****** in a new source: sources/fresh.json:LINE:COL: error: lines" \
	grep -Eq '^sources/fresh\.json:[0-9]+:[0-9]+: error: ' "$S/fresh.json.error"
check "****** in a new source: a WARN line by cp in the daemon log" \
	grep -Eq 'WARN sources/fresh\.json: saved by cp \(pid [0-9]+\): INVALID' "$WORK/daemon.err"

# issue 14: an invalid source reads back masked too, whatever its state:
# broken JSON (masked by line) and valid JSON that is no valid source
# (masked by member name at any depth: password, token, secret, ...)
cat > "$WORK/broken.json" <<JSON
{
  "type": "ots"
  "endpoint": "http://127.0.0.1:1",
  "accessKey": "$KEY",
  "securityToken":
      "$TOKEN"
JSON
cp "$WORK/broken.json" "$S/broken.json" && ok "broken source: cp exits 0" || notok "broken source: cp exits 0"
assert_invalid_def sources broken "broken JSON source"
check "broken source: read shows the accessKey line masked" grep -q '"accessKey": "\*\*\*\*\*\*",' "$S/broken.json"
check "broken source: other lines as written" grep -q '"endpoint": "http://127.0.0.1:1",' "$S/broken.json"
cat > "$WORK/names.json" <<JSON
{"type": "oss", "dbPassword": "$KEY",
 "extra": {"api_token": "$TOKEN", "list": [{"secret": "$KEY"}]}}
JSON
cp "$WORK/names.json" "$S/names.json" && ok "source with other secret names: cp exits 0" ||
	notok "source with other secret names: cp exits 0"
assert_invalid_def sources names "valid JSON, invalid source"
check "invalid source: dbPassword masked" grep -q '"dbPassword": "\*\*\*\*\*\*"' "$S/names.json"
cp "$S/broken.json" "$WORK/broken.view" && cp "$WORK/broken.view" "$S/broken.json.bak" &&
	ok "a copy of the broken view written back" || notok "a copy of the broken view written back"

# issue 14: a job whose schedule.params hold secrets (names of the list):
# its instance's params file, status, job.json and log show none (a URL's
# password written in a job file is shown as written: it belongs in a
# parameter named like a secret; URLs in logs are tested with difs run)
job_json 2 0 "$WORK/out" sjob | python3 -c '
import json, sys
j = json.load(sys.stdin)
j["schedule"] = {"cycle": "daily", "timezone": "UTC",
                 "params": {"dbPassword": sys.argv[1], "apiToken": sys.argv[2]}}
print(json.dumps(j, indent=2))' "$KEY" "$TOKEN" > "$MNT/jobs/sjob.json"
assert_valid_def jobs sjob "a job with a secret parameter"
wait_for 5 test -d "$MNT/instances/sjob" || notok "instances/sjob appears"
echo "run 20250101000000" > "$MNT/instances/sjob/ctl"
wait_for 20 grep -qx SUCCESS "$MNT/instances/sjob/20250101000000/state" &&
	ok "the job with a secret parameter ran" || notok "the job with a secret parameter ran"
check "params file: the secret's value is ******" grep -qx 'dbPassword=\*\*\*\*\*\*' \
	"$MNT/instances/sjob/20250101000000/params"
check "params file: the token's value is ******" grep -qx 'apiToken=\*\*\*\*\*\*' \
	"$MNT/instances/sjob/20250101000000/params"
check "instance log: the parameter logged masked" grep -q 'parameter dbPassword=\*\*\*\*\*\*' \
	"$MNT/instances/sjob/20250101000000/log"

# log injection: a ctl write of two lines is refused and forges no entry
printf 'run\nFAKE LINE' > "$MNT/instances/sjob/ctl" 2>/dev/null &&
	notok "a two-line ctl write is refused" || ok "a two-line ctl write is refused"
printf 'bogus\rFAKE\033[2J\n' > "$MNT/instances/sjob/ctl" 2>/dev/null
check "job log: no line starts with the injected text" sh -c "! grep -a -q '^FAKE' '$MNT/instances/sjob/log'"
check "job log: control bytes shown as \\xHH" grep -a -q "'bogus\\\\x0dFAKE\\\\x1b\[2J'" "$MNT/instances/sjob/log"
check "job log: no raw CR or ESC" sh -c "! grep -a -q \$'[\\r\\033]' '$MNT/instances/sjob/log'"
check "daemon log: no line starts with the injected text" sh -c "! grep -a -q '^FAKE' '$WORK/daemon.err'"

# process hardening: no core dump of the mount (RLIMIT_CORE 0 as set by
# difs; PR_SET_DUMPABLE 0 is checked below with difs run as another user)
check "the mount's core file size limit is 0" grep -Eq '^Max core file size +0 +0 ' "/proc/$DPID/limits"

# the secrets are nowhere in the mount or in the daemon log
if grep -r -a -l -e "$KEY" -e "$TOKEN" "$MNT" 2>/dev/null; then
	notok "secrets appear nowhere in the mount (grep -r)"
else
	ok "secrets appear nowhere in the mount (grep -r)"
fi
it_unmount
if grep -a -q -e "$KEY" -e "$TOKEN" "$STATE/difs.log" "$WORK/daemon.err"; then
	notok "secrets appear nowhere in the daemon log"
else
	ok "secrets appear nowhere in the daemon log"
fi
# secrets at rest: a copy of data.mdb holds none of them
no_secret_in() {	# WHAT FILE
	check "$1: no secret (grep -c)" test "$(grep -a -c -e "$KEY" -e "$TOKEN" "$2")" = 0
	if command -v strings >/dev/null; then
		check "$1: no secret (strings)" sh -c "! strings -a '$2' | grep -q -e '$KEY' -e '$TOKEN'"
	fi
}
no_secret_in "data.mdb after the sources and the job were written" "$STATE/data.mdb"
check "control: data.mdb holds the instance log's plain text" \
	grep -a -q 'parameter dbPassword=\*\*\*\*\*\*' "$STATE/data.mdb"
check "STATE/secret.key: 0600, 32 bytes" \
	test "$(stat -c %a/%s "$STATE/secret.key")" = 600/32
it_mount
# the write-back did not replace the secret with ******: a remounted
# daemon reads it back (under the key) and the source is valid
assert_same "$S/ots.json" "$WORK/masked2.json" "masked view after remount"
assert_valid_def sources ots "source valid after remount"

# difs backup: without the key by default (and says so), --with-key on demand
"$DIFS" backup --state "$STATE" "$WORK/nokey.mdb" 2>"$WORK/bk.err"
check "backup without --with-key: exit 0 ($(cat "$WORK/bk.err"))" test $? = 0
check "backup says it has no key" grep -q \
	"difs backup: backup without the secret key: restore needs $STATE/secret.key or --with-key" \
	"$WORK/bk.err"
no_secret_in "a backup without the key" "$WORK/nokey.mdb"
"$DIFS" backup --with-key --state "$STATE" "$WORK/withkey.mdb" 2>"$WORK/bkk.err"
check "backup --with-key: exit 0 ($(cat "$WORK/bkk.err"))" test $? = 0
check "backup --with-key says it has the key" grep -q "backup with the secret key" "$WORK/bkk.err"
no_secret_in "a backup with the key (still sealed)" "$WORK/withkey.mdb"

# deleted sources leave no secret in the free pages
rm -f "$S/ots.json" "$S/broken.json" "$S/broken.json.bak" "$S/names.json" "$S/fresh.json" \
	"$MNT/jobs/sjob.json"
it_unmount
no_secret_in "data.mdb after the sources were deleted (free pages)" "$STATE/data.mdb"

# restore: onto the key it was sealed under, or with the key it carries
restore() {	# NAME FILE DIR -> exit status; stderr in $WORK/NAME.err
	"$DIFS" restore "$2" --state "$3" 2>"$WORK/$1.err"
}
restore r-nokey "$WORK/nokey.mdb" "$WORK/r-nokey"
check "keyless backup into a fresh dir: exit 1" test $? = 1
check "the reason: the key is missing ($(cat "$WORK/r-nokey.err"))" \
	grep -q 'secret.key is missing: copy the key' "$WORK/r-nokey.err"
check "and no directory left" test ! -e "$WORK/r-nokey"
mkdir -m 0700 "$WORK/r-wrong" && head -c 32 /dev/urandom > "$WORK/r-wrong/secret.key" &&
	chmod 0600 "$WORK/r-wrong/secret.key"
restore r-wrong "$WORK/nokey.mdb" "$WORK/r-wrong"
check "keyless backup onto another key: exit 1" test $? = 1
check "the reason names the key ($(cat "$WORK/r-wrong.err"))" grep -q \
	"secret.key does not match this store: restore the key that was used (difs backup --with-key) or rewrite the sources" \
	"$WORK/r-wrong.err"
check "the dir keeps only its own key" test "$(ls -A "$WORK/r-wrong")" = secret.key
mkdir -m 0700 "$WORK/r-same" && cp -p "$STATE/secret.key" "$WORK/r-same/"
restore r-same "$WORK/nokey.mdb" "$WORK/r-same"
check "keyless backup onto the state dir's key: exit 0 ($(cat "$WORK/r-same.err"))" test $? = 0
restore r-with "$WORK/withkey.mdb" "$WORK/r-with"
check "backup --with-key into a fresh dir: exit 0 ($(cat "$WORK/r-with.err"))" test $? = 0
check "restore says the key came with it" grep -q "with its secret key" "$WORK/r-with.err"
check "its key is the state dir's, 0600" sh -c \
	"cmp -s '$STATE/secret.key' '$WORK/r-with/secret.key' && test \"\$(stat -c %a '$WORK/r-with/secret.key')\" = 600"
ORIG=$STATE
for r in r-same r-with; do
	STATE=$WORK/$r
	it_mount
	assert_same "$S/ots.json" "$WORK/masked2.json" "$r: the restored source reads back"
	assert_valid_def sources ots "$r: the restored source is valid"
	it_unmount
done
STATE=$ORIG

# ---- difs run: --param-file keeps secrets out of argv, logs mask them ------
R=$WORK/run
mkdir -p "$R" && chmod 0755 "$WORK" "$R"
job_json 2 0 "$R/out" data > "$R/job.json"
printf '# the run'"'"'s secrets\ndbPassword=%s\n\n  url=https://u:%s@example.com/x\r\n' "$KEY" "$TOKEN" > "$R/params"
chmod 0644 "$R/params"
"$DIFS" run "$R/job.json" --cycle 20260101000000 --param-file "$R/params" -p api_token="$TOKEN" \
	2> "$R/run.err" && ok "difs run --param-file: exit 0" || notok "difs run --param-file: exit 0 ($(cat "$R/run.err"))"
check "a param file others can read: a warning" grep -q "warning: --param-file $R/params can be read by every user" "$R/run.err"
check "run log: the param file's secret as ******" grep -q 'parameter dbPassword=\*\*\*\*\*\*$' "$R/run.err"
check "run log: a URL without its password" grep -q 'parameter url=https://\*\*\*\*\*\*@example.com/x$' "$R/run.err"
check "run log: a -p secret as ******" grep -q 'parameter api_token=\*\*\*\*\*\*$' "$R/run.err"
check "run log: no secret" sh -c "! grep -a -q -e '$KEY' -e '$TOKEN' '$R/run.err'"
chmod 0600 "$R/params"
"$DIFS" run "$R/job.json" --cycle 20260101000000 --param-file "$R/params" 2> "$R/run2.err"
check "a 0600 param file: no warning" sh -c "! grep -q warning '$R/run2.err'"
printf 'x\n%s\n' "$KEY" > "$R/bad.params"
"$DIFS" run "$R/job.json" --param-file "$R/bad.params" 2> "$R/run3.err"; rc=$?
check "a param file line without '=': exit 2" test "$rc" = 2
check "and the message names the line, not its text" sh -c "grep -q '$R/bad.params:1: a line is name=value' '$R/run3.err' && ! grep -q '$KEY' '$R/run3.err'"

# argv and /proc of a running difs run, as an unprivileged user: the
# secret is not in /proc/PID/cmdline, and the process is not dumpable
# (another process of the same user cannot read its /proc/PID/environ,
# while it can read that of a dumpable process: the control)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	NOB=(setpriv --reuid=65534 --regid=65534 --clear-groups)	# no function: $! is its pid
	chmod 1777 "$R"	# sticky: the txtfile writer refuses a world-writable dir without it
	cp "$R/params" "$R/params.nobody" && chown 65534:65534 "$R/params.nobody" && chmod 0600 "$R/params.nobody"
	job_json 400 0.001 "$R/out2" data > "$R/slow.json"
	"${NOB[@]}" "$DIFS" run "$R/slow.json" --cycle 20260101000000 --param-file "$R/params.nobody" \
		2> "$R/slow.err" &
	RPID=$!
	"${NOB[@]}" sleep 30 &
	CPID=$!
	wait_for 5 test -s "$R/slow.err"
	check "difs run is running" kill -0 "$RPID"
	check "its argv holds the param file's name" sh -c "tr '\\0' ' ' < /proc/$RPID/cmdline | grep -q -- '--param-file'"
	check "its argv holds no secret" sh -c "! tr '\\0' ' ' < /proc/$RPID/cmdline | grep -q -e '$KEY' -e '$TOKEN'"
	check "control: a dumpable process' environ is readable by its user" \
		"${NOB[@]}" sh -c "cat /proc/$CPID/environ > /dev/null"
	check "difs run is not dumpable: its environ is not readable by its own user" \
		"${NOB[@]}" sh -c "! cat /proc/$RPID/environ > /dev/null 2>&1"
	check "difs run: no core dump (limit 0)" grep -Eq '^Max core file size +0 +0 ' "/proc/$RPID/limits"
	kill "$RPID" "$CPID" 2>/dev/null
	wait "$RPID" "$CPID" 2>/dev/null
else
	ok "# SKIP the unprivileged difs run checks need root and setpriv"
fi
it_done
