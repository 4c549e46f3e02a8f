#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# backup.sh - `difs backup` / `difs restore`: a hot backup under a
# running daemon with a job mid-run, restored into a new state directory
# and mounted again.
#
#   tests/integration/backup.sh PATH/TO/difs [BASEDIR]   (difs-emu next to difs)
#
# difs-emu serves Table Store (a table with a stream, filled by difs-load)
# and OSS, both checking signatures with one key pair.  The mount gets an
# ots and an oss source holding that secret and four jobs: `exp`
# (otsstream -> oss over a fixed window: writes checkpoints), `up`
# (stream -> oss), `quick` (stream -> txtfile, run twice), `bad` (a
# txtfile path that cannot exist: FAILED) and `slow` (stream -> txtfile at
# 1 MB/s: RUNNING while the backup is taken).  Then:
#   - backup while mounted (exit 0, 0600, a line saying it has no key and
#     the summary line; no plaintext secret in it), `backup --with-key -`
#     through gzip, --force / no --force, and the refusals: restore into a
#     non-empty dir, into the held dir (names the daemon's pid), of a
#     non-LMDB file, of an LMDB file that is no difs store (mdb_load), of a
#     newer schema (mdb_dump | sed | mdb_load), of a truncated file; a failed
#     restore leaves no directory;
#   - restore into a new dir holding only the state's secret.key (and from
#     stdin, with the key it carries): checkpoints equal (mdb_dump),
#     the restored state mounts with the same sources (masked views), jobs,
#     and finished instances (state, status, log, params, job.json byte for
#     byte); the RUNNING one comes back and reruns as attempt 2 (its log says
#     so, the log up to the backup is kept); runs of `exp` and `up` succeed
#     against the emulator, so the real secrets came back.
. "$(dirname "$0")/lib.sh"
require_prog jq mdb_dump mdb_load gzip cmp
LOAD=$(dirname "$DIFS")/difs-load
it_setup
[ -x "$LOAD" ] || bail "difs-load must be built next to $DIFS"
KEY=BackupKeepsTheRealSecret-9931
AID=LTAIbackupid
it_emu --ots 127.0.0.1:0 --oss 127.0.0.1:0 --access-key "$AID:$KEY" \
    --instance bk --bucket bk-bucket --shards orders=2 --sync off
T0=$(($(date +%s%3N) - 2000))
"$LOAD" --endpoint "$OTS" --instance bk --access-key "$AID:$KEY" --table orders --create \
    --count 300 --keys 100 --seed 3 --quiet >"$WORK/load.out" 2>"$WORK/load.err" ||
	bail "difs-load: $(cat "$WORK/load.err")"
T1=$(($(date +%s%3N) + 500))

# ---- the first mount: sources, jobs, instances -----------------------------------
it_mount
S=$MNT/sources J=$MNT/jobs I=$MNT/instances
cat > "$WORK/ots.json" <<JSON
{ "type": "ots", "endpoint": "$OTS", "instanceName": "bk", "accessId": "$AID", "accessKey": "$KEY" }
JSON
cat > "$WORK/oss.json" <<JSON
{ "type": "oss", "endpoint": "$OSS", "bucket": "bk-bucket", "accessId": "$AID", "accessKey": "$KEY" }
JSON
cp "$WORK/ots.json" "$S/ots.json" && cp "$WORK/oss.json" "$S/oss.json" || bail "sources written"
assert_valid_def sources ots "ots source with a secret"
assert_valid_def sources oss "oss source with a secret"
ots_oss_job orders "$T0" "$T1" bk/exp > "$WORK/exp.json"
job_json 5 | jq '.configuration.writer = {"plugin": "oss", "parameter": {"datasource": "oss",
    "object": "bk/up", "writeMode": "truncate", "nullFormat": ""}}' > "$WORK/up.json"
job_json 3 0 "$WORK/out" quick > "$WORK/quick.json"
job_json 3 0 /proc/difs-backup-no-such-dir bad > "$WORK/bad.json"
job_json 100000000 1 "$WORK/out" slow > "$WORK/slow.json"
for j in exp up quick bad slow; do
	cp "$WORK/$j.json" "$J/$j.json" || bail "jobs/$j.json written"
	assert_valid_def jobs "$j" "job $j"
done

