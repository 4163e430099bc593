# tests/standby_test.sh — the warm standby DSP child, against a private
# `jackd -d dummy` with forksynth headless and a note held throughout: when
# the playing child is SIGKILLed or SIGSTOPped, the standby takes over (its
# pid is the one that plays next), has the edits made before the fault, and
# the held note sounds again; the old child is gone and a new standby comes
# up.  Killing or stopping the standby itself replaces it and leaves the
# playing child alone.  Repeated kills are each a takeover; two in a row,
# before a new standby is ready, fall back to a restart, which replays the
# held note too.  How many periods a takeover costs is timing: printed
# here as a figure, measured by `make bench` (bench/standby_bench.sh).
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"
. "$top_srcdir/tests/jack_lib.sh"

rate=48000 period=256
cd "$scratch"
start_server

# a sine per note, 5 ms attack, full sustain: a held note is a steady tone
cat > held.fsp <<'P'
poly 4
voice midi note
voice vco  osc wave=sine
voice adsr env attack=0.005 decay=0.1 sustain=1 release=0.05
voice vca  amp gain=0.5
connect note.pitch osc.pitch
connect note.gate  env.gate
connect osc.out    amp.in
connect env.out    amp.cv
connect amp.out    out.1
connect amp.out    out.2
P

now_ms() { date +%s%3N; }


