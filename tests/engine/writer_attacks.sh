#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# difs run: the txtfile and oss writers against another user on the same
# machine (issue 14).  Each case is the attack: a symbolic link planted at the
# output name, at the temporary names the writer used to take
# (".FILE__CYCLE_TASK.tmp-PID"), a target directory others can write, a
# foreign directory or link on the way, and ${p} = ../../etc in fileName
# and path, and in an oss object.  Every refused run exits non-zero with a message naming the
# place and the fix, and the planted link and its target stay as they were.
#
# usage: writer_attacks.sh PATH/TO/difs
set -u
difs=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0700 "$work"
fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }

job() {	# job FILE WRITEMODE FILENAME
	cat > "$1" <<JSON
{
  "type": "job",
  "version": "2.0",
  "configuration": {
    "setting": { "speed": { "concurrent": "1" } },
    "reader": {
      "plugin": "stream",
      "parameter": { "sliceRecordCount": "3",
        "column": [ { "type": "long", "incr": "1,1" }, { "type": "string", "value": "x" } ] }
    },
    "writer": {
      "plugin": "txtfile",
      "parameter": { "path": "\${out}", "fileName": "$3", "writeMode": "$2",
        "fileFormat": "csv", "suffix": "csv" }
    }
  }
}
JSON
}
onejob() {	# onejob FILE WRITER: one stream record into the writer (JSON text)
	printf '{ "type": "job", "version": "2.0", "configuration": {\n  "reader": { "plugin": "stream", "parameter": { "sliceRecordCount": "1",\n    "column": [ { "type": "string", "value": "x" } ] } },\n  "writer": %s } }\n' "$2" > "$1"
}
cyc=20260101000000
final=data__${cyc}_0.csv
printf 'precious bytes\n' > "$work/victim"
cp "$work/victim" "$work/victim.orig"
victim_same() { cmp -s "$work/victim" "$work/victim.orig"; }

# 1. a symbolic link at the final name, in each writeMode
for mode in truncate append nonConflict; do
	d=$work/out-$mode
	mkdir "$d"
	ln -s "$work/victim" "$d/$final"
	job "$work/j.json" "$mode" data
	"$difs" run "$work/j.json" --cycle $cyc -p out="$d" 2> "$work/log"; rc=$?
	check "$mode: a run onto a planted symlink fails (rc $rc)" [ "$rc" -ne 0 ]
	# (nonConflict: this instance's own name is not a conflict, but a link is)
	check "$mode: the reason is clear" \
	    grep -qF "refusing to replace the symbolic link $d/$final" "$work/log"
	check "$mode: the link target is unchanged (byte-compare)" victim_same
	check "$mode: the link is still there" [ -L "$d/$final" ]
	check "$mode: it still points at the victim" [ "$(readlink "$d/$final")" = "$work/victim" ]
	check "$mode: no temporary file left" sh -c "! ls -a '$d' | grep -q '\.tmp-'"
done

# 2. links at the temporary names the writer used to take (PID-based):
# the run succeeds, follows none of them, leaves them as they were
d=$work/out-oldtmp
mkdir "$d"
for pid in $(seq $(( $$ - 50 )) $(( $$ + 400 ))); do
	ln -s "$work/victim" "$d/.$final.tmp-$pid"
done
job "$work/j.json" truncate data
"$difs" run "$work/j.json" --cycle $cyc -p out="$d" 2> "$work/log"; rc=$?
check "old temp names planted: the run succeeds" [ "$rc" -eq 0 ]
check "old temp names planted: the victim is unchanged" victim_same
check "old temp names planted: the output has the 3 records" [ "$(wc -l < "$d/$final")" -eq 3 ]
check "old temp names planted: the output is a regular file" [ -f "$d/$final" ] && [ ! -L "$d/$final" ]
check "old temp names planted: every planted link is still there" \
    [ "$(find "$d" -maxdepth 1 -type l | wc -l)" -eq 451 ]
check "old temp names planted: no new temporary file left" \
    [ "$(ls -a "$d" | grep -c '\.tmp-')" -eq 451 ]

# 3. a target directory others can write, without the sticky bit: refused
for m in 0777 0775 0757; do
	d=$work/out-$m
	mkdir "$d"
	chmod $m "$d"
	"$difs" run "$work/j.json" --cycle $cyc -p out="$d" 2> "$work/log"; rc=$?
	check "mode $m: refused (rc $rc)" [ "$rc" -ne 0 ]
	check "mode $m: the message names the directory and the fix" \
	    grep -qF "refusing to write under $d: it is writable by" "$work/log"
	check "mode $m: ... and says chmod" grep -qF "chmod go-w $d" "$work/log"
	check "mode $m: nothing written" [ -z "$(ls -A "$d")" ]
done
# ... a directory on the way counts too
mkdir -m 0777 "$work/open"
"$difs" run "$work/j.json" --cycle $cyc -p out="$work/open/sub" 2> "$work/log"; rc=$?
check "a world-writable parent of path: refused" [ "$rc" -ne 0 ]
check "a world-writable parent: named" grep -qF "refusing to write under $work/open:" "$work/log"
check "a world-writable parent: nothing created in it" [ -z "$(ls -A "$work/open")" ]
# ... with the sticky bit (as /tmp) it is allowed: others cannot replace our files
d=$work/sticky
mkdir "$d"
chmod 1777 "$d"
"$difs" run "$work/j.json" --cycle $cyc -p out="$d" 2> "$work/log"; rc=$?
check "mode 1777 (sticky, as /tmp): allowed" [ "$rc" -eq 0 ]
check "mode 1777: the output is there" [ -f "$d/$final" ]

