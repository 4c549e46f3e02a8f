#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd_unit.sh - contrib/systemd/difs.service: the user unit mounts with
# `difs mount -f %h/di`, unmounts with fusermount3, is wanted by
# default.target, and `systemd-analyze verify` finds nothing wrong except
# that difs is not installed here (exit 77 without systemd-analyze).  TAP.
set -u
unit=${1:?usage: $0 contrib/systemd/difs.service}
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi; }

grep -qx 'ExecStart=difs mount -f %h/di' "$unit"; ok $? "ExecStart mounts %h/di in the foreground"
grep -qx 'ExecStop=fusermount3 -u %h/di' "$unit"; ok $? "ExecStop unmounts with fusermount3"
grep -qx 'WantedBy=default.target' "$unit"; ok $? "enabled at login (default.target of the user manager)"
grep -q '^Restart=on-failure' "$unit"; ok $? "restarted on failure"
if command -v systemd-analyze >/dev/null 2>&1; then
	tmp=$(mktemp -d /tmp/difs-unit-XXXXXX)
	cp "$unit" "$tmp/difs.service"
	out=$(cd "$tmp" && systemd-analyze verify "$tmp/difs.service" 2>&1)
	rm -rf "$tmp"
	# difs itself may be missing here, and man pages are not installed
	rest=$(printf '%s\n' "$out" | grep -v -e 'Command difs is not executable' \
	    -e "Command 'man difs(1)' failed" -e '^$')
	[ -z "$rest" ]; ok $? "systemd-analyze verify: nothing else to report"
	[ -n "$rest" ] && printf '%s\n' "$rest" | sed 's/^/#   /'
else
	echo "# systemd-analyze not installed: verify step skipped"
fi
echo "1..$n"
[ $fail -eq 0 ]
