#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# exactly_once.sh - exactly-once windows under SIGKILL:
#
#   tests/integration/exactly_once.sh PATH/TO/difs PATH/TO/difs-emu PATH/TO/difs-load [WORKDIR]
#
# difs-emu runs with a table `orders` (4 stream shards); difs-load writes
# puts/updates/deletes to it continuously (1500 changes/s, ~200-byte rows)
# and records every committed change with the wall-clock interval of its
# request (--record).  Ten consecutive windows of W seconds, [T0 + kW,
# T0 + (k+1)W), are exported by a seed-like job (otsstream in
# single_version_and_update_only mode over uid,name -> oss csv, truncate,
# one object prefix per window, 1 MiB parts and 1 MiB rollover so objects are
# multipart and roll over, 2 channels), and by a second job in DataX's
# multi-version mode (one line per cell version, a DR line for every
# PUT_ROW and DELETE_ROW: this is where deletes show) with its own status
# table.  Each window runs as soon as its end
# is past the safety margin, with `difs run JOB -p start_ms=.. -p end_ms=..
# --cycle C --state DIR` (C fixed per window, so a rerun names its objects
# the same): the run is SIGKILLed at random points (kills that landed: 2-3
# per window for the row job, so >= 20, plus 0-1 for the multi-version job;
# delays uniform over the last clean run's duration) and restarted each
# time -- the rerun of the window -- until a run completes.  The mount is not needed (the scheduler's part is tested
# elsewhere); the windows are exactly what a 1-window-per-cycle schedule
# runs, with the status table carrying the checkpoints from one window to
# the next.  While the windows run, the load goes on.
#
# Then it proves, for both jobs:
#   - every put/update committed inside [T0, T10) (request sent after T0 and
#     answered before T10) appears exactly once across all windows' objects
#     (row mode: its uid,name line; multi-version: its U line);
#   - multi-version: each key has exactly one DR line per put and delete
#     committed inside [T0, T10) (DR lines of one key are identical, so they
#     are counted);
#   - changes whose request straddles T0 or T10 appear at most once, changes
#     outside never, and no line is unknown to the record;
#   - no multipart upload is left behind (the emulator's upload directory);
#   - a clean rerun of a window gives byte-identical objects.
# TAP output; exit 77 when a binary is missing.  Takes about 1.5 minutes.
set -u

difs=${1:?usage: $0 difs difs-emu difs-load [workdir]}
emu=${2:?}
load=${3:?}
base=${4:-/tmp}
for b in "$difs" "$emu" "$load"; do
	if [ ! -x "$b" ]; then
		echo "1..0 # SKIP $b not built"
		exit 77
	fi
done
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 77; }

W=${EXO_WINDOW_S:-8}		# window length, s
NWIN=10
MIN_KILLS=20
MARGIN=1			# safetyMarginSeconds of the job
AK=exoid:exosecret
work=$(mktemp -d "$base/difs-exo-XXXXXX")
# `difs run` stages the oss writer's parts under $TMPDIR/difs-spool-UID,
# shared by every difs run of this user: keep this test's runs apart from
# other tests running at the same time
mkdir -p "$work/tmp"
export TMPDIR=$work/tmp
n=0 fail=0 emu_pid="" load_pid=""
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
now_ms() { date +%s%3N; }
cleanup() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	if [ $fail -eq 0 ]; then rm -rf "$work"; else echo "# work directory kept: $work"; fi
}
trap cleanup EXIT

# ---- emulator, sources, job ---------------------------------------------------
"$emu" --ots 127.0.0.1:0 --oss 127.0.0.1:0 --data "$work/data" --access-key "$AK" \
	--instance exo --bucket exo-bucket --shards orders=4 --sync off \
	> "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 100); do grep -qx ready "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
ots=$(awk '$1 == "ots" { print $2 }' "$work/emu.out")
oss=$(awk '$1 == "oss" { print $2 }' "$work/emu.out")
[ -n "$ots" ] && [ -n "$oss" ]; ok $? "difs-emu started ($ots, $oss)"
[ -n "$ots" ] || exit 1

