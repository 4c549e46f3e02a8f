#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# contrib/quickstart.sh - install what difs needs, build it, show its help.
set -eu
cd "$(dirname "$0")/.."
pkgs="build-essential meson ninja-build pkg-config libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev ca-certificates libprotobuf-c-dev protobuf-c-compiler libcjson-dev liblmdb-dev libmicrohttpd-dev libexpat1-dev tzdata"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "quickstart: run as root, or first: apt-get update && apt-get install -y$missing" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
[ -f build/build.ninja ] || meson setup build
ninja -C build
./build/difs --help
