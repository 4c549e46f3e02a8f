#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# emacs --batch creates and edits a job with its default settings
# (make-backup-files t, backup-by-copying nil: the first save of a session
# renames job.json to job.json~ and writes a new job.json).  Under /tmp
# emacs makes no backup (normal-backup-enable-predicate), elsewhere the
# job.json~ backup must appear with the previous bytes.  An invalid save
# fails (emacs reports the write error, exit != 0), the bytes are kept with
# a NAME.json.error beside them, and the running definition stays.
. "$(dirname "$0")/lib.sh"
require_prog emacs python3
it_setup
it_mount
J=$MNT/jobs
export HOME=$WORK/home	# no user init file, no ~/.emacs.d of the runner
mkdir -p "$HOME"

# emacs_run FILE ELISP: visit FILE, evaluate ELISP, save; output in emacs.out
emacs_run() {
	timeout 60 emacs --batch --no-site-file \
		--eval "(progn (find-file \"$1\") $2 (save-buffer))" \
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

echo run > "$MNT/instances/emacsjob/ctl"
if wait_for 20 sh -c "grep -q 'hello, emacs' '$WORK'/out/emacsjob__* 2>/dev/null"; then
	ok "emacs: the edited definition runs"
else
	notok "emacs: the edited definition runs"
fi

# 3. invalid save: emacs reports the error, the old definition keeps running
emacs_run "$J/emacsjob.json" '(goto-char (point-min)) (search-forward "\"plugin\": \"stream\"") (replace-match "\"plugin\": \"nosuchreader\"" t t)'
rc=$?
diag "emacs said: $(tr '\n' ' ' < "$WORK/emacs.out" | cut -c1-300)"
[ $rc != 0 ] && ok "emacs: invalid save fails (exit $rc)" || notok "emacs: invalid save fails"
check "emacs: the error names the write failure" grep -qi 'invalid argument\|write error\|error' "$WORK/emacs.out"
sed 's/"plugin": "stream"/"plugin": "nosuchreader"/' "$WORK/e2.json" > "$WORK/e3.json"
assert_same "$J/emacsjob.json" "$WORK/e3.json" "emacs: invalid bytes kept as written"
assert_invalid_def jobs emacsjob "emacs: invalid save"
rm -f "$WORK"/out/emacsjob__*
echo run > "$MNT/instances/emacsjob/ctl"
if wait_for 20 sh -c "grep -q 'hello, emacs' '$WORK'/out/emacsjob__* 2>/dev/null"; then
	ok "emacs: running definition unchanged after the invalid save"
else
	notok "emacs: running definition unchanged after the invalid save"
fi

# 4. fix it again: the .error file goes away
emacs_run "$J/emacsjob.json" '(goto-char (point-min)) (search-forward "nosuchreader") (replace-match "stream" t t)'
assert_same "$J/emacsjob.json" "$WORK/e2.json" "emacs: fixed job"
assert_valid_def jobs emacsjob "emacs: fixed job"

it_unmount
it_done
