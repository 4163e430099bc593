# tests/ui_meters_test.sh — the output meters can be trusted (issue 18,
# bug 1): the bar's yellow (from -12 dBFS) and red (from -3 dBFS) parts
# are on the bar itself, never under the number; a reading over 0 dB is
# drawn red; without colour (NO_COLOR=1) the zones have their own fill
# characters ('-' '=' '#'), so -1.4 dB and -5.9 dB look different; and
# CLIP stays until C.  Through tmux against a private `jackd -d dummy`,
# colours read with `capture-pane -e`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
# two steady sines: a peak of 0.85 (-1.4 dBFS) on out.1 through a mixer
# that can push it over full scale, 0.5 (-6.0 dBFS) on out.2
cat > levels.fsp <<'P'
global vco   a wave=sine freq=220 level=0.85
global vco   b wave=sine freq=330 level=0.5
global mixer m master=1
connect a.out m.in1
connect m.out out.1
connect b.out out.2
P

# bar NAME OUT: what is between out's brackets, as text.
bar() { screen "$1" | grep -o "$2 \[[^]]*\]" | head -1 | sed "s/^$2 \[//; s/\]$//"; }
# reading TEXT: the number in a bar's text ("-inf" for none).
reading() { echo "$1" | awk '/ dB$/ { print $(NF - 1) }'; }
# last_fill TEXT: the last fill character of a bar (before the reading);
# the peak-hold mark `|` is not fill (after a clip it stands at the bar's
# end, beyond a fill that has fallen since).
last_fill() { echo "$1" | sed 's/ *\(CLIP \)* *[-+]*[0-9.inf]* dB$//' | grep -o '[-=#]' | tail -1; }
# zone_char DB: the fill character of the zone DB is in.
zone_char() { awk -v d="$1" 'BEGIN { print (d + 0 >= -3 ? "#" : d + 0 >= -12 ? "=" : "-") }'; }
# wait_reading NAME OUT: until OUT's meter shows a steady level (not -inf).
wait_reading() {
	for _ in $(seq 100); do
		r=$(reading "$(bar "$1" "$2")")
		[ -n "$r" ] && [ "$r" != -inf ] && return 0
		sleep 0.1
	done
	return 1
}
# check_zone NAME OUT WHY: the last fill cell is in the zone of the number
# shown, and the whole reading is outside the fill.
check_zone() {
	b=$(bar "$1" "$2"); r=$(reading "$b"); f=$(last_fill "$b"); want=$(zone_char "$r")
	[ -n "$r" ] && [ "$f" = "$want" ] &&
		pass "$3: $2 reads $r dB and its bar ends in its zone's '$f': [$b]" ||
		fail "$3: $2 reads '$r' dB, the bar ends in '$f', want '$want': [$b]"
}

# ---- without colour: the characters tell the zones apart
ui_start mono 80 24 NO_COLOR=1 -- --threads 2 levels.fsp
wait_reading mono out1 && wait_reading mono out2 || fail "mono: no readings"
sleep 1
check_zone mono out1 "NO_COLOR"
check_zone mono out2 "NO_COLOR"
b1=$(bar mono out1) b2=$(bar mono out2)
f1=$(last_fill "$b1") f2=$(last_fill "$b2")
[ "$f1" = "#" ] && [ "$f2" = "=" ] && ! echo "$b2" | grep -q '#' &&
	pass "NO_COLOR: -1.4 dB ends in '#' (red zone), -6 dB in '=' (yellow), told apart" ||
	fail "NO_COLOR: out1 [$b1] and out2 [$b2] are not told apart"
# the number keeps its own columns: the fill never runs under it
echo "$b1" | grep -qE '[-=#] +-?[0-9.]+ dB$' &&
	pass "NO_COLOR: the reading stands beside the fill, not on it" ||
	fail "NO_COLOR: the reading is on the fill: [$b1]"
keys mono :
type_text mono "set m.master 1.5"
keys mono Enter
# the clip latch: CLIP from the over (held at the ceiling), kept after the level falls, until C
wait_screen mono "CLIP" 10 && pass "CLIP shows while out1 is over full scale" ||
	{ fail "no CLIP over full scale"; screen mono; }
