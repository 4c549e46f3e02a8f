#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# instances/ is read-only except ctl: writes, truncates, chmod, creation,
# renames and removals fail with EROFS/EACCES/EPERM; `rm -r instances/JOB`
# is refused while JOB is defined and removes the history once the job
# file is gone (after the removal grace, shortened with the hidden
# --grace-ms option); a job file that vanishes for less than the grace
# (an editor's rename-to-backup) keeps the job.
. "$(dirname "$0")/lib.sh"
require_prog python3
it_setup
it_mount --grace-ms 2000
I=$MNT/instances

job_json 3 0 "$WORK/out" errjob > "$MNT/jobs/errjob.json" || bail "cannot write the job"
wait_for 5 test -d "$I/errjob" || bail "instances/errjob did not appear"
echo run > "$I/errjob/ctl" || bail "ctl run"
wait_for 20 grep -qx SUCCESS "$I/errjob/latest/state" || bail "the run did not succeed"
c=$(readlink "$I/errjob/latest")
D=instances/errjob/$c

for f in state status params job.json log; do
	assert_errno "EACCES|EROFS" "write to $f" "open(p + '/$D/$f', 'w').write('x')"
done
assert_errno "EACCES|EROFS" "append to log" "open(p + '/$D/log', 'a').write('x')"
assert_errno "EROFS|EACCES|EPERM" "truncate status" "os.truncate(p + '/$D/status', 0)"
assert_errno "EPERM|EROFS" "chmod status" "os.chmod(p + '/$D/status', 0o666)"
assert_errno "EROFS|EACCES|EPERM" "create a file in an instance dir" "open(p + '/$D/new', 'w').close()"
assert_errno "EROFS|EACCES|EPERM" "create a file in instances/JOB" "open(p + '/instances/errjob/new', 'w').close()"
assert_errno "EROFS|EACCES|EPERM" "create a file in instances/" "open(p + '/instances/new', 'w').close()"
assert_errno "EROFS|EACCES|EPERM" "unlink state" "os.unlink(p + '/$D/state')"
assert_errno "EROFS|EACCES|EPERM|ENOTEMPTY|EBUSY" "rmdir an instance" "os.rmdir(p + '/$D')"
assert_errno "EROFS|EACCES|EPERM|EXDEV" "rename inside instances/" "os.rename(p + '/$D/log', p + '/$D/log2')"
assert_errno "EROFS|EACCES|EPERM|EXDEV" "rename a job file into instances/" \
	"open(p + '/jobs/x.txt', 'w').close(); os.rename(p + '/jobs/x.txt', p + '/instances/x.txt')"
assert_errno "EROFS|EACCES|EPERM" "symlink in instances/" "os.symlink('x', p + '/instances/errjob/l')"
assert_errno "EACCES|EROFS" "write to latest/state through the symlink" "open(p + '/instances/errjob/latest/state', 'w').write('x')"
check "status is 0444" test "$(stat -c %a "$MNT/$D/status")" = 444

# rm -r of a defined job's history is refused
rm -r "$I/errjob" 2>"$WORK/rm.err"
assert_exists "$I/errjob/$c" "rm -r instances/errjob refused while errjob.json exists"
diag "rm said: $(head -n 2 "$WORK/rm.err" | tr '\n' ' ')"
assert_errno "EBUSY|EPERM|ENOTEMPTY" "rmdir instances/errjob while defined" "os.rmdir(p + '/instances/errjob')"

# a short disappearance (editor rename-to-backup) keeps the job
mv "$MNT/jobs/errjob.json" "$MNT/jobs/errjob.json~"
sleep 0.5
mv "$MNT/jobs/errjob.json~" "$MNT/jobs/errjob.json"
sleep 3
got=$(errno_of "open(p + '/instances/errjob/ctl', 'w').write('run 20250101000000\\n')")
[ "$got" = OK ] && ok "job ctl works after a short disappearance" || notok "job ctl after a short disappearance: $got"

# once the job file is gone (and the grace is over), rm -r removes the history
rm "$MNT/jobs/errjob.json"
sleep 3
rm -r "$I/errjob" 2>"$WORK/rm2.err" && ok "rm -r instances/errjob of a deleted job" ||
	notok "rm -r instances/errjob of a deleted job: $(cat "$WORK/rm2.err")"
assert_absent "$I/errjob" "history removed"

# a job that reappears under the same name continues its history
job_json 3 0 "$WORK/out" again > "$MNT/jobs/again.json"
wait_for 5 test -d "$I/again" || notok "instances/again appears"
echo 'run 20250101000000' > "$I/again/ctl"
wait_for 20 grep -qx SUCCESS "$I/again/20250101000000/state"
rm "$MNT/jobs/again.json"
sleep 3
check "history of a deleted job stays in instances/" test -d "$I/again/20250101000000"
job_json 3 0 "$WORK/out" again > "$MNT/jobs/again.json"
sleep 1
check "reappearing job continues its history" test -d "$I/again/20250101000000"

it_unmount
it_done
