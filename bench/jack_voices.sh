#!/bin/sh
# bench/jack_voices.sh BINARY [OUT] — the most voices of the bench voice
# (as in bench/voice_patch.h)
# (two saws, an enveloped ladder, a VCA with its ADSR) that forksynth plays
# on a private `jackd -R -d dummy` (real-time, as a live setup runs it: the
# DSP threads take JACK's priority less one) at 64, 128 and 256 frames
# (PERIODS) / 48 kHz
# for 30 s, for 1 DSP thread and for one per CPU, and that count as a share
# of the compute bound (the voices whose offline cost fills 3/4 of a period
# on every thread).  "Plays" means no more late cycles (the DSP
# past its deadline) than the machine's own scheduling noise: the rate
# measured with 4 voices, where the DSP needs a few percent of the period,
# plus one in 2000.  Both figures are printed, with the server's xruns, so a
# reader on a quiet machine can hold it to zero.  Prints a markdown table;
# appends it to OUT.
set -u
bin=$1 out=${2:-/dev/null}
work=$(mktemp -d "${TMPDIR:-/tmp}/forksynth-bench.XXXXXX")
server="fsbench-$$"
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1 XDG_STATE_HOME="$work"
jackd -R -n "$server" -d dummy -r 48000 -p 128 > "$work/jackd.log" 2>&1 &
jackd_pid=$!
trap 'kill $jackd_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done

# patch N: the bench voice with N voices.
patch() {
	cat <<P
poly $1
voice midi note
voice vco osc1 wave=saw detune=-5
voice vco osc2 wave=saw detune=5
voice adsr fenv attack=0.05 decay=0.8 sustain=0.3 release=0.5
voice adsr env attack=0.02 decay=0.5 sustain=0.8 release=0.5
voice ladder flt cutoff=300 res=0.4 depth=4
voice vca amp gain=0.01
connect note.pitch osc1.pitch
connect note.pitch osc2.pitch
connect note.pitch flt.pitch
connect note.gate fenv.gate
connect note.gate env.gate
connect osc1.out flt.in
connect osc2.out flt.in
connect fenv.out flt.mod
connect flt.out amp.in
connect env.out amp.cv
connect amp.out out.1
connect amp.out out.2
P
}

