# tests/ui_fixes_test.sh — the small things issue 18 found, each as the
# user met it, through tmux against a private `jackd -d dummy`: what
# counts toward DSP GAVE UP (kills from outside do not: the standby takes
# over and the status line says so; a module that crashes on every start
# does), [+] after undoing back to the loaded patch, PARAM=VALUE completion
# while adding a module, Esc in normal mode, bind with an unknown command,
# note names at the `note` command, ? going back to where it came from, and
# :e refused over unsaved changes.
. "$top_srcdir/tests/lib.sh"
: "${FORKSYNTH_FI:?}"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
drone_patch drone.fsp

# line2 NAME: the second status line.
line2() { screen "$1" | sed -n 2p; }
# dsp_pid NAME: the DSP child's pid as the status line shows it.
dsp_pid() { screen "$1" | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p'; }

# ---- bug 6: seven kills from outside, each right after a start: the
# standby takes over each time, nothing counts toward giving up
ui_start k 100 30 -- --threads 2 drone.fsp
killed=0 last=""
for i in $(seq 7); do
	pid=""
	for _ in $(seq 100); do
		pid=$(dsp_pid k)
		[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$last" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] && [ "$pid" != "$last" ] || break
	kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1))
	last=$pid
done
# wait until the counts settle (a kill that lands while a child is still
# starting is told with the next restart, so there may be fewer restarts
# than kills)
prev=""
for _ in $(seq 50); do
	r=$(line2 k | sed -n 's/.*restarts \([0-9]*\).*/\1/p')
	[ -n "$r" ] && [ "$r" = "$prev" ] && break
	prev=$r
	sleep 0.5
done
s=$(line2 k)
r=$(echo "$s" | sed -n 's/.*restarts \([0-9]*\).*/\1/p')
t=$(echo "$s" | sed -n 's/.*(\([0-9]*\) by standby).*/\1/p')
[ "$killed" = 7 ] && pass "seven SIGKILLs sent to the DSP child, each right after it started" ||
	fail "only $killed kills sent"
case $s in *"DSP GAVE UP"*) fail "kills from outside made it give up: $s" ;;
	*) pass "kills from outside never give up, as the docs say: $s" ;; esac
[ "${r:-0}" -ge 1 ] && pass "restarts counted: $r for $killed kills" || fail "restarts: '$s'"
[ -n "$t" ] && [ "$t" -ge 1 ] && [ "$t" -le "$r" ] &&
	pass "the standby's takeovers are shown apart from the restarts: $t of $r" ||
	fail "takeovers not shown: '$s'"
case $s in *crashes*) fail "kills counted as the DSP's own crashes: $s"
		keys k 4; screen k | grep -i -A1 "dsp child\|standby\|restart"; keys k 1 ;;
	*) pass "no crash streak shown for kills from outside" ;; esac
# the log says why, for each: a kill from outside, taken over or restarted
keys k 4
screen k | grep -q "signal 9" && pass "the log view tells of the kills" ||
	{ fail "no kill in the log view"; screen k; }
ui_stop k

# a module that crashes on every start: the streak shows, then DSP GAVE UP
cat > crashy.fsp <<'P'
global vco   osc wave=sine freq=440 level=0.5
global fault f mode=none
connect osc.out f.in
connect f.out  out.1
connect f.out  out.2
P
FS=$FORKSYNTH_FI ui_start c 100 30 -- --threads 2 crashy.fsp
at_prompt c "set f.mode crash"
streak=""
for _ in $(seq 300); do
	s=$(line2 c)
	case $s in *"crashes "[1-4]/5*) streak=$(echo "$s" | grep -o 'crashes [0-9]/5') ;; esac
	case $s in *"DSP GAVE UP"*) break ;; esac
	sleep 0.1
done
case $s in *"DSP GAVE UP"*) pass "a module crashing on every start: DSP GAVE UP: $s" ;;
	*) fail "no DSP GAVE UP after a crash on every start: $s" ;; esac
[ -n "$streak" ] && pass "the streak was shown on the way: '$streak'" ||
	echo "note: the streak was not caught between polls (a loaded machine)"
ui_stop c

# ---- bug 7: [+] goes when undo comes back to the loaded patch
ui_start e 80 24 -- --threads 2 drone.fsp
at_prompt e "set flt.cutoff 500"
wait_screen e "[+]" 5 && pass "[+] after a change" || fail "no [+] after a change"
at_prompt e "set amp.gain 0.2"
keys e u
keys e u
wait_screen e "undone (0 more to undo" 5 && sleep 0.3
line2 e | grep -qF "[+]" && fail "[+] stays after undoing back: $(line2 e)" ||
	pass "undone back to the loaded patch: no [+]: $(line2 e)"