# run_job JOB: `run` through ctl in a new second; CYCLE = the instance queued
CYCLE=
run_job() {
	local prev=$CYCLE
	wait_for 3 sh -c '[ "$(date -u +%Y%m%d%H%M%S)" != "$1" ]' sh "$prev"
	echo run > "$I/$1/ctl" || return 1
	CYCLE=$(sed -n 's/^ok: run: instance \([0-9]*\) queued$/\1/p' "$I/$1/ctl")
	[ -n "$CYCLE" ] && [ "$CYCLE" != "$prev" ]
}
# run_until JOB STATE SECONDS DESCRIPTION: one run reaches STATE
run_until() {
	if run_job "$1" && wait_for "$3" grep -qx "$2" "$I/$1/$CYCLE/state"; then
		ok "$4 ($1/$CYCLE: $2)"
	else
		notok "$4 ($1/$CYCLE: $(cat "$I/$1/$CYCLE/state" 2>&1))"
		diag "$(tail -n 5 "$I/$1/$CYCLE/log" 2>&1)"
	fi
}
sleep 1.5	# the otsstream window's end must be past its safety margin
run_until exp SUCCESS 60 "otsstream -> oss with the secrets"
run_until up SUCCESS 30 "stream -> oss with the secret"
run_until quick SUCCESS 30 "quick run 1"
run_until quick SUCCESS 30 "quick run 2"
run_until bad FAILED 30 "a run that fails"
run_until slow RUNNING 30 "the slow run is running"
SLOW=$CYCLE
mdb_dump -s checkpoints "$STATE" > "$WORK/ckpt.before" 2>"$WORK/mdb.err" ||
	notok "mdb_dump of the checkpoints: $(cat "$WORK/mdb.err")"
if [ "$(grep -c '^ ' "$WORK/ckpt.before")" -ge 2 ]; then
	ok "the otsstream run wrote checkpoints ($(($(grep -c '^ ' "$WORK/ckpt.before") / 2)) keys)"
else
	notok "the otsstream run wrote checkpoints"
fi

