# tests/midimap_test.sh — controller mapping and the MIDI channel against a
# real `jackd -d dummy`: CC 74 from a real MIDI sender (tests/midisend)
# moves a mapped lowpass cutoff, measured in jack_capture recordings of
# filtered noise (the level rises with the cutoff; a sweep during one
# recording rises across it); a 14-bit pair and pitch bend drive theirs;
# the patch follows the knob (`save` writes the value the controller
# gave); a `set` after a controller still takes; `map`, `unmap`, `channel`
# survive save and --check with the file's comments kept; bad input gets
# clear messages and changes nothing; `channel 2` and --channel ignore
# notes on other channels.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server

cat > mm.fsp <<'PATCH'
# noise through a lowpass whose cutoff a knob plays
global noise src level=0.5
global svf   flt cutoff=1000

connect src.out flt.in
connect flt.lp  out.1

# the filter knob
map cc 74 flt.cutoff min 100 max 10000
PATCH
"$FORKSYNTH" --check mm.fsp > check.out 2>&1 && pass "--check takes map: $(cat check.out)" ||
	fail "--check: $(cat check.out)"

# level FILE: RMS of the middle half second of a 1 s recording
level() {
	"$ANALYZE" rms "$1" 12000 24000
}

# capture NAME SECONDS: record fs:out_1 with jack_capture
capture() {
	jack_capture -as -d "$2" -c 1 -p fs:out_1 "$1" > /dev/null 2>&1
}

# cc NUMBER VALUE [CHANNEL]: one controller message from a real sender
cc() {
	"$MIDISEND" fs:midi_in "$(printf 'b%x%02x%02x' "$((${3:-1} - 1))" "$1" "$2")"
}

start_fs fs mm.fsp
a=$(send maps)
case $a in "ok 1 mapping, channel omni: map cc 74 flt.cutoff min 100 max 10000")
	pass "maps: $a" ;; *) fail "maps: $a" ;; esac

cc 74 0; sleep 0.3; capture low.wav 1
cc 74 64; sleep 0.3; capture mid.wav 1
cc 74 127; sleep 0.3; capture high.wav 1
lo=$(level low.wav) mid=$(level mid.wav) hi=$(level high.wav)
echo "filtered noise RMS at CC 74 = 0, 64, 127: $lo $mid $hi"
# white noise through a 12 dB/oct lowpass: power ~ cutoff; 100 Hz -> ~1 kHz
# -> 10 kHz is about 10 dB per step
awk -v a="$lo" -v b="$mid" -v c="$hi" 'BEGIN { exit !(b > 2 * a && c > 2 * b) }' &&
	pass "CC 74 moves the cutoff: level rises 0 -> 64 -> 127 ($lo, $mid, $hi)" ||
	fail "CC 74 did not move the cutoff: $lo $mid $hi"
send "save saved.fsp" > /dev/null
grep -q "cutoff=10000" saved.fsp && pass "the patch follows the knob: save writes cutoff=10000" ||
	fail "saved cutoff: $(grep flt saved.fsp)"
grep -q "^# the filter knob" saved.fsp && grep -q "^map cc 74 flt.cutoff min 100 max 10000$" saved.fsp &&
	pass "save keeps the comment and the map line" || fail "saved: $(cat saved.fsp)"

# a sweep while one recording runs: 0 to 127 in 17 steps, each a
# separate message from the sender; the recording outlasts it
cc 74 0; sleep 0.3
jack_capture -as -ns -c 1 -p fs:out_1 sweep.wav > /dev/null 2>&1 &
rec=$!
sleep 0.5
for v in 8 16 24 32 40 48 56 64 72 80 88 96 104 112 120 127; do
	cc 74 $v
	sleep 0.05
done
sleep 1
kill -INT $rec
wait $rec
frames=$(soxi -s sweep.wav)
first=$("$ANALYZE" rms sweep.wav 0 12000)
last=$("$ANALYZE" rms sweep.wav $((frames - 24000)) 12000)
echo "sweep: RMS $first at the start, $last at the end"
awk -v a="$first" -v b="$last" -v lo="$lo" -v hi="$hi" \
    'BEGIN { exit !(b > 4 * a && a < 2 * lo && b > hi / 1.5) }' &&
	pass "a CC sweep opens the filter across one recording ($first -> $last)" ||
	fail "sweep: $first -> $last"

