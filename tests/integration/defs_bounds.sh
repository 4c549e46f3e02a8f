#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 14, memory bounds, written as the attack: fill jobs/ with N files
# of 1 MiB each (a JSON object padded with a long string: invalid as a job,
# stored all the same) and watch the daemon's memory.
#
#   - the daemon's anonymous memory (RssAnon of /proc/PID/status) grows by
#     less than the --max-defs-bytes bound + 48 MiB: stored files are not
#     kept in memory.  VmRSS is printed too: it also counts the pages of
#     the LMDB file the daemon has mapped (RssFile), the kernel's page
#     cache, which it drops under memory pressure (no OOM comes from it);
#   - every write succeeds and reads return the exact bytes (cmp of 20),
#     stat shows the true size without the bytes in memory, after a
#     remount too;
#   - bytes written through handles kept open past the bound: ENOSPC and
#     a log line naming the file, the bound and --max-defs-bytes;
#   - one file more than --max-defs: ENOSPC and a log line naming
#     --max-defs;
#   - one handle more than --max-handles in one process: EMFILE and a log
#     line naming --max-handles.
#
# The suite runs N=600 under --max-defs-bytes 16M (about 15 s here); the
# benchmark `defs_bounds_3000` runs the issue's figures, N=3000 under the
# default 64M (DEFS_N, DEFS_BYTES).  The daemon runs with the hidden
# --nosync: writing N MiB with an fsync per file is set-up, not what is
# measured.
. "$(dirname "$0")/lib.sh"
require_prog python3 cmp stat
N=${DEFS_N:-600}
BYTES=${DEFS_BYTES:-16M}
case "$BYTES" in
*M) BOUND_KB=$((${BYTES%M} * 1024)) ;;
*) BOUND_KB=$((BYTES / 1024)) ;;
esac
MAXDEFS=$((N + 250))	# room for the open files below
it_setup
it_mount --nosync --max-defs-bytes "$BYTES" --max-defs "$MAXDEFS"
LOG=$STATE/difs.log

# kB of a /proc/PID/status field
rss() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DPID/status"; }

# 1 MiB each: '{"type": "job", "n": 00000001, "pad": "xxx...x"}\n'
python3 - "$WORK/xs" "$WORK/pad.json" <<'PY' || bail "cannot make the 1 MiB file"
import sys
head = '{"type": "job", "n": 00000000, "pad": "'
open(sys.argv[1], 'w').write('x' * (1048576 - len(head) - 3))
open(sys.argv[2], 'w').write(head + 'x' * (1048576 - len(head) - 3) + '"}\n')
PY
anon0=$(rss RssAnon)
vm0=$(rss VmRSS)
t0=$(date +%s)
fails=0
for i in $(seq 1 "$N"); do
	{ printf '{"type": "job", "n": %08d, "pad": "' "$i"; cat "$WORK/xs"; printf '"}\n'; } \
	    >"$WORK/tmp/one.json"
	cp "$WORK/tmp/one.json" "$MNT/jobs/j$i.json" 2>>"$WORK/tmp/cp.err" || fails=$((fails + 1))
	[ "$i" -le 20 ] && cp "$WORK/tmp/one.json" "$WORK/tmp/exp$i.json"
done
t1=$(date +%s)
anon1=$(rss RssAnon)
vm1=$(rss VmRSS)
diag "$N files of 1 MiB written in $((t1 - t0)) s; bound $BYTES" \
    "RssAnon ${anon0} kB -> ${anon1} kB (+$((anon1 - anon0)) kB)" \
    "VmRSS ${vm0} kB -> ${vm1} kB (+$((vm1 - vm0)) kB; the rest is RssFile: LMDB's mapped pages)"
check "all $N writes of 1 MiB succeed ($fails failed)" test "$fails" = 0
limit=$((BOUND_KB + 48 * 1024))
check "anonymous memory grew by less than the bound + 48 MiB ($((anon1 - anon0)) kB < $limit kB)" \
	test $((anon1 - anon0)) -lt "$limit"

# reads come from the store: the exact bytes, the true size
bad=0
for i in $(seq 1 20); do
	cmp -s "$MNT/jobs/j$i.json" "$WORK/tmp/exp$i.json" || bad=$((bad + 1))
done
check "20 files read back byte for byte ($bad differ)" test "$bad" = 0
check "stat shows the true size" test "$(stat -c %s "$MNT/jobs/j$N.json")" = 1048576
anon2=$(rss RssAnon)
check "reading them kept nothing ($((anon2 - anon1)) kB more)" \
	test $((anon2 - anon0)) -lt "$limit"

