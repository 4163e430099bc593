# tests/man_current_test.sh — the module reference in the man page is the
# one the module tables generate (run `make update-man` when it is not).
. "$top_srcdir/tests/lib.sh"

sh "$top_srcdir/man/update-modules.sh" "$FORKSYNTH" "$top_srcdir/man/forksynth.1" \
	"$scratch/forksynth.1"
if cmp -s "$scratch/forksynth.1" "$top_srcdir/man/forksynth.1"; then
	pass "man page module reference is current"
else
	diff -u "$top_srcdir/man/forksynth.1" "$scratch/forksynth.1" | head -40
	fail "man/forksynth.1 is stale: run 'make update-man'"
fi
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$top_srcdir/man/forksynth.1" > "$scratch/man.txt" 2>"$scratch/warn.txt"
	[ -s "$scratch/man.txt" ] && pass "man page renders" || fail "man page empty"
fi
finish
