#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `difs edit` (the crontab -e flow) with a scripted $EDITOR: an invalid
# edit, "Edit again? [Y/n]" answered y, a valid one installed and running;
# the discard paths (n, end of input, other answers); a new file; no
# changes (nothing written, mtime kept); a failing editor (copy kept,
# nothing installed); a concurrent save by someone else (refused, their
# bytes stay); sources keeping "******" (the stored secret is unchanged)
# and jobs resolving datasources against the masked sources/; warnings do
# not block; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
require_prog jq cmp stat
it_setup
it_mount
J=$MNT/jobs
S=$MNT/sources
ED=$WORK/ed
mkdir -p "$ED" "$WORK/tmpdir"
export TMPDIR=$WORK/tmpdir
unset VISUAL

# The scripted editor: round N (counted in $ED/count) records its
# arguments and the private copy's directory mode, then runs $ED/N.sh
# with the file (if present) or copies $ED/N.json over it; it exits with
# $ED/N.rc (default 0).
cat > "$ED/editor" <<'SH'
#!/bin/sh
d=$(dirname "$0")
n=$(($(cat "$d/count" 2>/dev/null || echo 0) + 1))
echo "$n" > "$d/count"
for f; do :; done
printf '%s\n' "$*" > "$d/args.$n"
stat -c %a "$(dirname "$f")" > "$d/mode.$n"
if [ -f "$d/$n.sh" ]; then sh "$d/$n.sh" "$f" || exit 1
elif [ -f "$d/$n.json" ]; then cat "$d/$n.json" > "$f"
fi
exit "$(cat "$d/$n.rc" 2>/dev/null || echo 0)"
SH
chmod +x "$ED/editor"

# ed_reset: a new script for the editor (then put N.json / N.sh / N.rc)
ed_reset() {
	rm -f "$ED"/count "$ED"/args.* "$ED"/mode.* "$ED"/[0-9]*.json "$ED"/[0-9]*.sh "$ED"/[0-9]*.rc
}
ed_rounds() { cat "$ED/count" 2>/dev/null || echo 0; }
# ed_copy N: the private copy the editor got in round N
ed_copy() { sed 's/.* //' "$ED/args.$1"; }

# run_edit ANSWERS ARG...: difs edit with ANSWERS on stdin (printf format;
# "EOF" = /dev/null); sets RC, output in $WORK/edit.out / edit.err
run_edit() {
	local answers=$1
	shift
	if [ "$answers" = EOF ]; then
		EDITOR=${EDITOR_CMD:-$ED/editor} "$DIFS" edit "$@" </dev/null \
		    >"$WORK/edit.out" 2>"$WORK/edit.err"
	else
		# shellcheck disable=SC2059
		printf "$answers" | EDITOR=${EDITOR_CMD:-$ED/editor} "$DIFS" edit "$@" \
		    >"$WORK/edit.out" 2>"$WORK/edit.err"
	fi
	RC=$?
}
show_edit() { diag "exit $RC" "stdout: $(cat "$WORK/edit.out")" "stderr: $(cat "$WORK/edit.err")"; }
expect_rc() {
	if [ "$RC" = "$1" ]; then ok "$2: exit $1"; else notok "$2: exit $1 (got $RC)"; show_edit; fi
}
err_has() {
	if grep -qE -- "$1" "$WORK/edit.err"; then ok "$2"; else notok "$2 (stderr lacks /$1/)"; show_edit; fi
}
out_is() {
	if [ "$(cat "$WORK/edit.out")" = "$1" ]; then ok "$2: prints '$1'"; else notok "$2: prints '$1'"; show_edit; fi
}
mtime() { stat -c %y "$1"; }
# no_leftovers DESCRIPTION: no private copy under $TMPDIR, no temporary
# file in jobs/ or sources/
no_leftovers() {
	local l
	l=$(ls -A "$TMPDIR"; ls -A "$J" "$S" | grep 'difs-edit')
	if [ -z "$l" ]; then ok "$1: no private copy or temporary file left"; else notok "$1: leftovers: $l"; fi
}

# ---- invalid, "y", valid: installed and running -------------------------------
def_start j
def_versions k-a k-warn
ed_reset
cp "$WORK/def/j-b.bad.json" "$ED/1.json"
cp "$WORK/def/j-b.json" "$ED/2.json"
run_edit 'y\n' "$J/j.json"
expect_rc 0 "invalid edit, y, valid edit"
check "the editor ran twice" test "$(ed_rounds)" = 2
check "the editor got a private NAME.json in a 0700 directory under TMPDIR" \
    sh -c 'case "$1" in "$2"/difs-edit.*/j.json) test "$(cat "$3")" = 700 ;; *) false ;; esac' sh \
    "$(ed_copy 1)" "$TMPDIR" "$ED/mode.1"
