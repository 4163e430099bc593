# tests/ui_mouse_test.sh — the mouse as a terminal reports it: the UI runs
# in tmux against a private `jackd -d dummy`; tmux shows whether the
# program asked the terminal for mouse reports (and in SGR form), and the
# reports go in as the terminal writes them, ESC [ < BUTTON ; COLUMN ; ROW
# M (press) or m (release), with `tmux send-keys -l`.  Clicks select a
# module, a parameter, a view by its name on the tab line; the wheel turns
# the parameter under the pointer by its step (read on the screen and in
# the saved patch); broken and stray reports change nothing; --no-mouse
# and `mouse off` in the rc leave the mouse to the terminal, and the
# terminal gets it back when the program ends.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
drone_patch drone.fsp 1000 0.2 1

# the pane's mouse modes, as tmux tracks them: "standard sgr"
modes() { tmx display -p -t "$1" '#{mouse_standard_flag} #{mouse_sgr_flag}'; }
# press NAME COL ROW [BUTTON]: a press and a release at a 1-based place
press() {
	tmx send-keys -t "$1" -l "$(printf '\033[<%s;%s;%sM' "${4:-0}" "$2" "$3")"
	tmx send-keys -t "$1" -l "$(printf '\033[<%s;%s;%sm' "${4:-0}" "$2" "$3")"
	sleep 0.3
}
# wheel NAME COL ROW up|down: one notch (a press of button 64 or 65)
wheel() {
	b=64; [ "$4" = down ] && b=65
	tmx send-keys -t "$1" -l "$(printf '\033[<%s;%s;%sM' "$b" "$2" "$3")"
	sleep 0.3
}
# row_of NAME TEXT: the 1-based row where TEXT first shows
row_of() { screen "$1" | grep -nF -- "$2" | head -1 | cut -d: -f1; }
# col_of NAME TEXT: the 1-based column where TEXT starts on its row
col_of() {
	screen "$1" | grep -F -- "$2" | head -1 |
		awk -v t="$2" '{ print index($0, t) }'
}
# hz VALUE: a shown frequency ("1.04 kHz", "980 Hz") in Hz
hz() { echo "$1" | awk '{ v = $1; if ($2 == "kHz") v *= 1000; print v }'; }

ui_start m 100 30 -- drone.fsp
[ "$(modes m)" = "1 1" ] && pass "the UI asks the terminal for mouse reports, SGR form" ||
	fail "the pane's mouse modes: '$(modes m)' (standard sgr)"

# ---- a click on a module selects it
r=$(row_of m " flt          ladder")
press m 3 "$r"
wait_screen m "flt: ladder," 5 && pass "a click on flt's row selects flt" ||
	{ fail "click on a module"; screen m; }
r=$(row_of m " osc          vco")
press m 3 "$r"
wait_screen m "osc: vco," 5 && pass "a click on osc's row selects osc" ||
	{ fail "click on another module"; screen m; }
r=$(row_of m " flt          ladder")
press m 3 "$r"
wait_screen m "flt: ladder," 5

# ---- a click on a parameter selects it (its help shows under the list)
r=$(row_of m " res ")
c=$(col_of m "res ")
press m "$((c + 1))" "$r"
wait_screen m "res: " 5 && screen m | grep -q "default" &&
	pass "a click on res selects the parameter (its range shows)" ||
	{ fail "click on a parameter"; screen m; }

# ---- the wheel over cutoff turns cutoff (not the selected res), by its step
before=$(hz "$(shown m cutoff)")
r=$(row_of m "cutoff ")
c=$(col_of m "cutoff ")
wheel m "$((c + 3))" "$r" up
after=$(hz "$(shown m cutoff)")
awk -v a="$after" -v b="$before" 'BEGIN { r = a / b; exit !(r > 1.02 && r < 1.04) }' &&
	pass "a wheel notch up over cutoff: $before -> $after Hz (one fine step, 1/24 octave)" ||
	{ fail "wheel up over cutoff: $before -> $after"; screen m | tail -12; }
wheel m "$((c + 3))" "$r" down
wheel m "$((c + 3))" "$r" down
down=$(hz "$(shown m cutoff)")
awk -v a="$down" -v b="$before" 'BEGIN { exit !(a < b) }' &&
	pass "two notches down: $down Hz, below where it started" ||
	fail "wheel down over cutoff: $before -> $down"
[ "$(shown m res)" = "0.2" ] && pass "res, selected but not under the pointer, kept 0.2" ||
	fail "res changed: $(shown m res)"
screen m | sed -n 2p | grep -q "drone.fsp \[+\]" && pass "wheel edits mark the patch [+]" ||
	fail "no [+] after wheel edits"
# the value the patch holds, not just the screen: save and read it back
keys m :
type_text m "w turned.fsp"
keys m Enter
wait_screen m "wrote" 10
saved=$(sed -n 's/.*flt.*cutoff=\([0-9.]*\).*/\1/p' turned.fsp)
awk -v s="$saved" -v d="$down" 'BEGIN { exit !(s > 0 && (s - d) ^ 2 < (d * 0.01) ^ 2) }' &&
	pass "the saved patch holds the wheel's cutoff: $saved" ||
	{ fail "saved cutoff '$saved', screen $down"; cat turned.fsp; }

