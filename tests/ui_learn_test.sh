# tests/ui_learn_test.sh — MIDI learn and the MIDI field in the terminal UI:
# the UI runs in tmux against a private `jackd -d dummy`, a real MIDI
# sender (tests/midisend) plays controllers into it.  L on a parameter
# waits for a controller and says so; Esc cancels (a controller moved then
# maps nothing); L again and a CC maps it: the message names it, the
# parameter shows its `cc74` tag and follows the knob, the status line
# shows the last note and controller, and :w saves the `map` line.  L with
# no parameter selected says what to do.  At 80 columns the field shows the
# voices sounding apart from the keys down: a pad's release tail counts
# after its keys are up, until it ends.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
cat > drone.fsp <<'P'
# a saw drone through a ladder
poly 1
global vco    osc wave=saw
global ladder flt cutoff=1000 res=0.2
global vca    amp gain=0.3
connect osc.out flt.in
connect flt.out amp.in
connect amp.out out.1
P

ui_start fs 100 30 -- drone.fsp
wait_screen fs "MIDI -" 5 && pass "the status line has a MIDI field, quiet at first" ||
	fail "no MIDI field: $(screen fs | head -3)"

# L on the module list: no parameter yet
keys fs L
wait_screen fs "MIDI learn: select a parameter first" &&
	pass "L without a parameter: says to select one" || fail "L on a module: $(screen fs | tail -2)"

keys fs j l          # flt, into its parameters: cutoff
keys fs L
wait_screen fs "MIDI learn: move a controller for flt.cutoff (Esc cancels)" &&
	pass "L on flt.cutoff waits for a controller" || fail "L: $(screen fs | tail -2)"
wait_screen fs "MIDI LEARN" && pass "the status line shows MIDI LEARN while waiting" ||
	fail "status while learning: $(screen fs | head -2)"
keys fs Escape
wait_screen fs "MIDI learn cancelled: nothing mapped" && pass "Esc cancels the learn" ||
	fail "Esc: $(screen fs | tail -2)"
"$MIDISEND" fs:midi_in b04a40
sleep 0.5
screen fs | grep -q "cc74 *\]\|cc74\]" && fail "mapped after Esc: $(screen fs | grep cutoff)"
wait_screen fs "cc74=64" && pass "the status line shows the last controller: cc74=64" ||
	fail "status: $(screen fs | head -2)"
[ "$(shown fs cutoff)" = "1 kHz" ] &&
	pass "after Esc a controller changes nothing ($(shown fs cutoff))" ||
	fail "cutoff moved after Esc: $(shown fs cutoff)"

# learn for real
keys fs L
"$MIDISEND" fs:midi_in 903c64 b04a7f
wait_screen fs "learned: cc 74 flt.cutoff" && pass "a CC maps it: $(screen fs | grep -o 'learned: [^ ]* [^ ]* [^ ]*')" ||
	fail "learn: $(screen fs | tail -2)"
wait_screen fs "cc74" && screen fs | grep "cutoff" | grep -q "cc74" &&
	pass "the parameter shows its controller: $(screen fs | grep -o 'cutoff.*cc74' | tr -s ' ')" ||
	fail "no tag: $(screen fs | grep cutoff)"
"$MIDISEND" fs:midi_in b04a7f
sleep 0.5
case $(shown fs cutoff) in *kHz*) v=$(shown fs cutoff)
	pass "the knob moves it: cutoff $v" ;; *) fail "cutoff after CC 127: $(shown fs cutoff)" ;; esac
wait_screen fs "C4 cc74=127" && pass "status: keys, the last note and controller ($(screen fs | grep -o 'MIDI [^ ]* [^ ]* [^ ]*'))" ||
	fail "status: $(screen fs | head -2)"
"$MIDISEND" fs:midi_in 803c00
keys fs :
type_text fs "w"
keys fs Enter
sleep 0.5
grep -q "^map cc 74 flt.cutoff$" drone.fsp && grep -q "^# a saw drone" drone.fsp &&
	pass ":w saves the learned map, the comment kept" || fail "saved: $(cat drone.fsp)"
ui_stop fs

# keys down (k) and voices sounding (v): a 6 s release sounds on after the
# keys are up, in an 80-column terminal
cat > pad.fsp <<'P'
# a sine pad whose release lasts 6 s
poly 4
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
ui_start pv 80 24 -- pad.fsp
"$MIDISEND" pv:midi_in 903c64 904064
wait_screen pv "MIDI 2k 2v E4" 10 && pass "two keys held: $(screen pv | grep -o 'MIDI [^ ]* [^ ]* [^ ]*')" ||
	fail "two keys held: $(screen pv | sed -n 2p)"
"$MIDISEND" pv:midi_in 803c00 804000
wait_screen pv "MIDI 0k 2v E4" 5 && pass "keys up, the release sounding: $(screen pv | grep -o 'MIDI [^ ]* [^ ]* [^ ]*')" ||
	fail "keys up: $(screen pv | sed -n 2p)"
wait_screen pv "MIDI 0k 0v E4" 40 && pass "the release over: $(screen pv | grep -o 'MIDI [^ ]* [^ ]* [^ ]*')" ||
	fail "after the release: $(screen pv | sed -n 2p)"
ui_stop pv
finish
