#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `difs mount` as a command: refuses a missing or non-empty mount point,
# refuses a second daemon on the same state directory (printing the
# holder's pid), daemonizes (returns 0 once mounted, logs to STATE/difs.log),
# unmounts cleanly on fusermount3 -u and on SIGTERM (exit 0), mounts with
# default_permissions, fsname difs, subtype difs, owned by the mounting user.
. "$(dirname "$0")/lib.sh"
it_setup

# --- refusals ---------------------------------------------------------------
out=$("$DIFS" mount "$WORK/nonexistent" --state "$STATE" -f 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "missing mount point: exit $rc" || notok "missing mount point refused"
case "$out" in *nonexistent*) ok "message names the mount point: $out" ;;
*) notok "message for a missing mount point: $out" ;; esac

mkdir "$WORK/full" && echo x > "$WORK/full/file"
out=$("$DIFS" mount "$WORK/full" --state "$STATE" -f 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "non-empty mount point: exit $rc" || notok "non-empty mount point refused"
case "$out" in *"not empty"*) ok "message says not empty: $out" ;;
*) notok "message for a non-empty mount point: $out" ;; esac

out=$("$DIFS" mount "$MNT" --state "$STATE" -f -o allow_other 2>&1)
[ $? -ne 0 ] && ok "-o allow_other refused: $out" || notok "-o allow_other refused"

out=$("$DIFS" mount "$MNT" --state "$STATE" -o nosuchfuseoption 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "a failing FUSE session/mount exits non-zero ($rc) in daemon mode" ||
	notok "a failing FUSE session/mount exits non-zero"
diag "$out"
it_is_mounted && { notok "nothing mounted after the failure"; fusermount3 -u "$MNT"; }

out=$("$DIFS" mount 2>&1)
[ $? -eq 2 ] && ok "no mount point: usage error (exit 2)" || notok "no mount point: exit 2 ($out)"

# --- foreground mount, view, second daemon ------------------------------------
it_mount
check "root lists sources jobs instances status metrics" \
	test "$(ls "$MNT" | tr '\n' ' ')" = "instances jobs metrics sources status "
opts=$(grep " $MNT " /proc/self/mounts)
diag "mount entry: $opts"
case "$opts" in "difs $MNT fuse.difs "*) ok "fsname difs, type fuse.difs" ;;
*) notok "fsname difs, type fuse.difs" ;; esac
case "$opts" in *default_permissions*) ok "default_permissions on" ;;
*) notok "default_permissions on" ;; esac
case "$opts" in *allow_other*) notok "mounted without allow_other" ;;
*) ok "mounted without allow_other" ;; esac
check "everything owned by the mounting user" \
	test "$(stat -c %u:%g "$MNT" "$MNT/jobs" "$MNT/instances" | sort -u)" = "$(id -u):$(id -g)"

mkdir "$WORK/mnt2"
out=$("$DIFS" mount "$WORK/mnt2" --state "$STATE" -f 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "second daemon on the same state dir refused (exit $rc)" ||
	notok "second daemon on the same state dir refused"
case "$out" in *"$DPID"*) ok "message has the holder's pid: $out" ;;
*) notok "message has the holder's pid $DPID: $out" ;; esac
grep -q " $WORK/mnt2 " /proc/self/mounts && { notok "mnt2 left unmounted"; fusermount3 -u "$WORK/mnt2"; }
# the same refusal in daemon mode (the error comes from the forked child)
out=$("$DIFS" mount "$WORK/mnt2" --state "$STATE" 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "daemon mode: second daemon refused on the terminal (exit $rc)" ||
	notok "daemon mode: second daemon refused"
case "$out" in *"$DPID"*) ok "daemon mode: message has the holder's pid" ;;
*) notok "daemon mode: message has the holder's pid $DPID: $out" ;; esac
grep -q " $WORK/mnt2 " /proc/self/mounts && { notok "mnt2 left unmounted"; fusermount3 -u "$WORK/mnt2"; }

echo '{}' > "$MNT/jobs/scratch.txt"
it_unmount
check "log file STATE/difs.log written" grep -q 'mounted' "$STATE/difs.log"

# --- SIGTERM: clean exit 0 ----------------------------------------------------
it_mount
check "file persisted across remount" test "$(cat "$MNT/jobs/scratch.txt")" = '{}'
kill -TERM "$DPID"
for i in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
DPID=
[ $rc = 0 ] && ok "SIGTERM: daemon exits 0" || notok "SIGTERM: daemon exits 0 (got $rc)"
if it_is_mounted; then
	notok "SIGTERM unmounts"
	fusermount3 -u -z "$MNT"
else
	ok "SIGTERM unmounts"
fi
IT_MOUNTED=0

# --- daemon mode --------------------------------------------------------------
"$DIFS" mount "$MNT" --state "$STATE" 2>"$WORK/bg.err"
rc=$?
[ $rc = 0 ] && ok "daemon mode: difs mount returns 0 once mounted" ||
	notok "daemon mode: difs mount returns 0 (got $rc: $(cat "$WORK/bg.err"))"
if it_is_mounted && [ -d "$MNT/jobs" ]; then
	IT_MOUNTED=1
	ok "daemon mode: mounted when the command returns"
else
	notok "daemon mode: mounted when the command returns"
fi
pid=$(sed -n 's/.*mounted .* pid \([0-9]*\)).*/\1/p' "$STATE/difs.log" | tail -n 1)
diag "daemon pid $pid"
check "daemon mode: the daemon runs in its own session" \
	test "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid"
fusermount3 -u "$MNT"
IT_MOUNTED=0
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	notok "daemon exits after fusermount3 -u"
	kill -KILL "$pid"
else
	ok "daemon exits after fusermount3 -u"
fi
check "daemon logged a clean unmount" grep -q 'unmounted .*state committed' "$STATE/difs.log"

it_done