cat > "$work/ots-source.json" <<EOF
{ "type": "ots", "endpoint": "$ots", "instanceName": "exo", "accessId": "exoid", "accessKey": "exosecret" }
EOF
cat > "$work/oss-source.json" <<EOF
{ "type": "oss", "endpoint": "$oss", "bucket": "exo-bucket", "accessId": "exoid", "accessKey": "exosecret" }
EOF
cat > "$work/job.json" <<EOF
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "errorLimit": { "record": "0" }, "speed": { "concurrent": "2" } },
    "reader": {
      "plugin": "otsstream",
      "parameter": {
        "datasource": "ots-source",
        "dataTable": "orders",
        "statusTable": "TableStoreStreamReaderStatusTable",
        "startTimestampMillis": "\${start_ms}",
        "endTimestampMillis": "\${end_ms}",
        "mode": "single_version_and_update_only",
        "column": [ { "name": "uid" }, { "name": "name" } ],
        "isExportSequenceInfo": false,
        "maxRetries": 30,
        "safetyMarginSeconds": $MARGIN
      }
    },
    "writer": {
      "plugin": "oss",
      "parameter": {
        "datasource": "oss-source",
        "object": "exo/\${win}/part",
        "writeMode": "truncate",
        "fileFormat": "csv",
        "encoding": "UTF-8",
        "nullFormat": "null",
        "fieldDelimiter": ",",
        "blockSizeInMB": 1,
        "maxFileSize": 1
      }
    }
  }
}
EOF
# the multi-version job: no mode/column, its own status table and prefix
sed -e '/"mode":/d' -e '/"column":/d' -e 's/TableStoreStreamReaderStatusTable/ExoMultiVersionStatus/' \
    -e 's|"exo/|"exo-mv/|' "$work/job.json" > "$work/mv.json"
"$difs" check "$work/job.json" "$work/mv.json" "$work/ots-source.json" "$work/oss-source.json" \
	> "$work/check.out" 2>&1
ok $? "difs check accepts both jobs and the sources"

# ---- load ----------------------------------------------------------------------
"$load" --endpoint "$ots" --instance exo --access-key "$AK" --table orders --create \
	--rate 1500 --keys 5000 --row-bytes 200 --seed 7 --record "$work/record.tsv" --quiet \
	> "$work/load.out" 2> "$work/load.err" &
load_pid=$!
sleep 1
kill -0 "$load_pid" 2>/dev/null; ok $? "difs-load running"

T0=$(( ($(now_ms) / 1000 + 2) * 1000 ))

# run_window K: run window K until one run completes, SIGKILLing the first
# ones; appends "kill" lines to $work/kills.  Sets last_ms (duration of the
# clean run).
est_ms=400
total_kills=0
run_once() {	# K JOB -> starts difs run of JOB.json in the background, sets pid
	local k=$1 j=$2 s=$((T0 + $1 * W * 1000)) e=$((T0 + ($1 + 1) * W * 1000))
	local cyc
	cyc=$(date -u -d "@$((e / 1000))" +%Y%m%d%H%M%S)
	"$difs" run "$work/$j.json" -p "start_ms=$s" -p "end_ms=$e" -p "win=w$k" \
		--cycle "$cyc" --source "$work/ots-source.json" --source "$work/oss-source.json" \
		--state "$work/state-$j" 2>> "$work/run-$j-w$k.log" &
	pid=$!
}
run_window() {	# K JOB KILLS
	local k=$1 j=$2 want=$3 landed=0 tries=0 rc t1 t2 delay
	while :; do
		tries=$((tries + 1))
		t1=$(now_ms)
		echo "=== attempt $tries" >> "$work/run-$j-w$k.log"
		run_once "$k" "$j"
		if [ $landed -lt "$want" ] && [ $tries -le 20 ]; then
			delay=$(( RANDOM * 32768 + RANDOM ))
			delay=$(( delay % (est_ms > 20 ? est_ms : 20) ))
			sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null	# (no "Killed" job notice)
			rc=$?
			if [ $rc -eq 137 ]; then
				landed=$((landed + 1))
				total_kills=$((total_kills + 1))
				echo "$j w$k kill $landed at +${delay}ms (estimate ${est_ms}ms)" >> "$work/kills"
			elif [ $rc -ne 0 ]; then
				echo "# $j window $k: run exited $rc before the kill"
				return 1
			fi
			continue
		fi
		wait "$pid"
		rc=$?
		t2=$(now_ms)
		if [ $rc -ne 0 ]; then
			echo "# $j window $k: clean run exited $rc; log: $work/run-$j-w$k.log"
			tail -5 "$work/run-$j-w$k.log" | sed 's/^/#   /'
			return 1
		fi
		est_ms=$((t2 - t1))
		echo "$j w$k done after $tries runs, $landed kills, last run ${est_ms}ms" >> "$work/kills"
		return 0
	done
}

