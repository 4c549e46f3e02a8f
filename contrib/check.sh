#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# contrib/check.sh - the one test command (README, .ci/run):
#   1. installs missing Debian packages (as root; otherwise prints the exact
#      apt-get line and exits 1),
#   2. configures and builds with -Dwerror=true, runs every meson suite
#      (unit, golden, engine, integration, conformance, fuzz-regress),
#   3. builds again under ASan+UBSan and reruns the unit, golden, engine
#      and fuzz-regress suites and the mount's concurrency, POSIX, ctl and
#      backup-tools integration tests,
#   4. builds under ThreadSanitizer and reruns the engine suite,
#   5. ends with the line "N passed, N failed, N skipped" (every run counted).
#
# Environment: BUILD_DIR (default build-check), ASAN_DIR (default
# build-check-asan), TSAN_DIR (default build-check-tsan), CHECK_SKIP_ASAN=1
# / CHECK_SKIP_TSAN=1 to skip step 3 / 4, CHECK_SUITES to limit step 2
# (space-separated suite names).
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

BUILD_DIR=${BUILD_DIR:-build-check}
ASAN_DIR=${ASAN_DIR:-build-check-asan}
TSAN_DIR=${TSAN_DIR:-build-check-tsan}

# ---- 1. packages -----------------------------------------------------------
pkgs=(
  build-essential meson ninja-build pkg-config
  libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev ca-certificates
  libprotobuf-c-dev protobuf-c-compiler libcjson-dev liblmdb-dev
  libmicrohttpd-dev libexpat1-dev zlib1g-dev tzdata curl
  nodejs npm python3
  jq tmux vim-nox emacs-nox nano ed procps psmisc
  rsync
  lmdb-utils faketime
)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node/npm/python3 may come from elsewhere on a developer machine
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
  esac
  filtered+=("$p")
done
missing=("${filtered[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  line="apt-get install -y ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "check.sh: missing Debian packages; run as root:" >&2
    echo "  apt-get update && $line" >&2
    exit 1
  fi
  echo "check.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || { echo "check.sh: apt-get update failed" >&2; exit 1; }
  apt-get install -y -qq "${missing[@]}" || { echo "check.sh: $line failed" >&2; exit 1; }
fi

# ---- helpers -------------------------------------------------------------
total_pass=0; total_fail=0; total_skip=0
# count_results LOGDIR: add the ok/fail/skip counts of a finished meson test run
count_results() {
  local json="$1/meson-logs/testlog.json" p f s
  if [ ! -f "$json" ]; then
    total_fail=$((total_fail + 1))
    return
  fi
  read -r p f s < <(python3 - "$json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
)
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
}

setup() {	# setup DIR ARGS...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; echo "check.sh: meson setup $dir failed" >&2; return 1; }
}

# ---- 2. normal build, every suite ----------------------------------------
echo "== build ($BUILD_DIR, -Dwerror=true)"
if ! setup "$BUILD_DIR" -Dwerror=true || ! ninja -C "$BUILD_DIR"; then
  echo "0 passed, 1 failed"
  exit 1
fi
suite_args=()
for s in ${CHECK_SUITES:-}; do suite_args+=(--suite "$s"); done
echo "== meson test ($BUILD_DIR)"
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "${suite_args[@]}"
count_results "$BUILD_DIR"

# ---- 3. ASan + UBSan -------------------------------------------------------
if [ "${CHECK_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build ($ASAN_DIR, ASan+UBSan)"
  if ! setup "$ASAN_DIR" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug || ! ninja -C "$ASAN_DIR"; then
    total_fail=$((total_fail + 1))
  else
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}
    asan_suites=()
    for s in unit golden engine fuzz-regress; do
      if meson test -C "$ASAN_DIR" --list --suite "$s" >/dev/null 2>&1 &&
         [ -n "$(meson test -C "$ASAN_DIR" --list --suite "$s" 2>/dev/null)" ]; then
        asan_suites+=(--suite "$s")
      fi
    done
    echo "== meson test ($ASAN_DIR: ${asan_suites[*]})"
    meson test -C "$ASAN_DIR" --print-errorlogs --num-processes 2 "${asan_suites[@]}"
    count_results "$ASAN_DIR"
    # the mount under ASan: concurrent readers/writers, POSIX file ops, ctl
    asan_it=(it_concurrent it_files_posix it_ctl it_tools it_backup)
    echo "== meson test ($ASAN_DIR: ${asan_it[*]})"
    meson test -C "$ASAN_DIR" --print-errorlogs --num-processes 1 "${asan_it[@]}"
    count_results "$ASAN_DIR"
  fi
fi

# ---- 4. ThreadSanitizer ----------------------------------------------------
# the engine suite (scheduler, runs on several channels, the mount's view
# driven from threads, clients against difs-emu) under TSan
if [ "${CHECK_SKIP_TSAN:-0}" != 1 ]; then
  echo "== build ($TSAN_DIR, TSan)"
  if ! setup "$TSAN_DIR" -Dwerror=true -Db_sanitize=thread -Dbuildtype=debug ||
     ! ninja -C "$TSAN_DIR"; then
    total_fail=$((total_fail + 1))
  else
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$top/tests/tsan.supp}
    echo "== meson test ($TSAN_DIR: engine)"
    meson test -C "$TSAN_DIR" --print-errorlogs --num-processes 2 --suite engine \
      --timeout-multiplier 3
    count_results "$TSAN_DIR"
  fi
fi

echo
echo "check.sh: finished in ${SECONDS}s"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
