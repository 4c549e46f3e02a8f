#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh - the conformance suite: the official Alibaba Cloud Node.js SDKs
# (tablestore, ali-oss; versions pinned by package-lock.json) against
# difs-emu, with node's built-in test runner.
#
#   tests/conformance/run.sh PATH/TO/difs-emu [TEST.test.js...]
#
# Installs node_modules with `npm ci` when missing or older than the lock
# file.  Without test names it runs every *.test.js here.  Exit 77 (meson:
# skipped) when node/npm are not installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 PATH/TO/difs-emu [TEST.test.js...]" >&2
	exit 2
fi
emu=$1
shift
case $emu in
/*) ;;
*) emu=$(pwd)/$emu ;;
esac
if [ ! -x "$emu" ]; then
	echo "run.sh: $emu is not an executable difs-emu" >&2
	exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "run.sh: SKIP: node and npm are needed for the conformance suite" >&2
	exit 77
fi

cd "$here"
# node_modules/.package-lock.json is written by npm ci/install; a lock file
# newer than it means the pinned set changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "run.sh: npm ci (node_modules missing or out of date)" >&2
	npm ci --no-audit --no-fund >&2
fi

if [ $# -eq 0 ]; then
	set -- *.test.js
fi
DIFS_EMU=$emu exec node --test --test-reporter=spec "$@"
