#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The source snapshot rule through the real mount: an instance takes its
# source once, at its start.  A slow stream -> oss job runs against
# difs-emu; while it runs, sources/s-snap.json gets a wrong accessKey (a
# valid source, a key the emulator refuses): the running instance still
# succeeds with the key of its start; the next instance uses the edited
# source and fails on its key; the key is fixed and the next instance
# succeeds.  The instance log names the connection each attempt took.
. "$(dirname "$0")/lib.sh"
it_setup
EMU=$(dirname "$DIFS")/difs-emu
[ -x "$EMU" ] || bail "difs-emu is not built next to $DIFS"
KEY=SnapshotKey-1234
"$EMU" --oss 127.0.0.1:0 --data "$WORK/emu" --access-key "LTAIsnapid:$KEY" \
    --bucket snap-bucket --sync off >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null; it_cleanup' EXIT
wait_for 10 grep -qx ready "$WORK/emu.out" || bail "difs-emu did not start: $(cat "$WORK/emu.err")"
OSS=$(awk '$1 == "oss" { print $2 }' "$WORK/emu.out")
it_mount
J=$MNT/jobs
S=$MNT/sources
I=$MNT/instances

# source_json KEY: the oss source with that accessKey
source_json() {
	cat <<JSON
{
  "type": "oss",
  "endpoint": "$OSS",
  "bucket": "snap-bucket",
  "accessId": "LTAIsnapid",
  "accessKey": "$1"
}
JSON
}

# 4000 records of ~60 bytes at 0.05 MB/s: a run of about 4 s
cat > "$WORK/snap.json" <<'JSON'
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" },
                 "speed": { "concurrent": "1", "mbps": "0.05" } },
    "reader": {
      "plugin": "stream",
      "parameter": {
        "sliceRecordCount": "4000",
        "column": [
          { "type": "long", "incr": "1,1" },
          { "type": "string", "value": "the source snapshot rule, one line of the export" }
        ]
      }
    },
    "writer": {
      "plugin": "oss",
      "parameter": { "datasource": "s-snap", "object": "snap/out",
                     "writeMode": "truncate", "fileFormat": "csv", "nullFormat": "" }
    }
  }
}
JSON
source_json "$KEY" > "$S/s-snap.json" || bail "source written"
assert_valid_def sources s-snap "the source"
cp "$WORK/snap.json" "$J/snap.json" || bail "job written"
assert_valid_def jobs snap "the job"

# start_run: `run` through ctl in a new second (a new instance); sets INST
INST=
start_run() {
	local prev=$INST
	INST=
	wait_for 3 sh -c '[ "$(date -u +%Y%m%d%H%M%S)" != "$1" ]' sh "$prev"
	echo run > "$I/snap/ctl" || return 1
	INST=$(sed -n 's/^ok: run: instance \([0-9]*\) queued$/\1/p' "$I/snap/ctl")
	[ -n "$INST" ] && [ "$INST" != "$prev" ]
}
state() { cat "$I/snap/$INST/state" 2>/dev/null; }
# ends_in STATE: the instance ends (within 60 s) in STATE
ends_in() {
	wait_for 60 sh -c 'grep -Eqx "SUCCESS|FAILED|KILLED" "$1"' sh "$I/snap/$INST/state" &&
	    [ "$(state)" = "$1" ]
}
inst_log_has() { grep -Eq -- "$1" "$I/snap/$INST/log"; }

# 1: the key is broken while the instance runs
check "instance 1 starts" start_run
if wait_for 20 sh -c 'grep -qx RUNNING "$1" && grep -q "run: reader stream, writer oss" "$2"' \
    sh "$I/snap/$INST/state" "$I/snap/$INST/log"; then
	ok "instance 1 is running, its plugins are open"
else
	notok "instance 1 is running (state $(state))"
fi
source_json NotTheKey > "$S/s-snap.json" || notok "the source is edited"
assert_valid_def sources s-snap "the edited source (a wrong key is still a valid source)"
check "instance 1 was still running when the source was edited" test "$(state)" = RUNNING
if ends_in SUCCESS; then
	ok "instance 1 succeeds with the key of its start"
else
	notok "instance 1 succeeds with the key of its start (state $(state))"
	diag "$(tail -n 5 "$I/snap/$INST/log")"
fi
check "instance 1's log names the connection it took" \
    inst_log_has "writer oss: datasource \"s-snap\": $OSS, bucket snap-bucket \\(taken at this attempt's start\\)"
check "instance 1 wrote its object" inst_log_has "oss writer: wrote oss://snap-bucket/snap/out__${INST}_0 "

# 2: the next instance takes the edited source
check "instance 2 starts" start_run
if ends_in FAILED && inst_log_has "SignatureDoesNotMatch"; then
	ok "instance 2 uses the edited source and fails on its key"
else
	notok "instance 2 uses the edited source and fails on its key (state $(state))"
	diag "$(tail -n 5 "$I/snap/$INST/log")"
fi

# 3: the user fixes the key; the next instance picks the fix up
source_json "$KEY" > "$S/s-snap.json" || notok "the source is fixed"
check "instance 3 starts" start_run
if ends_in SUCCESS; then
	ok "instance 3 uses the fixed key"
else
	notok "instance 3 uses the fixed key (state $(state))"
	diag "$(tail -n 5 "$I/snap/$INST/log")"
fi
if grep -rqa -e "$KEY" -e NotTheKey "$I/snap"; then
	notok "no key appears in the instances' logs and status"
else
	ok "no key appears in the instances' logs and status"
fi
it_unmount
it_done
