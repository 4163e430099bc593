# tests/cli_test.sh — the introspection options: --help, --version,
# --list-modules and --check, with their exit codes and messages.
. "$top_srcdir/tests/lib.sh"
cd "$scratch"

"$FORKSYNTH" --help > help.txt && contains help.txt "--render" &&
	pass "--help lists --render" || fail "--help"
"$FORKSYNTH" --version > v.txt && grep -qE '^forksynth [0-9]+\.[0-9]+' v.txt &&
	pass "--version: $(cat v.txt)" || fail "--version"
if "$FORKSYNTH" --no-such-option 2>err.txt; then fail "bad option accepted"
else pass "bad option refused"; fi

"$FORKSYNTH" --list-modules > mods.txt || fail "--list-modules exit"
for m in midi vco lfo noise adsr ladder svf vca mixer pan delay reverb; do
	grep -q "^$m: " mods.txt && pass "lists $m" || fail "$m missing from --list-modules"
done
contains mods.txt "cutoff" && contains mods.txt "Hz" &&
	pass "parameters with units" || fail "no parameter units"

for p in "$top_srcdir"/patches/*.fsp; do
	"$FORKSYNTH" --check "$p" > out.txt 2>&1 && contains out.txt ": ok" &&
		pass "--check $(basename "$p")" || fail "--check $p: $(cat out.txt)"
done

printf 'poly 4\nvoice vco osc1\nconnect osc1.out flt.in\n' > bad.fsp
if "$FORKSYNTH" --check bad.fsp 2>err.txt; then fail "--check accepted a bad patch"
else
	cat err.txt
	contains err.txt "bad.fsp:3:" && pass "--check names file:line" ||
		fail "--check message: $(cat err.txt)"
fi
if "$FORKSYNTH" --check missing.fsp 2>err.txt; then fail "missing file accepted"
else
	contains err.txt "missing.fsp" && pass "missing file named" || fail "$(cat err.txt)"
fi

no_leftovers
finish
