# tests/ui_test.sh — the terminal UI as a person uses it: forksynth runs in
# a tmux pane against a private `jackd -d dummy`; keys go in with
# `tmux send-keys`, the screen comes back with `tmux capture-pane`, and
# jack_capture records what the keys did to the sound.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}" "${FORKSYNTH_FI:?}"
. "$top_srcdir/tests/jack_lib.sh"

. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
drone_patch drone.fsp 8000 0.1 1
cat > keys.fsp <<'P'
poly 4
voice midi note
voice vco  osc wave=saw
voice vca  amp gain=0.3
connect note.pitch osc.pitch
connect osc.out    amp.in
connect note.gate  amp.cv
connect amp.out    out.1
connect amp.out    out.2
P

# ---- the screen: status line, one load bar per DSP thread, modules, params
rt_granted=""
for threads in 2 3; do
	ui_start t$threads 80 24 -- --threads $threads drone.fsp
	s=$(screen t$threads)
	# the drone plays on out.1 only: out2 shows no level from the start
	out2=$(echo "$s" | grep -o 'out2 \[[^]]*\]')
	case $out2 in *"-inf dB]") pass "a silent output reads -inf from the start: $out2" ;;
		*) fail "a silent output at start: '$out2'" ;; esac
	bars=$(echo "$s" | grep -o 'dsp[0-9]* [FRNBI?][0-9]* *\[' | wc -l)
	[ "$bars" = "$threads" ] && pass "--threads $threads: $bars DSP load bars" ||
		{ fail "--threads $threads: $bars DSP load bars"; echo "$s"; }
	# each bar's label says its thread's scheduling (F4: SCHED_FIFO 4, N:
	# normal), as ps sees the child's threads: the same real-time ones,
	# whether real-time was granted here or not
	for _ in $(seq 20); do
		screen t$threads | grep -q 'dsp[0-9]* ? *\[' || break; sleep 0.1
	done
	s=$(screen t$threads)
	marks=$(echo "$s" | grep -o 'dsp[0-9]* [FRNBI][0-9]* *\[' | awk '{ sub(/\[$/, "", $2); print $2 }')
	shown_rt=$(echo "$marks" | grep '^[FR]' | sort | tr '\n' ' ')
	child=$(echo "$s" | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')
	ps_rt=$(ps -L -o cls=,rtprio= -p "$child" |
		awk '$1 == "FF" { print "F" $2 } $1 == "RR" { print "R" $2 }' | sort | tr '\n' ' ')
	[ -n "$shown_rt" ] && rt_granted=1
	[ "$(echo "$marks" | grep -c .)" = "$threads" ] && [ "$shown_rt" = "$ps_rt" ] &&
		pass "scheduling markers $(echo $marks) agree with ps (real-time: '$ps_rt')" ||
		{ fail "markers '$(echo $marks)', ps real-time threads '$ps_rt'"; echo "$s" | sed -n 3,5p; }
	echo "$s" | grep -q 'jack *\[' && pass "a load bar for the JACK callback" ||
		fail "no JACK callback bar"
	echo "$s" | grep -q "forksynth  t$threads  48000 Hz  256 fr 5.3 ms  sync  DSP pid [0-9]*$" &&
		pass "status line: client, rate, period, mode, child pid" ||
		{ fail "status line"; echo "$s" | head -2; }
	echo "$s" | sed -n 2p | grep -q "^ restarts 0  xruns [0-9]*  late [0-9]*  MIDI -  not recording *drone.fsp$" &&
		pass "second line: restarts, xruns, late cycles, MIDI, recording, the patch" ||
		{ fail "second status line"; echo "$s" | sed -n 2p; }
	[ "$threads" = 3 ] && break
	ui_stop t$threads
done
s=$(screen t3)
for m in "osc          vco       global" "flt          ladder    global" \
	"amp          vca       global"; do
	echo "$s" | grep -qF " $m" && pass "module listed: $m" || fail "module missing: $m"
done
echo "$s" | grep -q "out1 \[.*dB\] out2 \[.*dB\]" && pass "output level meters" ||
	fail "no output meters"
echo "$s" | grep -q "wave *\[.*saw\]" && pass "the selected module's parameters (osc.wave = saw)" ||
	{ fail "parameters of the selected module"; echo "$s"; }
echo "$s" | tail -1 | grep -q "q:quit" && pass "at 80x24 the key hints fit" ||
	fail "hints cut: $(echo "$s" | tail -1)"
# the layout follows a resize: three bars to a row at 120 columns
tmx resize-window -t t3 -x 120 -y 40
sleep 0.5
s=$(screen t3)
echo "$s" | grep -q "dsp1 .*dsp2 .*dsp3 " && [ "$(echo "$s" | wc -l)" -ge 40 ] &&
	pass "after a resize to 120x40 the bars take three to a row" ||
	{ fail "layout after resize"; echo "$s"; }
ui_stop t3
grep -q "exit 0" t3.exit && pass "q quits with status 0" || fail "q: $(cat t3.exit)"
grep -q " icanon " t3.stty && grep -q " echo " t3.stty && pass "the terminal is back in cooked mode with echo" ||
	fail "terminal left raw: $(cat t3.stty)"

# ---- the cutoff by keys and by :set, heard in the recording
ui_start cut 80 24 -- --threads 2 drone.fsp
capture bright.wav 1.5 cut
keys cut j l                  # flt, into its parameters: cutoff
before=$(shown cut cutoff)
keys cut [ [ [ [ [ [ [ [ [ [
after=$(shown cut cutoff)
case $before/$after in
"8 kHz"/4[0-9][0-9]*" Hz") pass "ten coarse steps down: cutoff shown $before -> $after" ;;
*) fail "cutoff shown $before -> $after"; screen cut ;;
esac
sleep 0.3
capture dark.wav 1.5 cut
b=$(hf_level bright.wav) d=$(hf_level dark.wav)
awk -v b="$b" -v d="$d" 'BEGIN { exit !(d < b - 15) }' &&
	pass "less energy above 3 kHz after the keys: $b dBFS -> $d dBFS" ||
	fail "energy above 3 kHz: $b dB -> $d dB"
keys cut u
case $(shown cut cutoff) in "8 kHz") pass "u undoes the ten steps in one" ;;
*) fail "undo shows $(shown cut cutoff)" ;; esac
keys cut C-r
case $(shown cut cutoff) in 4[0-9][0-9]*" Hz") pass "C-r redoes them" ;;
*) fail "redo shows $(shown cut cutoff)" ;; esac
keys cut :
type_text cut "set flt.cutoff 150"
keys cut Enter
case $(shown cut cutoff) in "150 Hz") pass ":set flt.cutoff 150 shows 150 Hz" ;;
*) fail ":set shows $(shown cut cutoff)" ;; esac
sleep 0.3
capture darker.wav 1.5 cut
k=$(hf_level darker.wav)
awk -v d="$d" -v k="$k" 'BEGIN { exit !(k < d - 3) }' &&
	pass "and the recording follows: $d dB -> $k dB above 3 kHz" ||
	fail "after :set, above 3 kHz: $d dB -> $k dB"
# the prompt completes and remembers
keys cut :
type_text cut "set fl"
keys cut Tab
screen cut | tail -1 | grep -q "^:set flt\.$" && pass "Tab completes a module name to 'flt.'" ||
	fail "completion gave: $(screen cut | tail -1)"
type_text cut "cu"
keys cut Tab
screen cut | tail -1 | grep -q "^:set flt\.cutoff *$" && pass "Tab completes the parameter" ||
	fail "completion gave: $(screen cut | tail -1)"
keys cut C-u Up
screen cut | tail -1 | grep -q "^:set flt.cutoff 150" && pass "Up recalls the last command" ||
	fail "history gave: $(screen cut | tail -1)"
keys cut Escape
# a bad command is an error on the message line, the patch untouched
keys cut :
type_text cut "set flt.cutoff 99999"
keys cut Enter
screen cut | grep -q "error.*flt.cutoff\|cutoff.*20000" && pass "an out-of-range value is refused on the message line" ||
	{ fail "no error for a bad value"; screen cut | tail -3; }
case $(shown cut cutoff) in "150 Hz") pass "and the value stays" ;;
*) fail "value now $(shown cut cutoff)" ;; esac
# bindings from the user's rc: a key of one's own
mkdir -p "$XDG_CONFIG_HOME/forksynth"
ui_stop cut

# ---- the piano rows play notes; terminals send no releases, they end anyway
printf 'bind K view cost\nbind F5 panic\n' > "$XDG_CONFIG_HOME/forksynth/rc"
ui_start keys 80 24 -- --threads 2 keys.fsp
capture piano.wav 4 keys &
cap=$!
sleep 0.6
keys keys p
screen keys | grep -q "PIANO C4 vel 100" && pass "p enters the piano (C4, velocity 100)" ||
	fail "piano mode not shown"
keys keys z
sleep 0.5
keys keys q            # C5 on the upper row, not quit
wait $cap
on=$("$ANALYZE" onsets piano.wav | tr '\n' ' ')
n_on=$(echo $on | wc -w)
[ "$n_on" -ge 2 ] && pass "two piano keys, $n_on notes recorded (onsets at $on)" ||
	fail "piano notes recorded: $n_on ($on)"
first=$(echo $on | awk '{ print $1 }')
f=$("$ANALYZE" freq piano.wav $((first + 2400)) 9600)
awk -v f="$f" 'BEGIN { exit !(f > 255 && f < 268) }' && pass "z plays C4: $f Hz" ||
	fail "z played $f Hz"
frames=$(soxi -s piano.wav 2>/dev/null)
tail_rms=$("$ANALYZE" rms piano.wav $((frames - 14400)) 14400)
awk -v r="$tail_rms" 'BEGIN { exit !(r < 1e-4) }' &&
	pass "the notes end without key releases (rms $tail_rms at the end)" ||
	fail "notes still sounding at the end: rms $tail_rms"
keys keys Escape
screen keys | grep -q "PIANO" && fail "Esc did not leave the piano" || pass "Esc leaves the piano"
keys keys K
screen keys | grep -q "MODULE *TYPE *SCOPE *INST *CPU%" && pass "a key bound in ~/.config/forksynth/rc opens the cost view" ||
	{ fail "rc binding"; screen keys; }
sleep 1.2
screen keys | grep -q "^osc  *vco  *voice  *4  *[0-9.]*%" && pass "cost view lists modules with their share" ||
	{ fail "cost view"; screen keys; }
ui_stop keys

# ---- add, connect and remove by keys; :w writes a patch that reloads alike
ui_start edit 80 24 -- --threads 2 drone.fsp
keys edit a
type_text edit lfo
keys edit Enter Enter Enter         # type lfo, scope voice, name lfo1
screen edit | grep -q " lfo1 *lfo *voice" && pass "a, lfo, Enter x3 adds lfo1" ||
	{ fail "add"; screen edit; }
keys edit c
type_text edit lfo1.out
keys edit Enter
type_text edit flt.mod
keys edit Enter
keys edit 2
screen edit | grep -q "lfo1.out *-> flt.mod" && pass "c connects lfo1.out to flt.mod from pick lists" ||
	{ fail "connect"; screen edit; }
keys edit 1 a
type_text edit noise
keys edit Enter Down Enter Enter    # global this time
screen edit | grep -q " noise1 *noise *global" && pass "noise1 added, global" ||
	{ fail "add global"; screen edit; }
keys edit x
screen edit | grep -q " noise1 " && fail "x did not remove noise1" || pass "x removes the selected module"
keys edit :
type_text edit "w saved.fsp"
keys edit Enter
wait_screen edit "wrote saved.fsp" 3 && pass ":w saved.fsp writes it" || fail ":w: $(screen edit | tail -2)"
"$FORKSYNTH" --check saved.fsp > check.txt 2>&1 && pass "forksynth --check accepts it: $(cat check.txt)" ||
	fail "--check: $(cat check.txt)"
grep -q "connect lfo1.out flt.mod" saved.fsp && ! grep -q noise1 saved.fsp &&
	pass "it holds the connection and not the removed module" || fail "saved: $(cat saved.fsp)"
keys edit g h
panel() { screen "$1" | sed -n '/^MODULES/,$p' | head -14; }
panel edit > before.txt
ui_stop edit
ui_start again 80 24 -- --threads 2 saved.fsp
panel again > after.txt
cmp -s before.txt after.txt && pass "reloaded, the patch shows the same screen" ||
	{ fail "the reloaded patch looks different"; diff before.txt after.txt; }
ui_stop again

# ---- C-w keeps the user's file: a commented 0644 pad, one parameter
# stepped by keys, saved: only that line changes, the mode stays; :w over
# an unrelated file needs :w!; a FIFO and a directory are refused
cp "$top_srcdir/patches/pad.fsp" mypad.fsp
chmod 0644 mypad.fsp
cp mypad.fsp mypad.orig
printf 'my notes\n' > notes.txt
mkfifo pipe.fsp
mkdir adir
ui_start keep 80 24 -- --threads 2 mypad.fsp
keys keep j j j j l ]               # flt, its first parameter (cutoff), up
keys keep C-w
wait_screen keep "wrote mypad.fsp" 5 && pass "C-w writes mypad.fsp" ||
	fail "C-w: $(screen keep | tail -2)"
