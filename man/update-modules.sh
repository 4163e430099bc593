#!/bin/sh
# man/update-modules.sh BINARY MANPAGE [OUTPUT] — replace the generated module
# reference between the BEGIN/END MODULES markers of MANPAGE with what
# `BINARY --man-modules` prints; write OUTPUT (default: MANPAGE in place).
set -eu
bin=$1 page=$2 out=${3:-$2}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.mods"' EXIT
"$bin" --man-modules > "$tmp.mods"
awk -v mods="$tmp.mods" '
	/^\.\\" BEGIN MODULES/ { print; while ((getline line < mods) > 0) print line; skip = 1; next }
	/^\.\\" END MODULES/ { skip = 0 }
	!skip { print }
' "$page" > "$tmp"
cp "$tmp" "$out"
