#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sources/ and jobs/ behave like a local disk for any file: binary-safe
# bytes, true sizes and mtimes, truncate, O_TRUNC, O_APPEND, pwrite at
# offsets, fsync, chmod, utimens, rename (also over an existing file),
# unlink, symlink/readlink (emacs lock links); link, mkdir and > 1 MiB are
# refused with the documented errno; an invalid definition fails no call
# (its errors go to NAME.json.error); everything survives a remount.
. "$(dirname "$0")/lib.sh"
it_setup
it_mount
J=$MNT/jobs

# binary-safe bytes (every byte value, NULs included) in a scratch file
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64 + b"\0tail")' > "$WORK/bin"
cp "$WORK/bin" "$J/blob.bin"
assert_same "$J/blob.bin" "$WORK/bin" "binary file via cp"
check "stat size is the true size" test "$(stat -c %s "$J/blob.bin")" = "$(stat -c %s "$WORK/bin")"

# truncate, O_TRUNC, O_APPEND, pwrite, fsync through python (exact syscalls)
assert_errno OK "pwrite at offsets, O_APPEND, ftruncate, fsync" '
f = p + "/jobs/ops.txt"
fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"0123456789")
os.pwrite(fd, b"AB", 3)
os.pwrite(fd, b"XY", 12)          # hole up to 12 reads back as NULs
os.fsync(fd); os.close(fd)
assert open(f, "rb").read() == b"012AB56789\0\0XY", open(f, "rb").read()
fd = os.open(f, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"++"); os.close(fd)
assert open(f, "rb").read() == b"012AB56789\0\0XY++"
os.truncate(f, 4)
assert open(f, "rb").read() == b"012A"
fd = os.open(f, os.O_RDWR); os.ftruncate(fd, 6); os.close(fd)
assert open(f, "rb").read() == b"012A\0\0"
fd = os.open(f, os.O_WRONLY | os.O_TRUNC); os.close(fd)
assert os.stat(f).st_size == 0
'
assert_errno EEXIST "O_CREAT|O_EXCL on an existing file" 'os.open(p + "/jobs/ops.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL)'

# mtime and utimens
assert_errno OK "utimens sets times (also before 1970); a write moves mtime" '
f = p + "/jobs/ops.txt"
os.utime(f, ns=(1000000000123456789, 1500000000987654321))
st = os.stat(f)
assert st.st_mtime_ns == 1500000000987654321, st.st_mtime_ns
assert st.st_atime_ns == 1000000000123456789, st.st_atime_ns
os.utime(f, ns=(-1500000000, -1))          # before 1970
st = os.stat(f)
assert st.st_mtime_ns == -1 and st.st_atime_ns == -1500000000, (st.st_mtime_ns, st.st_atime_ns)
import time
t0 = time.time_ns()
with open(f, "ab") as h: h.write(b"x")
st = os.stat(f)
assert st.st_mtime_ns >= t0 - 2000000000, (st.st_mtime_ns, t0)
'
# chmod
chmod 0640 "$J/ops.txt"
check "chmod 0640 sticks" test "$(stat -c %a "$J/ops.txt")" = 640

# rename, also over an existing file; unlink
printf 'one' > "$J/a.txt"
printf 'two' > "$J/b.txt"
mv "$J/a.txt" "$J/b.txt"
check "rename over an existing file replaces it" test "$(cat "$J/b.txt")" = one
assert_absent "$J/a.txt" "renamed-away name is gone"
mv "$J/b.txt" "$MNT/sources/b.txt"
check "rename between jobs/ and sources/" test "$(cat "$MNT/sources/b.txt")" = one
rm "$MNT/sources/b.txt"
assert_absent "$MNT/sources/b.txt" "unlink removes the file"
assert_errno EEXIST "renameat2 RENAME_NOREPLACE onto an existing file" '
import ctypes
open(p + "/jobs/n1", "w").close(); open(p + "/jobs/n2", "w").close()
libc = ctypes.CDLL(None, use_errno=True)
r = libc.renameat2(-100, (p + "/jobs/n1").encode(), -100, (p + "/jobs/n2").encode(), 1)
if r != 0: raise OSError(ctypes.get_errno(), "renameat2")
'

# symlinks (emacs lock files) and readlink
ln -s 'user@host.1234:1700000000' "$J/.#job.json"
check "symlink + readlink (dangling emacs lock link)" \
	test "$(readlink "$J/.#job.json")" = 'user@host.1234:1700000000'
check "lstat says symlink" test "$(stat -c %F "$J/.#job.json")" = "symbolic link"
rm "$J/.#job.json"
assert_absent "$J/.#job.json" "lock link removed"

