#!/bin/sh
# SPDX-License-Identifier: MIT
#
# contrib/check-banned.sh - banned-function check
# (contrib/doc/style.md 2.7 and 3), in the spirit of curl's checksrc.pl banfunc
# list.
#
# Scans the C sources (*.c, *.h) under fs/ engine/ cache/ contrib/ for calls
# to sprintf, vsprintf, strcpy, strcat, strncpy, strtok, gets, atoi, atol,
# sscanf, and for same-pointer reallocs (p = realloc(p, n), which leaks p
# when realloc fails).  Comments and string/char literals are blanked first
# (line numbers kept), so "no sprintf here" in a comment is not a hit; a
# call split over several lines is still found.
#
# Usage: contrib/check-banned.sh [SOURCE_ROOT]   (default: this script's ..)
# Prints "file:line: banned WHAT: source line" for every hit; exits 1 if
# there was any, 0 if none, 2 on a usage/tool error.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
command -v perl >/dev/null 2>&1 || { echo "check-banned: perl not found" >&2; exit 2; }
files=$(find fs engine cache contrib -type f \( -name '*.c' -o -name '*.h' \) \
	2>/dev/null | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-banned: no C sources under $(pwd)" >&2; exit 2; }
# shellcheck disable=SC2086
exec perl -e '
use strict; use warnings;
my $hits = 0;
my $ban = qr/(?<![A-Za-z0-9_.>\$])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|sscanf)\s*\(/;
# an lvalue: name, ->field, .field, [index]
my $lv = qr/[A-Za-z_][A-Za-z0-9_]*(?:\s*(?:->|\.)\s*[A-Za-z_][A-Za-z0-9_]*|\[[^\]\n]*\])*/;
# LV = [(cast)] realloc(LV, ...)
my $rea = qr/(?<![A-Za-z0-9_>.\$])($lv)\s*=\s*(?:\([^()]*\)\s*)?realloc\s*\(\s*\1\s*,/;
for my $f (@ARGV) {
	open(my $fh, "<", $f) or die "check-banned: $f: $!\n";
	local $/; my $src = <$fh>; close($fh);
	my @orig = split(/\n/, $src, -1);
	# blank comments and literals (newlines kept, so offsets map to lines)
	$src =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27)}{
		my $m = $1; (my $k = $m) =~ s/[^\n]/ /g; $k
	}gse;
	my %at;
	while ($src =~ /$ban/g) {
		push @{$at{substr($src, 0, $-[0]) =~ tr/\n//}}, $1;
	}
	while ($src =~ /$rea/g) {
		(my $p = $1) =~ s/\s+//g;
		push @{$at{substr($src, 0, $-[0]) =~ tr/\n//}}, "$p = realloc($p, ...)";
	}
	for my $i (sort { $a <=> $b } keys %at) {
		(my $o = $orig[$i]) =~ s/^\s+//;
		printf("%s:%d: banned %s: %s\n", $f, $i + 1, join(", ", @{$at{$i}}), $o);
		$hits++;
	}
}
if ($hits) { printf(STDERR "check-banned: %d line(s) with banned calls; see contrib/doc/style.md 2.7\n", $hits); exit 1; }
exit 0;
' $files
