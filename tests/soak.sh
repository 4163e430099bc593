# tests/soak.sh — the soak (`make soak`, not part of make check): forksynth
# runs headless against a private `jackd -d dummy` for SOAK_SECONDS (30
# minutes by default), recording all along, with MIDI from jack_midiseq, a
# stream of random valid and invalid commands, and a SIGKILL of its DSP
# child every few seconds.  Every minute it notes restarts, late cycles,
# xruns, dropped frames, open descriptors and resident memory; at the end it
# fails on any lost frame, a recording shorter than the time played, a
# command answered wrongly, a descriptor leak or memory that keeps growing.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"

duration=${SOAK_SECONDS:-1800}
sample_every=${SOAK_SAMPLE_SECONDS:-60}
[ "$duration" -lt "$((sample_every * 3))" ] && sample_every=$((duration / 3))
[ "$sample_every" -lt 5 ] && sample_every=5
report=${SOAK_REPORT:-soak-report.txt}
case $report in /*) ;; *) report="$PWD/$report" ;; esac

cd "$scratch"
start_server
# the built-in patch, with a module to add and remove at random
start_fs soak --threads 2 --record soak.wav
fs_parent=$fs_pid
jack_midiseq "seq$$" 96000 0 57 20000 12000 60 20000 24000 64 30000 48000 69 20000 \
	60000 45 30000 > /dev/null 2>&1 &
for _ in $(seq 30); do jack_lsp | grep -q "seq$$:out" && break; sleep 0.1; done
jack_connect "seq$$:out" soak:midi_in || fail "MIDI not connected"

# random_command: set `cmd` to a random line and `want` to what its answer
# must start with (ok or error); keeps track of the module it adds.
params="osc1.detune:-50:50 osc2.detune:-50:50 flt.cutoff:40:12000 flt.res:0:1
fenv.decay:0.05:2 env.release:0.05:2 amp.gain:0:0.3 echo_l.feedback:0:0.9
echo_r.time:0.05:1"
random_command() {
	want=ok
	case $((RANDOM % 10)) in
	0|1|2|3|4)
		p=$(echo $params | tr ' ' '\n' | shuf -n 1)
		name=${p%%:*} rest=${p#*:}
		lo=${rest%%:*} hi=${rest#*:}
		v=$(awk -v lo="$lo" -v hi="$hi" -v r=$RANDOM 'BEGIN { printf "%.4g", lo + (hi - lo) * r / 32767 }')
		cmd="set $name $v" ;;
	5)
		if [ "$have_lfo" = 1 ]; then cmd="remove wob"; have_lfo=0 lfo_connected=0
		else cmd="voice lfo wob rate=3"; have_lfo=1; fi ;;
	6)
		if [ "$have_lfo" = 1 ] && [ "$lfo_connected" = 0 ]; then
			cmd="connect wob.out flt.mod"; lfo_connected=1
		elif [ "$have_lfo" = 1 ]; then
			cmd="disconnect wob.out flt.mod"; lfo_connected=0
		else
			cmd="stats"
		fi ;;
	7) want=error cmd="set flt.cutoff 999999" ;;
	8) want=error cmd="connect nowhere.out flt.in" ;;
	9) want=error cmd="$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 10) x" ;;
	esac
}
have_lfo=0 lfo_connected=0

# sample: one row of the report.
sample() {
	s=$(send stats)
	rec=$(send "record status")
	child=$(echo "$s" | awk '{ for (i = 1; i < NF; i++) if ($i == "dsp_pid") print $(i + 1) }')
	fds=$(ls "/proc/$fs_parent/fd" 2>/dev/null | wc -l)
	cfds=$(ls "/proc/$child/fd" 2>/dev/null | wc -l)
	rss=$(awk '/VmRSS/ { print $2 }' "/proc/$fs_parent/status" 2>/dev/null)
	crss=$(awk '/VmRSS/ { print $2 }' "/proc/$child/status" 2>/dev/null)
	restarts=$(echo "$s" | sed -n 's/.* restarts \([0-9]*\).*/\1/p')
	late=$(echo "$s" | sed -n 's/.* late \([0-9]*\).*/\1/p')
	xruns=$(echo "$s" | sed -n 's/.* xruns \([0-9]*\).*/\1/p')
	cycles=$(echo "$s" | sed -n 's/ok cycles \([0-9]*\).*/\1/p')
	frames=$(echo "$rec" | sed -n 's/.* \([0-9]*\) frames, \([0-9]*\) lost.*/\1/p')
	lost=$(echo "$rec" | sed -n 's/.* \([0-9]*\) lost.*/\1/p')
	printf "%6d %7d %6d %8s %6s %6s %10s %5s %4s %4s %8s %8s %6d %6d\n" \
		"$(($(date +%s) - t0))" "$kills" "${restarts:-?}" "${cycles:-?}" "${late:-?}" \
		"${xruns:-?}" "${frames:-?}" "${lost:-?}" "$fds" "$cfds" "${rss:-?}" \
		"${crss:-?}" "$n_ok" "$n_err" | tee -a "$report"
	echo "$(($(date +%s) - t0)) ${fds} ${rss:-0} ${lost:-0}" >> series.txt
}