# ---- reports that are broken or land nowhere change nothing
now=$(shown m cutoff)
tmx send-keys -t m -l "$(printf '\033[<64;5M')"
sleep 0.3
tmx send-keys -t m -l "$(printf '\033[<64;999;999M')"
sleep 0.3
tmx send-keys -t m -l "$(printf '\033[<99999999;3;3M')"
sleep 0.3
[ "$(shown m cutoff)" = "$now" ] && alive "$(ui_pid m)" &&
	pass "cut-short, off-screen and absurd reports change nothing" ||
	{ fail "a broken report changed something: $now -> $(shown m cutoff)"; screen m; }
screen m | grep -q "is not bound" && fail "a broken report was read as keys" ||
	pass "a broken report is not read as keys"

# ---- the tab line: a click on a view's name shows that view
for v in connections browser log patch; do
	r=$(row_of m " patch   connections ")
	c=$(col_of m " $v ")
	press m "$((c + 1))" "$r"
	case $v in
	connections) want="CONNECTIONS (3)" ;;
	browser) want="PATCHES (" ;;
	log) want="MESSAGES" ;;
	patch) want="MODULES (3)" ;;
	esac
	wait_screen m "$want" 5 && pass "a click on '$v' on the tab line shows it" ||
		{ fail "click on the tab '$v'"; screen m; }
done

# ---- the older X10 form of a report (ESC [ M and three bytes), which
# ncurses decodes itself where the terminal description knows it
r=$(row_of m " osc          vco")
tmx send-keys -t m -l "$(printf "\033[M $(printf '\\%03o' 35 $((32 + r)))")"
tmx send-keys -t m -l "$(printf "\033[M#$(printf '\\%03o' 35 $((32 + r)))")"
wait_screen m "osc: vco," 5 && pass "an X10 report selects as an SGR one does" ||
	{ fail "X10 click on osc"; screen m | sed -n 6,10p; }
r=$(row_of m " flt          ladder")
press m 3 "$r"
wait_screen m "flt: ladder," 5

# ---- in the browser, a click on a patch auditions it, the wheel moves on
r=$(row_of m " patch   connections ")
press m "$(($(col_of m " browser ") + 1))" "$r"
wait_screen m "PATCHES (" 5
r=$(row_of m " pad.fsp ")
press m 3 "$r"
wait_screen m "auditioning pad.fsp" 5 && pass "a click on a patch in the browser auditions it" ||
	{ fail "click in the browser"; screen m; }
wheel m 3 "$r" down
wait_screen m "auditioning pluck.fsp" 5 && pass "the wheel in the browser auditions the next" ||
	{ fail "wheel in the browser"; screen m; }
keys m Escape
wait_screen m "back to turned.fsp, as it was" 5 ||
	{ fail "Esc after mouse auditions"; screen m | tail -3; }

# ---- while the : prompt is open, clicks do not reach behind it
keys m :
r=$(row_of m " osc          vco")
press m 3 "$r"
keys m Escape
screen m | grep -q "flt: ladder," && pass "a click while the prompt is open does nothing" ||
	{ fail "a click went behind the prompt"; screen m; }

# ---- mouse off and on at the prompt
keys m :
type_text m "mouse off"
keys m Enter
[ "$(modes m)" = "0 0" ] && pass ":mouse off gives the mouse back to the terminal" ||
	fail ":mouse off: modes '$(modes m)'"
keys m :
type_text m "mouse on"
keys m Enter
[ "$(modes m)" = "1 1" ] && pass ":mouse on asks for reports again" ||
	fail ":mouse on: modes '$(modes m)'"
# the program ends; the pane's shell runs on (sleep): no reports asked
keys m :
type_text m "q!"
keys m Enter
for _ in $(seq 100); do [ -s "$scratch/m.exit" ] && break; sleep 0.1; done
[ -s "$scratch/m.exit" ] && [ "$(modes m)" = "0 0" ] &&
	pass "on the way out the terminal's mouse modes are reset" ||
	fail "mouse modes after the end: '$(modes m)'"
tmx kill-session -t m

# ---- --no-mouse, and `mouse off` in the rc
ui_start n 80 24 -- --no-mouse drone.fsp
[ "$(modes n)" = "0 0" ] && pass "--no-mouse leaves the mouse to the terminal" ||
	fail "--no-mouse: modes '$(modes n)'"
r=$(row_of n " flt          ladder")
press n 3 "$r"
screen n | grep -q "flt: ladder," && fail "--no-mouse: a report still selected" ||
	pass "--no-mouse: a report that arrives anyway selects nothing"
ui_stop n
mkdir -p "$XDG_CONFIG_HOME/forksynth"
echo "mouse off" > "$XDG_CONFIG_HOME/forksynth/rc"
ui_start r 80 24 -- drone.fsp
[ "$(modes r)" = "0 0" ] && pass "'mouse off' in the rc leaves the mouse to the terminal" ||
	fail "rc mouse off: modes '$(modes r)'"
ui_stop r
finish
