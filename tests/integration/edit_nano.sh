#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nano, driven through tmux (send-keys), creates and edits a job: Debian's
# /etc/nanorc has `set locking` (a .NAME.swp lock file in jobs/); a save is
# open(O_WRONLY|O_CREAT|O_TRUNC) + write + fsync + close, in place.
# An invalid save makes nano report the error; the definition stays.
. "$(dirname "$0")/lib.sh"
require_prog nano tmux python3
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

# 3. invalid edit: nano shows the error
nano_start "$J/nanojob.json"
keys M-r
keys -l '"plugin": "stream"'
keys Enter
keys -l '"plugin": "nosuchreader"'
keys Enter
keys A
nano_save_quit
diag "nano's status line: $(grep '\[ .* \]' "$WORK/nano.screen" | tr -s ' ')"
check "nano: the failed save shows an error" grep -q 'Error writing .*Invalid argument' "$WORK/nano.screen"
assert_invalid_def jobs nanojob "nano: invalid save"
rm -f "$WORK"/out/nanojob__*
echo run > "$MNT/instances/nanojob/ctl"
if wait_for 20 sh -c "grep -q 'hello, nano' '$WORK'/out/nanojob__* 2>/dev/null"; then
	ok "nano: running definition unchanged after the invalid save"
else
	notok "nano: running definition unchanged after the invalid save"
fi

tmux -S "$IT_TMUX" kill-server 2>/dev/null
IT_TMUX=
it_unmount
it_done
