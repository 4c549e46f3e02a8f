#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# emacs --batch creates and edits a job with its default settings
# (make-backup-files t, backup-by-copying nil: the first save of a session
# renames job.json to job.json~ and writes a new job.json).  Under /tmp
# emacs makes no backup (normal-backup-enable-predicate), elsewhere the
# job.json~ backup must appear with the previous bytes.  Then an invalid
# and a valid save of a running job (def_edit_cycle in lib.sh): both exit
# 0 with no error, the bytes read back, the invalid one gets
# NAME.json.error and a WARN line "by emacs" in the job log and the old
# definition keeps running, the valid one removes the .error and runs.
. "$(dirname "$0")/lib.sh"
require_prog emacs python3 jq
it_setup
it_mount
J=$MNT/jobs
export HOME=$WORK/home	# no user init file, no ~/.emacs.d of the runner
mkdir -p "$HOME"

# emacs_run FILE ELISP: visit FILE, evaluate ELISP, save; output in
# emacs.out, ending with "saved, modified=nil" when the save went through
# (batch mode prints no "Wrote" line)
emacs_run() {
	timeout 60 emacs --batch --no-site-file \
		--eval "(progn (find-file \"$1\") $2 (save-buffer)
			(message \"saved, modified=%s\" (buffer-modified-p)))" \
		>"$WORK/emacs.out" 2>&1
}

job_json 3 0 "$WORK/out" emacsjob > "$WORK/e1.json"
sed 's/hello, world/hello, emacs/' "$WORK/e1.json" > "$WORK/e2.json"

# 1. create
emacs_run "$J/emacsjob.json" "(insert-file-contents \"$WORK/e1.json\")"
rc=$?
[ $rc = 0 ] && ok "emacs: new job saved (exit 0)" || { notok "emacs: new job saved (exit $rc)"; cat "$WORK/emacs.out"; }
assert_same "$J/emacsjob.json" "$WORK/e1.json" "emacs: new job"
assert_valid_def jobs emacsjob "emacs: new job"

# 2. edit: backup by rename outside /tmp
emacs_run "$J/emacsjob.json" '(goto-char (point-min)) (while (search-forward "hello, world" nil t) (replace-match "hello, emacs" t t))'
rc=$?
[ $rc = 0 ] && ok "emacs: edit saved (exit 0)" || { notok "emacs: edit saved (exit $rc)"; cat "$WORK/emacs.out"; }
assert_same "$J/emacsjob.json" "$WORK/e2.json" "emacs: edited job"
assert_valid_def jobs emacsjob "emacs: edited job"
case "$MNT" in
/tmp/*)
	assert_absent "$J/emacsjob.json~" "emacs under /tmp: no backup file" ;;
*)
	assert_exists "$J/emacsjob.json~" "emacs outside /tmp: backup file emacsjob.json~"
	assert_same "$J/emacsjob.json~" "$WORK/e1.json" "emacs: backup holds the previous bytes" ;;
esac
ls -a "$J" > "$WORK/ls.out"
check "emacs: no lock link .#emacsjob.json left" sh -c "! grep -qx '.#emacsjob.json' '$WORK/ls.out'"
check "emacs: the backup is not a definition (no instances/emacsjob.json~)" test ! -e "$MNT/instances/emacsjob.json~"

# emacs_edit MODE JOB OLD NEW: def_pairs' MODE edit as search-forward +
# replace-match, saved by one emacs --batch session; exit 0, the buffer
# is unmodified after the save, no error; outside /tmp the session's first
# save leaves the backup JOB.json~
emacs_edit() {
	local f t el= rc
	while IFS=$'\t' read -r f t; do
		el="$el (goto-char (point-min)) (while (search-forward \"${f//\"/\\\"}\" nil t) (replace-match \"${t//\"/\\\"}\" t t))"
	done < <(def_pairs "$1" "$3" "$4")
	emacs_run "$J/$2.json" "$el"
	rc=$?
	check "emacs: $1 save exits 0 (exit $rc)" test "$rc" = 0
	if grep -q '^saved, modified=nil' "$WORK/emacs.out" && ! grep -qi 'error' "$WORK/emacs.out"; then
		ok "emacs: $1 save went through (buffer unmodified), no error"
	else
		notok "emacs: $1 save went through (buffer unmodified), no error"
		diag "$(cat "$WORK/emacs.out")"
	fi
	case "$MNT" in
	/tmp/*) ;;
	*) assert_exists "$J/$2.json~" "emacs: $1 save made the backup $2.json~" ;;
	esac
}

# 3. an invalid then a valid save of a running job
def_start emacsdef
def_edit_cycle emacsdef emacs emacs_edit

it_unmount
it_done
