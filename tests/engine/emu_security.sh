#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# difs-emu is a test tool and behaves like one on a shared machine:
#   - --ots/--oss PORT binds 127.0.0.1;
#   - bound beyond loopback (0.0.0.0) it refuses to start without
#     --admin-token; with it, admin requests need "Authorization: Bearer
#     TOKEN" (none, or a wrong one: 401), ordinary requests do not;
#   - what it stores (objects, metadata, the LMDB files) is 0600 and its
#     directories 0700, even under umask 000;
#   - --help says it is a test tool.
# Usage: emu_security.sh PATH/TO/difs-emu
set -u
EMU=${1:?usage: $0 PATH/TO/difs-emu}
N=0
FAIL=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
notok() { N=$((N + 1)); FAIL=1; echo "not ok $N - $*"; }
command -v curl >/dev/null && command -v openssl >/dev/null ||
	{ echo "1..0 # SKIP needs curl and openssl"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/difs-emusec.XXXXXX")
EPID=
cleanup() { [ -n "$EPID" ] && kill "$EPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# start ARGS...: difs-emu in the background; sets EPID and URL (first service)
start() {
	local i
	rm -f "$WORK/out"
	"$EMU" --data "$WORK/data" --access-key id:secret "$@" >"$WORK/out" 2>"$WORK/err" &
	EPID=$!
	for i in $(seq 1 100); do
		grep -q '^ready' "$WORK/out" 2>/dev/null && break
		kill -0 "$EPID" 2>/dev/null || break
		sleep 0.1
	done
	URL=$(awk '$1 == "ots" || $1 == "oss" { print $2; exit }' "$WORK/out")
}
stop() { kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null; EPID=; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

"$EMU" --help | grep -q 'test tool' && ok "--help says it is a test tool" ||
	notok "--help says it is a test tool"

out=$("$EMU" --data "$WORK/d0" --access-key id:secret --ots 0.0.0.0:0 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "0.0.0.0 without --admin-token refused (exit $rc)" ||
	notok "0.0.0.0 without --admin-token refused"
case "$out" in *--admin-token*"test tool"*) ok "message: $out" ;;
*) notok "message names --admin-token and says test tool: $out" ;; esac
[ ! -e "$WORK/d0" ] && ok "refused before creating its data directory" ||
	notok "refused before creating its data directory"
out=$("$EMU" --data "$WORK/d0" --access-key id:secret --oss 127.0.0.1:0 --ots '[::]:0' 2>&1)
[ $? -ne 0 ] && ok "[::] without --admin-token refused" || notok "[::] without --admin-token refused: $out"

# --- PORT alone: loopback ------------------------------------------------------
start --ots 0
case "$URL" in http://127.0.0.1:*) ok "--ots 0 binds 127.0.0.1 ($URL)" ;;
*) notok "--ots 0 binds 127.0.0.1: '$URL' $(cat "$WORK/err")" ;; esac
[ "$(code "$URL/_emu/health")" = 200 ] && ok "loopback, no token: admin answers loopback peers" ||
	notok "loopback, no token: admin answers"
stop

# --- beyond loopback with a token ---------------------------------------------
start --ots 0.0.0.0:0 --admin-token s3cret-token
port=${URL##*:}
case "$URL" in http://0.0.0.0:*) ok "0.0.0.0 with --admin-token starts ($URL)" ;;
*) notok "0.0.0.0 with --admin-token starts: '$URL' $(cat "$WORK/err")" ;; esac
h="http://127.0.0.1:$port"
[ "$(code "$h/_emu/health")" = 401 ] && ok "admin without the token: 401" || notok "admin without the token: 401"
[ "$(code -H 'Authorization: Bearer wrong-token' "$h/_emu/health")" = 401 ] &&
	ok "admin with a wrong token: 401" || notok "admin with a wrong token: 401"
[ "$(code -H 'Authorization: Bearer s3cret-token-longer' "$h/_emu/health")" = 401 ] &&
	ok "admin with the token plus more: 401" || notok "admin with the token plus more: 401"
[ "$(code -X POST --data 'svc=ots,error=OTSServerBusy' "$h/_emu/fault")" = 401 ] &&
	ok "fault injection without the token: 401" || notok "fault injection without the token: 401"
[ "$(curl -s -H 'Authorization: Bearer s3cret-token' "$h/_emu/fault")" = "" ] &&
	ok "and no rule was added" || notok "and no rule was added"
[ "$(curl -s -H 'Authorization: Bearer s3cret-token' "$h/_emu/health")" = ok ] &&
	ok "admin with the token: ok" || notok "admin with the token: ok"
stop

# --- files 0600, directories 0700, under umask 000 --------------------------------
rm -rf "$WORK/data"
(umask 000; exec "$EMU" --data "$WORK/data" --access-key id:secret --oss 0 --ots 0 \
	--bucket bkt >"$WORK/out" 2>"$WORK/err") &
EPID=$!
for i in $(seq 1 100); do grep -q '^ready' "$WORK/out" 2>/dev/null && break; sleep 0.1; done
oss=$(awk '$1 == "oss" { print $2 }' "$WORK/out")
date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
sig=$(printf 'PUT\n\ntext/plain\n%s\n/bkt/obj.txt' "$date" |
	openssl dgst -sha1 -hmac secret -binary | base64)
st=$(code -X PUT -H "Date: $date" -H 'Content-Type: text/plain' -H "Authorization: OSS id:$sig" \
	--data-binary 'an object' "$oss/bkt/obj.txt")
[ "$st" = 200 ] && ok "PUT an object (V1-signed): 200" || notok "PUT an object: $st"
stop
nfiles=$(find "$WORK/data" -type f | wc -l)
loose=$(find "$WORK/data" \( -type f -perm /077 \) -o \( -type d -perm /077 \))
[ "$nfiles" -gt 2 ] && ok "$nfiles files stored" || notok "files stored ($nfiles)"
grep -rqs 'an object' "$WORK/data" && ok "the object is among them" || notok "the object is among them"
[ -z "$loose" ] && ok "umask 000: every file 0600, every directory 0700" ||
	notok "files or directories open to others: $(ls -ld $loose | head -5)"

echo "1..$N"
exit $FAIL
