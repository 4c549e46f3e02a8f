#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vim creates and edits a job in jobs/ with its Debian defaults: swap file
# in the file's directory ('directory' starts with "."), 'writebackup' on,
# 'backup' off, 'backupcopy' auto (rename the original to job.json~, write a
# new job.json, fsync, close, delete job.json~) - except under /tmp, where
# 'backupskip' (/tmp/*) skips the write-backup.  Run with BASEDIR outside
# /tmp (meson passes its build dir) and inside /tmp: both must work.
#
# vim is scripted with -c commands (no terminal: it warns and sleeps ~2 s
# per start).  The options are printed from inside vim and checked, so a
# change of defaults that turns swap or writebackup off fails the test.
# An invalid edit must make :w report a write error (E667 fsync failed or
# E512 close failed), and the running definition must stay the old one.
. "$(dirname "$0")/lib.sh"
require_prog vim python3
it_setup
it_mount
J=$MNT/jobs
VIMRC=$(ls -d /usr/share/vim/vim[0-9]*/defaults.vim 2>/dev/null | tail -n 1)
[ -n "$VIMRC" ] || bail "vim's defaults.vim not found"

# vim_run FILE EX-COMMAND...: run vim on FILE with the commands, then record
# the last error message and quit without saving anything else
vim_run() {
	local f=$1 a=()
	shift
	rm -f "$WORK/vim.err"
	for c in "$@"; do a+=(-c "$c"); done
	timeout 60 vim -N -u "$VIMRC" -i NONE \
		-c "redir! >> $WORK/vim.opts" \
		-c 'set swapfile? writebackup? backup? backupcopy? backupskip? directory?' \
		-c 'echo "swap=" . swapname("%") . " exists=" . filereadable(swapname("%"))' \
		-c 'redir END' \
		"${a[@]}" \
		-c "call writefile([v:errmsg], '$WORK/vim.err')" \
		-c 'qa!' "$f" </dev/null >/dev/null 2>"$WORK/vim.stderr"
}

job_json 3 0 "$WORK/out" vimjob > "$WORK/v1.json"

# 1. create a new job
vim_run "$J/vimjob.json" "0r $WORK/v1.json" '$d' 'w'
check "vim: :w of a new job reports no error" test ! -s "$WORK/vim.err" -o "$(cat "$WORK/vim.err")" = ""
assert_same "$J/vimjob.json" "$WORK/v1.json" "vim: new job"
assert_valid_def jobs vimjob "vim: new job"
check "vim: swapfile on" grep -q '^  swapfile' "$WORK/vim.opts"
check "vim: writebackup on" grep -q '^  writebackup' "$WORK/vim.opts"
check "vim: nobackup, backupcopy=auto" grep -q 'backupcopy=auto' "$WORK/vim.opts"
check "vim: swap file lived in jobs/ during the session" \
	grep -q "swap=$J/.vimjob.json.swp exists=1" "$WORK/vim.opts"
assert_absent "$J/.vimjob.json.swp" "vim: swap file removed on quit"
assert_absent "$J/vimjob.json~" "vim: write-backup removed after the save"
case "$MNT" in
/tmp/*) check "vim: backupskip covers this mount (/tmp)" grep -q 'backupskip=.*/tmp/\*' "$WORK/vim.opts" ;;
esac

# 2. edit it (rename-backup path outside /tmp)
sed 's/hello, world/hello, vim/' "$WORK/v1.json" > "$WORK/v2.json"
ino1=$(stat -c %i "$J/vimjob.json")
vim_run "$J/vimjob.json" '%s/hello, world/hello, vim/' 'w'
check "vim: :w of an edit reports no error" test "$(cat "$WORK/vim.err")" = ""
assert_same "$J/vimjob.json" "$WORK/v2.json" "vim: edited job"
assert_valid_def jobs vimjob "vim: edited job"
assert_absent "$J/vimjob.json~" "vim: no backup left"
# the save sequence differs: outside /tmp the original is renamed to
# vimjob.json~ and a new file written (new inode); under /tmp backupskip
# skips the write-backup and vim overwrites in place (same inode)
ino2=$(stat -c %i "$J/vimjob.json")
case "$MNT" in
/tmp/*) check "vim under /tmp: saved in place (inode $ino1 kept)" test "$ino1" = "$ino2" ;;
*) check "vim outside /tmp: saved by rename-to-backup + new file (inode $ino1 -> $ino2)" \
	test "$ino1" != "$ino2" ;;
esac
ls -a "$J" > "$WORK/ls.out"
check "vim: no 4913 probe file left" sh -c "! grep -qx 4913 '$WORK/ls.out'"

# the running definition is v2: a run writes "hello, vim"
echo run > "$MNT/instances/vimjob/ctl" && ok "ctl run accepted" || notok "ctl run accepted"
if wait_for 20 grep -q SUCCESS "$MNT/instances/vimjob/latest/state"; then
	ok "vim: run of the edited job succeeded"
else
	notok "vim: run of the edited job succeeded ($(cat "$MNT/instances/vimjob/latest/state" 2>&1))"
fi
check "vim: the run used the edited definition" grep -q 'hello, vim' "$WORK"/out/vimjob__*

# 3. an invalid edit: the write error is reported, the definition stays
vim_run "$J/vimjob.json" '%s/"plugin": "stream"/"plugin": "nosuchreader"/' 'w'
err=$(cat "$WORK/vim.err")
diag "vim's error: $err"
case "$err" in
*E667*|*E512*|*"Fsync failed"*|*"Close failed"*|*E212*|*E514*) ok "vim: invalid edit reports a write error" ;;
*) notok "vim: invalid edit reports a write error (got '$err')" ;;
esac
assert_absent "$J/.vimjob.json.swp" "vim: swap file removed after the failed write"
rm -f "$WORK"/out/vimjob__*
echo run > "$MNT/instances/vimjob/ctl"
if wait_for 20 sh -c "ls '$WORK'/out/vimjob__* >/dev/null 2>&1"; then
	ok "vim: a run after the invalid edit still works"
else
	notok "vim: a run after the invalid edit still works"
fi
check "vim: running definition unchanged (v2 output)" grep -q 'hello, vim' "$WORK"/out/vimjob__*
if cmp -s "$J/vimjob.json" "$WORK/v2.json"; then
	ok "vim restored the valid bytes after the error"
	assert_absent "$J/vimjob.json.error" "vim: no .error once the valid bytes are back"
else
	assert_invalid_def jobs vimjob "vim: invalid bytes kept"
fi

it_unmount
it_done
