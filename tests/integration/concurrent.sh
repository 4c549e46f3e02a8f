#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concurrent readers and writers: 8 writer processes (each rewrites its own
# scratch file and its own job definition, checking read-after-write), 2
# writers fighting over one shared file, and 6 reader processes (ls -l,
# cat, grep -r of the whole tree, jq of status files) run at once while
# ctl commands start runs.  Every process must finish cleanly, every file
# must end with its writer's last bytes, and the daemon must exit 0.
# Run it against an ASan build of difs too (see tests/integration/README.md).
. "$(dirname "$0")/lib.sh"
require_prog python3 jq
it_setup
it_mount
J=$MNT/jobs
I=$MNT/instances
ROUNDS=${ROUNDS:-40}

# writer K: own scratch file + own job, ROUNDS times, read-after-write
writer() {
	python3 - "$MNT" "$1" "$ROUNDS" "$WORK/out" <<'PY'
import json, os, sys
mnt, k, rounds, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
scratch = f"{mnt}/jobs/w{k}.bin"
job = f"{mnt}/jobs/cjob{k}.json"
for r in range(rounds):
    data = bytes([(k * 31 + r + i) % 256 for i in range(1000 + 97 * r)])
    with open(scratch, "wb") as h:
        h.write(data)
    with open(scratch, "rb") as h:
        got = h.read()
    assert got == data, f"writer {k} round {r}: read-after-write mismatch"
    j = {"type": "job", "version": "2.0", "configuration": {
        "setting": {"errorLimit": {"record": "0"}, "speed": {"concurrent": "1"}},
        "reader": {"plugin": "stream", "parameter": {"sliceRecordCount": str(r + 1),
                   "column": [{"type": "long", "incr": "1,1"},
                              {"type": "string", "value": f"writer {k}"}]}},
        "writer": {"plugin": "txtfile", "parameter": {"path": out, "fileName": f"c{k}",
                   "writeMode": "truncate", "fileFormat": "csv"}}}}
    text = json.dumps(j, indent=1) + "\n"
    with open(job, "w") as h:
        h.write(text)
    assert open(job).read() == text, f"writer {k} round {r}: job mismatch"
    if r % 10 == 5 and os.path.exists(f"{mnt}/instances/cjob{k}/ctl"):
        with open(f"{mnt}/instances/cjob{k}/ctl", "w") as h:
            h.write(f"run 202501{r // 10 + 1:02d}000000\n")
PY
}

# two writers on one file: whole-file rewrites, each read sees one of them
fighter() {
	python3 - "$MNT" "$1" "$ROUNDS" <<'PY'
import sys
mnt, k, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = f"{mnt}/sources/shared.txt"
mine = (k * 2000).encode()
for r in range(rounds * 2):
    with open(f, "wb") as h:
        h.write(mine)
    got = open(f, "rb").read()
    assert got in (b"", b"a" * 2000, b"b" * 2000), f"torn read: {got[:20]!r}... ({len(got)} bytes)"
PY
}

# reader KIND: loops until the writers are done (the file $WORK/stop)
reader() {
	local n=0 s
	while [ ! -e "$WORK/stop" ]; do
		n=$((n + 1))
		case $1 in
		ls) ls -lR "$MNT" >/dev/null || return 1 ;;
		cat) cat "$J"/*.json >/dev/null 2>&1 ;;
		grep)	# ctl files are write-only: not read
			grep -r -q --exclude=ctl nosuchstringanywhere "$MNT"
			[ $? = 1 ] || return 1 ;;
		jq)
			for s in "$I"/*/*/status; do
				if [ -e "$s" ]; then jq -e .state "$s" >/dev/null || return 1; fi
			done ;;
		stat) find "$MNT" -exec stat -c '%s' {} + >/dev/null 2>&1 ;;
		esac
	done
	echo "reader $1: $n rounds" >&2
	return 0
}

pids=()
names=()
errs=()
for k in 1 2 3 4 5 6 7 8; do
	writer $k 2>"$WORK/writer$k.err" &
	pids+=($!); names+=("writer $k"); errs+=("$WORK/writer$k.err")
done
fighter a 2>"$WORK/fighter_a.err" & pids+=($!); names+=("fighter a"); errs+=("$WORK/fighter_a.err")
fighter b 2>"$WORK/fighter_b.err" & pids+=($!); names+=("fighter b"); errs+=("$WORK/fighter_b.err")
for r in ls cat grep jq stat ls; do
	reader $r 2>"$WORK/reader_$r.err" &
	pids+=($!); names+=("reader $r"); errs+=("$WORK/reader_$r.err")
done
diag "${#pids[@]} processes running"
nwriters=10
for i in "${!pids[@]}"; do
	[ "$i" = "$nwriters" ] && touch "$WORK/stop"
	if wait "${pids[$i]}"; then
		ok "${names[$i]} finished cleanly"
	else
		notok "${names[$i]} failed"
		diag "$(tail -n 5 "${errs[$i]}" 2>/dev/null)"
	fi
done
diag "$(cat "$WORK"/reader_*.err)"

# the final state: every file has its writer's last bytes
python3 - "$MNT" "$ROUNDS" <<'PY' && ok "every scratch file holds its writer's last round" || notok "final scratch contents"
import sys
mnt, rounds = sys.argv[1], int(sys.argv[2])
r = rounds - 1
for k in range(1, 9):
    data = bytes([(k * 31 + r + i) % 256 for i in range(1000 + 97 * r)])
    assert open(f"{mnt}/jobs/w{k}.bin", "rb").read() == data, k
PY
for k in 1 2 3 4 5 6 7 8; do
	check "cjob$k: valid, with instances/cjob$k" \
		sh -c "test ! -e '$J/cjob$k.json.error' && test -d '$I/cjob$k'"
done
check "daemon still alive" kill -0 "$DPID"
it_unmount
it_done
