# tests/voices_test.sh — the count of voices sounding in `stats`
# (voices_sounding) against a real `jackd -d dummy` and a real MIDI sender
# (tests/midisend): two held notes of a pad with a long release sound as
# 2, still 2 right after their keys are up (the release tail), 0 once the
# release has ended; three notes on two voices never count more than 2; a
# patch with no voice modules reads 0, also while notes come.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server

cat > pad.fsp <<'P'
# a sine pad whose release lasts 6 s
poly 2
voice midi n
voice vco  v wave=sine level=0.5
voice adsr env attack=0.001 sustain=1 release=6
voice vca  a
connect n.pitch v.pitch
connect n.gate  env.gate
connect v.out   a.in
connect env.out a.cv
connect a.out   out.1
P

# wait_voices N SECONDS: poll `stats` until voices_sounding is N
wait_voices() {
	for _ in $(seq "$(($2 * 10))"); do
		[ "$(stats_field voices_sounding)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

start_fs fs pad.fsp
st=$(send stats)
v=$(stat_of voices_sounding)
[ "$v" = 0 ] && pass "stats ends with voices_sounding, 0 before any note ($(echo "$st" | grep -o 'clipped.*'))" ||
	fail "voices_sounding before a note: '$v' in: $st"

"$MIDISEND" fs:midi_in 903c64 904064
wait_voices 2 10 && pass "two held notes: voices_sounding 2" ||
	fail "two held notes: voices_sounding $(stats_field voices_sounding)"

"$MIDISEND" fs:midi_in 803c00 804000
v=$(stats_field voices_sounding)
[ "$v" = 2 ] && pass "keys up, within the 6 s release: still 2 sounding" ||
	fail "right after note off: voices_sounding $v (the release tail is 6 s)"
wait_voices 0 40 && pass "after the release has ended: 0 sounding" ||
	fail "40 s after note off: voices_sounding $(stats_field voices_sounding)"

# three keys on two voices: one is stolen, never three counted
"$MIDISEND" fs:midi_in 903c64 904064 904364
wait_voices 2 10 && pass "three notes on poly 2: 2 sounding" ||
	fail "three notes on poly 2: voices_sounding $(stats_field voices_sounding)"
for _ in 1 2 3 4 5; do
	v=$(stats_field voices_sounding)
	[ "$v" -le 2 ] 2>/dev/null || fail "poly 2 but voices_sounding '$v'"
	sleep 0.1
done
# all sound off: silent at once, however long the release
"$MIDISEND" fs:midi_in b07800
wait_voices 0 10 && pass "all sound off: 0 sounding" ||
	fail "after all sound off: voices_sounding $(stats_field voices_sounding)"
stop_fs

cat > drone.fsp <<'P'
# global modules only: no voices to sound
poly 4
global vco osc wave=saw level=0.3
connect osc.out out.1
P
start_fs fs drone.fsp
"$MIDISEND" fs:midi_in 903c64 904064
sleep 0.5
v=$(stats_field voices_sounding)
[ "$v" = 0 ] && pass "no voice modules, a drone playing, notes held: 0 sounding" ||
	fail "no voice modules: voices_sounding $v"
stop_fs
finish