# ---- bytes not yet stored: handles kept open past the bound -------------------
out=$(python3 - "$MNT/jobs" "$WORK/pad.json" <<'PY'
import errno, os, sys
d, pad = sys.argv[1], open(sys.argv[2], 'rb').read()
fds, res = [], 'none'
for i in range(200):
    try:
        fd = os.open(os.path.join(d, 'open%d.json' % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        fds.append(fd)
        os.write(fd, pad)
    except OSError as e:
        res = '%s after %d' % (errno.errorcode.get(e.errno, e.errno), i)
        break
print(res)
for fd in fds:
    try:
        os.close(fd)
    except OSError:
        pass
PY
)
case "$out" in
ENOSPC*) ok "writes kept open past $BYTES fail: $out files" ;;
*) notok "writes kept open past $BYTES: expected ENOSPC, got '$out'" ;;
esac
check "the log names the file, the bound and --max-defs-bytes" \
	grep -q 'jobs/open[0-9]*\.json: write refused (No space left on device): .*bound of .*--max-defs-bytes' "$LOG"
sleep 1	# refusals are logged at most once a second
anon3=$(rss RssAnon)
check "the refused writes left memory bounded (RssAnon +$((anon3 - anon0)) kB)" \
	test $((anon3 - anon0)) -lt "$limit"

# ---- one file too many ------------------------------------------------------------
have=$(ls "$MNT/jobs" | grep -vc '\.error$')
for i in $(seq "$have" $((MAXDEFS - 1))); do
	: >"$MNT/jobs/fill$i.txt" || break
done
check "sources/ and jobs/ hold $MAXDEFS files" \
	test "$(ls "$MNT/jobs" "$MNT/sources" | grep -c '\.json$\|\.txt$')" = "$MAXDEFS"
assert_errno ENOSPC "file $((MAXDEFS + 1)) past --max-defs $MAXDEFS" \
	"open(p + '/jobs/onemore.json', 'w').close()"
assert_errno ENOSPC "a symlink past --max-defs" "os.symlink('x', p + '/jobs/.#lock')"
check "the log names --max-defs" grep -q 'jobs/onemore.json: not created (No space left on device): .*--max-defs`' "$LOG"
rm -f "$MNT"/jobs/fill*.txt "$MNT"/jobs/open*.json
assert_errno OK "after removing some, a file can be created again" \
	"open(p + '/jobs/onemore.json', 'w').close()"
it_unmount

# ---- after a remount: sizes from the records, bytes from the store; handles ---
# (the daemon checks every stored definition again before it mounts: 3,000
# of 1 MiB take a while, longer than it_mount waits)
sleep 1
t0=$(date +%s)
"$DIFS" mount "$MNT" --state "$STATE" -f --nosync --max-defs-bytes "$BYTES" \
    --max-defs "$MAXDEFS" --max-handles 64 >>"$WORK/daemon.err" 2>&1 &
DPID=$!
wait_for 300 sh -c "grep -q ' $MNT fuse' /proc/self/mounts && test -d '$MNT/jobs'" ||
	bail "difs mount did not come up again"
IT_MOUNTED=1
diag "remounted with $N files in $(($(date +%s) - t0)) s"
anon4=$(rss RssAnon)
diag "after remount with $N files: RssAnon ${anon4} kB, VmRSS $(rss VmRSS) kB"
check "the remounted daemon holds no file's bytes (RssAnon $anon4 kB < $limit kB)" \
	test "$anon4" -lt "$limit"
check "stat after the remount shows the true size" \
	test "$(stat -c %s "$MNT/jobs/j7.json")" = 1048576
bad=0
for i in $(seq 1 20); do
	cmp -s "$MNT/jobs/j$i.json" "$WORK/tmp/exp$i.json" || bad=$((bad + 1))
done
check "20 files read back byte for byte after the remount ($bad differ)" test "$bad" = 0
out=$(python3 - "$MNT/jobs" <<'PY'
import errno, os, sys
fds, res = [], 'none'
for i in range(1, 100):
    try:
        fds.append(os.open(os.path.join(sys.argv[1], 'j%d.json' % (i % 20 + 1)), os.O_RDONLY))
    except OSError as e:
        res = '%s after %d' % (errno.errorcode.get(e.errno, e.errno), len(fds))
        break
for fd in fds:
    os.close(fd)
print(res)
PY
)
check "handle 65 of one process: EMFILE ($out)" test "$out" = "EMFILE after 64"
check "the log names --max-handles" grep -q 'open refused for .*(Too many open files): .*--max-handles' "$LOG"
assert_errno OK "closed handles are counted out" "open(p + '/jobs/j1.json').close()"
it_unmount
it_done
