# fuzz/replay_test.sh — the fuzz targets without libFuzzer: every seed in
# tests/fuzz/{command,score} and every regression input in
# tests/fuzz/regressions/ goes once through its target, which aborts on a
# finding; so a bug the fuzzer found stays fixed on machines without clang.
. "$top_srcdir/tests/lib.sh"

for t in command score; do
	set -- "$top_srcdir/tests/fuzz/$t"
	reg="$top_srcdir/tests/fuzz/regressions/$t"
	[ -n "$(ls -A "$reg" 2>/dev/null)" ] && set -- "$@" "$reg"
	if "$top_builddir/fuzz/${t}_replay" "$@" > "$scratch/$t.out" 2>&1; then
		pass "$t: $(tail -n 1 "$scratch/$t.out")"
	else
		cat "$scratch/$t.out"
		fail "$t: a seed or regression input fails"
	fi
done
finish