err_has '^jobs/j\.json:[0-9]+:[0-9]+: error: .*nosuchreader' "errors name jobs/j.json:LINE:COL"
if grep -q "$TMPDIR" "$WORK/edit.err"; then notok "errors do not name the private copy"; show_edit; else ok "errors do not name the private copy"; fi
err_has 'Edit again\? \[Y/n\] ' "asks 'Edit again? [Y/n]'"
out_is "installed jobs/j.json" "valid edit"
assert_same "$J/j.json" "$WORK/def/j-b.json" "installed job"
assert_valid_def jobs j "installed job"
assert_running_def j j-b "after difs edit"
no_leftovers "installed"

# ---- discard: n, end of input, an unclear answer then n -----------------------
before=$(mtime "$J/j.json")
for answers in 'n\n' EOF 'maybe\nN\n'; do
	ed_reset
	cp "$WORK/def/j-a.bad.json" "$ED/1.json"
	run_edit "$answers" "$J/j.json"
	expect_rc 1 "invalid edit, answer '$answers'"
	check "answer '$answers': the editor ran once" test "$(ed_rounds)" = 1
	err_has 'discarded; jobs/j\.json is unchanged' "answer '$answers': says discarded"
	case $answers in
	EOF) err_has 'no answer \(end of input\)' "end of input says so" ;;
	maybe*) err_has 'Please answer y' "an unclear answer asks again" ;;
	esac
	assert_same "$J/j.json" "$WORK/def/j-b.json" "answer '$answers': the mount's file"
	check "answer '$answers': mtime unchanged" test "$(mtime "$J/j.json")" = "$before"
	assert_absent "$J/j.json.error" "answer '$answers': no .error"
	no_leftovers "answer '$answers'"
done
assert_running_def j j-b "after the discards"

# ---- re-edit to the original: no changes --------------------------------------
ed_reset
cp "$WORK/def/j-a.bad.json" "$ED/1.json"
cp "$WORK/def/j-b.json" "$ED/2.json"
run_edit 'Y\n' "$J/j.json"
expect_rc 0 "invalid edit, Y, back to the original"
out_is "no changes: jobs/j.json" "back to the original"

# ---- unchanged: nothing installed ----------------------------------------------
ed_reset
run_edit '' "$J/j.json"
expect_rc 0 "editor leaves the file unchanged"
out_is "no changes: jobs/j.json" "unchanged"
check "unchanged: mtime unchanged" test "$(mtime "$J/j.json")" = "$before"
no_leftovers "unchanged"
run_edit '' "$J/never.json"
expect_rc 0 "new file left empty"
assert_absent "$J/never.json" "new file left empty: not created"

# ---- a new file ------------------------------------------------------------------
ed_reset
cp "$WORK/def/k-a.json" "$ED/1.json"
run_edit '' "$J/k.json"
expect_rc 0 "new job through difs edit"
out_is "installed jobs/k.json" "new job"
assert_same "$J/k.json" "$WORK/def/k-a.json" "new job"
assert_valid_def jobs k "new job"
assert_running_def k k-a "new job"
no_leftovers "new job"

# ---- warnings do not block --------------------------------------------------------
sed 's/"fileName": "k-warn"/"fileName": "k-warn", "header": ["{id}"]/' "$WORK/def/k-warn.json" > "$WORK/def/k-warn.w.json"
ed_reset
cp "$WORK/def/k-warn.w.json" "$ED/1.json"
run_edit '' "$J/k.json"
expect_rc 0 "an edit with a warning only"
err_has '^jobs/k\.json:[0-9]+:[0-9]+: warning: ' "the warning is printed"
if grep -q 'Edit again' "$WORK/edit.err"; then notok "no question for a warning"; else ok "no question for a warning"; fi
assert_same "$J/k.json" "$WORK/def/k-warn.w.json" "job with a warning installed"
assert_running_def k k-warn "job with a warning"