# refusals with the documented errno
assert_errno EPERM "mkdir in jobs/" 'os.mkdir(p + "/jobs/dir")'
assert_errno EPERM "mkdir in sources/" 'os.mkdir(p + "/sources/dir")'
assert_errno EPERM "mkdir at the root" 'os.mkdir(p + "/more")'
assert_errno "EPERM|EACCES|EROFS" "mkdir in instances/" 'os.mkdir(p + "/instances/dir")'
assert_errno "EPERM|EXDEV|EMLINK|EOPNOTSUPP" "link(2) is refused" 'os.link(p + "/jobs/blob.bin", p + "/jobs/blob.lnk")'
assert_absent "$J/blob.lnk" "no hard link was created"
assert_errno EFBIG "write past 1 MiB" '
with open(p + "/jobs/big.txt", "wb") as h:
    h.write(b"x" * (1 << 20))
    h.flush()
    h.write(b"y")
    h.flush()
'
assert_errno EFBIG "truncate to more than 1 MiB" 'os.truncate(p + "/jobs/blob.bin", (1 << 20) + 1)'
check "exactly 1 MiB is allowed" test "$(stat -c %s "$J/big.txt")" = 1048576
assert_errno "EINVAL|EPERM" "unprintable name" 'open(p + "/jobs/a\x01b", "w").close()'
assert_errno ENAMETOOLONG "name longer than 255 bytes" 'open(p + "/jobs/" + "n" * 256, "w").close()'
assert_errno OK "name of 255 bytes" 'open(p + "/jobs/" + "n" * 255, "w").close()'
df "$MNT" >/dev/null && ok "statfs (df) works" || notok "statfs (df) works"

# definitions at the system-call level: validation never fails a call.
# Invalid bytes (bad keys, cut-short JSON, binary junk) written, fsynced,
# closed, appended or renamed into place succeed, read back exactly, and
# NAME.json.error holds the errors; a valid save removes it.
job_json 3 0 "$WORK/out" posixjob > "$WORK/pj.json"
cp "$WORK/pj.json" "$J/pj.json" || notok "cp of a valid job"
assert_errno OK "invalid job over a valid one: O_TRUNC, write, fsync, fdatasync, close" '
f = p + "/jobs/pj.json"
fd = os.open(f, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"{\"type\": \"job\", \"bogus\": 1}\n")
os.fsync(fd); os.fdatasync(fd); os.close(fd)
assert open(f, "rb").read() == b"{\"type\": \"job\", \"bogus\": 1}\n"
'
assert_invalid_def jobs pj "invalid job written in place"
assert_errno OK "O_APPEND of junk to an invalid job: write, close" '
f = p + "/jobs/pj.json"
fd = os.open(f, os.O_WRONLY | os.O_APPEND); os.write(fd, b"\0\377junk"); os.close(fd)
assert open(f, "rb").read() == b"{\"type\": \"job\", \"bogus\": 1}\n\0\377junk"
'
assert_invalid_def jobs pj "junk appended"
cp "$WORK/pj.json" "$J/pj.json" || notok "cp of the valid job again"
assert_valid_def jobs pj "valid job again"
assert_errno OK "cut-short job renamed into place: write, fsync, close, rename" '
t = p + "/jobs/.pj.json.tmp"
with open(t, "wb") as h:
    h.write(b"{\"type\": \"job\", \"configuration\": [1, 2")
    h.flush(); os.fsync(h.fileno())
os.rename(t, p + "/jobs/pj.json")
assert open(p + "/jobs/pj.json", "rb").read() == b"{\"type\": \"job\", \"configuration\": [1, 2"
'
assert_invalid_def jobs pj "invalid job renamed into place"
check "pj.json.error has jobs/pj.json:LINE:COL: error: lines" \
	grep -Eq '^jobs/pj\.json:[0-9]+:[0-9]+: error: ' "$J/pj.json.error"
assert_errno OK "invalid source: write, fsync, close" '
f = p + "/sources/ps.json"
with open(f, "wb") as h:
    h.write(b"{\"type\": \"oss\", \"nosuchkey\": true}\n")
    h.flush(); os.fsync(h.fileno())
assert open(f, "rb").read() == b"{\"type\": \"oss\", \"nosuchkey\": true}\n"
'
assert_invalid_def sources ps "invalid source"
check "ps.json.error has sources/ps.json:LINE:COL: error: lines" \
	grep -Eq '^sources/ps\.json:[0-9]+:[0-9]+: error: ' "$MNT/sources/ps.json.error"

# persistence of all of the above across a remount
before=$(cd "$J" && for f in *; do printf '%s %s %s\n' "$f" "$(stat -c '%s %a %Y' "$f")" "$(md5sum < "$f")"; done)
it_unmount
it_mount
after=$(cd "$J" && for f in *; do printf '%s %s %s\n' "$f" "$(stat -c '%s %a %Y' "$f")" "$(md5sum < "$f")"; done)
if [ "$before" = "$after" ]; then
	ok "names, sizes, modes, mtimes and bytes survive a remount"
else
	notok "names, sizes, modes, mtimes and bytes survive a remount"
	diag "before:" "$before" "after:" "$after"
fi
assert_same "$J/blob.bin" "$WORK/bin" "binary file after remount"
it_unmount
it_done