win_fail=0
for k in $(seq 0 $((NWIN - 1))); do
	e=$((T0 + (k + 1) * W * 1000))
	while [ "$(now_ms)" -lt $((e + MARGIN * 1000 + 300)) ]; do sleep 0.1; done
	run_window "$k" job $((2 + RANDOM % 2)) || win_fail=$((win_fail + 1))
	run_window "$k" mv $((RANDOM % 2)) || win_fail=$((win_fail + 1))
done
T10=$((T0 + NWIN * W * 1000))
ok $win_fail "all $NWIN windows of both jobs completed after their kills"
[ $total_kills -ge $MIN_KILLS ]; ok $? "SIGKILLs that landed during runs: $total_kills (>= $MIN_KILLS)"
kill -0 "$load_pid" 2>/dev/null; ok $? "the load ran during all windows"
kill "$load_pid" 2>/dev/null
wait "$load_pid"
rc=$?
load_pid=""
[ $rc -eq 0 ] && [ ! -s "$work/load.err" ]
ok $? "difs-load stopped cleanly on SIGTERM (exit $rc): $(tail -1 "$work/load.out")"

# ---- no multipart upload left -----------------------------------------------------
uploads=$(find "$work/data/oss/.emu/buckets/exo-bucket/uploads" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
[ -d "$work/data/oss/.emu/buckets/exo-bucket/uploads" ] && [ "$uploads" -eq 0 ]
ok $? "no multipart upload left behind ($uploads in the emulator)"

# ---- exactly once ---------------------------------------------------------------------
# verify MODE DIR: MODE row (uid,name lines) or mv (uid,col,ts,value,op lines)
verify() {
python3 - "$1" "$work/record.tsv" "$2" "$T0" "$T10" "$NWIN" <<'PY'
import os, sys
mode, rec, objdir = sys.argv[1], sys.argv[2], sys.argv[3]
t0, t10, nwin = int(sys.argv[4]) * 1000, int(sys.argv[5]) * 1000, int(sys.argv[6])
must, may, never = {}, set(), set()
dr_lo, dr_hi = {}, {}          # per uid: DR lines expected (puts + deletes)
deletes = 0
for line in open(rec):
    f = line.rstrip("\n").split("\t")
    if len(f) != 7:
        print("bad record line", line); sys.exit(1)
    _, state, op, uid, name, send, ack = f
    send, ack = int(send), int(ack)
    inside = state == "c" and send >= t0 and ack < t10
    edge = not inside and not (ack < t0 or send >= t10)
    if op in ("put", "delete"):
        if inside:
            dr_lo[uid] = dr_lo.get(uid, 0) + 1
        if inside or edge:
            dr_hi[uid] = dr_hi.get(uid, 0) + 1
    if op == "delete":
        deletes += 1
        continue
    key = uid + "," + name
    if inside:
        must[key] = must.get(key, 0) + 1
    elif edge:
        may.add(key)
    else:
        never.add(key)
seen, dr = {}, {}
objects, lines, bad = 0, 0, []
windows = set()
for d, _, files in os.walk(objdir):
    for fn in files:
        objects += 1
        windows.add(os.path.relpath(d, objdir).split(os.sep)[0])
        with open(os.path.join(d, fn), "rb") as fp:
            data = fp.read().decode()
        if data and not data.endswith("\n"):
            bad.append("no final line delimiter: " + fn)
        for l in data.splitlines():
            lines += 1
            if mode == "mv":
                f = l.split(",")
                if len(f) != 5:
                    bad.append(l)
                    continue
                if f[4] == "DR":
                    dr[f[0]] = dr.get(f[0], 0) + 1
                    continue
                if f[4] != "U" or f[1] != "name":
                    bad.append(l)
                    continue
                l = f[0] + "," + f[3]
            seen[l] = seen.get(l, 0) + 1
dups = [k for k, v in seen.items() if v > 1]
missing = [k for k in must if k not in seen]
twice_in_rec = [k for k, v in must.items() if v > 1]
unknown = [k for k in seen if k not in must and k not in may and k not in never]
outside = [k for k in seen if k in never]
drbad = []
if mode == "mv":
    for uid in set(dr) | set(dr_lo):
        if not (dr_lo.get(uid, 0) <= dr.get(uid, 0) <= dr_hi.get(uid, 0)):
            drbad.append(f"{uid}: {dr.get(uid, 0)} DR lines, expected {dr_lo.get(uid, 0)}..{dr_hi.get(uid, 0)}")
print(f"{mode}: changes {len(must)} inside, {len(may)} at the edges, {len(never)} outside; {deletes} deletes")
print(f"{mode}: {objects} objects in {len(windows)} windows, {lines} lines"
      + (f", {sum(dr.values())} DR lines for {len(dr)} keys" if mode == "mv" else ""))
print(f"{mode}: missing {len(missing)}, duplicated {len(dups)}, outside {len(outside)}, "
      f"unknown {len(unknown)}, malformed {len(bad)}" + (f", wrong DR counts {len(drbad)}" if mode == "mv" else ""))
for name, l in (("missing", missing), ("duplicated", dups), ("outside", outside), ("unknown", unknown),
                ("malformed", bad), ("DR", drbad)):
    for k in l[:5]:
        print(f"  {name}: {k[:80]}")
ok = (not missing and not dups and not outside and not unknown and not twice_in_rec and not bad
      and not drbad and len(must) > 1000 and len(windows) == nwin
      and (mode != "mv" or sum(dr.values()) > 1000))
sys.exit(0 if ok else 1)
PY
}
verify row "$work/data/oss/exo-bucket/exo" > "$work/verify.out" 2>&1
rc=$?
sed 's/^/# /' "$work/verify.out"
ok $rc "row mode: every put/update committed in [T0, T10) appears exactly once across the $NWIN windows' objects"
verify mv "$work/data/oss/exo-bucket/exo-mv" > "$work/verify-mv.out" 2>&1
rc=$?
sed 's/^/# /' "$work/verify-mv.out"
ok $rc "multi-version mode: every put/update exactly once, one DR line per put and delete"

# ---- rerun of a window: byte-identical ------------------------------------------------
sums() { (cd "$work/data/oss/exo-bucket/$1/w3" && find . -type f | sort | xargs md5sum); }
for j in job mv; do
	pre=exo
	[ $j = mv ] && pre=exo-mv
	before=$(sums $pre)
	est_ms=0
	run_once 3 $j
	wait "$pid"
	rc=$?
	after=$(sums $pre)
	[ $rc -eq 0 ] && [ -n "$before" ] && [ "$before" = "$after" ]
	ok $? "$j: a clean rerun of window 3 writes byte-identical objects ($(echo "$before" | wc -l) objects)"
done
multi=$(find "$work/data/oss/exo-bucket/exo" -type f | wc -l)
[ "$multi" -gt $NWIN ]; ok $? "windows rolled over into several objects ($multi objects)"

sed 's/^/# /' "$work/kills" | head -60
echo "1..$n"
exit $fail
