#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vim creates and edits a job in jobs/ with its Debian defaults: swap file
# in the file's directory ('directory' starts with "."), 'writebackup' on,
# 'backup' off, 'backupcopy' auto (rename the original to job.json~, write a
# new job.json, fsync, close, delete job.json~) - except under /tmp, where
# 'backupskip' (/tmp/*) skips the write-backup.  Run with BASEDIR outside
# /tmp (meson passes its build dir) and inside /tmp: both must work.
#
# vim is scripted with a -S script of ex commands (--not-a-term: without
# it vim warns and sleeps ~2 s per start with no terminal).  The options
# are printed from inside vim and checked, so a change of defaults that
# turns swap or writebackup off fails the test.
# Then, for the defaults and for 'backupcopy' yes and no (with
# 'writebackup'), an invalid :w and a valid :w of a running job: both
# report no error and exit 0, the bytes read back, the invalid save gets
# NAME.json.error and a WARN line "by vim" in the job log and leaves the
# running definition alone, the valid one removes the .error and runs
# (def_edit_cycle in lib.sh).
. "$(dirname "$0")/lib.sh"
require_prog vim python3 jq
it_setup
it_mount
J=$MNT/jobs
VIMRC=$(ls -d /usr/share/vim/vim[0-9]*/defaults.vim 2>/dev/null | tail -n 1)
[ -n "$VIMRC" ] || bail "vim's defaults.vim not found"

# vim_run FILE EX-COMMAND...: run vim on FILE with the commands (one line
# each of a script sourced with -S: -c takes at most 10), then record the
# last error message and quit without saving anything else
vim_run() {
	local f=$1
	shift
	rm -f "$WORK/vim.err"
	{
		echo "redir! >> $WORK/vim.opts"
		echo 'set swapfile? writebackup? backup? backupcopy? backupskip? directory?'
		echo 'echo "swap=" . swapname("%") . " exists=" . filereadable(swapname("%"))'
		echo 'redir END'
		printf '%s\n' "$@"
		echo "call writefile([v:errmsg], '$WORK/vim.err')"
		echo 'qa!'
	} > "$WORK/vim.cmds"
	timeout 60 vim --not-a-term -N -u "$VIMRC" -i NONE -S "$WORK/vim.cmds" "$f" \
		</dev/null >/dev/null 2>"$WORK/vim.stderr"
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

# vim_edit MODE JOB OLD NEW [SETTING]: def_sed's MODE edit as :%s
# commands, then :w, with SETTING (an ex command) first; vim exits 0, :w
# says "written" and no error, no swap or write-backup file stays, and the
# inode shows the save sequence: in place for backupcopy=yes and whenever
# 'backupskip' skips the backup (under /tmp), a new file after renaming the
# original to the backup otherwise (auto and no)
vim_edit() {
	local mode=$1 f=$J/$2.json set=${5:-} ino0 ino1 rc a=() s
	while IFS= read -r s; do a+=("%$s"); done < <(def_sed "$mode" "$3" "$4")
	ino0=$(stat -c %i "$f")
	vim_run "$f" ${set:+"$set"} "redir! > $WORK/vim.set" 'set backupcopy? writebackup?' \
		'redir END' "${a[@]}" "redir! > $WORK/vim.msg" 'w' 'redir END'
	rc=$?
	ino1=$(stat -c %i "$f")
	check "vim ${set:-defaults}, $mode :w: exit 0" test "$rc" = 0
	check "vim ${set:-defaults}, $mode :w: no error message ($(cat "$WORK/vim.err"))" \
		test "$(cat "$WORK/vim.err")" = ""
	if grep -q 'written' "$WORK/vim.msg" && ! grep -Eq 'E[0-9]+:' "$WORK/vim.msg"; then
		ok "vim ${set:-defaults}, $mode :w: \"written\" ($(tr -s '\n' ' ' < "$WORK/vim.msg"))"
	else
		notok "vim ${set:-defaults}, $mode :w: \"written\" and no error"
		diag "$(cat "$WORK/vim.msg")"
	fi
	case "$set" in
	*backupcopy=*) s=${set#*backupcopy=}; s=${s%% *}
		check "vim: backupcopy=$s is in effect" grep -q "backupcopy=$s" "$WORK/vim.set" ;;
	esac
	assert_absent "$J/.$2.json.swp" "vim ${set:-defaults}, $mode :w: swap file removed"
	assert_absent "$J/$2.json~" "vim ${set:-defaults}, $mode :w: write-backup removed"
	case "$MNT:$set" in
	/tmp/*|*backupcopy=yes*)
		check "vim ${set:-defaults}, $mode :w: saved in place (inode $ino0 kept)" \
			test "$ino0" = "$ino1" ;;
	*)
		check "vim ${set:-defaults}, $mode :w: saved by rename-to-backup + new file (inode $ino0 -> $ino1)" \
			test "$ino0" != "$ino1" ;;
	esac
}
vim_defaults() { vim_edit "$@"; }
vim_backupcopy_yes() { vim_edit "$@" 'set backupcopy=yes'; }
vim_backupcopy_no() { vim_edit "$@" 'set backupcopy=no writebackup'; }

# 3. an invalid then a valid save of a running job, three ways
def_start vimdef
def_edit_cycle vimdef vim vim_defaults
def_start vimyes
def_edit_cycle vimyes vim vim_backupcopy_yes
def_start vimno
def_edit_cycle vimno vim vim_backupcopy_no

it_unmount
it_done
