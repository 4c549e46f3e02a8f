#!/bin/bash
# SPDX-License-Identifier: MIT
# bash_completion.sh - contrib/bash-completion/difs under bash: `complete -p`
# registrations and the suggestions for COMP_WORDS/COMP_CWORD like bash's
# programmable completion sets them.  TAP.
#   tests/unit/bash_completion.sh PATH/TO/contrib/bash-completion/difs
set -u
comp=${1:?usage: $0 contrib/bash-completion/difs}
case $comp in /*) ;; *) comp=$(pwd)/$comp ;; esac
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi; }

work=$(mktemp -d /tmp/difs-comp-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir -p sub jobs
: > a.json; : > b.txt; : > sub/c.json
cat > jobs/seed.json <<'JSON'
{
  "type": "job",
  "configuration": { "reader": {}, "writer": {} },
  "schedule": {
    "cycle": "5m",
    "params": {
      "start_time": "$[yyyymmddhh24miss-10/24/60]",
      "end_time": "$[yyyymmddhh24miss-5/24/60]",
      "date": "${bdp.system.bizdate}"
    },
    "rerun": { "times": 3, "interval": "2m" }
  }
}
JSON

# shellcheck source=/dev/null
source "$comp"

# complete WORD... : the suggestions for the last word, one per line, sorted
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	local spec fn
	spec=$(complete -p "$1" 2>/dev/null) || return 1
	fn=${spec#*-F }
	fn=${fn%% *}
	"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
has() { grep -qx -- "$2" <<<"$1"; }

spec=$(complete -p difs 2>&1); [[ $spec == *"-F _difs "* ]]; ok $? "complete -p difs: $spec"
spec=$(complete -p difs-emu 2>&1); [[ $spec == *"-F _difs_emu "* ]]; ok $? "complete -p difs-emu"
spec=$(complete -p difs-load 2>&1); [[ $spec == *"-F _difs_load "* ]]; ok $? "complete -p difs-load"

out=$(complete_words difs "")
has "$out" mount && has "$out" check && has "$out" params && has "$out" run
ok $? "difs <TAB>: the subcommands"
out=$(complete_words difs r)
[ "$(echo $out)" = "restore run" ]; ok $? "difs r<TAB> -> restore run ($(echo $out))"
out=$(complete_words difs --v)
[ "$out" = --version ]; ok $? "difs --v<TAB> -> --version"
out=$(complete_words difs run --s)
has "$out" --source && has "$out" --state && ! has "$out" --workers
ok $? "difs run --s<TAB>: --source --state ($(echo $out))"
out=$(complete_words difs mount -)
has "$out" --state && has "$out" --foreground && has "$out" --workers && has "$out" -o
ok $? "difs mount -<TAB>: mount options"
out=$(complete_words difs check "")
has "$out" a.json && has "$out" sub/ && ! has "$out" b.txt
ok $? "difs check <TAB>: *.json and directories, not b.txt ($(echo $out))"
out=$(complete_words difs check sub/)
has "$out" sub/c.json; ok $? "difs check sub/<TAB>: sub/c.json"
out=$(complete_words difs mount --state "")
has "$out" sub && ! has "$out" a.json; ok $? "--state DIR: directories only"
out=$(complete_words difs mount "")
has "$out" sub && ! has "$out" a.json; ok $? "difs mount <TAB>: a directory"
out=$(complete_words difs run jobs/seed.json -p "")
has "$out" start_time= && has "$out" end_time= && has "$out" date=
ok $? "difs run JOB -p <TAB>: the job's params ($(echo $out))"
out=$(complete_words difs run jobs/seed.json -p st)
[ "$out" = start_time= ]; ok $? "difs run JOB -p st<TAB> -> start_time="
out=$(complete_words difs run jobs/seed.json --source "")
has "$out" a.json && ! has "$out" b.txt; ok $? "--source FILE: json files"
out=$(complete_words difs params jobs/seed.json --c)
[ "$out" = --cycle ]; ok $? "difs params JOB --c<TAB> -> --cycle"
out=$(complete_words difs params jobs/seed.json --cycle "")
[[ $out =~ ^[0-9]{14}$ ]]; ok $? "--cycle suggests the current minute ($out)"
out=$(complete_words difs e)
[ "$out" = edit ]; ok $? "difs e<TAB> -> edit ($out)"
out=$(complete_words difs edit jobs/)
[ "$out" = jobs/seed.json ]; ok $? "difs edit jobs/<TAB> -> jobs/seed.json ($out)"
out=$(complete_words difs b)
[ "$out" = backup ]; ok $? "difs b<TAB> -> backup ($out)"
out=$(complete_words difs res)
[ "$out" = restore ]; ok $? "difs res<TAB> -> restore ($out)"
out=$(complete_words difs backup --)
has "$out" --state && has "$out" --force && has "$out" --with-key && has "$out" --help
ok $? "difs backup --<TAB>: --state --force --with-key --help ($(echo $out))"
out=$(complete_words difs restore --)
has "$out" --state && ! has "$out" --force; ok $? "difs restore --<TAB>: --state, no --force ($(echo $out))"
out=$(complete_words difs restore "")
has "$out" b.txt && has "$out" a.json; ok $? "difs restore <TAB>: any file ($(echo $out))"
out=$(complete_words difs backup --state "")
has "$out" sub && ! has "$out" a.json; ok $? "difs backup --state <TAB>: directories"
out=$(complete_words difs-load --p)
[ "$out" = --pk ]; ok $? "difs-load --p<TAB> -> --pk"
out=$(complete_words difs-load --pk "")
has "$out" string && has "$out" integer; ok $? "difs-load --pk <TAB>: string integer"
out=$(complete_words difs-emu --sy)
[ "$out" = --sync ]; ok $? "difs-emu --sy<TAB> -> --sync"
out=$(complete_words difs-emu --log-level "")
has "$out" debug; ok $? "difs-emu --log-level <TAB>: levels"

echo "1..$n"
[ $fail -eq 0 ]