sleep 1
check_zone mono out1 "held at the ceiling"
keys mono :
type_text mono "set m.master 0.5"
keys mono Enter
sleep 1.5
b=$(bar mono out1)
case $b in *CLIP*) pass "CLIP stays after the level fell (latched): [$b]" ;;
	*) fail "CLIP went away by itself: [$b]" ;; esac
check_zone mono out1 "with CLIP shown"
keys mono C
wait_screen mono "clip marks cleared" 5 && sleep 1 &&
	! bar mono out1 | grep -q CLIP &&
	pass "C clears CLIP" || { fail "C did not clear CLIP"; screen mono; }
ui_stop mono

# ---- with colour: yellow and red appear on the bar, the number in the
# colour of its zone; over 0 dB red
ui_start color 80 24 -- --threads 2 --no-clip levels.fsp
wait_reading color out1 && wait_reading color out2 || fail "colour: no readings"
sleep 1
check_zone color out1 "colour"
check_zone color out2 "colour"
# in tmux's escapes: red is 31, yellow 33, green 32
esc=$(tmx capture-pane -e -p -t color)
o1=$(echo "$esc" | grep -o 'out1 \[.*out2' | head -1)
o2=$(echo "$esc" | grep -o 'out2 \[.*' | head -1)
echo "$o1" | grep -q '\[[0-9;]*31m#' && echo "$o1" | grep -q '\[[0-9;]*33m=' &&
	pass "colour: out1 at -1.4 dB shows yellow and red cells on its bar" ||
	{ fail "colour: no yellow and red cells on out1's bar"; echo "$o1" | cat -v; }
echo "$o2" | grep -q '\[[0-9;]*33m=' && ! echo "$o2" | grep -q '31m#' &&
	pass "colour: out2 at -6 dB shows yellow cells, no red" ||
	{ fail "colour: out2's bar"; echo "$o2" | cat -v; }
# pushed over full scale: +3.5 dB, red to the end, the number red
keys color :
type_text color "set m.master 1.5"
keys color Enter
for _ in $(seq 100); do
	r=$(reading "$(bar color out1)")
	case $r in +*) break ;; esac
	sleep 0.1
done
b=$(bar color out1)
case $(reading "$b") in
	+*) pass "over full scale the reading has its sign: [$b]" ;;
	*) fail "out1 over full scale reads: [$b]" ;;
esac
check_zone color out1 "over 0 dB"
esc=$(tmx capture-pane -e -p -t color)
o1=$(echo "$esc" | grep -o 'out1 \[.*out2' | head -1)
echo "$o1" | grep -q '31m[^]]*+[0-9.]* dB' &&
	pass "a reading over 0 dB is drawn red" ||
	{ fail "the +dB reading is not red"; echo "$o1" | cat -v; }
ui_stop color

# ---- the issue's repro: pad.fsp, 32 voices, 32 notes at velocity 80
cp "$top_srcdir/patches/pad.fsp" pad.fsp
ui_start pad 80 24 -- --threads 2 pad.fsp
keys pad :
type_text pad "poly 32"
keys pad Enter
for key in $(seq 40 71); do
	keys pad :
	type_text pad "note $key 80 40"
	keys pad Enter
done
wait_reading pad out1 || { fail "pad: no reading"; screen pad; tail -5 pad.stderr; }
sleep 2
for out in out1 out2; do
	check_zone pad $out "pad.fsp, 32 notes"
	# the meter's stretch of the row, escapes and all, and its reading
	# from the same capture (the level moves between two)
	esc=$(tmx capture-pane -e -p -t pad | grep -o "$out.*dB" | sed 's/out2.*//' | head -1)
	[ "$out" = out2 ] && esc=$(tmx capture-pane -e -p -t pad | grep -o "out2.*dB" | head -1)
	r=$(echo "$esc" | sed 's/\x1b\[[0-9;]*m//g' | grep -o '[-+]*[0-9.inf]* dB' | head -1 | cut -d' ' -f1)
	want=$(awk -v d="$r" 'BEGIN { print (d + 0 >= -3 ? "31m#" : d + 0 >= -12 ? "33m=" : "32m-") }')
	echo "$esc" | grep -q "$want" &&
		pass "pad.fsp: $out at $r dB shows its zone's colour on the bar" ||
		{ fail "pad.fsp: $out at $r dB, no '$want' on the bar"; echo "$esc" | cat -v; }
done
ui_stop pad
finish
