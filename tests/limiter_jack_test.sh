# tests/limiter_jack_test.sh — the limiter end to end: its look-ahead is
# reported to JACK as latency (a real `jackd -d dummy`, read back with
# jack_lsp -l) on the outputs it feeds and no other, follows `set`,
# `remove` and pipeline mode; and a saw pushed 24 dB into it renders with
# no sample beyond its ceiling (offline, the engine's own clamp off).
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"

. "$top_srcdir/tests/jack_lib.sh"

# latency_is PORT TEXT: jack_lsp -l shows TEXT for PORT's capture latency
# (retried: the server asks for latencies when the graph changes)
latency_is() {
	for _ in $(seq 20); do
		jack_lsp -l "$1" | grep -q "capture latency = $2" && return 0
		sleep 0.1
	done
	return 1
}

cd "$scratch"

# ---- a hot signal through it never passes the ceiling (sample peak)
cat > hot.fsp <<'P'
poly 8
voice midi    note
voice vco     osc wave=saw
voice vca     amp gain=2
global limiter lim ceiling=-1 lookahead=0.003 gain=24
connect note.pitch osc.pitch
connect note.gate  amp.cv
connect osc.out    amp.in
connect amp.out    lim.left
connect lim.left   out.1
connect lim.right  out.2
P
: > chord.score
for n in 36 43 48 52 55 60 64 67; do echo "at 0.1 note $n 127 1.5" >> chord.score; done
for look in 0 0.003 0.02; do
	sed "s/lookahead=0.003/lookahead=$look/" hot.fsp > hot-$look.fsp
	if "$FORKSYNTH" --render hot.wav --force --no-clip --threads 1 --seconds 2 \
	    --score chord.score hot-$look.fsp 2>err.txt; then
		s=$("$ANALYZE" safety hot.wav 0.891250938)
		set -- $s
		echo "lookahead $look: $s"
		[ "$6" = 0 ] && [ "$4" = 0 ] &&
			pass "8 saws 24 dB into the limiter, lookahead $look: sample peak $2 <= -1 dBFS (0.891251)" ||
			fail "lookahead $look: $s"
		awk -v p="$2" 'BEGIN { exit !(p > 0.85) }' &&
			pass "lookahead $look: it is loud, not silenced (peak $2)" || fail "lookahead $look: peak $2 only"
	else
		fail "render with a limiter: $(cat err.txt)"
	fi
done

# ---- latency reported to JACK
start_server
cat > lim.fsp <<'P'
global limiter lim lookahead=0.005
global vca thru
connect in.1 lim.left
connect lim.left out.1
connect in.2 thru.in
connect thru.out out.2
P
start_fs fs lim.fsp
latency_is fs:out_1 "\[ 240 240 \]" &&
	pass "lookahead 5 ms at 48 kHz: jack_lsp -l shows 240 frames on out_1" ||
	fail "limiter latency: $(jack_lsp -l fs:out_1)"
latency_is fs:out_2 "\[ 0 0 \]" &&
	pass "out_2, not fed by the limiter: 0 frames" || fail "out_2: $(jack_lsp -l fs:out_2)"
jack_lsp -l fs:in_1 | grep -q "playback latency = \[ 0 240 \]" &&
	pass "in_1's playback latency spans the outputs: [ 0 240 ]" ||
	fail "in_1: $(jack_lsp -l fs:in_1)"
r=$(send "set lim.lookahead 0.01")
latency_is fs:out_1 "\[ 480 480 \]" &&
	pass "set lookahead 10 ms: 480 frames" || fail "after set ($r): $(jack_lsp -l fs:out_1)"
# a chain: a second limiter after the first adds its own
send "global limiter lim2 lookahead=0.001" > /dev/null
send "disconnect lim.left out.1" > /dev/null
send "connect lim.left lim2.left" > /dev/null
r=$(send "connect lim2.left out.1")
latency_is fs:out_1 "\[ 528 528 \]" &&
	pass "two limiters in a row: 480 + 48 = 528 frames" || fail "chain ($r): $(jack_lsp -l fs:out_1)"
send "remove lim2" > /dev/null
send "remove lim" > /dev/null
latency_is fs:out_1 "\[ 0 0 \]" &&
	pass "limiters removed: 0 frames" || fail "after remove: $(jack_lsp -l fs:out_1)"
# nonsense is refused and the latency stays
r=$(send "global limiter lim lookahead=banana")
case $r in error:*) pass "lookahead=banana refused: $r" ;; *) fail "lookahead=banana: $r" ;; esac
r=$(send "global limiter lim lookahead=5")
case $r in *"lookahead must be in 0..0.02"*) pass "lookahead=5 refused, range named: $r" ;;
	*) fail "lookahead=5: $r" ;; esac
send "global limiter lim lookahead=0.02" > /dev/null
send "connect in.1 lim.left" > /dev/null
send "connect lim.left out.1" > /dev/null
latency_is fs:out_1 "\[ 960 960 \]" &&
	pass "the longest look-ahead, 20 ms: 960 frames" ||
	fail "clamped lookahead: $(jack_lsp -l fs:out_1)"
stop_fs

# ---- pipeline mode: one period plus the look-ahead
start_fs fs --pipeline lim.fsp
latency_is fs:out_1 "\[ 496 496 \]" &&
	pass "pipeline: 256 + 240 = 496 frames" || fail "pipeline: $(jack_lsp -l fs:out_1)"
latency_is fs:out_2 "\[ 256 256 \]" &&
	pass "pipeline, out_2: 256 frames" || fail "pipeline out_2: $(jack_lsp -l fs:out_2)"
stop_fs

finish
