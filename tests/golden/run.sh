#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh - golden tests for `difs check`: every tests/golden/cases/NAME.json
# is checked (with the extra arguments in NAME.args, if present, e.g. source
# files) from inside tests/golden, and the combined output plus a final
# "exit N" line must equal NAME.out byte for byte.  On a mismatch the diff
# is printed.  Output is TAP.
#
#   run.sh DIFS [GOLDEN_DIR]           compare
#   run.sh DIFS GOLDEN_DIR --update    rewrite the .out files (review them!)
set -u
difs=$1
dir=${2:-$(dirname "$0")}
update=${3:-}
case $difs in /*) ;; *) difs=$(pwd)/$difs ;; esac
cd "$dir" || exit 1
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
n=0
fail=0
for f in cases/*.json; do
	name=${f%.json}
	args=
	[ -f "$name.args" ] && args=$(cat "$name.args")
	# shellcheck disable=SC2086
	"$difs" check "$f" $args >"$tmp" 2>&1
	echo "exit $?" >>"$tmp"
	n=$((n + 1))
	if [ "$update" = "--update" ]; then
		cp "$tmp" "$name.out"
		echo "ok $n - $name (updated)"
	elif [ -f "$name.out" ] && cmp -s "$tmp" "$name.out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		if [ -f "$name.out" ]; then
			diff -u "$name.out" "$tmp" | sed 's/^/# /'
		else
			echo "# missing $name.out; got:"
			sed 's/^/# /' "$tmp"
		fi
		fail=$((fail + 1))
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
