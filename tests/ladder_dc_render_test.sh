# tests/ladder_dc_render_test.sh — the repro, rendered by the real
# binary: patches/bass.fsp (a pulse and a sub sine into a driven ladder)
# holding note 33 had DC at -42 dBFS against -30 dBFS RMS.  The driven
# ladder now blocks DC: over the last 2 s of a 4 s held note, the mean is
# at most -80 dBFS while the note still sounds.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"

cd "$scratch"
printf 'at 0 note 33 100 4\n' > hold.score
check "bass.fsp renders a held note 33" "$FORKSYNTH" --render bass.wav \
	--seconds 4 --score hold.score "$top_srcdir/patches/bass.fsp"
mean=$("$ANALYZE" mean bass.wav 96000 96000)
rms=$("$ANALYZE" rms bass.wav 96000 96000)
dc_db=$(awk -v m="$mean" 'BEGIN { m = m < 0 ? -m : m; if (m < 1e-12) m = 1e-12; printf "%.1f", 20 * log(m) / log(10) }')
rms_db=$(awk -v r="$rms" 'BEGIN { if (r < 1e-12) r = 1e-12; printf "%.1f", 20 * log(r) / log(10) }')
echo "bass.fsp note 33: DC $dc_db dBFS (bound: <= -80; the repro: -42), RMS $rms_db dBFS"
awk -v d="$dc_db" 'BEGIN { exit !(d <= -80) }' && pass "bass.fsp DC blocked" ||
	fail "bass.fsp DC $dc_db dBFS (> -80)"
awk -v r="$rms_db" 'BEGIN { exit !(r >= -50) }' && pass "bass.fsp still sounds" ||
	fail "bass.fsp RMS $rms_db dBFS (< -50): silent?"
finish