# what the restore must show again: the mount's views of everything finished
snapshot() {	# DIR: copies of the views into DIR
	local d=$1 j c f
	mkdir -p "$d/sources" "$d/jobs" "$d/instances"
	cp "$S"/*.json "$d/sources/" && cp "$J"/*.json "$d/jobs/"
	for j in exp up quick bad; do
		for c in $(ls "$I/$j" | grep -E '^[0-9]{14}$'); do
			mkdir -p "$d/instances/$j/$c"
			for f in state status log params job.json; do
				cat "$I/$j/$c/$f" > "$d/instances/$j/$c/$f"
			done
		done
	done
}
snapshot "$WORK/before"
cp "$I/slow/$SLOW/log" "$WORK/slow.log.before"

# ---- backup while the daemon runs and slow is RUNNING ------------------------
B=$WORK/bk/state.mdb
mkdir -p "$WORK/bk"
grep -qx RUNNING "$I/slow/$SLOW/state" || notok "slow is RUNNING before the backup"
"$DIFS" backup --state "$STATE" "$B" 2>"$WORK/backup.err"
rc=$?
if [ $rc = 0 ] && grep -qx RUNNING "$I/slow/$SLOW/state"; then
	ok "difs backup under the running daemon, slow RUNNING: exit 0"
else
	notok "difs backup under the running daemon: exit $rc ($(cat "$WORK/backup.err"))"
fi
check "one summary line on stderr naming bytes and the file ($(cat "$WORK/backup.err"))" \
	grep -Eqx "difs backup: $STATE -> $B: [0-9]+ bytes \(2 sources, 5 jobs, [0-9]+ instances, [0-9]+ checkpoints\)" \
	"$WORK/backup.err"
check "it says the backup has no key" grep -qx \
	"difs backup: backup without the secret key: restore needs $STATE/secret.key or --with-key" \
	"$WORK/backup.err"
check "exactly two lines on stderr" test "$(wc -l < "$WORK/backup.err")" = 2
check "the backup is 0600" test "$(stat -c %a "$B")" = 600
check "no temporary file beside it" test "$(ls -A "$WORK/bk")" = state.mdb
check "the mount still works after the backup" test -f "$S/ots.json"
grep -a -q "$KEY" "$B" && notok "the backup holds no plaintext secret" || ok "the backup holds no plaintext secret"

cp "$B" "$WORK/b.copy"
"$DIFS" backup --state "$STATE" "$B" 2>"$WORK/e.err"
rc=$?
if [ $rc = 1 ] && grep -q 'exists.*--force' "$WORK/e.err" && cmp -s "$B" "$WORK/b.copy"; then
	ok "backup over an existing file without --force: exit 1, file unchanged ($(cat "$WORK/e.err"))"
else
	notok "backup over an existing file without --force: exit $rc ($(cat "$WORK/e.err"))"
fi
"$DIFS" backup --force --state "$STATE" "$WORK/b2.mdb" 2>/dev/null &&
	"$DIFS" backup --state "$STATE" --force "$WORK/b2.mdb" 2>"$WORK/e.err"
check "backup --force replaces an existing file" test $? = 0
"$DIFS" backup --with-key --state "$STATE" - 2>"$WORK/gz.err" | gzip > "$WORK/b.mdb.gz"
rc=${PIPESTATUS[0]}
check "difs backup - | gzip: exit $rc ($(cat "$WORK/gz.err"))" test "$rc" = 0
check "stdout summary names standard output" \
	grep -Eqx "difs backup: $STATE -> standard output: [0-9]+ bytes" "$WORK/gz.err"
"$DIFS" backup --state "$WORK/no-state" "$WORK/x.mdb" 2>"$WORK/e.err"
rc=$?
[ $rc = 1 ] && grep -q 'no state store' "$WORK/e.err" && [ ! -e "$WORK/x.mdb" ] && [ ! -e "$WORK/no-state" ]
check "backup of a directory without a state store: exit 1, nothing created ($(cat "$WORK/e.err"))" test $? = 0
"$DIFS" backup 2>/dev/null
check "backup without FILE: exit 2 (usage)" test $? = 2
"$DIFS" backup --help | grep -q 'usage: difs backup'
check "backup --help" test $? = 0
"$DIFS" restore --help | grep -q 'usage: difs restore'
check "restore --help" test $? = 0

# ---- refusals -------------------------------------------------------------------
# expect_refusal DESCRIPTION ERE DIR ARGS...: exit 1, stderr matches, no DIR
# created (when it did not exist)
expect_refusal() {
	local d=$1 re=$2 dir=$3 existed=0 rc
	shift 3
	[ -e "$dir" ] && existed=1
	"$DIFS" restore "$@" 2>"$WORK/r.err"
	rc=$?
	if [ $rc = 1 ] && grep -Eq -- "$re" "$WORK/r.err" &&
	    { [ $existed = 1 ] || [ ! -e "$dir" ]; }; then
		ok "$d: exit 1 ($(head -n 1 "$WORK/r.err"))"
	else
		notok "$d: exit $rc, stderr: $(cat "$WORK/r.err"), $dir $([ -e "$dir" ] && echo exists)"
	fi
}
expect_refusal "restore into the directory the daemon holds" \
	"in use by process $DPID" "$STATE" "$B" --state "$STATE"
check "the daemon's state is untouched" test -f "$STATE/data.mdb" -a ! -e "$STATE/data.mdb.restore"
mkdir -p "$WORK/full" && echo keep > "$WORK/full/notes"
expect_refusal "restore into a non-empty directory" \
	"$WORK/full is not empty \(it has \"notes\"\)" "$WORK/full" "$B" --state "$WORK/full"
check "the non-empty directory is unchanged" test "$(ls -A "$WORK/full")" = notes
expect_refusal "restore of a JSON file" "not an LMDB file" "$WORK/r-json" \
	"$WORK/exp.json" --state "$WORK/r-json"
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 6b6579\n 76616c\nDATA=END\n' |
	mdb_load -n "$WORK/other.mdb" && rm -f "$WORK/other.mdb-lock"
expect_refusal "restore of an LMDB file that is no difs store" "not a difs state store" \
	"$WORK/r-other" "$WORK/other.mdb" --state "$WORK/r-other"
cp "$B" "$WORK/dump.mdb"
# schema_version (hex 736368656d615f76657273696f6e) 1 -> 2
mdb_dump -n -a "$WORK/dump.mdb" | sed -e '/^db_pagesize=/d' \
	-e '/^ 736368656d615f76657273696f6e$/{n;s/^ 00000001$/ 00000002/}' |
	mdb_load -n "$WORK/newer.mdb"
rm -f "$WORK/dump.mdb" "$WORK/dump.mdb-lock" "$WORK/newer.mdb-lock"
expect_refusal "restore of a newer schema" "schema version 2.*newer difs" "$WORK/r-newer" \
	"$WORK/newer.mdb" --state "$WORK/r-newer"
head -c $(($(stat -c %s "$B") - 4096)) "$B" > "$WORK/short.mdb"
expect_refusal "restore of a truncated backup" "truncated" "$WORK/r-short" \
	"$WORK/short.mdb" --state "$WORK/r-short"
expect_refusal "restore of a truncated backup from stdin" "truncated" "$WORK/r-short2" \
	- --state "$WORK/r-short2" < "$WORK/short.mdb"
"$DIFS" restore "$B" 2>/dev/null --state
check "restore --state without DIR: exit 2" test $? = 2

# ---- unmount; restore into a new directory ---------------------------------------
wait_for 10 grep -q . "$I/slow/$SLOW/log"
it_unmount
mdb_dump -s checkpoints "$STATE" > "$WORK/ckpt.after" 2>/dev/null
check "the original's checkpoints did not move after the backup" cmp -s "$WORK/ckpt.before" "$WORK/ckpt.after"
# the backup has no key: it restores onto the state's key, copied first
mkdir -m 0700 "$WORK/state2" && cp -p "$STATE/secret.key" "$WORK/state2/"
STATE=$WORK/state2
"$DIFS" restore "$B" --state "$STATE" 2>"$WORK/restore.err"
rc=$?
check "difs restore into a new directory: exit $rc ($(cat "$WORK/restore.err"))" test "$rc" = 0
check "its summary names the counts" \
	grep -Eq "^difs restore: $B -> $STATE: [0-9]+ bytes \(2 sources, 5 jobs, [0-9]+ instances, [0-9]+ checkpoints\)" \
	"$WORK/restore.err"
check "the restored directory is 0700, data.mdb 0600" \
	test "$(stat -c %a "$STATE")/$(stat -c %a "$STATE/data.mdb")" = 700/600
check "no temporary file left in it" test ! -e "$STATE/data.mdb.restore"
mdb_dump -s checkpoints "$STATE" > "$WORK/ckpt.restored" 2>/dev/null
check "checkpoints equal (mdb_dump)" cmp -s "$WORK/ckpt.before" "$WORK/ckpt.restored"
gzip -dc "$WORK/b.mdb.gz" | "$DIFS" restore - --state "$WORK/state3" 2>"$WORK/r3.err"
check "gzip -dc | difs restore - (--with-key) into a fresh dir: exit 0 ($(cat "$WORK/r3.err"))" \
	grep -Eq "^difs restore: standard input -> $WORK/state3: [0-9]+ bytes \(2 sources, 5 jobs.*with its secret key" "$WORK/r3.err"
mdb_dump -s checkpoints "$WORK/state3" > "$WORK/ckpt.r3" 2>/dev/null
check "checkpoints of the piped backup equal" cmp -s "$WORK/ckpt.before" "$WORK/ckpt.r3"
expect_refusal "restore into the restored (non-empty) directory" "is not empty" "$STATE" \
	"$B" --state "$STATE"

# ---- the restored state mounts and shows the same ----------------------------------
it_mount
snapshot "$WORK/after"
if diff -r "$WORK/before" "$WORK/after" >"$WORK/diff.out"; then
	ok "same sources (masked views), jobs and finished instances (state, status, log, params, job.json)"
else
	notok "same sources, jobs and finished instances"
	diag "$(head -n 30 "$WORK/diff.out")"
fi
check "the restored sources still mask the secret" grep -q '"\*\*\*\*\*\*"' "$S/ots.json"
check "quick has its 2 instances, bad its FAILED one" \
	test "$(ls "$I/quick" | grep -cE '^[0-9]{14}$')/$(cat "$I/bad/"[0-9]*/state)" = 2/FAILED
