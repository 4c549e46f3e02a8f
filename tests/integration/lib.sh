# SPDX-License-Identifier: MIT
# tests/integration/lib.sh - shared helpers of the integration tests: each
# test script mounts difs for real (own work dir, own state dir, `difs
# mount -f` in the background), runs one scenario with real programs, and
# unmounts with `fusermount3 -u`, failing when the daemon exits non-zero.
#
# A test script does:
#   . "$(dirname "$0")/lib.sh"      # args: PATH/TO/difs [BASEDIR]
#   it_setup                        # work dir under BASEDIR (default /tmp)
#   it_mount                        # mounts $MNT with state $STATE
#   ... ok/notok/assert_* ...
#   it_unmount                      # fusermount3 -u, daemon must exit 0
#   it_done                         # exit status: 1 if anything failed
# Output is TAP ("ok N - ...", "not ok N - ...", "1..N" at the end).
# Exit 77 (skip) only when /dev/fuse or fusermount3 is missing.
# KEEP=1 keeps the work directory for a post-mortem.

set -u

DIFS=${1:?usage: $0 PATH/TO/difs [BASEDIR]}
IT_BASE=${2:-/tmp}
case "$DIFS" in /*) ;; *) DIFS=$PWD/$DIFS ;; esac
IT_NAME=$(basename "$0" .sh)
IT_N=0
IT_FAIL=0
WORK=
MNT=
STATE=
DPID=
IT_MOUNTED=0

notrun() {
	echo "1..0 # SKIP $*"
	exit 77
}

ok() { IT_N=$((IT_N + 1)); echo "ok $IT_N - $*"; }
notok() { IT_N=$((IT_N + 1)); IT_FAIL=1; echo "not ok $IT_N - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}
# fatal: stop the test now (cleanup unmounts)
bail() {
	notok "$*"
	it_show_log
	echo "1..$IT_N"
	exit 1
}

require_fuse() {
	[ -c /dev/fuse ] || notrun "/dev/fuse is absent: no FUSE in this environment"
	command -v fusermount3 >/dev/null 2>&1 ||
		notrun "fusermount3 is not installed (Debian package fuse3)"
}

# a program the test command installs: missing is a failure, not a skip
require_prog() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || bail "required program '$p' is not installed"
	done
}

it_cleanup() {
	if [ "$IT_MOUNTED" = 1 ]; then
		fusermount3 -u -z "$MNT" 2>/dev/null
		IT_MOUNTED=0
	fi
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		sleep 1
		kill -0 "$DPID" 2>/dev/null && kill -KILL "$DPID" 2>/dev/null
	fi
	[ -n "$IT_TMUX" ] && tmux -S "$IT_TMUX" kill-server 2>/dev/null
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	if [ -n "$WORK" ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$WORK"
	elif [ -n "$WORK" ]; then
		echo "# work directory kept: $WORK"
	fi
}
IT_TMUX=

it_setup() {
	require_fuse
	mkdir -p "$IT_BASE" || bail "cannot create $IT_BASE"
	WORK=$(mktemp -d "$IT_BASE/difs-it-$IT_NAME.XXXXXX") || bail "mktemp in $IT_BASE"
	MNT=$WORK/mnt
	STATE=$WORK/state
	mkdir -p "$MNT" "$WORK/out" "$WORK/tmp"
	trap it_cleanup EXIT
	diag "work directory $WORK"
}

# it_emu ARGS...: difs-emu (built next to difs) on $WORK/emu with ARGS
# (--ots/--oss 127.0.0.1:0, keys, ...); waits for "ready" and sets OTS and
# OSS to its endpoints; cleanup stops it
EMU_PID=
OTS=
OSS=
it_emu() {
	local emu
	emu=$(dirname "$DIFS")/difs-emu
	[ -x "$emu" ] || bail "difs-emu is not built next to $DIFS"
	"$emu" --data "$WORK/emu" "$@" >"$WORK/emu.out" 2>"$WORK/emu.err" &
	EMU_PID=$!
	wait_for 10 grep -qx ready "$WORK/emu.out" ||
		bail "difs-emu did not start: $(cat "$WORK/emu.err")"
	OTS=$(awk '$1 == "ots" { print $2 }' "$WORK/emu.out")
	OSS=$(awk '$1 == "oss" { print $2 }' "$WORK/emu.out")
}

it_show_log() {
	[ -n "$WORK" ] || return 0
	if [ -s "$WORK/daemon.err" ]; then
		diag "daemon stderr (last 40 lines):"
		tail -n 40 "$WORK/daemon.err" | sed 's/^/#   /'
	fi
}

it_is_mounted() {
	grep -q " $MNT fuse" /proc/self/mounts
}

# it_mount [extra difs mount args]: mount -f in the background, wait for it
it_mount() {
	local i
	"$DIFS" mount "$MNT" --state "$STATE" -f "$@" >>"$WORK/daemon.err" 2>&1 &
	DPID=$!
	for i in $(seq 1 100); do
		if it_is_mounted && [ -d "$MNT/jobs" ]; then
			IT_MOUNTED=1
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	bail "difs mount did not come up"
}

# it_unmount: fusermount3 -u, then the daemon must exit 0 within 30 s
it_unmount() {
	local i rc
	if ! fusermount3 -u "$MNT"; then
		notok "fusermount3 -u $MNT"
		fusermount3 -u -z "$MNT"
	fi
	IT_MOUNTED=0
	for i in $(seq 1 300); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DPID" 2>/dev/null; then
		notok "daemon exits after unmount (pid $DPID still running)"
		kill -KILL "$DPID"
	fi
	wait "$DPID"
	rc=$?
	DPID=
	if [ "$rc" = 0 ]; then
		ok "daemon exited 0 after unmount"
	else
		notok "daemon exited $rc after unmount"
		it_show_log
	fi
	# sanitizer builds: UBSan reports do not change the exit status
	if grep -q 'runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer' \
	    "$WORK/daemon.err" 2>/dev/null; then
		notok "daemon reported no sanitizer error"
		grep -A 12 'runtime error:\|ERROR: .*Sanitizer' "$WORK/daemon.err" |
		    head -n 40 | sed 's/^/#   /'
	fi
}

it_done() {
	[ "$IT_FAIL" = 0 ] || it_show_log
	echo "1..$IT_N"
	exit "$IT_FAIL"
}

# ---- assertions -------------------------------------------------------------

# assert_same FILE_IN_MOUNT EXPECTED_FILE DESCRIPTION: cat + cmp of the bytes
assert_same() {
	if cat "$1" >"$WORK/tmp/cat.out" 2>"$WORK/tmp/cat.err" &&
	    cmp -s "$WORK/tmp/cat.out" "$2"; then
		ok "$3: bytes identical"
	else
		notok "$3: bytes identical"
		diag "expected:" "$(head -c 400 "$2")" "got:" "$(head -c 400 "$WORK/tmp/cat.out")" \
		    "$(cat "$WORK/tmp/cat.err")"
	fi
}

assert_exists() {
	if [ -e "$1" ] || [ -L "$1" ]; then ok "$2"; else notok "$2 ($1 missing)"; fi
}
assert_absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then notok "$2 ($1 exists)"; else ok "$2"; fi
}

# errno_of PYTHON_STATEMENTS: prints OK or the errno name (EPERM, ...);
# the statements run with `os` imported and p = the mount point
errno_of() {
	python3 - "$MNT" "$1" <<'PY'
import errno, os, sys
p = sys.argv[1]
try:
    exec(sys.argv[2])
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

# assert_errno WANT[|WANT2] DESCRIPTION PYTHON_STATEMENTS
assert_errno() {
	local got
	got=$(errno_of "$3")
	case "|$1|" in
	*"|$got|"*) ok "$2 -> $got" ;;
	*) notok "$2: expected $1, got $got" ;;
	esac
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- definitions used by the tests -----------------------------------------

# job_json [RECORDS] [MBPS] [OUTDIR] [FILENAME]: a valid stream -> txtfile
# job without schedule (runs only through ctl)
job_json() {
	local n=${1:-3} mbps=${2:-0} out=${3:-$WORK/out} name=${4:-data} speed
	speed='"concurrent": "1"'
	[ "$mbps" = 0 ] || speed="$speed, \"mbps\": \"$mbps\""
	cat <<JSON
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" },
                 "speed": { $speed } },
    "reader": {
      "plugin": "stream",
      "parameter": {
        "sliceRecordCount": "$n",
        "column": [
          { "type": "long", "incr": "1,1" },
          { "type": "string", "value": "hello, world" },
          { "type": "string", "value": null }
        ]
      }
    },
    "writer": {
      "plugin": "txtfile",
      "parameter": { "path": "$out", "fileName": "$name",
                     "writeMode": "truncate", "fileFormat": "csv" }
    }
  }
}
JSON
}

# ots_oss_job TABLE START END OBJECT [MARGIN]: a seed-like otsstream ->
# oss csv job (row mode over uid,name) reading from the source `ots` and
# writing to the source `oss`; START and END are as the reader takes them
# (epoch ms, 14 digits or a ${param}), MARGIN is safetyMarginSeconds (1)
ots_oss_job() {
	cat <<JSON
{
  "type": "job", "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "1" } },
    "reader": { "plugin": "otsstream", "parameter": {
        "datasource": "ots", "dataTable": "$1",
        "statusTable": "TableStoreStreamReaderStatusTable",
        "startTimestampMillis": "$2", "endTimestampMillis": "$3",
        "mode": "single_version_and_update_only",
        "column": [ { "name": "uid" }, { "name": "name" } ],
        "isExportSequenceInfo": false, "safetyMarginSeconds": ${5:-1} } },
    "writer": { "plugin": "oss", "parameter": {
        "datasource": "oss", "object": "$4", "writeMode": "truncate",
        "fileFormat": "csv", "nullFormat": "null", "fieldDelimiter": "," } }
  }
}
JSON
}

# an invalid job: valid JSON, unknown reader plugin
job_json_invalid() {
	job_json "$@" | sed 's/"plugin": "stream"/"plugin": "nosuchreader"/'
}

# assert_valid_def DIR NAME DESCRIPTION: instances/NAME exists, no .error
assert_valid_def() {
	local dir=$1 name=$2
	assert_absent "$MNT/$dir/$name.json.error" "$3: no $name.json.error"
	if [ "$dir" = jobs ]; then
		if wait_for 5 test -d "$MNT/instances/$name"; then
			ok "$3: instances/$name exists"
		else
			notok "$3: instances/$name exists"
		fi
	fi
}

# assert_invalid_def DIR NAME DESCRIPTION: NAME.json.error is there
assert_invalid_def() {
	local f=$MNT/$1/$2.json.error
	if [ -f "$f" ] && grep -q 'error' "$f"; then
		ok "$3: $2.json.error present ($(head -n 1 "$f" | cut -c1-100))"
	else
		notok "$3: $2.json.error present"
	fi
}

# ---- definition changes, proven by running the job (editor/tool tests) -----
# The contract for sources/ and jobs/: every save succeeds, the bytes read
# back, an invalid save gets NAME.json.error plus a WARN line in
# instances/JOB/log and the daemon log, and the job keeps running its last
# valid definition; a valid save becomes the running definition.  The
# versions differ in the txtfile writer's fileName, so a run shows which
# definition is running.  A test does, for job J saved by a tool whose
# process name (/proc/PID/comm) is COMM:
#   def_start J                      # jobs/J.json = version J-a (cp), running
#   def_edit_cycle J COMM SAVE_FN    # SAVE_FN invalid|valid J OLD NEW
# SAVE_FN saves the invalid edit (OLD with the reader plugin "nosuchreader",
# see def_sed) or the valid one (NEW) with the tool and checks the tool's
# own report; def_edit_cycle checks the rest.  Expected bytes are in
# $WORK/def/LABEL.json and $WORK/def/LABEL.bad.json.

# def_versions LABEL...: $WORK/def/LABEL.json (valid, fileName LABEL) and
# LABEL.bad.json (the same with an unknown reader plugin)
def_versions() {
	local v
	mkdir -p "$WORK/def"
	for v in "$@"; do
		job_json 3 0 "$WORK/out" "$v" > "$WORK/def/$v.json"
		job_json_invalid 3 0 "$WORK/out" "$v" > "$WORK/def/$v.bad.json"
	done
}

# def_sed invalid|valid OLD NEW: the substitutions of that edit, one s///
# a line (a sed script; vim's :%s and ed's ,s take each line too): invalid
# breaks the reader plugin, valid repairs it and changes the fileName from
# OLD to NEW
def_sed() {
	case $1 in
	invalid) echo 's/"plugin": "stream"/"plugin": "nosuchreader"/' ;;
	valid) echo 's/"plugin": "nosuchreader"/"plugin": "stream"/'
	       echo "s/\"fileName\": \"$2\"/\"fileName\": \"$3\"/" ;;
	esac
}

# def_pairs invalid|valid OLD NEW: the same edit as "FROM<TAB>TO" lines of
# literal strings (for editors driven by search and replace)
def_pairs() {
	def_sed "$@" | sed 's|^s/\([^/]*\)/\([^/]*\)/$|\1\t\2|'
}

# def_start JOB: jobs/JOB.json = version JOB-a, written with cp; the job is
# defined and valid
def_start() {
	def_versions "$1-a" "$1-b"
	cp "$WORK/def/$1-a.json" "$MNT/jobs/$1.json" || bail "cp of $1-a into jobs/"
	assert_valid_def jobs "$1" "$1: version $1-a installed"
}

# def_mark JOB: remember where instances/JOB/log and the daemon log end, so
# the assertions below look only at lines after this point
def_mark() {
	wc -l < "$MNT/instances/$1/log" > "$WORK/tmp/mark.$1" 2>/dev/null || echo 0 > "$WORK/tmp/mark.$1"
	wc -l < "$WORK/daemon.err" > "$WORK/tmp/dmark.$1"
}

# def_log_since JOB ERE: a line of instances/JOB/log after the mark matches
# (within 5 s); def_dlog_since: the same for the daemon log
def_log_since() {
	wait_for 5 sh -c 'tail -n +$(($(cat "$1") + 1)) "$2" | grep -Eq -- "$3"' sh \
	    "$WORK/tmp/mark.$1" "$MNT/instances/$1/log" "$2"
}
def_dlog_since() {
	wait_for 5 sh -c 'tail -n +$(($(cat "$1") + 1)) "$2" | grep -Eq -- "$3"' sh \
	    "$WORK/tmp/dmark.$1" "$WORK/daemon.err" "$2"
}

# def_run JOB: `run` through ctl, wait (30 s) for that instance to succeed;
# sets DEF_INST to its cycle.  A job without schedule runs the current
# second's cycle: wait for a new second so every run is a new instance.
DEF_INST=
def_run() {
	local j=$1 c=$MNT/instances/$1/ctl prev=$DEF_INST
	DEF_INST=
	wait_for 3 sh -c '[ "$(date -u +%Y%m%d%H%M%S)" != "$1" ]' sh "$prev"
	echo run > "$c" || return 1
	DEF_INST=$(sed -n 's/^ok: run: instance \([0-9]*\) queued$/\1/p' "$c")
	[ -n "$DEF_INST" ] && [ "$DEF_INST" != "$prev" ] || return 1
	wait_for 30 grep -qx SUCCESS "$MNT/instances/$j/$DEF_INST/state"
}

# assert_running_def JOB LABEL DESCRIPTION: a run of JOB now uses version
# LABEL (its job.json snapshot names fileName LABEL and it wrote LABEL__*)
assert_running_def() {
	local j=$1 want=$2 got
	if ! def_run "$j"; then
		notok "$3: a run of $j succeeds (instance '$DEF_INST': $(cat "$MNT/instances/$j/$DEF_INST/state" 2>&1); ctl: $(tail -n 1 "$MNT/instances/$j/ctl" 2>&1))"
		return
	fi
	got=$(sed -n 's/.*"fileName": "\([^"]*\)".*/\1/p' "$MNT/instances/$j/$DEF_INST/job.json")
	if [ "$got" = "$want" ] && ls "$WORK/out/${want}__$DEF_INST"* >/dev/null 2>&1; then
		ok "$3: the running definition is $want (run $DEF_INST wrote ${want}__$DEF_INST*)"
	else
		notok "$3: the running definition is $want (run $DEF_INST used fileName '$got')"
		diag "$(ls "$WORK/out")"
	fi
}