diff mypad.orig mypad.fsp > d.txt
[ "$(grep -c '^[<>]' d.txt)" = 2 ] && grep -q '^> voice ladder flt   cutoff=[0-9.]* res=0.25 depth=3' d.txt &&
	pass "only the stepped line changed: $(grep '^>' d.txt)" || fail "diff after C-w: $(cat d.txt)"
[ "$(stat -c %a mypad.fsp)" = 644 ] && pass "mode 0644 kept" || fail "mode $(stat -c %a mypad.fsp)"
keys keep :
type_text keep "w notes.txt"
keys keep Enter
wait_screen keep "not this patch's file" 3 && pass ":w notes.txt refused: $(screen keep | grep -m1 "not this")" ||
	fail ":w notes.txt: $(screen keep | tail -2)"
[ "$(cat notes.txt)" = "my notes" ] && pass "notes.txt untouched" || fail "notes.txt: $(cat notes.txt)"
for t in pipe.fsp adir; do
	keys keep :
	type_text keep "w! $t"
	keys keep Enter
	wait_screen keep "not a patch file" 3 && pass ":w! $t refused: $(screen keep | grep -m1 "not a patch")" ||
		fail ":w! $t: $(screen keep | tail -2)"
done
[ -p pipe.fsp ] && [ -d adir ] && pass "the FIFO and the directory are still there" ||
	fail "$(ls -l pipe.fsp adir)"
