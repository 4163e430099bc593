# tests/tempo_jack_test.sh — tempo from JACK transport, end to end: a real
# `jackd -d dummy`, transport rolled by jack_transport (timebase master at
# a set tempo), forksynth's outputs recorded by jack_capture.  An lfo with
# sync=tempo division=1/4 and a seq stepping eighth notes are measured in
# the recordings: the recorded signal is sample-accurate however loaded
# the machine is, so the period in frames is exact given the tempo; the
# median of the periods is asserted (jack_capture itself may drop frames
# on a loaded machine, which shortens a period or two).  Then transport
# stops (play=rolling mutes the seq; the lfo runs on), the master goes
# (the patch's tempo rules), and `tempo` is set and saved headless.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"

. "$top_srcdir/tests/jack_lib.sh"

jt_pid=""
# stop jack_transport too, then what jack_lib started
trap '[ -n "$jt_pid" ] && kill "$jt_pid" 2>/dev/null; stop_all' EXIT

cd "$scratch"
start_server

cat > tempo.fsp <<'P'
# tempo-synced modules, recorded through JACK
tempo 100
global lfo l wave=sine sync=tempo division=1/4
global seq s division=1/8 gate=0.5 play=rolling
connect l.out  out.1
connect s.gate out.2
P
start_fs fs tempo.fsp

# jack_transport, commands through a fifo on fd 8
mkfifo tr
jack_transport < tr > jt.log 2>&1 &
jt_pid=$!
exec 8> tr
transport() { echo "$1" >&8; sleep 0.3; }

# capture SECONDS FILE: jack_capture records both outputs
capture() {
	rm -f "$2"
	timeout 30 jack_capture -d "$1" -p fs:out_1 -p fs:out_2 "$2" > capture.log 2>&1 ||
		fail "jack_capture: $(tail -n 3 capture.log)"
}

# median CHANNEL FILE LEVEL: the median of the differences between rises
# through LEVEL on that channel (0-based), and how many there were
median() {
	ANALYZE_CHANNEL=$1 "$ANALYZE" rises "$2" "$3" |
		awk 'NR > 1 { print $1 - p } { p = $1 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "none 0"; else print v[int((NR + 1) / 2)], NR }'
}

# near VALUE WANT: within 2 frames
near() { awk -v v="$1" -v w="$2" 'BEGIN { exit !(v != "none" && v - w <= 2 && w - v <= 2) }'; }

# ---- rolling, a timebase master at 120 BPM
transport master
transport "tempo 120"
transport play
sleep 0.5
capture 4 roll120.wav
set -- $(median 0 roll120.wav 0)
echo "120 BPM: lfo median period $1 of $2"
near "$1" 24000 && [ "$2" -ge 4 ] &&
	pass "transport at 120 BPM: lfo 1/4 period $1 frames (24000)" ||
	fail "transport at 120 BPM: lfo period $1 ($2 periods), want 24000"
set -- $(median 1 roll120.wav 0.5)
echo "120 BPM: seq median step $1 of $2"
near "$1" 12000 && [ "$2" -ge 8 ] &&
	pass "transport at 120 BPM: seq steps every $1 frames (12000)" ||
	fail "transport at 120 BPM: seq step $1 ($2), want 12000"

# ---- the master changes tempo while rolling: 90 BPM
transport "tempo 90"
sleep 0.5
capture 4 roll90.wav
set -- $(median 0 roll90.wav 0)
echo "90 BPM: lfo median period $1 of $2"
near "$1" 32000 && [ "$2" -ge 3 ] &&
	pass "transport at 90 BPM: lfo 1/4 period $1 frames (32000)" ||
	fail "transport at 90 BPM: lfo period $1 ($2), want 32000"
set -- $(median 1 roll90.wav 0.5)
near "$1" 16000 && [ "$2" -ge 6 ] &&
	pass "transport at 90 BPM: seq steps every $1 frames (16000)" ||
	fail "transport at 90 BPM: seq step $1 ($2), want 16000"

# ---- transport stopped: the seq (play=rolling) is silent, the lfo runs on
# at the transport's last tempo
transport stop
sleep 0.5
capture 3 stopped.wav
g=$(ANALYZE_CHANNEL=1 "$ANALYZE" rms stopped.wav 0 96000)
awk -v g="$g" 'BEGIN { exit !(g == 0) }' &&
	pass "transport stopped: seq play=rolling keeps its gate low" ||
	fail "transport stopped: seq gate rms $g"
set -- $(median 0 stopped.wav 0)
near "$1" 32000 && pass "transport stopped: the lfo runs on at 90 BPM ($1 frames)" ||
	fail "transport stopped: lfo period $1, want 32000"

# ---- no timebase master: rolling transport without a tempo, the patch's
# tempo (100 BPM: 28800 frames a quarter) rules
transport release
transport play
sleep 0.5
capture 3 nomaster.wav
set -- $(median 0 nomaster.wav 0)
near "$1" 28800 && pass "no timebase master: the patch's tempo 100 ($1 frames)" ||
	fail "no timebase master: lfo period $1, want 28800"
set -- $(median 1 nomaster.wav 0.5)
near "$1" 14400 && pass "no timebase master, rolling: seq steps $1 frames (14400)" ||
	fail "no timebase master: seq step $1, want 14400"

# ---- `tempo` headless: answered, in effect, saved in place
r=$(send "tempo 150")
case $r in ok*) pass "tempo 150: $r" ;; *) fail "tempo 150: $r" ;; esac
r=$(send "tempo 10000")
case $r in "error:"*"tempo must be in 20..999 BPM"*) pass "tempo 10000: $r" ;;
	*) fail "tempo 10000: $r" ;; esac
sleep 0.5
capture 3 t150.wav
set -- $(median 0 t150.wav 0)
near "$1" 19200 && pass "tempo 150 set live: lfo period $1 frames (19200)" ||
	fail "after tempo 150: lfo period $1, want 19200"
r=$(send "save")
case $r in "ok saved"*) pass "save: $r" ;; *) fail "save: $r" ;; esac
grep -qx "tempo 150" tempo.fsp && grep -q "^# tempo-synced modules" tempo.fsp &&
	[ "$(grep -c '^tempo' tempo.fsp)" = 1 ] &&
	pass "saved: 'tempo 150' in place of 'tempo 100', the comment kept" ||
	fail "saved file: $(cat tempo.fsp)"
"$FORKSYNTH" --check tempo.fsp > check.txt 2>&1 && pass "the saved patch checks" ||
	fail "--check saved: $(cat check.txt)"

transport quit
exec 8>&-
stop_fs
[ "$fs_status" = 0 ] && pass "forksynth quit cleanly" || fail "exit status $fs_status"
finish
