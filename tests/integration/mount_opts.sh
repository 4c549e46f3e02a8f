#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `difs mount -o` as an attacker would write it: allow_other / allow_root in
# every spelling libfuse would still understand (backslash escapes, octal
# escapes, after an escaped comma, repeated, with a value, in another case)
# are refused before anything is mounted or created, with a message naming
# --allow-other; default_permissions cannot be switched off.  With
# --allow-other the mount has allow_other and default_permissions (when
# fusermount3 may grant allow_other here: root, or user_allow_other in
# /etc/fuse.conf; else the refusal path is what is checked).  A state
# directory that is world-writable or another user's is refused before
# anything is written into it.
. "$(dirname "$0")/lib.sh"
it_setup

# refused OPTS...: each -o text refused, exit 2, message, nothing mounted,
# the (fresh) state directory not even created
refused() {
	local what=$1 want=$2 out rc st
	shift 2
	st="$WORK/state-refused"
	out=$("$DIFS" mount "$MNT" --state "$st" -f "$@" 2>&1)
	rc=$?
	if [ $rc -eq 2 ]; then ok "$what: refused (exit 2)"; else notok "$what: refused (exit $rc): $out"; fi
	case "$out" in *"$want"*) ok "$what: message: $out" ;;
	*) notok "$what: message has '$want': $out" ;; esac
	if it_is_mounted; then
		notok "$what: nothing mounted"
		fusermount3 -u "$MNT"
	else
		ok "$what: nothing mounted"
	fi
	check "$what: refused before the state directory is created" test ! -e "$st"
}

refused "-o allow_other" "--allow-other" -o allow_other
refused "-o 'allow_othe\\r' (libfuse unescapes it)" "--allow-other" -o 'allow_othe\r'
refused "-o 'ro,allow_root'" "--allow-other" -o 'ro,allow_root'
refused "-o 'a\\,b,allow_other' (after an escaped comma)" "--allow-other" -o 'a\,b,allow_other'
refused "-o 'a\\\\,allow_other' (after an escaped backslash)" "--allow-other" -o 'a\\,allow_other'
refused "-o 'allow_\\157ther' (octal escape)" "--allow-other" -o 'allow_\157ther'
refused "-o 'ALLOW_OTHER'" "--allow-other" -o ALLOW_OTHER
refused "-o allow_other=1" "--allow-other" -o allow_other=1
refused "-o ro -o allow_other (second -o)" "--allow-other" -o ro -o allow_other
refused "-o 'ro\\' -o allow_other (a trailing backslash does not join them)" "--allow-other" \
	-o 'ro\' -o allow_other
refused "-o 'x\\000y' (NUL byte)" "control character" -o 'x\000y'
refused "-o nodefault_permissions" "default_permissions is always on" -o nodefault_permissions
refused "-o 'default_permissions=0'" "default_permissions is always on" -o default_permissions=0
refused "--allow-other -o ALLOW_OTHER" "plain -o allow_other" --allow-other -o ALLOW_OTHER
refused "--allow-other -o allow_other=1" "plain -o allow_other" --allow-other -o allow_other=1

# --- the state directory: the mounting user's own, writable by no one else ---
st="$WORK/state-ww"
mkdir "$st" && chmod 777 "$st"
out=$("$DIFS" mount "$MNT" --state "$st" -f 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "world-writable state dir refused (exit $rc)" || notok "world-writable state dir refused"
case "$out" in *"$st"*"chmod 700 $st"*) ok "message names it and the fix: $out" ;;
*) notok "message names it and chmod 700: $out" ;; esac
it_is_mounted && { notok "nothing mounted on a world-writable state dir"; fusermount3 -u "$MNT"; }
check "no log written into the world-writable state dir" test ! -e "$st/difs.log"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	st="$WORK/state-nobody"
	mkdir -m 700 "$st" && chown nobody "$st"
	out=$("$DIFS" mount "$MNT" --state "$st" -f 2>&1)
	rc=$?
	[ $rc -ne 0 ] && ok "state dir owned by nobody refused (exit $rc)" ||
		notok "state dir owned by nobody refused"
	case "$out" in *"$st"*nobody*chown*) ok "message names it, its owner and chown: $out" ;;
	*) notok "message names it, its owner and chown: $out" ;; esac
	it_is_mounted && { notok "nothing mounted on a foreign state dir"; fusermount3 -u "$MNT"; }
else
	ok "# SKIP state dir owned by another user: needs root (chown to nobody)"
fi

# --- accepted: escapes that mean what they say -------------------------------
it_mount -o 'ro,fsname=my\,fs'
e=$(grep " $MNT " /proc/self/mounts)
diag "mount entry: $e"
case "$e" in "my,fs $MNT "*|'my\054fs '*) ok "escaped comma kept inside fsname" ;;
*) notok "escaped comma kept inside fsname: $e" ;; esac
case "$e" in *allow_other*) notok "no allow_other without --allow-other" ;;
*) ok "no allow_other without --allow-other" ;; esac
case "$e" in *default_permissions*) ok "default_permissions on" ;;
*) notok "default_permissions on" ;; esac
it_unmount

# --- --allow-other ------------------------------------------------------------
if [ "$(id -u)" != 0 ] && ! grep -qs '^[[:space:]]*user_allow_other' /etc/fuse.conf; then
	ok "# SKIP --allow-other mount: not root and no user_allow_other in /etc/fuse.conf"
else
	it_mount --allow-other
	e=$(grep " $MNT " /proc/self/mounts)
	diag "mount entry: $e"
	case "$e" in *allow_other*) ok "--allow-other: mounted with allow_other" ;;
	*) notok "--allow-other: mounted with allow_other: $e" ;; esac
	case "$e" in *default_permissions*) ok "--allow-other: default_permissions stays on" ;;
	*) notok "--allow-other: default_permissions stays on: $e" ;; esac
	check "--allow-other: the log warns" grep -q 'allow-other: other users' "$STATE/difs.log"
	it_unmount
	it_mount --allow-other -o allow_root
	e=$(grep " $MNT " /proc/self/mounts)
	diag "mount entry: $e"
	case "$e" in *default_permissions*) ok "--allow-other -o allow_root: mounted, default_permissions on" ;;
	*) notok "--allow-other -o allow_root: default_permissions on: $e" ;; esac
	it_unmount
fi

it_done