keys keep :
type_text keep "w! notes.txt"
keys keep Enter
wait_screen keep "wrote notes.txt" 3 && grep -q '^# pad.fsp' notes.txt &&
	pass ":w! notes.txt replaces it, in the pad's layout" || fail ":w!: $(screen keep | tail -2)"
ui_stop keep

# ---- the autosave is offered when newer than the patch file
STATE=shared ui_start auto 80 24 -- --threads 2 drone.fsp
keys auto :
type_text auto "global lfo wobble"
keys auto Enter
wait_screen auto " wobble " 3 || fail "wobble not added"
ui_stop auto
# the same client name: its autosave of this patch is offered
STATE=shared ui_start auto 80 24 -- --threads 2 drone.fsp &
offer_job=$!
wait_screen auto "Restore the autosave of drone.fsp? [y/N]" 10 &&
	pass "the newer autosave is offered" || { fail "no offer"; screen auto; }
keys auto y
wait_screen auto " wobble " 5 && pass "y restores it: wobble is back" || fail "not restored"
wait $offer_job
ui_stop auto

# ---- a DSP crash is a message naming the module; the UI goes on
FS=$FORKSYNTH_FI ui_start crash 80 24 -- --threads 2 drone.fsp
kill -KILL "$(screen crash | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')"
wait_screen crash "restarts 1" 5 && pass "SIGKILL of the child: restarts 1 on the status line" ||
	fail "restart not shown: $(screen crash | head -1)"