# wait_err REGEX SECONDS: until sb.err matches REGEX (extended); 1 on timeout.
wait_err() {
	end=$(( $(now_ms) + $2 * 1000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		grep -qE -- "$1" sb.err && return 0
		sleep 0.02
	done
	return 1
}

# gone PID: the process has ended and been reaped (no zombie, not stopped).
gone() {
	for _ in $(seq 100); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.05
	done
	return 1
}

# children: how many DSP children forksynth has now.
children() {
	pgrep -P "$fs_pid" -f -- "--dsp-child" | grep -c .
}

# note_back FILE WHAT: the last half second of FILE carries the held note,
# an octave up (the edit made before the fault), at full level.
note_back() {
	n=$(soxi -s "$1")
	r=$("$ANALYZE" rms "$1" $((n - rate / 2)) $((rate / 2)))
	f=$("$ANALYZE" freq "$1" $((n - 16384)) 16384)
	awk -v r="$r" -v f="$f" 'BEGIN { exit !(r > 0.3 && f > 520 && f < 527) }' &&
		pass "$2: the held note sounds again, an octave up (RMS $r, $f Hz)" ||
		fail "$2: after it RMS $r at $f Hz, not the held note at 523 Hz"
}

# dip FILE WHAT: the longest dip below half level in FILE, as a figure in
# periods.
dip() {
	d=$("$ANALYZE" dip "$1" 0.25 96)
	z=$("$ANALYZE" zeros "$1")
	figure "$2: below half level ${d%% *} frames ($(awk -v d="${d%% *}" -v p=$period 'BEGIN { printf "%.2f", d / p }') periods), exact silence $z frames"
}

start_fs sb held.fsp
standby_ready 30 && pass "a standby is ready: pid $(stats_field standby_pid), beside the playing pid $(dsp_child)" ||
	fail "no standby ready after 30 s: $(send stats)"
[ "$(children)" = 2 ] && pass "two DSP children: the playing one and the standby" ||
	fail "$(children) DSP children"
a=$(send "note 60 100 600")
[ "$a" = ok ] || fail "note: $a"
# a note that ends before the fault is not replayed
a=$(send "note 72 100 0.3")
sleep 1
# an edit before the fault: the standby must have it too
a=$(send "set osc.detune 1200")
[ "$a" = ok ] || fail "set before the kill: $a"
sleep 0.5

# ---- the playing child is SIGKILLed: the standby takes over
echo "---- SIGKILL of the playing child"
send "record kill.wav" > /dev/null
sleep 0.5
active=$(dsp_child)
standby=$(stats_field standby_pid)
kill -KILL "$active"
if wait_err "the standby took over" 10; then
	pass "takeover reported: $(grep -m1 'took over' sb.err)"
else
	fail "no takeover after SIGKILL: $(tail -3 sb.err)"
fi
grep -q "DSP child died of signal 9 (Killed).*; the standby took over (restart 1, pid $standby); 1 held note sounds again" sb.err &&
	pass "the message names the signal, the new pid, and the one held note (72 had ended)" ||
	fail "message: $(grep -m1 'DSP child' sb.err)"
[ "$(dsp_child)" = "$standby" ] && pass "the standby (pid $standby) plays now" ||
	fail "playing pid $(dsp_child), not the standby $standby"
gone "$active" && pass "the killed child (pid $active) is reaped" || fail "pid $active still there"
st=$(send stats)
[ "$(stat_of restarts)" = 1 ] && [ "$(stat_of takeovers)" = 1 ] &&
	pass "stats: restarts 1, takeovers 1" || fail "stats: $st"
standby_ready 30 && new=$(stats_field standby_pid) && [ "$new" != "$standby" ] &&
	pass "a new standby is ready (pid $new)" || fail "no new standby: $(send stats)"
sleep 0.5
send "record stop" > /dev/null
note_back kill.wav "after the SIGKILL"
dip kill.wav "SIGKILL takeover"

# ---- the playing child is SIGSTOPped: seen as stopped, the standby takes over
echo "---- SIGSTOP of the playing child"
send "record stop.wav" > /dev/null
sleep 0.5
active=$(dsp_child)
standby=$(stats_field standby_pid)
kill -STOP "$active"
if wait_err "was stopped by signal" 10; then
	pass "takeover reported: $(grep -m1 'was stopped' sb.err)"
else
	fail "no takeover after SIGSTOP: $(tail -3 sb.err)"
fi
grep -q "was stopped by signal 19 .*; the standby took over (restart 2, pid $standby); 1 held note sounds again" sb.err &&
	pass "the message says it was stopped" || fail "message: $(grep -m1 'was stopped' sb.err)"
[ "$(dsp_child)" = "$standby" ] && pass "the standby (pid $standby) plays now" ||
	fail "playing pid $(dsp_child), not the standby $standby"
gone "$active" && pass "the stopped child (pid $active) is killed and reaped" ||
	{ fail "the stopped pid $active is still there"; kill -KILL "$active"; }
standby_ready 30 || fail "no new standby after the SIGSTOP"
sleep 0.5
send "record stop" > /dev/null
note_back stop.wav "after the SIGSTOP"
dip stop.wav "SIGSTOP takeover"

# ---- the standby is SIGKILLed, then SIGSTOPped: replaced; the playing
# child goes on untouched
for sig in KILL STOP; do
	echo "---- SIG$sig of the standby"
	send "record sb$sig.wav" > /dev/null
	sleep 0.3
	active=$(dsp_child)
	standby=$(stats_field standby_pid)
	lost=$(stats_field standby_lost)
	restarts=$(stats_field restarts)
	kill -"$sig" "$standby"
	if wait_err "the standby DSP child .*; a new standby is starting" 10; then
		pass "standby loss reported: $(grep 'standby DSP child' sb.err | tail -1)"
	else
		fail "no word of the lost standby: $(tail -3 sb.err)"
	fi
	gone "$standby" && pass "the old standby (pid $standby) is reaped" ||
		{ fail "old standby $standby still there"; kill -KILL "$standby"; }
	standby_ready 30 && pass "a new standby is ready (pid $(stats_field standby_pid))" ||
		fail "no new standby after SIG$sig of the standby"
	st=$(send stats)
	[ "$(stat_of dsp_pid)" = "$active" ] && [ "$(stat_of restarts)" = "$restarts" ] &&
		[ "$(stat_of standby_lost)" = $((lost + 1)) ] &&
		pass "the playing child (pid $active) untouched, no restart, standby_lost $((lost + 1))" ||
		fail "after SIG$sig of the standby: $st"
	send "record stop" > /dev/null
	note_back "sb$sig.wav" "SIG$sig of the standby"
	dip "sb$sig.wav" "SIG$sig of the standby (no takeover)"
done

# ---- repeated kills: each a takeover by a standby, each replaced
echo "---- three kills in a row, each after a standby is ready"
restarts=$(stats_field restarts)
for k in 1 2 3; do
	standby_ready 30 || fail "kill $k: no standby ready"
	standby=$(stats_field standby_pid)
	kill -KILL "$(dsp_child)"
	for _ in $(seq 100); do [ "$(dsp_child)" = "$standby" ] && break; sleep 0.05; done
	[ "$(dsp_child)" = "$standby" ] || fail "kill $k: the standby $standby did not take over"
done
sleep 0.3
st=$(send stats)
[ "$(stat_of restarts)" = $((restarts + 3)) ] && pass "three more restarts counted: $(stat_of restarts)" ||
	fail "restarts after three kills: $st"
standby_ready 30 || fail "no standby after the three kills"
[ "$(children)" = 2 ] && pass "still two DSP children, nothing left behind" ||
	fail "$(children) DSP children: $(pgrep -a -P "$fs_pid")"

# ---- the playing child and the standby killed at once: no standby to
# take over, so a restart, which replays the held note too
echo "---- the playing child and the standby killed at once"
send "record twice.wav" > /dev/null
sleep 0.3
kill -KILL "$(dsp_child)" "$(stats_field standby_pid)"
if wait_err "DSP child died of signal 9 \(Killed\)[^;]*; restarted \(restart [0-9]+, pid [0-9]+\); 1 held note sounds again" 15; then
	pass "a restart: $(grep -m1 '; restarted' sb.err)"
else
	fail "no restart after both were killed: $(tail -3 sb.err)"
fi
standby_ready 30 || fail "no standby after both were killed"
[ "$(children)" = 2 ] && pass "two DSP children again" || fail "$(children) DSP children"
sleep 0.5
send "record stop" > /dev/null
note_back twice.wav "after the restart"
dip twice.wav "both killed (a restart)"

stop_fs
[ "$fs_status" = 0 ] && pass "forksynth quits cleanly (0)" || fail "exit status $fs_status"
grep -q "DSP restarts" sb.err && echo "$(grep 'DSP restarts' sb.err)"
no_leftovers
finish