: > "$report"
{
	echo "forksynth soak: ${duration} s, SIGKILL of the DSP child every 3-6 s,"
	echo "random valid and invalid commands, MIDI from jack_midiseq, recording"
	echo "all along (restarts beyond the kills: hangs, or kills from outside)."
	echo
	printf "%6s %7s %6s %8s %6s %6s %10s %5s %4s %4s %8s %8s %6s %6s\n" \
		"time_s" "kills" "restrt" "cycles" "late" "xruns" "rec_frames" "lost" \
		"fds" "cfds" "rss_kB" "crss_kB" "ok" "err"
} | tee -a "$report"
t0=$(date +%s)
kills=0 n_ok=0 n_err=0 wrong=0
next_kill=$((t0 + 3 + RANDOM % 4))
next_sample=$t0
while :; do
	now=$(date +%s)
	[ $((now - t0)) -ge "$duration" ] && break
	kill -0 "$fs_parent" 2>/dev/null || { fail "forksynth died"; break; }
	if [ "$now" -ge "$next_sample" ]; then
		sample
		next_sample=$((now + sample_every))
	fi
	if [ "$now" -ge "$next_kill" ]; then
		# the playing child (a warm standby waits beside it)
		child=$(send stats | awk '{ for (i = 1; i < NF; i++) if ($i == "dsp_pid") print $(i + 1) }')
		[ -n "$child" ] && [ "$child" != 0 ] && kill -KILL "$child" && kills=$((kills + 1))
		next_kill=$((now + 3 + RANDOM % 4))
	fi
	random_command
	answer=$(send "$cmd")
	case $answer in
	"$want"*) [ "$want" = ok ] && n_ok=$((n_ok + 1)) || n_err=$((n_err + 1)) ;;
	*) wrong=$((wrong + 1)); echo "wrong answer to '$cmd' (wanted $want): $answer" | tee -a "$report" ;;
	esac
	sleep 0.1
done
sample
elapsed=$(($(date +%s) - t0))
# the periods JACK ran just before and just after the stop bracket the
# recording: it must hold every one of them, no more, no less
c1=$(send stats | sed -n 's/ok cycles \([0-9]*\).*/\1/p')
a=$(send "record stop")
c2=$(send stats | sed -n 's/ok cycles \([0-9]*\).*/\1/p')
echo "$a" | tee -a "$report"
stop_fs
echo "forksynth exit status $fs_status" | tee -a "$report"

# ---- verdict
frames=$(soxi -s soak.wav 2>/dev/null || echo 0)
lost=$(echo "$a" | sed -n 's/.* \([0-9]*\) lost.*/\1/p')
played=$(awk -v f="$frames" 'BEGIN { printf "%.1f", f / 48000 }')
{
	echo
	echo "summary: ${elapsed} s soaked, $kills DSP kills, $n_ok commands ok, $n_err refused as they should be, $wrong answered wrongly"
	echo "recording: $frames frames = $played s, ${lost:-?} lost"
} | tee -a "$report"
[ "$fs_status" = 0 ] && pass "forksynth ended cleanly" || fail "forksynth exit status $fs_status"
[ "${lost:-1}" = 0 ] && pass "no frame lost" || fail "$lost frames lost"
# recording from the first period to the stop, the file holds every period
# JACK ran (a loaded dummy server runs fewer periods than wall time allows:
# that is its clock, reported, not a loss)
awk -v f="$frames" -v a="$c1" -v b="$c2" 'BEGIN { exit !(f >= a * 256 && f <= b * 256) }' &&
	pass "the recording holds every period JACK ran: $frames frames, between $c1 and $c2 periods of 256" ||
	fail "the recording has $frames frames; JACK ran $c1 to $c2 periods of 256 around the stop"
echo "the server ran $(awk -v c="$c1" 'BEGIN { printf "%.1f", c * 256 / 48000 }') s of periods in $elapsed s of wall time" |
	tee -a "$report"
[ "$wrong" = 0 ] && pass "every command answered as expected" || fail "$wrong wrong answers"
# growth: compare the second sample (warmed up) with the last
awk -v rep="$report" '
	NR == 2 { t1 = $1; f1 = $2; r1 = $3 }
	{ t = $1; f = $2; r = $3 }
	END {
		printf "fds %d -> %d, rss %d -> %d kB between %d s and %d s\n", f1, f, r1, r, t1, t >> rep
		printf "fds %d -> %d, rss %d -> %d kB between %d s and %d s\n", f1, f, r1, r, t1, t
		exit !(f <= f1 && r - r1 <= 1024)
	}' series.txt && pass "no descriptor or memory growth (rss within 1 MiB)" ||
	fail "growth over the soak (see the table)"
echo "report: $report"
finish
