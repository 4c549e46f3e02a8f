#!/bin/sh
# SPDX-License-Identifier: MIT
#
# contrib/static-check.sh - cppcheck over a meson build's compile database
# (contrib/doc/style.md 3), optionally followed by clang-tidy.
#
# Usage: contrib/static-check.sh [--tidy] [BUILD_DIR]      (default: build)
#        contrib/static-check.sh --layers
#
# --layers checks the layering of the tree (engine/README.md) from the
# sources alone, no build needed, and exits 0 clean or 1 naming each
# offending include as "file:line: why":
#   - a quoted include resolves (by file name) to a folder; the including
#     folder must be that folder or one its layer may see (the table below:
#     the meson dependency lists, written out);
#   - a folder's private header (*_i.h) is included only from that folder;
#   - a third-party header is included only in its home (the table below);
#   - fs/fs_*.c (the FUSE adapter) sees only engine/view and engine/core.
# Tests (tests/) may include anything.  It runs with the unit suite.
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

check_layers() {
	python3 - "$1" <<'PY'
import os, re, sys

top = sys.argv[1]
# folder -> the folders its files may include from (besides its own)
below = {
    "engine/core": [],
    "engine/time": ["engine/core"],
    "engine/store": ["engine/core"],
    "engine/conf": ["engine/core", "engine/time"],
    "engine/http": ["engine/core"],
    "engine/sign": ["engine/core", "engine/http"],
    "engine/ots": ["engine/core", "engine/http", "engine/sign"],
    "engine/oss": ["engine/core", "engine/http", "engine/sign"],
    "cache": ["engine/core"],
}
below["engine/plugins"] = ["engine/core", "engine/time", "engine/conf", "engine/http",
                           "engine/sign", "engine/ots", "engine/oss", "cache"]
below["engine/run"] = below["engine/plugins"] + ["engine/plugins"]
below["engine/sched"] = below["engine/run"] + ["engine/run", "engine/store"]
below["engine/view"] = below["engine/sched"] + ["engine/sched"]
below["fs"] = below["engine/view"] + ["engine/view"]
below["contrib/emu/http"] = ["engine/core"]
below["contrib/emu/ots"] = ["engine/core", "engine/http", "engine/sign", "engine/ots",
                            "contrib/emu/http"]
below["contrib/emu/oss"] = ["engine/core", "engine/http", "engine/sign", "engine/oss",
                            "contrib/emu/http"]
below["contrib/emu"] = below["contrib/emu/ots"] + below["contrib/emu/oss"] + [
    "contrib/emu/ots", "contrib/emu/oss"]
below["contrib"] = ["engine/core", "engine/http", "engine/sign", "engine/ots"]
fuse_adapter = ["engine/view", "engine/core"]
# third-party header prefix -> the files or folders that may include it
homes = {
    "cjson/": ["engine/core/json.c"],
    "lmdb.h": ["engine/store", "contrib/emu/ots/emu_ots_store.c"],
    "curl/": ["engine/http/http_curl.c"],
    "openssl/": ["engine/sign/sign.c", "engine/store/seal.c"],
    "protobuf-c/": ["engine/ots/wire.c"],
    "ots.pb-c.h": ["engine/ots/wire.c", "contrib/emu/ots"],
    "expat.h": ["engine/oss/xml.c", "contrib/emu/oss/emu_oss_xml.c"],
    "libxml/": [],
    "zlib.h": ["engine/plugins"],
    "fuse": ["fs/fs_i.h"],
    "microhttpd.h": ["contrib/emu/emu_main.c", "fs/fs_metrics.c"],
    "iconv.h": ["engine/conf/conf_plugin.c", "engine/plugins/csv.c"],
}

def at_home(path, allowed):
    return any(path == a or path.startswith(a + "/") for a in allowed)

srcs, where = [], {}
for root in ("engine", "cache", "fs", "contrib"):
    for d, _, fs in os.walk(os.path.join(top, root)):
        for f in fs:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(d, f), top)
                srcs.append(rel)
                if f.endswith(".h"):
                    where.setdefault(f, []).append(os.path.dirname(rel))
bad = 0
for name, dirs in sorted(where.items()):
    if len(dirs) > 1:
        print("%s: one header name in %d folders (%s): rename one" % (name, len(dirs), ", ".join(dirs)))
        bad += 1
inc = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
for rel in sorted(srcs):
    folder = os.path.dirname(rel)
    base = os.path.basename(rel)
    with open(os.path.join(top, rel), errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = inc.match(line)
            if not m:
                continue
            kind, h = m.groups()
            tp = [p for p in homes if h == p or (p.endswith("/") and h.startswith(p))
                  or (p == "fuse" and h.startswith("fuse"))]
            if tp:
                if not at_home(rel, homes[tp[0]]):
                    print("%s:%d: %s is included only in %s" % (rel, n, h,
                          " ".join(homes[tp[0]]) or "(no home: add one to this table)"))
                    bad += 1
                continue
            if kind == "<":
                continue
            hb = os.path.basename(h)
            if hb not in where:
                continue	# a generated or a test header
            hdir = where[hb][0]
            if hdir == folder:
                continue
            if hb.endswith("_i.h"):
                print("%s:%d: %s is private to %s/" % (rel, n, h, hdir))
                bad += 1
                continue
            allowed = below.get(folder)
            if allowed is None:
                print("%s:%d: folder %s has no row in the layer table" % (rel, n, folder))
                bad += 1
                continue
            if folder == "fs" and base.startswith("fs_"):
                allowed = fuse_adapter
            if hdir not in allowed:
                print("%s:%d: %s is in %s, above or beside %s (layers: engine/README.md)"
                      % (rel, n, h, hdir, folder if not (folder == "fs" and base.startswith("fs_"))
                         else "the FUSE adapter, which sees only view/ and core/"))
                bad += 1
print("static-check: layers %s (%d files)" % ("clean" if bad == 0 else "broken: %d" % bad, len(srcs)))
sys.exit(1 if bad else 0)
PY
}

tidy=0
if [ "${1:-}" = "--layers" ]; then
	top=$(cd "$(dirname "$0")/.." && pwd) || exit 2
	check_layers "$top"
	exit $?
fi
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