# ---- the editor fails: nothing installed, the copy kept ----------------------------
before=$(mtime "$J/k.json")
ed_reset
cp "$WORK/def/k-a.json" "$ED/1.json"
echo 3 > "$ED/1.rc"
run_edit '' "$J/k.json"
expect_rc 1 "editor exits 3"
err_has 'exited with status 3' "says the editor's status"
copy=$(ed_copy 1)
err_has "kept in $copy" "names the kept private copy"
check "the kept copy holds the edit" cmp -s "$copy" "$WORK/def/k-a.json"
assert_same "$J/k.json" "$WORK/def/k-warn.w.json" "editor failed: the mount's file"
check "editor failed: mtime unchanged" test "$(mtime "$J/k.json")" = "$before"
rm -rf "$(dirname "$copy")"

# ---- EDITOR with arguments; VISUAL first ------------------------------------------
ed_reset
cp "$WORK/def/k-a.json" "$ED/1.json"
EDITOR_CMD="$ED/editor --wait -n" run_edit '' "$J/k.json"
expect_rc 0 "EDITOR with arguments"
check "EDITOR's arguments come before the file" \
    sh -c 'case "$(cat "$1")" in "--wait -n $2"/difs-edit.*/k.json) true ;; *) false ;; esac' sh \
    "$ED/args.1" "$TMPDIR"
ed_reset
cp "$WORK/def/k-warn.w.json" "$ED/1.json"
VISUAL=$ED/editor EDITOR_CMD=false run_edit '' "$J/k.json"
expect_rc 0 "VISUAL wins over EDITOR"
assert_same "$J/k.json" "$WORK/def/k-warn.w.json" "VISUAL's edit installed"

# ---- someone else saves while the editor runs ---------------------------------------
ed_reset
printf 'cat "%s" > "$1"\ncp "%s" "%s"\n' "$WORK/def/k-a.json" "$WORK/def/j-a.json" "$J/k.json" > "$ED/1.sh"
run_edit '' "$J/k.json"
expect_rc 1 "concurrent save"
err_has 'changed in the mount while you were editing' "says the file changed meanwhile"
copy=$(ed_copy 1)
err_has "kept in $copy" "concurrent save: names the kept copy"
assert_same "$J/k.json" "$WORK/def/j-a.json" "concurrent save: the other writer's bytes stay"
check "concurrent save: the kept copy holds the edit" cmp -s "$copy" "$WORK/def/k-a.json"
rm -rf "$(dirname "$copy")"
ed_reset
printf 'cat "%s" > "$1"\ncp "%s" "%s"\n' "$WORK/def/k-a.json" "$WORK/def/j-a.json" "$J/late.json" > "$ED/1.sh"
run_edit '' "$J/late.json"
expect_rc 1 "concurrent creation of a new file"
assert_same "$J/late.json" "$WORK/def/j-a.json" "concurrent creation: the other writer's bytes stay"
rm -rf "$(dirname "$(ed_copy 1)")"
no_leftovers "concurrent saves"

# ---- sources: "******" keeps the stored secret -------------------------------------
# proven by runs: difs-emu's OSS accepts only the key written first
KEY=EditKeepsThisSecret-4711
EMU=$(dirname "$DIFS")/difs-emu
[ -x "$EMU" ] || bail "difs-emu is not built next to $DIFS"
"$EMU" --oss 127.0.0.1:0 --data "$WORK/emu" --access-key "LTAIeditid:$KEY" \
    --bucket edit-bucket --sync off >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null; it_cleanup' EXIT
wait_for 10 grep -qx ready "$WORK/emu.out" || bail "difs-emu did not start: $(cat "$WORK/emu.err")"
OSS=$(awk '$1 == "oss" { print $2 }' "$WORK/emu.out")
cat > "$WORK/s-oss.json" <<JSON
{
  "type": "oss",
  "endpoint": "$OSS",
  "bucket": "edit-bucket",
  "accessId": "LTAIeditid",
  "accessKey": "$KEY"
}
JSON
sed 's/"oss"/"ots"/; s/"bucket": "edit-bucket"/"instanceName": "inst-one"/' "$WORK/s-oss.json" > "$WORK/s-ots.json"
cp "$WORK/s-ots.json" "$S/s-ots.json" && cp "$WORK/s-oss.json" "$S/s-oss.json" || bail "sources written"
assert_valid_def sources s-oss "source with a secret"
jq '.configuration.writer = {"plugin": "oss", "parameter": {"datasource": "s-oss",
      "object": "edit/up", "writeMode": "append", "nullFormat": ""}}' \
    "$WORK/def/k-a.json" > "$WORK/up.json" || bail "jq"