if wait_for 15 grep -q 'rerunning as attempt 2' "$I/slow/$SLOW/log"; then
	ok "the RUNNING instance came back and reruns as attempt 2 ($(grep -m1 'rerunning as attempt 2' "$I/slow/$SLOW/log" | cut -c1-120))"
else
	notok "the RUNNING instance reruns as attempt 2"
	diag "$(tail -n 5 "$I/slow/$SLOW/log")"
fi
check "its log up to the backup is kept" \
	cmp -s "$WORK/slow.log.before" <(head -c "$(stat -c %s "$WORK/slow.log.before")" "$I/slow/$SLOW/log")
if wait_for 30 sh -c 'grep -qx RUNNING "$1/state" && jq -e ".attempt == 2" "$1/status"' sh \
    "$I/slow/$SLOW" >/dev/null; then
	ok "it is RUNNING again as attempt 2 (status)"
else
	notok "it is RUNNING again as attempt 2: $(cat "$I/slow/$SLOW/state"), attempt $(jq .attempt "$I/slow/$SLOW/status")"
fi
# the real secrets came back: the emulator checks every signature
run_until exp SUCCESS 60 "after the restore: otsstream -> oss with the restored secrets"
run_until up SUCCESS 30 "after the restore: stream -> oss with the restored secret"
# control: the emulator does check the secret (a wrong one fails the run)
sed "s/$KEY/NotTheKey/" "$WORK/oss.json" > "$S/wrong.json"
sed 's/"datasource": "oss"/"datasource": "wrong"/' "$WORK/up.json" > "$J/upwrong.json"
wait_for 5 test -d "$I/upwrong" || notok "instances/upwrong appears"
run_until upwrong FAILED 30 "control: the same job with a wrong secret fails"
rm -f "$J/upwrong.json" "$S/wrong.json"
echo kill > "$I/slow/$SLOW/ctl"
wait_for 30 grep -qx KILLED "$I/slow/$SLOW/state"
it_unmount
it_done