# 4. a directory or a link owned by another user (needs root to set up)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	d=$work/foreign
	mkdir "$d"
	chown nobody "$d"
	"$difs" run "$work/j.json" --cycle $cyc -p out="$d" 2> "$work/log"; rc=$?
	check "a directory owned by nobody: refused" [ "$rc" -ne 0 ]
	check "a foreign directory: the message names the owner" \
	    grep -qF "refusing to write under $d: it is owned by uid $(id -u nobody)" "$work/log"
	mkdir "$work/real"
	ln -s "$work/real" "$work/foreignlink"
	chown -h nobody "$work/foreignlink"
	"$difs" run "$work/j.json" --cycle $cyc -p out="$work/foreignlink" 2> "$work/log"; rc=$?
	check "a symlink owned by nobody in path: refused" [ "$rc" -ne 0 ]
	check "a foreign link: named" \
	    grep -qF "refusing to follow the symbolic link $work/foreignlink" "$work/log"
	check "a foreign link: nothing written through it" [ -z "$(ls -A "$work/real")" ]
else
	ok "# SKIP foreign owner cases need root"
fi
# ... a link of our own in path is followed (a common layout: /data -> /mnt/disk/data)
mkdir "$work/real2"
ln -s "$work/real2" "$work/mylink"
"$difs" run "$work/j.json" --cycle $cyc -p out="$work/mylink" 2> "$work/log"; rc=$?
check "our own symlink in path: followed" [ "$rc" -eq 0 ] && [ -f "$work/real2/$final" ]

# 5. ${p} = ../../etc in fileName and in path: refused, naming the parameter
onejob "$work/p.json" '{ "plugin": "txtfile", "parameter": { "path": "${out}/${sub}",
        "fileName": "d_${p}", "writeMode": "truncate" } }'
mkdir "$work/pout"
"$difs" run "$work/p.json" --cycle $cyc -p out="$work/pout" -p sub=s -p p=../../etc 2> "$work/log"; rc=$?
check "\${p}=../../etc in fileName: refused (exit 2)" [ "$rc" -eq 2 ]
check "\${p} in fileName: the message names the parameter and the field" \
    grep -qF "parameter \${p} = '../../etc' would move the output outside \"path\": \"fileName\"" "$work/log"
"$difs" run "$work/p.json" --cycle $cyc -p out="$work/pout" -p sub=../../etc -p p=x 2> "$work/log"; rc=$?
check "\${sub}=../../etc in path: refused (exit 2)" [ "$rc" -eq 2 ]
check "\${sub} in path: the message names the parameter" \
    grep -qF "parameter \${sub} = '../../etc' would move the output outside" "$work/log"
"$difs" run "$work/p.json" --cycle $cyc -p out="$work/pout" -p sub=s -p "p=a$(printf '\001')b" 2> "$work/log"; rc=$?
check "a control character in a parameter of fileName: refused" [ "$rc" -eq 2 ] && \
    grep -qF "parameter \${p} = 'a\\x01b' contains a control character" "$work/log"
check "nothing was written anywhere" [ -z "$(ls -A "$work/pout")" ]
"$difs" run "$work/p.json" --cycle $cyc -p out="$work/pout" -p sub=s -p p=ok 2> "$work/log"; rc=$?
check "a plain value still works (and \${out} may hold '/')" [ "$rc" -eq 0 ] && [ -f "$work/pout/s/d_ok__${cyc}_0" ]

# 6. ${p} = ../../etc in an oss object: refused at resolution, naming the
# parameter, before any connection (the endpoint is closed)
cat > "$work/src.json" <<'JSON'
{ "type": "oss", "endpoint": "http://127.0.0.1:9", "bucket": "bkt", "accessId": "id", "accessKey": "k" }
JSON
onejob "$work/o.json" '{ "plugin": "oss", "parameter": { "datasource": "src",
        "object": "backup/${p}/x", "writeMode": "append", "nullFormat": "" } }'
"$difs" run "$work/o.json" --source "$work/src.json" --cycle $cyc -p p=../../etc 2> "$work/log"; rc=$?
check "\${p}=../../etc in an oss object: refused (exit 2, rc $rc)" [ "$rc" -eq 2 ]
check "\${p} in object: the message names the parameter" \
    grep -qF "parameter \${p} = '../../etc' would move the output outside the object prefix" "$work/log"
check "\${p} in object: no connection was tried" sh -c "! grep -q '127.0.0.1:9' '$work/log'"
"$difs" run "$work/o.json" --source "$work/src.json" --cycle $cyc -p p=. 2> "$work/log"; rc=$?
check "\${p}=. in an oss object: refused" [ "$rc" -eq 2 ] && grep -qF "has a \".\" segment" "$work/log"

echo "1..$n"
exit $fail