# a `set` after the controller still reaches the DSP
cc 74 127; sleep 0.2
send "set flt.cutoff 100" > /dev/null
sleep 0.3; capture set.wav 1
s=$(level set.wav)
awk -v s="$s" -v a="$lo" 'BEGIN { exit !(s < 2 * a) }' &&
	pass "set after a controller takes ($s, like CC 0's $lo)" || fail "set ignored: $s vs $lo"

# 14-bit pair: MSB 2, LSB 34; pitch bend onto the same cutoff
a=$(send "unmap cc 74"); [ "$a" = ok ] || fail "unmap cc 74: $a"
a=$(send "map cc14 2 flt.cutoff min 100 max 10000"); [ "$a" = ok ] || fail "map cc14: $a"
"$MIDISEND" fs:midi_in b0027f b0227f; sleep 0.3; capture c14.wav 1
c14=$(level c14.wav)
awk -v s="$c14" -v a="$hi" 'BEGIN { exit !(s > a / 1.5) }' &&
	pass "cc14 2 at 16383 opens the filter ($c14)" || fail "cc14: $c14 vs $hi"
send "unmap flt.cutoff" > /dev/null
a=$(send "map bend flt.cutoff min 100 max 10000"); [ "$a" = ok ] || fail "map bend: $a"
"$MIDISEND" fs:midi_in e00000; sleep 0.3; capture bend.wav 1
b=$(level bend.wav)
awk -v s="$b" -v a="$lo" 'BEGIN { exit !(s < 2 * a) }' &&
	pass "bend fully down closes the filter ($b)" || fail "bend: $b vs $lo"

send "unmap bend" > /dev/null
a=$(send "map pressure flt.cutoff min 100 max 10000"); [ "$a" = ok ] || fail "map pressure: $a"
"$MIDISEND" fs:midi_in d07f; sleep 0.3; capture at.wav 1
at=$(level at.wav)
awk -v s="$at" -v a="$hi" 'BEGIN { exit !(s > a / 1.5) }' &&
	pass "channel aftertouch 127 opens the filter ($at)" || fail "pressure: $at vs $hi"
send "unmap pressure" > /dev/null
a=$(send "map bend flt.cutoff min 100 max 10000"); [ "$a" = ok ] || fail "map bend again: $a"

# ---- bad input: each a clear message, nothing changed
expect_error() {
	a=$(send "$1")
	case $a in "error:"*"$2"*) pass "$1: $a" ;; *) fail "$1: $a (want '$2')" ;; esac
}
expect_error "map cc 128 flt.cutoff" "controller number must be 0..127"
expect_error "map cc -1 flt.cutoff" "controller number must be 0..127"
expect_error "map cc 74 nosuch.cutoff" "no module named 'nosuch'"
expect_error "map cc 74 flt.nosuch" "module 'flt' has no parameter 'nosuch'"
expect_error "map cc 74 flt.cutoff min 5" "20..20000"
expect_error "map cc 74 flt.cutoff max" "max needs a value"
expect_error "map cc 74 flt.cutoff loud 3" "unknown option 'loud'"
expect_error "map cc 74 ch 2 flt.cutoff ch 3" "ch is given twice"
expect_error "map cc 74 flt.cutoff ch 0" "ch needs a MIDI channel 1..16, got '0'"
expect_error "map" "map"
expect_error "unmap" "unmap"
expect_error "map wheel flt.cutoff" "unknown controller 'wheel'"
expect_error "map cc 74" "map needs a parameter"
expect_error "map cc 74 ch 17 flt.cutoff" "ch needs a MIDI channel 1..16"
expect_error "map cc14 40 flt.cutoff" "controller number must be 0..31"
a=$(send "map cc 7 flt.q curve exp min 0.5 max 40"); [ "$a" = ok ] || fail "curve exp: $a"
expect_error "map cc 7 src.level curve exp" "curve exp needs both ends above zero"
expect_error "unmap cc 3" "nothing is mapped from cc 3"
expect_error "unmap src.level" "nothing is mapped to src.level"
expect_error "channel 17" "channel is a MIDI channel 1..16 or omni"
expect_error "channel 0" "channel is a MIDI channel 1..16 or omni"
a=$(send maps)
case $a in *"map cc 7 flt.q curve exp"*) pass "an exponential curve can be asked for: $a" ;;
	*) fail "maps after the bad input: $a" ;; esac

