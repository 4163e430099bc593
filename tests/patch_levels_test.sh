# tests/patch_levels_test.sh — every example patch (any patches/**/*.fsp,
# found here, not listed), played as a chord at velocity 127 as wide as its
# polyphony, peaks below -1 dBFS: open voicings low to high and semitone
# clusters, held 6 s (slow attacks, echoes and reverbs build up) and
# released, rendered offline with the ceiling off (--no-clip) so the figure
# is the patch's own.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"

cd "$scratch"
# patches with an impulse response read it from irs/ where they run
sh "$top_srcdir/irs/make-irs.sh" "$FORKSYNTH" irs >/dev/null 2>&1 ||
	fail "could not make the example impulse responses (irs/make-irs.sh)"

ceiling=0.891250938          # -1 dBFS, linear

# voices PATCH: the polyphony the patch ends with (the last poly or mono).
voices() {
	awk '{ sub(/#.*/, "") }
	     $1 == "poly" && $2 ~ /^[0-9]+$/ { n = $2 }
	     $1 == "mono" { n = 1 }
	     END { print n ? n : 1 }' "$1"
}

# chord_score VOICING N: a score with N distinct notes at velocity 127, held
# 6 s from time 0.  open-ROOT stacks fifths, octaves and thirds upward from
# ROOT; cluster-ROOT is N semitones from ROOT (neighbouring notes beat and
# line up their peaks).  Past note 127 the lowest unused notes fill in.
chord_score() {
	awk -v v="$1" -v n="$2" 'BEGIN {
		split(v, part, "-"); root = part[2] + 0
		split("0 7 12 16 19 24 28 31 36 40 43 48 52 55 60 64 67 72 76 79 84 88 91", open, " ")
		k = 0
		for (i = 0; k < n && i < 128; i++) {
			note = part[1] == "open" ? (i < 23 ? root + open[i + 1] : 200) : root + i
			if (note > 127 || used[note]) continue
			used[note] = 1; notes[k++] = note
		}
		for (note = 0; k < n && note < 128; note++)
			if (!used[note]) { used[note] = 1; notes[k++] = note }
		for (i = 0; i < k; i++) printf "at 0 note %d 127 6\n", notes[i]
	}'
}

# dbfs X: a linear peak in dBFS ("-inf" for silence).
dbfs() {
	awk -v x="$1" 'BEGIN { if (x > 0) printf "%+.2f", 20 * log(x) / log(10); else print "-inf" }'
}

n_patches=0
for p in $(find "$top_srcdir/patches" -name '*.fsp' | sort); do
	name=${p#"$top_srcdir/patches/"}
	n=$(voices "$p")
	n_patches=$((n_patches + 1))
	effect=""
	grep -qE '^[^#]*connect +in\.' "$p" && ! grep -qE '^[^#]* midi ' "$p" &&
		effect=" (an effect on in.N: silent offline, where the inputs are)"
	worst=0 worst_at=""
	for voicing in open-36 open-48 open-60 open-72 open-84 cluster-36 cluster-57; do
		chord_score "$voicing" "$n" > chord.score
		if ! "$FORKSYNTH" --render chord.wav --force --no-clip --threads 1 \
		    --seconds 8 --score chord.score "$p" 2>err.txt; then
			fail "$name: does not render: $(cat err.txt)"
			continue
		fi
		s=$("$ANALYZE" safety chord.wav)
		set -- $s
		peak=$2
		[ "$4" = 0 ] || fail "$name $voicing: $4 non-finite samples"
		echo "  $name, $n-note chord $voicing: peak $(dbfs "$peak") dBFS"
		if awk -v a="$peak" -v b="$worst" 'BEGIN { exit !(a >= b) }'; then
			worst=$peak worst_at=$voicing
		fi
	done
	if awk -v a="$worst" -v c="$ceiling" 'BEGIN { exit !(a < c) }'; then
		pass "$name: $n voices at velocity 127 peak $(dbfs "$worst") dBFS ($worst_at) < -1 dBFS$effect"
	else
		fail "$name: $n voices at velocity 127 peak $(dbfs "$worst") dBFS ($worst_at), not below -1 dBFS"
	fi
done
[ "$n_patches" -ge 6 ] && pass "$n_patches example patches measured" ||
	fail "only $n_patches example patches found under $top_srcdir/patches"

finish