ed_reset
cp "$WORK/up.json" "$ED/1.json"
run_edit '' "$J/up.json"
expect_rc 0 "new job writing to the oss datasource (shown with ******)"
assert_valid_def jobs up "job with an oss datasource"
check "a run with the source as written succeeds" def_run up
# control: the emulator does check the key (a wrong one fails the run)
sed 's/"accessKey": "[^"]*"/"accessKey": "NotTheKey"/' "$WORK/s-oss.json" > "$S/s-wrong.json"
sed 's/"s-oss"/"s-wrong"/' "$WORK/up.json" > "$J/upwrong.json"
wait_for 5 test -d "$MNT/instances/upwrong" && echo run > "$MNT/instances/upwrong/ctl"
inst=$(sed -n 's/^ok: run: instance \([0-9]*\) queued$/\1/p' "$MNT/instances/upwrong/ctl")
if [ -n "$inst" ] && wait_for 30 grep -qx FAILED "$MNT/instances/upwrong/$inst/state"; then
	ok "control: a run with a wrong key fails"
else
	notok "control: a run with a wrong key fails (instance '$inst')"
fi
rm -f "$J/upwrong.json" "$S/s-wrong.json"

sed 's/"accessId"/"signatureVersion": "v4",\n  "accessId"/' "$S/s-oss.json" > "$WORK/s-oss.view2.json"
ed_reset
printf 'cp "$1" "%s"\nsed -i '"'"'s/"accessId"/"signatureVersion": "v4",\\n  "accessId"/'"'"' "$1"\n' \
    "$ED/seen" > "$ED/1.sh"
run_edit '' "$S/s-oss.json"
expect_rc 0 "source edit keeping ******"
out_is "installed sources/s-oss.json" "source edit keeping ******"
check "the editor saw ****** and not the secret" sh -c 'grep -q "\"\*\*\*\*\*\*\"" "$2" && ! grep -q "$1" "$2"' sh "$KEY" "$ED/seen"
assert_same "$S/s-oss.json" "$WORK/s-oss.view2.json" "edited source: still shows ******"
assert_valid_def sources s-oss "source edit keeping ******"
check "a run after the edit succeeds: the stored secret is unchanged" def_run up
if grep -rqa -e "$KEY" "$MNT/instances/up" "$WORK/edit.err" "$WORK/edit.out"; then
	notok "the secret appears in no log, status or message"
else
	ok "the secret appears in no log, status or message"
fi

ed_reset
echo 'sed -i "s/\"accessId\"/\"securityToken\": \"******\", \"accessId\"/" "$1"' > "$ED/1.sh"
run_edit 'n\n' "$S/s-oss.json"
expect_rc 1 "****** for a secret that is not stored"
err_has '^sources/s-oss\.json:[0-9]+:[0-9]+: error: "securityToken" is "\*\*\*\*\*\*"' \
    "says securityToken has no stored value"
assert_same "$S/s-oss.json" "$WORK/s-oss.view2.json" "refused source edit: unchanged"

ed_reset
cp "$WORK/s-oss.view2.json" "$ED/1.json"
run_edit 'n\n' "$S/fresh.json"
expect_rc 1 "****** in a new source"
err_has '^sources/fresh\.json:[0-9]+:[0-9]+: error: "accessKey" is "\*\*\*\*\*\*"' "****** in a new source is an error"
assert_absent "$S/fresh.json" "new source with ******: not created"

# jobs resolve datasources against the masked sources of the mount
jq '.configuration.reader = {"plugin": "otsstream", "parameter": {"datasource": "s-ots",
      "dataTable": "t", "statusTable": "st", "startTimestampMillis": "${s}", "endTimestampMillis": "${e}"}}
    | .configuration.writer.parameter.object = "o/${s}"
    | .configuration.writer.parameter.writeMode = "nonConflict"
    | .schedule = {"cycle": "1h", "params": {"s": "$[yyyymmddhh24miss-1/24]", "e": "$[yyyymmddhh24miss]"}}' \
    "$WORK/up.json" > "$WORK/ds.json" || bail "jq"