# stat FILE FIELD: a field of the last `stats` answer.
stat() {
	grep "^ok cycles" "$1" | tail -n 1 | awk -v f="$2" '{ for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}

# probe VOICES THREADS SECONDS: exit 0 when all voices play that long with
# no late cycle and no xrun.
probe() {
	patch "$1" > "$work/p.fsp"
	rm -f "$work/cmd"; mkfifo "$work/cmd"
	"$bin" --no-ui --no-start-server --name fsbench --threads "$2" "$work/p.fsp" \
		< "$work/cmd" > "$work/out" 2> "$work/err" &
	fs=$!
	exec 7> "$work/cmd"
	for _ in $(seq 100); do jack_lsp 2>/dev/null | grep -q "fsbench:midi_in" && break; sleep 0.1; done
	k=0
	while [ "$k" -lt "$1" ]; do
		echo "note $((24 + (k * 7) % 72)) $((40 + (k * 37) % 88)) 600" >&7
		k=$((k + 1))
	done
	sleep 2
	echo stats >&7; sleep 0.2
	late0=$(stat "$work/out" late); xruns0=$(stat "$work/out" xruns)
	sleep "$3"
	echo stats >&7; sleep 0.2
	late1=$(stat "$work/out" late); xruns1=$(stat "$work/out" xruns)
	c0=$(grep "^ok cycles" "$work/out" | head -1 | awk '{ print $3 }')
	c1=$(stat "$work/out" cycles)
	echo quit >&7; exec 7>&-
	wait "$fs"
	last_xruns=$(( ${xruns1:-0} - ${xruns0:-0} ))
	last_late=$(( ${late1:-0} - ${late0:-0} ))
	last_cycles=$(( ${c1:-0} - ${c0:-0} ))
	[ -n "$late1" ] && [ "$last_cycles" -gt 0 ] &&
		[ $((last_late * 1000000 / last_cycles)) -le "$allowed_ppm" ]
}

# idle_xruns SECONDS: xruns the server reports with only jack_midiseq.
idle_xruns() {
	jack_midiseq "idle$$" 24000 0 60 100 > /dev/null 2>&1 &
	seq_pid=$!
	before=$(grep -c "XRun" "$work/jackd.log")
	sleep "$1"
	kill "$seq_pid"
	echo $(( $(grep -c "XRun" "$work/jackd.log") - before ))
}

# most THREADS: the largest voice count that passes a 30 s run.
most() {
	good=0 bad=0 n=32
	while [ "$bad" = 0 ] && [ "$n" -le 4096 ]; do
		if probe "$n" "$1" 6; then good=$n; n=$((n * 2)); else bad=$n; fi
	done
	[ "$bad" = 0 ] && bad=4097
	while [ $((bad - good)) -gt $((good / 20 + 1)) ]; do
		mid=$(((good + bad) / 2))
		if probe "$mid" "$1" 6; then good=$mid; else bad=$mid; fi
	done
	tries=0
	while [ "$good" -gt 0 ] && ! probe "$good" "$1" 30; do
		good=$((good * 9 / 10))
		tries=$((tries + 1))
		[ "$tries" -ge 3 ] && good=$((-good)) && break
	done
	echo "$good $last_xruns"
}

# ns_per_voice_sample: the bench voice's cost on one thread, offline (work
# per block of parallel_bench, 64 voices), for the compute bound.
ns_per_voice_sample() {
	pb=$(dirname "$bin")/../bench/parallel_bench
	[ -x "$pb" ] || { echo 0; return; }
	"$pb" --voices 64 --threads 1 --blocks 400 | tail -n 1 | awk -F'|' '{ gsub(/ /, "", $(NF - 1)); print $(NF - 1) }'
}

last_xruns=0 last_late=0 last_cycles=1
allowed_ppm=1000000
cpus=$(nproc)
ns=$(ns_per_voice_sample)
idle=$(idle_xruns 30)
probe 4 1 30
noise_ppm=$((last_late * 1000000 / last_cycles))
allowed_ppm=$((noise_ppm + 500))
rows=""
for period in ${PERIODS:-64 128 256}; do
	kill "$jackd_pid" 2>/dev/null; wait "$jackd_pid" 2>/dev/null
	jackd -R -n "$server" -d dummy -r 48000 -p "$period" > "$work/jackd.log" 2>&1 &
	jackd_pid=$!
	for _ in $(seq 50); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done
	for threads in 1 "$cpus"; do
		set -- $(most "$threads"); got=$1 got_x=$2
		# the compute bound: voices whose offline cost fits in 3/4 of
		# each period on every thread
		share=$(awk -v v="$got" -v t="$threads" -v ns="$ns" 'BEGIN {
			if (ns <= 0 || v <= 0) { print "-"; exit }
			b = t * 0.75 * 1e9 / 48000 / ns; printf "%d (%.0f %%)", b, 100 * v / b }')
		rows="$rows| $period | $threads | $got | $share | $got_x |
"
	done
done
table="
## Voices on JACK (jackd -R -d dummy, 48 kHz, 30 s, no late cycle)

The bench voice costs $ns ns per voice-sample on one thread offline here
(bench/parallel_bench); the compute bound is the voices whose offline cost
fills three quarters of every period on every thread.

| period | DSP threads | voices | compute bound (share reached) | server xruns in those 30 s |
|---:|---:|---:|---|---:|
$rows
Scheduling noise on this machine: with 4 voices, $noise_ppm late cycles per
million; a count passes with at most $allowed_ppm per million.  An idle client
(jack_midiseq alone) saw $idle server xruns in 30 s.
A negative count means three 30 s confirmations in a row still saw a late
cycle: the machine was too busy to confirm; its magnitude is the last try.
"
printf '%s' "$table"
printf '%s' "$table" >> "$out"