# def_summary_valid JOB true|false: instances/JOB/summary's definition.valid
# (false comes with errors)
def_summary_valid() {
	jq -e --argjson v "$2" '.definition.valid == $v and
	    ($v or (.definition.errors | length) > 0)' "$MNT/instances/$1/summary" >/dev/null
}

# assert_def_invalid JOB COMM BYTES RUNNING DESCRIPTION: after an invalid
# save by process COMM (an ERE): the bytes read back, JOB.json.error has
# jobs/JOB.json:LINE:COL: error: lines, the job log (WARN) and the daemon
# log name COMM and the verdict, summary says invalid, and version RUNNING
# still runs
assert_def_invalid() {
	local j=$1 comm=$2 e=$MNT/jobs/$1.json.error
	assert_same "$MNT/jobs/$j.json" "$3" "$5: invalid bytes read back"
	if [ -f "$e" ] && grep -Eq "^jobs/$j\.json:[0-9]+:[0-9]+: error: " "$e"; then
		ok "$5: $j.json.error: $(head -n 1 "$e" | cut -c1-90)"
	else
		notok "$5: $j.json.error with jobs/$j.json:LINE:COL: error: lines"
		diag "$(cat "$e" 2>&1)"
	fi
	if def_log_since "$j" "WARN definition: jobs/$j\\.json (saved|replaced by renaming [^ ]+ onto it) by $comm \\(pid [0-9]+\\): INVALID \\([0-9]+ errors?, see jobs/$j\\.json\\.error; first: jobs/$j\\.json:[0-9]+:[0-9]+: error: .*\\); the job keeps running its last valid definition"; then
		ok "$5: instances/$j/log has the WARN INVALID line naming $comm"
	else
		notok "$5: instances/$j/log has the WARN INVALID line naming $comm"
		diag "$(tail -n 6 "$MNT/instances/$j/log")"
	fi
	if def_dlog_since "$j" "WARN jobs/$j\\.json: .* by $comm \\(pid [0-9]+\\): INVALID"; then
		ok "$5: the daemon log has the WARN line"
	else
		notok "$5: the daemon log has the WARN line"
	fi
	check "$5: summary says the definition is invalid" def_summary_valid "$j" false
	assert_running_def "$j" "$4" "$5"
}

