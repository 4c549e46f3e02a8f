#!/bin/sh
# SPDX-License-Identifier: MIT
#
# contrib/static-check.sh - cppcheck over a meson build's compile database
# (STYLE.md 3), optionally followed by clang-tidy.
#
# Usage: contrib/static-check.sh [--tidy] [BUILD_DIR]      (default: build)
#
#   cppcheck --project=BUILD_DIR/compile_commands.json
#            --enable=warning,portability --inline-suppr --error-exitcode=1
# checks every translation unit meson compiles (engine, cache, fs, contrib,
# tests).  Findings print as "file:line: severity: id: message".  A false
# positive is silenced where it occurs with a comment on the line before:
#   // cppcheck-suppress <id>
# Results are cached in BUILD_DIR/cppcheck-cache, so a rerun only re-checks
# what changed.
#
# --tidy also runs clang-tidy (clang-analyzer-*, bugprone-* minus the noisy
# ones) over fs/ engine/ cache/ contrib/ and prints its warnings.  It is
# advisory: its path-sensitive checks do not see across files and report
# false positives (for example an error helper that always returns its
# non-zero argument), so it does not change the exit status.
#
# Exit: 0 clean, 1 cppcheck findings, 2 usage/setup error, 77 cppcheck
# missing (meson's skip code; apt-get install cppcheck).
# Environment: STATIC_JOBS (default: nproc).
set -u
tidy=0
if [ "${1:-}" = "--tidy" ]; then
	tidy=1
	shift
fi
top=$(cd "$(dirname "$0")/.." && pwd) || exit 2
bdir=${1:-build}
case $bdir in /*) ;; *) bdir=$top/$bdir ;; esac
db=$bdir/compile_commands.json
jobs=${STATIC_JOBS:-$(nproc 2>/dev/null || echo 2)}

if ! command -v cppcheck >/dev/null 2>&1; then
	echo "static-check: cppcheck not installed (apt-get install cppcheck)" >&2
	exit 77
fi
if [ ! -f "$db" ]; then
	echo "static-check: $db not found (meson setup $bdir first)" >&2
	exit 2
fi
# cppcheck does not read system headers, so the protoc-c output's version
# guard (#if PROTOBUF_C_VERSION_NUMBER < ...) would stop at its #error and
# skip every file including ots.pb-c.h: hand it the installed version.
pbh=$(pkg-config --variable=includedir libprotobuf-c 2>/dev/null)/protobuf-c/protobuf-c.h
pbver=$(sed -n 's/^#define[[:space:]]*PROTOBUF_C_VERSION_NUMBER[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
	"$pbh" 2>/dev/null)
pbmin=$(sed -n 's/^#define[[:space:]]*PROTOBUF_C_MIN_COMPILER_VERSION[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
	"$pbh" 2>/dev/null)
mkdir -p "$bdir/cppcheck-cache" || exit 2
cd "$top" || exit 2
set -- --project="$db" --enable=warning,portability --inline-suppr --error-exitcode=1 \
	-j "$jobs" --cppcheck-build-dir="$bdir/cppcheck-cache" --quiet \
	--template='{file}:{line}: {severity}: {id}: {message}'
[ -n "$pbver" ] && set -- "$@" -DPROTOBUF_C_VERSION_NUMBER="$pbver"
[ -n "$pbmin" ] && set -- "$@" -DPROTOBUF_C_MIN_COMPILER_VERSION="$pbmin"
cppcheck "$@"
rc=$?
if [ $rc -eq 0 ]; then
	echo "static-check: cppcheck clean"
else
	echo "static-check: cppcheck reported findings (exit $rc)" >&2
	[ $rc -ne 1 ] && rc=2
fi

if [ $tidy -eq 1 ]; then
	if ! command -v run-clang-tidy >/dev/null 2>&1; then
		echo "static-check: run-clang-tidy not installed (apt-get install clang-tidy)" >&2
	else
		checks='-*,clang-analyzer-*,bugprone-*'
		for c in clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling \
		    clang-analyzer-security.insecureAPI.strcpy \
		    bugprone-easily-swappable-parameters bugprone-reserved-identifier \
		    bugprone-narrowing-conversions bugprone-branch-clone \
		    bugprone-implicit-widening-of-multiplication-result \
		    bugprone-macro-parentheses bugprone-assignment-in-if-condition; do
			checks="$checks,-$c"
		done
		run-clang-tidy -p "$bdir" -j "$jobs" -quiet -checks="$checks" \
		    "$top/(fs|engine|cache|contrib)/" 2>/dev/null |
		    sed 's/\x1b\[[0-9;]*m//g' | grep -E '(warning|error):' | sort -u
		echo "static-check: clang-tidy done (advisory)"
	fi
fi
exit $rc
