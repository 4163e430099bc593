#!/bin/sh
# bench/standby_bench.sh BINARY ANALYZE [OUT] — what the warm standby DSP
# child costs and buys, on a private `jackd -d dummy` at 256 frames / 48 kHz
# with forksynth headless and one note held (a sine, 5 ms attack, full
# sustain): for each of KILLS SIGKILLs and as many SIGSTOPs of the playing
# child, a recording of the takeover, measured as the longest dip of the
# output below half its level and the longest run of exact silence, in
# periods, and the late cycles it cost; the same for both children killed
# at once (no standby: the restart it falls back to); the standby's memory
# (RSS, PSS and private pages from /proc/PID/smaps_rollup, beside the
# playing child's) and its CPU time at rest over 10 s.  Prints a markdown
# table; appends it to OUT.
set -u
bin=$(realpath "$1") analyze=$(realpath "$2") out=$(realpath "${3:-/dev/null}")
kills=${KILLS:-5}
rate=48000 period=256
work=$(mktemp -d "${TMPDIR:-/tmp}/forksynth-bench.XXXXXX")
server="fsstandby-$$"
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1 XDG_STATE_HOME="$work"
jackd -n "$server" -d dummy -r $rate -p $period > "$work/jackd.log" 2>&1 &
jackd_pid=$!
fs_pid=""
trap 'exec 7>&- 2>/dev/null; [ -n "$fs_pid" ] && kill $fs_pid 2>/dev/null; kill $jackd_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done
cd "$work"

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

mkfifo cmd
"$bin" --no-ui --name standby held.fsp < cmd > fs.out 2> fs.err &
fs_pid=$!
exec 7> cmd

# send COMMAND: one command; its answer.
send() {
	before=$(wc -l < fs.out)
	echo "$1" >&7
	for _ in $(seq 200); do
		[ "$(wc -l < fs.out)" -gt "$before" ] && break
		sleep 0.02
	done
	tail -n 1 fs.out
}

# field NAME: that field of a fresh stats answer.
field() {
	send stats | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

# ready: wait for a standby (60 s at most).
ready() {
	for _ in $(seq 600); do
		[ "$(field standby)" = ready ] && return 0
		sleep 0.1
	done
	echo "standby_bench: no standby ready: $(tail -3 fs.err)" >&2
	return 1
}

# periods FRAMES: as periods, two decimals.
periods() {
	awk -v f="$1" -v p=$period 'BEGIN { printf "%.2f", f / p }'
}

ready || exit 1
send "note 60 100 3000" > /dev/null
sleep 1

# event NAME HOW: record, do HOW (a shell command), record on; one row of
# dips and late cycles per event into rows.NAME
event() {
	late0=$(field late)
	send "record $1.wav" > /dev/null
	sleep 0.5
	eval "$2"
	sleep 1.5
	send "record stop" > /dev/null
	late1=$(field late)
	d=$("$analyze" dip "$1.wav" 0.25 192)
	z=$("$analyze" zeros "$1.wav")
	echo "$(periods "${d%% *}") $(periods "$z") $((late1 - late0))" >> "rows.${1%%[0-9]*}"
}

for k in $(seq "$kills"); do
	ready && event "kill$k" 'kill -KILL "$(field dsp_pid)"'
	ready && event "stop$k" 'kill -STOP "$(field dsp_pid)"'
done
ready && event both 'kill -KILL "$(field dsp_pid)" "$(field standby_pid)"'

# summary FILE: "median (min..max)" of each column
summary() {
	for col in 1 2 3; do
		sort -n -k$col "$1" | awk -v c=$col '{ v[NR] = $c } END {
			printf "%s (%s..%s)|", v[int((NR + 1) / 2)], v[1], v[NR] }'
	done
}

# memory and CPU at rest of the standby, the playing child beside it
ready
sb=$(field standby_pid)
act=$(field dsp_pid)
mem() {
	awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { v += $2 }
		END { printf "%.1f|%.1f|%.1f", r / 1024, p / 1024, v / 1024 }' "/proc/$1/smaps_rollup"
}
sb_mem=$(mem "$sb")
act_mem=$(mem "$act")
region_bytes=0
while read -r range _ _ _ _ path _; do
	case $path in /memfd:forksynth*) region_bytes=$((region_bytes + 0x${range#*-} - 0x${range%-*})) ;; esac
done < "/proc/$sb/maps"
region=$(awk -v b=$region_bytes 'BEGIN { printf "%.2f", b / 1048576 }')
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(cpu "$sb")
sleep 10
c1=$(cpu "$sb")
sb_cpu=$(awk -v d=$((c1 - c0)) -v t="$ticks" 'BEGIN { printf "%.2f", d * 1000 / t / 10 }')
echo quit >&7
exec 7>&-
wait $fs_pid
fs_pid=""

{
	echo
	echo "## Warm standby: takeovers on jackd -d dummy, 256 frames at 48 kHz ($(nproc) CPUs, $(date +%Y-%m-%d))"
	echo
	echo "One held note (sine, 5 ms attack). Per fault: the longest dip of the output below half"
	echo "its level and the longest run of exact silence in a recording of it, in periods (5.33 ms),"
	echo "and the late cycles; median (min..max) over the runs. Load average at the start: $(cut -d' ' -f1 /proc/loadavg)."
	echo
	echo "| fault | runs | dip below half level, periods | exact silence, periods | late cycles |"
	echo "|---|---|---|---|---|"
	echo "| SIGKILL of the playing child (takeover) | $(wc -l < rows.kill) | $(summary rows.kill)"
	echo "| SIGSTOP of the playing child (takeover) | $(wc -l < rows.stop) | $(summary rows.stop)"
	echo "| both children killed (no standby: restart) | $(wc -l < rows.both) | $(summary rows.both)"
	echo
	echo "| child | RSS MiB | PSS MiB | private MiB |"
	echo "|---|---|---|---|"
	echo "| standby, at rest | $sb_mem |"
	echo "| playing, one note | $act_mem |"
	echo
	echo "The shared region of each child is ${region:-?} MiB (mlocked; counted in both RSS columns)."
	echo "Standby CPU at rest: $sb_cpu ms per second (utime + stime over 10 s)."
} | tee -a "$out"