# assert_def_valid JOB COMM BYTES LABEL DESCRIPTION: after a valid save of
# version LABEL by COMM: bytes, no .error, an INFO line naming COMM in the
# job log, summary valid, and LABEL is the running definition
assert_def_valid() {
	local j=$1 comm=$2
	assert_same "$MNT/jobs/$j.json" "$3" "$5: bytes read back"
	assert_absent "$MNT/jobs/$j.json.error" "$5: $j.json.error is gone"
	if def_log_since "$j" "INFO definition: jobs/$j\\.json (saved|replaced by renaming [^ ]+ onto it) by $comm \\(pid [0-9]+\\): valid; it is the running definition from now on"; then
		ok "$5: instances/$j/log has the INFO valid line naming $comm"
	else
		notok "$5: instances/$j/log has the INFO valid line naming $comm"
		diag "$(tail -n 6 "$MNT/instances/$j/log")"
	fi
	check "$5: summary says the definition is valid" def_summary_valid "$j" true
	assert_running_def "$j" "$4" "$5"
}

# def_edit_cycle JOB COMM SAVE_FN [INVALID_BYTES]: from the running version
# JOB-a, `SAVE_FN invalid JOB JOB-a JOB-b` saves an invalid edit (expected
# bytes: INVALID_BYTES, default $WORK/def/JOB-a.bad.json), then `SAVE_FN
# valid JOB JOB-a JOB-b` saves version JOB-b; both are checked as above
def_edit_cycle() {
	local j=$1 comm=$2 fn=$3
	def_mark "$j"
	"$fn" invalid "$j" "$j-a" "$j-b"
	assert_def_invalid "$j" "$comm" "${4:-$WORK/def/$j-a.bad.json}" "$j-a" "$fn invalid"
	def_mark "$j"
	"$fn" valid "$j" "$j-a" "$j-b"
	assert_def_valid "$j" "$comm" "$WORK/def/$j-b.json" "$j-b" "$fn valid"
}
