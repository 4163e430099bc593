#!/bin/sh
# bench/protocol_bench.sh BINARY [OUT] — how many headless commands a
# second forksynth answers, and what a stream of them costs the sound: on a
# private `jackd -d dummy` (48 kHz, 256 frames) it feeds a running
# forksynth (the built-in patch, 16 voices) LINES lines (default 100,000)
# through a fifo and times them from the first byte written to the last
# answer read; `stats` before and after gives the xruns, late cycles and
# the longest callback of the stream.  Kinds: parameter changes (`set
# flt.cutoff N`, each sent to the DSP child), comment lines (parsing and
# answering only).  Best of RUNS (default 3).  Prints a markdown table;
# appends it to OUT.
set -u
bin=$1 out=${2:-/dev/null}
lines=${LINES_SENT:-100000} runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/forksynth-bench.XXXXXX")
server="fsproto-$$"
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1 XDG_STATE_HOME="$work"
jackd -n "$server" -d dummy -r 48000 -p 256 > "$work/jackd.log" 2>&1 &
jackd_pid=$!
fs=""
trap '[ -n "$fs" ] && kill $fs 2>/dev/null; kill $jackd_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done

# field NAME: that counter from the last `stats` answer.
field() {
	grep "^ok cycles" "$work/out" | tail -n 1 |
		awk -v f="$1" '{ for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}

# answers: lines answered so far.
answers() { wc -l < "$work/out"; }

# wait_answers N: until N lines are answered.
wait_answers() {
	while [ "$(answers)" -lt "$1" ]; do sleep 0.005; done
}

# run KIND: one stream; prints "commands/s xruns late max_cycle_us".
run() {
	case $1 in
	set) awk -v n="$lines" 'BEGIN { for (i = 0; i < n; i++) printf "set flt.cutoff %d\n", 200 + i % 5000 }' ;;
	comment) awk -v n="$lines" 'BEGIN { for (i = 0; i < n; i++) printf "# line %d\n", i }' ;;
	esac > "$work/in.txt"
	rm -f "$work/cmd"; mkfifo "$work/cmd"
	"$bin" --no-ui --no-start-server --name fsproto < "$work/cmd" > "$work/out" 2> "$work/err" &
	fs=$!
	exec 7> "$work/cmd"
	for _ in $(seq 100); do grep -q "commands on stdin" "$work/err" && break; sleep 0.1; done
	sleep 1
	echo stats >&7; wait_answers 1
	x0=$(field xruns) l0=$(field late)
	echo stats >&7; wait_answers 2      # resets the recent maximum
	t0=$(date +%s%N)
	cat "$work/in.txt" >&7
	wait_answers $((lines + 2))
	t1=$(date +%s%N)
	echo stats >&7; wait_answers $((lines + 3))
	x1=$(field xruns) l1=$(field late) mx=$(field recent_max_cycle_us)
	echo quit >&7; exec 7>&-
	wait "$fs"; fs=""
	echo "$(( lines * 1000000000 / (t1 - t0) )) $((x1 - x0)) $((l1 - l0)) $mx"
}

rows=""
for kind in set comment; do
	best=0 bx=0 bl=0 bm=0
	for _ in $(seq "$runs"); do
		set -- $(run "$kind")
		[ "$1" -gt "$best" ] && best=$1
		bx=$((bx + $2)) bl=$((bl + $3))
		[ "$4" -gt "$bm" ] && bm=$4
	done
	case $kind in
	set) what="parameter changes (set flt.cutoff N)"; aim=">= 100000" ;;
	comment) what="comment lines (parsed and answered ok)"; aim="" ;;
	esac
	rows="$rows| $what | $best | $bx | $bl | $bm | $aim |
"
done

table="## Headless protocol: commands per second (bench/protocol_bench.sh)

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) online CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end; jackd -d dummy, 48 kHz, 256 frames (5.33 ms); the built-in patch.  $lines lines written to a fifo at once, timed from the first byte to the last answer; best of $runs runs (xruns and late cycles summed over the runs, the longest callback is the worst run's).  The autosave is written at most every 0.5 s whatever the rate of changes.

| lines | commands/s | xruns | late cycles | longest callback µs | aim |
|---|---:|---:|---:|---:|---|
$rows"
echo "$table"
printf '\n%s\n' "$table" >> "$out"