# two more: the message line follows the count, never stale
for k in 2 3; do
	wait_screen crash "restart $((k - 1)), pid" 5
	kill -KILL "$(screen crash | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')"
	wait_screen crash "restarts $k" 5
done
sleep 0.5
msg=$(screen crash | tr -d '\n' | grep -o 'restart [0-9]*, pid' | tail -1)
[ "$msg" = "restart 3, pid" ] && pass "the message line says the newest restart: $msg" ||
	{ fail "message line after 3 restarts: '$msg'"; screen crash; }
keys crash :
type_text crash "global fault boom mode=crash after=1.5"
keys crash Enter
wait_screen crash "while running module 'boom' (fault)" 8 &&
	pass "a crash in a module names it: $(screen crash | tr -d '\n' | grep -o "DSP child.*boom' (fault)")" ||
	{ fail "blame not shown"; screen crash; }
# the log view shows the whole message, wrapped between words
keys crash :
type_text crash "view log"
keys crash Enter
sleep 0.3
logtext=$(screen crash | sed -n '/^MESSAGES/,$p' | sed 's/ *$//' | tr '\n' ' ' | tr -s ' ')
case $logtext in *"died of signal 11 (Segmentation fault) while running module 'boom' (fault); restarted (restart "*|\
	*"died of signal 11 (Segmentation fault) while running module 'boom' (fault); the standby took over (restart "*)
	pass "the log view wraps the crash message between words" ;;
