#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# contrib/quickstart.sh - the seed's scenario end to end on this machine:
# Table Store stream -> OSS every cycle, on the bundled emulator.
#
#   contrib/quickstart.sh [start]   install packages (root), build, run the demo
#   contrib/quickstart.sh stop      unmount, stop the load writer and the emulator
#   contrib/quickstart.sh status    what is running
#
# What `start` does:
#   1. installs the Debian 12 packages difs needs (as root; otherwise it
#      prints the apt-get line and stops), builds with meson into ./build;
#   2. starts difs-emu (Table Store + OSS emulator) on 127.0.0.1:8800/8801
#      with its data in WORK/emu-data (objects are plain files under
#      WORK/emu-data/oss/difs-backup/);
#   3. difs-load creates the table `orders` (pk uid, attribute name) with a
#      stream and writes puts/updates/deletes at a small rate;
#   4. mounts difs on WORK/di (state in WORK/state), writes the two sources
#      (contrib/examples/ots-source.json, oss-source.json) and the seed's job
#      (contrib/examples/seed-job.json) as jobs/orders.json, changed for the
#      demo: a 1-minute cycle, the window [cycle-80s, cycle-20s) and
#      safetyMarginSeconds 15 (instead of 5-minute cycles, [cycle-10m,
#      cycle-5m) and DataX's fixed 5-minute margin);
#   5. waits for the first cycle whose window holds data, and prints the
#      instance's status, the log's summary line and the first lines of the
#      CSV object.
# Everything stays running; the end of the output says how to look around
# and how to stop.
#
# Environment: DIFS_QUICKSTART_DIR (work directory, default
# ~/difs-quickstart), DIFS_BUILD_DIR (default build), DIFS_OTS_PORT (8800),
# DIFS_OSS_PORT (8801), DIFS_LOAD_RATE (changes/s, default 20).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${DIFS_QUICKSTART_DIR:-$HOME/difs-quickstart}
build=${DIFS_BUILD_DIR:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
ots_port=${DIFS_OTS_PORT:-8800}
oss_port=${DIFS_OSS_PORT:-8801}
rate=${DIFS_LOAD_RATE:-20}
instance=difs-demo
bucket=difs-backup
ak_id=LTAI5tEXAMPLEACCESSID
ak_secret=EXAMPLEaccessKeySecretForTheEmulator0
job=orders
mnt=$work/di

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "quickstart: $*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - t_start ))s; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

is_mounted() { grep -qs " $mnt fuse" /proc/mounts; }

do_stop() {
	local p
	if is_mounted; then
		say "unmounting $mnt"
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	fi
	for p in load emu; do
		if pid_alive "$work/$p.pid"; then
			say "stopping $p (pid $(cat "$work/$p.pid"))"
			kill "$(cat "$work/$p.pid")" 2>/dev/null || true
			for _ in $(seq 50); do pid_alive "$work/$p.pid" || break; sleep 0.1; done
		fi
		rm -f "$work/$p.pid"
	done
	echo "stopped; the data stays in $work (rm -rf it to start afresh)"
}

do_status() {
	local p
	for p in emu load; do
		if pid_alive "$work/$p.pid"; then echo "$p: running (pid $(cat "$work/$p.pid"))"
		else echo "$p: not running"; fi
	done
	if is_mounted; then echo "difs: mounted on $mnt"; else echo "difs: not mounted"; fi
}

install_packages() {
	local pkgs=(build-essential meson ninja-build pkg-config libfuse3-dev fuse3
		libcurl4-openssl-dev libssl-dev ca-certificates libprotobuf-c-dev
		protobuf-c-compiler libcjson-dev liblmdb-dev libmicrohttpd-dev
		libexpat1-dev zlib1g-dev tzdata curl)
	local missing=() p
	command -v dpkg-query >/dev/null 2>&1 || { echo "quickstart: not a Debian system; install the equivalents of: ${pkgs[*]}" >&2; return 0; }
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "quickstart: missing packages; run as root, or first:" >&2
		echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

build_all() {
	say "building in $build"
	[ -f "$build/build.ninja" ] || meson setup "$build" "$here" >/dev/null
	ninja -C "$build" difs difs-emu difs-load >/dev/null
}

# wait until FILE holds a line "ready" (difs-emu's start banner)
wait_ready() {
	for _ in $(seq 100); do
		grep -qx ready "$1" 2>/dev/null && return 0
		pid_alive "$work/emu.pid" || break
		sleep 0.1
	done
	cat "$work/emu.log" >&2 || true
	die "difs-emu did not start (ports $ots_port/$oss_port in use? set DIFS_OTS_PORT/DIFS_OSS_PORT)"
}

write_files() {
	local ots="http://127.0.0.1:$ots_port" oss="http://127.0.0.1:$oss_port"
	# the examples with this run's ports; same names as the seed job uses
	sed "s|http://127.0.0.1:8800|$ots|" "$here/contrib/examples/ots-source.json" > "$work/ots-source.json"
	sed "s|http://127.0.0.1:8801|$oss|" "$here/contrib/examples/oss-source.json" > "$work/oss-source.json"
	# the seed's job, demo timing: 1-minute cycle, window [cycle-80s, cycle-20s),
	# safetyMarginSeconds 15 (DataX: 5 minutes, fixed)
	sed -e 's|"cycle": "5m"|"cycle": "1m"|' \
	    -e 's|\$\[yyyymmddhh24miss-10/24/60\]|$[yyyymmddhh24miss-80/24/60/60]|' \
	    -e 's|\$\[yyyymmddhh24miss-5/24/60\]|$[yyyymmddhh24miss-20/24/60/60]|' \
	    -e 's|"maxRetries": 30|"maxRetries": 30,\n        "safetyMarginSeconds": 15|' \
	    "$here/contrib/examples/seed-job.json" > "$work/$job.json"
	grep -q '"cycle": "1m"' "$work/$job.json" && grep -q safetyMarginSeconds "$work/$job.json" ||
		die "could not derive the demo job from contrib/examples/seed-job.json"
	"$build/difs" check "$work/$job.json" "$work/ots-source.json" "$work/oss-source.json" >/dev/null ||
		die "difs check refused the demo files: $("$build/difs" check "$work/$job.json" "$work/ots-source.json" "$work/oss-source.json" 2>&1)"
}

# the cycle time (YYYYMMDDHHMMSS in Asia/Shanghai, the job's zone) of epoch s
cycle_id() { TZ=Asia/Shanghai date -d "@$1" +%Y%m%d%H%M%S; }

do_start() {
	t_start=$(date +%s)
	install_packages
	build_all
	[ -e /dev/fuse ] || die "/dev/fuse is missing: difs mounts with FUSE (in a container, run it with --device /dev/fuse --cap-add SYS_ADMIN)"
	command -v fusermount3 >/dev/null || die "fusermount3 not found (package fuse3)"
	if pid_alive "$work/emu.pid" || is_mounted; then
		die "already running ($work); 'contrib/quickstart.sh stop' first"
	fi
	t_start=$(date +%s)	# the scenario itself starts here
	mkdir -p "$work" "$mnt" "$work/state"
	say "work directory: $work"

	say "starting difs-emu: Table Store on 127.0.0.1:$ots_port, OSS on 127.0.0.1:$oss_port, data in $work/emu-data"
	: > "$work/emu.log"
	nohup "$build/difs-emu" --ots "127.0.0.1:$ots_port" --oss "127.0.0.1:$oss_port" \
		--data "$work/emu-data" --access-key "$ak_id:$ak_secret" --instance "$instance" \
		--bucket "$bucket" > "$work/emu.log" 2>&1 < /dev/null &
	echo $! > "$work/emu.pid"
	wait_ready "$work/emu.log"

	say "difs-load: table $job with a stream, puts/updates/deletes at $rate/s (log $work/load.log)"
	nohup "$build/difs-load" --endpoint "http://127.0.0.1:$ots_port" --instance "$instance" \
		--access-key "$ak_id:$ak_secret" --table "$job" --create --shards 2 \
		--rate "$rate" --keys 1000 --record "$work/load.tsv" > "$work/load.log" 2>&1 < /dev/null &
	echo $! > "$work/load.pid"
	local t_load
	t_load=$(date +%s)

	write_files
	say "mounting difs on $mnt (state in $work/state, daemon log $work/state/difs.log)"
	"$build/difs" mount "$mnt" --state "$work/state"
	for _ in $(seq 50); do is_mounted && [ -d "$mnt/jobs" ] && break; sleep 0.1; done
	is_mounted || die "the mount did not appear; see $work/state/difs.log"
	cp "$work/ots-source.json" "$mnt/sources/ots-source.json"
	cp "$work/oss-source.json" "$mnt/sources/oss-source.json"
	cp "$work/$job.json" "$mnt/jobs/$job.json"
	if [ -e "$mnt/jobs/$job.json.error" ]; then cat "$mnt/jobs/$job.json.error" >&2; die "the job was refused"; fi
	say "wrote sources/ots-source.json, sources/oss-source.json and jobs/$job.json"
	echo "    (the seed's job with DEMO timing: 1-minute cycle, window [cycle-80s, cycle-20s),"
	echo "     safetyMarginSeconds 15 -- the seed uses 5-minute cycles, [cycle-10m, cycle-5m)"
	echo "     and DataX's fixed 5-minute margin)"

	# the first cycle whose window [c-80s, c-20s) ends after the load began
	local now c cyc inst deadline st
	now=$(date +%s)
	c=$(( (t_load + 25 + 59) / 60 * 60 ))
	[ "$c" -gt "$now" ] || c=$(( (now + 59) / 60 * 60 ))
	cyc=$(cycle_id "$c")
	inst=$mnt/instances/$job/$cyc
	say "waiting for cycle $cyc (in $(( c - now )) s; it exports [$(cycle_id $((c - 80))), $(cycle_id $((c - 20)))) Asia/Shanghai)"
	deadline=$(( c + 60 ))
	st=""
	while [ "$(date +%s)" -lt "$deadline" ]; do
		st=$(cat "$inst/state" 2>/dev/null || true)
		case $st in SUCCESS|FAILED|KILLED) break ;; esac
		sleep 1
	done
	say "instance $job/$cyc: $st after $(elapsed) (packages and build not counted)"
	echo "--- cat $inst/status"
	cat "$inst/status" 2>/dev/null || true
	echo "--- the log's summary line (grep summary $inst/log)"
	grep 'summary:' "$inst/log" 2>/dev/null || tail -5 "$inst/log" 2>/dev/null || true
	local obj
	obj=$(find "$work/emu-data/oss/$bucket" -type f -path "*__$cyc*" 2>/dev/null | sort | head -1)
	if [ -n "$obj" ]; then
		echo "--- the first lines of the CSV object ${obj#"$work/emu-data/oss/$bucket/"} (uid,name)"
		head -5 "$obj" | cut -c1-100
		echo "    ($(wc -l < "$obj") lines; objects are plain files under $work/emu-data/oss/$bucket/)"
	else
		echo "--- no object for cycle $cyc yet: see $inst/log"
	fi
	cat <<EOF

Everything keeps running: a new instance every minute.
Look around:
  ls $mnt/instances/$job/
  cat $mnt/instances/$job/latest/status
  tail -f $mnt/instances/$job/latest/log
  echo rerun > $mnt/instances/$job/$cyc/ctl        # same window, same object bytes
  echo 'backfill FROM TO' > $mnt/instances/$job/ctl   # cycles in [FROM, TO), YYYYMMDDHHMMSS
  \$EDITOR $mnt/jobs/$job.json                          # invalid edits show in $job.json.error
  find $work/emu-data/oss/$bucket -type f               # the exported objects
  tail $work/load.tsv                                   # what difs-load wrote
Stop:
  $0 stop
EOF
}

case ${1:-start} in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