keys e C-r
wait_screen e "[+]" 5 && pass "redo brings [+] back" || fail "no [+] after redo"
at_prompt e "set flt.cutoff 8000"
keys e C-r
sleep 0.3
at_prompt e "set amp.gain 0.3"
sleep 0.3
line2 e | grep -qF "[+]" && fail "[+] with the patch as loaded: $(line2 e)" ||
	pass "setting the values back as loaded clears [+] too"

# Esc in normal mode: nothing happens, nothing is said
at_prompt e "view patch"
sleep 0.3
before=$(screen e | tail -2 | head -1)
keys e Escape
sleep 0.5
s=$(screen e)
echo "$s" | grep -q "not bound" && fail "Esc in normal mode gives a message: $(echo "$s" | tail -2)" ||
	pass "Esc in normal mode does nothing, silently"

# bind with a command that does not exist: refused at once, naming it
at_prompt e "bind Q foo"
wait_screen e "bind: no command 'foo'" 5 && pass "bind Q foo is refused: $(screen e | grep -o "bind: no command.*" | head -1)" ||
	{ fail "bind Q foo accepted"; screen e | tail -3; }
keys e Q
wait_screen e "Q is not bound" 5 && pass "and Q stays unbound" || { fail "Q after a refused bind"; screen e | tail -3; }
at_prompt e "bind Q view cost"
keys e Q
wait_screen e "MODULE         TYPE" 5 && pass "bind with a real command still works" ||
	fail "bind Q view cost"
at_prompt e "unbind Q"

# ? goes back to the view it came from
keys e 4
wait_screen e "MESSAGES" 5
keys e '?'
wait_screen e "HELP (" 5
keys e '?'
wait_screen e "MESSAGES" 5 && pass "? from the log view returns to the log view" ||
	{ fail "? did not return to the log"; screen e | sed -n 6,8p; }
keys e 3
keys e F1
wait_screen e "HELP (" 5
keys e F1
wait_screen e "MODULE         TYPE" 5 && pass "F1 from the cost view returns to it" ||
	fail "F1 did not return to the cost view"
keys e 1

# note names at the note command, as scores take them
at_prompt e "note C4 100 0.5"
wait_screen e "note C4 100 0.5" 5 && ! screen e | grep -q "usage: note" &&
	pass "note C4 100 0.5 is taken" || { fail "note C4 refused"; screen e | tail -3; }
for bad in "note H4 100 0.5" "note C10 100 0.5" "note C4 0 1" "note 128 100 1" "note C4 100"; do
	at_prompt e "note 60 1 0.1"
	wait_screen e "note 60 1 0.1" 5
	at_prompt e "$bad"
	wait_screen e "usage: note NOTE" 5 && pass "'$bad' refused with the usage" ||
		fail "'$bad' not refused"
done

# completion: PARAM=VALUE of the module type being added
keys e :
type_text e "global lfo l1 wave=s"
keys e Tab
wait_screen e "wave=saw" 5 && wait_screen e "wave=sine" 1 && wait_screen e "wave=square" 1 &&
	pass "wave=s + Tab while adding an lfo lists wave=saw wave=sine wave=square" ||
	{ fail "wave=s completion"; screen e | tail -3; }
type_text e "q"
keys e Tab
wait_screen e ":global lfo l1 wave=square" 5 && pass "wave=sq + Tab completes wave=square" ||
	{ fail "wave=sq completion"; screen e | tail -2; }
keys e Escape

# :e FILE over unsaved changes is refused, as q is; :e! loads anyway and u
# brings the changes back
cat > other.fsp <<'P'
# another patch
poly 1
global vco    other wave=sine freq=330
connect other.out out.1
P
at_prompt e "set flt.cutoff 1234"
at_prompt e "e other.fsp"
wait_screen e "unsaved changes [+]: :w writes them, :e! other.fsp loads it" 5 &&
	pass ":e over unsaved changes is refused and says what to do" ||
	{ fail ":e over unsaved changes"; screen e | tail -3; }
keys e 1
sleep 1
screen e | grep -qE "^ +flt +ladder" && ! screen e | grep -qE "^ +other +vco" &&
	pass "the edited patch still plays and shows" || { fail "the patch after a refused :e"; screen e; }
at_prompt e "e! other.fsp"
wait_screen e "loaded other.fsp (u undoes)" 5 && screen e | grep -qE "^ +other +vco" &&
	pass ":e! loads the other patch anyway" || { fail ":e!"; screen e | tail -3; }
keys e u
sleep 1
screen e | grep -qE "^ +flt +ladder" && ! screen e | grep -qE "^ +other +vco" &&
	pass "u after :e! brings the edited patch back" || { fail "undo after :e!"; screen e; }
ui_stop e
finish
