#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nano, driven through tmux (send-keys), creates and edits a job: Debian's
# /etc/nanorc has `set locking` (a .NAME.swp lock file in jobs/); a save is
# open(O_WRONLY|O_CREAT|O_TRUNC) + write + fsync + close, in place.
# Then an invalid and a valid save of a running job (def_edit_cycle in
# lib.sh): nano shows "Wrote N lines" for both and exits 0, the bytes read
# back, the invalid one gets NAME.json.error and a WARN line "by nano" in
# the job log and the old definition keeps running, the valid one removes
# the .error and runs.
. "$(dirname "$0")/lib.sh"
require_prog nano tmux python3 jq
it_setup
it_mount
J=$MNT/jobs
IT_TMUX=$WORK/tmux.sock

# nano_start FILE: nano in a detached tmux session; its exit status lands
# in nano.rc
nano_start() {
	rm -f "$WORK/nano.rc"
	tmux -S "$IT_TMUX" new-session -d -x 160 -y 50 \
		"nano '$1'; echo \$? > '$WORK/nano.rc'" || bail "tmux new-session"
	wait_for 10 sh -c "tmux -S '$IT_TMUX' capture-pane -p | grep -q 'GNU nano'" ||
		bail "nano did not start"
}
keys() {
	tmux -S "$IT_TMUX" send-keys "$@"
	sleep 0.3
}
screen() { tmux -S "$IT_TMUX" capture-pane -p; }
# save (^O, Enter to confirm the name) and quit (^X)
nano_save_quit() {
	keys C-o
	keys Enter
	sleep 0.5
	screen > "$WORK/nano.screen"
	keys C-x
	if ! wait_for 10 test -s "$WORK/nano.rc"; then
		# still running (e.g. "Save modified buffer?" after a failed save)
		keys n
		wait_for 10 test -s "$WORK/nano.rc" || notok "nano did not exit"
	fi
}

job_json 3 0 "$WORK/out" nanojob > "$WORK/n1.json"
sed 's/hello, world/hello, nano/' "$WORK/n1.json" > "$WORK/n2.json"

# 1. create: ^R inserts the file, then save
nano_start "$J/nanojob.json"
check "nano: lock file .nanojob.json.swp in jobs/" \
	wait_for 5 test -e "$J/.nanojob.json.swp"
keys C-r
keys -l "$WORK/n1.json"
keys Enter
nano_save_quit
assert_same "$J/nanojob.json" "$WORK/n1.json" "nano: new job"
assert_valid_def jobs nanojob "nano: new job"
assert_absent "$J/.nanojob.json.swp" "nano: lock file removed on exit"

# 2. edit: replace all (M-r, search, replacement, A = all)
nano_start "$J/nanojob.json"
keys M-r
keys -l 'hello, world'
keys Enter
keys -l 'hello, nano'
keys Enter
keys A
nano_save_quit
assert_same "$J/nanojob.json" "$WORK/n2.json" "nano: edited job"
assert_valid_def jobs nanojob "nano: edited job"

# nano_edit MODE JOB OLD NEW: def_pairs' MODE edit as replace-all (M-r),
# then ^O and ^X: the status line says "Wrote", nano exits 0
nano_edit() {
	local f t st
	nano_start "$J/$2.json"
	while IFS=$'\t' read -r f t; do
		keys M-r
		keys -l "$f"
		keys Enter
		keys -l "$t"
		keys Enter
		keys A
	done < <(def_pairs "$1" "$3" "$4")
	nano_save_quit
	st=$(grep '\[ .* \]' "$WORK/nano.screen" | tr -s ' ')
	if expr "$st" : ' *\[ Wrote [0-9]* lines\{0,1\} \]$' >/dev/null; then
		ok "nano: $1 save says \"Wrote\", no error ($st)"
	else
		notok "nano: $1 save says \"Wrote\", no error"
		diag "$(cat "$WORK/nano.screen")"
	fi
	check "nano: exit 0 after the $1 save ($(cat "$WORK/nano.rc"))" test "$(cat "$WORK/nano.rc")" = 0
}

# 3. an invalid then a valid save of a running job
def_start nanodef
def_edit_cycle nanodef nano nano_edit

tmux -S "$IT_TMUX" kill-server 2>/dev/null
IT_TMUX=
it_unmount
it_done