sed 's/"s-oss"/"no-such-source"/' "$WORK/ds.json" > "$WORK/ds.bad.json"
ed_reset
cp "$WORK/ds.bad.json" "$ED/1.json"
cp "$WORK/ds.json" "$ED/2.json"
run_edit 'yes\n' "$J/ds.json"
expect_rc 0 "job with datasources, first one missing"
err_has '^jobs/ds\.json:[0-9]+:[0-9]+: error: datasource "no-such-source" is not among' "a missing datasource is an error"
assert_same "$J/ds.json" "$WORK/ds.json" "job with datasources installed"
assert_valid_def jobs ds "job with an ots and an oss datasource"
# a source with a .error is not a valid datasource, even when its view
# parses (here: a new source written with "******", so nothing is stored)
cp "$WORK/s-oss.view2.json" "$S/s-masked.json" 2>/dev/null
assert_invalid_def sources s-masked "a new source written with ******"
sed 's/"s-oss"/"s-masked"/' "$WORK/ds.json" > "$WORK/ds.masked.json"
ed_reset
cp "$WORK/ds.masked.json" "$ED/1.json"
run_edit 'n\n' "$J/ds.json"
expect_rc 1 "a datasource whose source has a .error"
err_has 'datasource "s-masked" is not among the valid sources' "a source with a .error is not valid"
assert_same "$J/ds.json" "$WORK/ds.json" "datasource with a .error: job unchanged"
# the mount has the last word: fixing s-masked but keeping its "******"
# passes locally (its view shows a masked key) and the mount refuses it
ed_reset
echo 'sed -i s/edit-bucket/edit-bucket2/ "$1"' > "$ED/1.sh"
run_edit '' "$S/s-masked.json"
expect_rc 1 "an edit the mount refuses after all"
err_has 'the mount did not accept sources/s-masked\.json' "says the mount refused it"
err_has '^sources/s-masked\.json:[0-9]+:[0-9]+: error: "accessKey"' "prints its .error"
assert_invalid_def sources s-masked "refused by the mount"
rm -f "$S/s-masked.json"
no_leftovers "refused by the mount"
sed 's/"s-ots"/"s-oss"/' "$WORK/ds.json" > "$WORK/ds.type.json"
ed_reset
cp "$WORK/ds.type.json" "$ED/1.json"
run_edit 'n\n' "$J/ds.json"
expect_rc 1 "a datasource of the wrong type"
err_has 'datasource "s-oss" is an oss source' "the wrong type is an error"
rm -f "$J/ds.json"	# (its cycles would try the unreachable ots endpoint)

# ---- relative paths from inside the mount ------------------------------------------
ed_reset
(cd "$MNT" && EDITOR=$ED/editor "$DIFS" edit jobs/j.json >"$WORK/edit.out" 2>"$WORK/edit.err" </dev/null)
RC=$?
expect_rc 0 "difs edit jobs/j.json from the mount root"
out_is "no changes: jobs/j.json" "from the mount root"
(cd "$J" && EDITOR=$ED/editor "$DIFS" edit j.json >"$WORK/edit.out" 2>"$WORK/edit.err" </dev/null)
RC=$?
expect_rc 0 "difs edit j.json from jobs/"

# ---- usage errors ---------------------------------------------------------------------
mkdir -p "$WORK/fake/jobs" "$WORK/fake/sources" "$WORK/fake/instances"
ln -s k.json "$J/link.json" 2>/dev/null
for args in "" "$J/a.json $J/b.json" "--bogus $J/j.json" "$WORK/x.json" "$WORK/fake/jobs/x.json" \
    "$MNT/instances/x.json" "$MNT/x.json" "$J/x.txt" "$J/.x.json" "$J/.json" "$J/j.json.error" \
    "$MNT/nodir/x.json" "$J/link.json"; do
	ed_reset
	# shellcheck disable=SC2086
	run_edit '' $args
	if [ "$RC" = 2 ] && [ "$(ed_rounds)" = 0 ] && [ -s "$WORK/edit.err" ]; then
		ok "usage error exits 2 without an editor: difs edit $args ($(head -n 1 "$WORK/edit.err" | cut -c1-110))"
	else
		notok "usage error exits 2 without an editor: difs edit $args"
		show_edit
	fi
done
"$DIFS" edit --help >"$WORK/edit.out" 2>&1
check "difs edit --help exits 0" grep -q '^usage: difs edit' "$WORK/edit.out"
"$DIFS" --help | grep -q 'difs edit ' && ok "difs --help lists edit" || notok "difs --help lists edit"
no_leftovers "the end"

it_unmount
it_mount
assert_same "$S/s-oss.json" "$WORK/s-oss.view2.json" "edited source after a remount"
assert_valid_def sources s-oss "edited source after a remount"
check "a run after the remount succeeds" def_run up
it_unmount
it_done
