#!/bin/sh
# SPDX-License-Identifier: MIT
#
# oss_upload_rss.sh - bounded memory of the streaming OSS upload: push a
# generated stream (default 2 GiB) through oss_upload against difs-emu and
# print the peak RSS; fail when it exceeds parallel x part size plus a fixed
# allowance, or when it grows with the stream (a 64 MiB run is the baseline).
#
#   tests/bench/oss_upload_rss.sh DIFS_EMU OSS_UPLOAD_BENCH [SIZE_MIB [PART_KIB [PARALLEL]]]
#
# Exit 77 when difs-emu is missing.  Needs about SIZE_MIB x 2 of free disk
# under $TMPDIR (parts + the completed object).
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 DIFS_EMU OSS_UPLOAD_BENCH [SIZE_MIB [PART_KIB [PARALLEL]]]" >&2
	exit 2
fi
emu=$1
bench=$2
size=${3:-2048}
part=${4:-8192}
par=${5:-4}
slack_kib=$((64 * 1024))	# libcurl, OpenSSL, libc arenas, thread stacks

if [ ! -x "$emu" ]; then
	echo "SKIP: difs-emu not found at $emu" >&2
	exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/difs-oss-rss.XXXXXX")
out=$dir/emu.out
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$emu" --data "$dir/data" --access-key AKIDEXAMPLE:SECRETEXAMPLE \
	--oss 127.0.0.1:0 --bucket bench --sync off --log-level warn >"$out" &
pid=$!
i=0
while ! grep -q '^ready' "$out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "difs-emu did not start" >&2
		exit 1
	fi
	sleep 0.1
done
endpoint=$(sed -n 's/^oss \(http:[^ ]*\).*/\1/p' "$out")

run() {
	"$bench" "$endpoint" bench AKIDEXAMPLE:SECRETEXAMPLE "rss/stream-$1.bin" "$1" "$part" "$par"
}

base=$(run 64)
big=$(run "$size")
val() { echo "$1" | sed -n "s/^$2 //p"; }
base_rss=$(val "$base" peak_rss_kib)
rss=$(val "$big" peak_rss_kib)
bound=$(val "$big" buffer_bound_kib)
echo "upload of $size MiB, part $part KiB, $par parallel:"
echo "$big" | sed 's/^/  /'
echo "  baseline_peak_rss_kib $base_rss (64 MiB stream)"
fail=0
if [ "$(val "$big" crc_ok)" != 1 ]; then
	echo "FAIL: stored object CRC-64 differs from the stream's" >&2
	fail=1
fi
if [ "$rss" -gt $((bound + slack_kib)) ]; then
	echo "FAIL: peak RSS $rss KiB above parallel x part ($bound KiB) + $slack_kib KiB" >&2
	fail=1
fi
if [ "$rss" -gt $((base_rss + part)) ]; then
	echo "FAIL: peak RSS grew with the stream ($base_rss -> $rss KiB)" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "PASS: peak RSS $rss KiB <= $((bound + slack_kib)) KiB, flat vs the 64 MiB run"
exit $fail