*) fail "log view: $logtext" ;; esac
keys crash :
type_text crash "view patch"
keys crash Enter
keys crash :
type_text crash "remove boom"
keys crash Enter
keys crash h g l ]
case $(shown crash wave) in pulse|tri*|sine) pass "the UI keeps working: wave stepped to $(shown crash wave)" ;;
*) fail "after the crash, wave shows $(shown crash wave)"; screen crash ;; esac
# SIGTERM: the session ends cleanly, the terminal comes back
kill -TERM "$(ui_pid crash)"
for _ in $(seq 50); do [ -s crash.exit ] && break; sleep 0.1; done
grep -q " icanon " crash.stty && grep -q " echo " crash.stty &&
	pass "SIGTERM: terminal restored ($(cat crash.exit))" || fail "SIGTERM left the terminal raw"
grep -q "autosaved" crash.stderr && pass "and the patch autosaved" || fail "no autosave on SIGTERM"
tmx kill-session -t crash 2>/dev/null

# ---- a fatal signal in the UI process still gives the terminal back
ui_start segv 80 24 -- --threads 2 drone.fsp
kill -SEGV "$(ui_pid segv)"
for _ in $(seq 50); do [ -s segv.exit ] && break; sleep 0.1; done
grep -q " icanon " segv.stty && grep -q " echo " segv.stty &&
	pass "SIGSEGV in the UI: terminal restored ($(cat segv.exit))" || fail "SIGSEGV left the terminal raw"
tmx kill-session -t segv 2>/dev/null

# ---- real-time refused: forced where it was granted, by taking
# CAP_SYS_NICE away with no rtprio limit to fall back on; the labels say N
# and the message line says why
if [ -n "$rt_granted" ] && [ "$(ulimit -r)" = 0 ] &&
	setpriv --bounding-set -sys_nice true 2>/dev/null; then
	FS="setpriv --bounding-set -sys_nice $FORKSYNTH" ui_start nort 80 24 -- --threads 2 drone.fsp
	wait_screen nort "real-time scheduling refused (Operation not permitted): running as root without CAP_SYS_NICE" &&
		pass "refused real-time: the message line names the cause" ||
		{ fail "refused real-time: no warning"; screen nort | tail -3; }
	[ "$(screen nort | grep -o 'dsp[0-9]* N *\[' | wc -l)" = 2 ] &&
		pass "refused real-time: both DSP bars say N" ||
		{ fail "refused real-time: labels"; screen nort | sed -n 3,4p; }
	ui_stop nort
else
	echo "(real-time refusal not forced: not granted here, or CAP_SYS_NICE cannot be dropped)"
fi

# ---- NO_COLOR is respected; the screen works without colour
ui_start mono 80 24 NO_COLOR=1 -- --threads 2 drone.fsp
tmx capture-pane -e -p -t mono | grep -q $'\033\\[3[0-7][m;]' &&
	fail "colours despite NO_COLOR" || pass "NO_COLOR: no colour escapes on the screen"
screen mono | grep -q "dsp1 [FRNBI?][0-9]* *\[|*" && pass "bars drawn in plain characters" || fail "mono bars"
ui_stop mono
ui_start color 80 24 -- --threads 2 drone.fsp
tmx capture-pane -e -p -t color | grep -q $'\033\\[3[0-7][m;]' &&
	pass "without NO_COLOR the bars are coloured" || fail "no colours at all"
ui_stop color

no_leftovers
finish