# ---- map, unmap and channel through save and --check
a=$(send "map cc 1 src.level ch 2")    # ch after the parameter is taken too
[ "$a" = ok ] || fail "map ... ch 2 after the target: $a"
send "channel 3" > /dev/null
send "save saved.fsp" > /dev/null
"$FORKSYNTH" --check saved.fsp > check2.out 2>&1 && pass "--check takes the saved patch" ||
	fail "--check saved: $(cat check2.out)"
grep -q "^channel 3$" saved.fsp && grep -q "^map cc 1 ch 2 src.level$" saved.fsp &&
	grep -q "^map bend flt.cutoff min 100 max 10000$" saved.fsp && ! grep -q "cc 74" saved.fsp &&
	grep -q "^# noise through a lowpass" saved.fsp &&
	pass "saved: channel 3, the maps as they are now, the comments kept" ||
	fail "saved: $(cat saved.fsp)"
# a removed module takes its mappings with it
send "remove src" > /dev/null
a=$(send maps)
case $a in *src.level*) fail "mapping of a removed module kept: $a" ;;
	*) pass "remove drops the module's mappings: $a" ;; esac
stop_fs

# ---- channel filtering: notes on other channels are ignored
cat > notes.fsp <<'PATCH'
voice midi note
voice vco  osc wave=sine
voice vca  amp
connect note.pitch osc.pitch
connect note.gate  amp.cv
connect osc.out    amp.in
connect amp.out    out.1
channel 2
PATCH
start_fs fs notes.fsp
"$MIDISEND" fs:midi_in 903c64; sleep 0.3; capture ch1.wav 1
r1=$(level ch1.wav)
"$MIDISEND" fs:midi_in 913c64; sleep 0.3; capture ch2.wav 1
r2=$(level ch2.wav)
echo "channel 2: RMS after a note on channel 1: $r1, on channel 2: $r2"
awk -v a="$r1" -v b="$r2" 'BEGIN { exit !(a < 0.001 && b > 0.05) }' &&
	pass "channel 2: a note on channel 1 is ignored, one on channel 2 plays" ||
	fail "channel filter: $r1 $r2"
"$MIDISEND" fs:midi_in 813c00
a=$(send "channel omni"); [ "$a" = ok ] || fail "channel omni: $a"
"$MIDISEND" fs:midi_in 9f3c64; sleep 0.3; capture omni.wav 1
r3=$(level omni.wav)
awk -v b="$r3" 'BEGIN { exit !(b > 0.05) }' && pass "omni: a note on channel 16 plays ($r3)" ||
	fail "omni: $r3"
stop_fs
# --channel overrides the patch's channel
start_fs fs notes.fsp --channel 5
"$MIDISEND" fs:midi_in 913c64; sleep 0.3; capture o1.wav 1
"$MIDISEND" fs:midi_in 943c64; sleep 0.3; capture o5.wav 1
r1=$(level o1.wav) r5=$(level o5.wav)
awk -v a="$r1" -v b="$r5" 'BEGIN { exit !(a < 0.001 && b > 0.05) }' &&
	pass "--channel 5: channel 2 ignored ($r1), channel 5 plays ($r5)" ||
	fail "--channel 5: $r1 $r5"
stop_fs
if "$FORKSYNTH" --no-ui --channel 17 notes.fsp < /dev/null > bad.out 2>&1; then
	fail "--channel 17 accepted"
else
	grep -q "channel: expected a MIDI channel 1..16 or omni" bad.out &&
		pass "--channel 17: $(cat bad.out)" || fail "--channel 17: $(cat bad.out)"
fi
finish
