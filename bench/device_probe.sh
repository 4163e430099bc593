#!/bin/bash
# bench/device_probe.sh — the parallel figures of issue "Use the whole
# machine in real time", measured in one go on a lent many-core machine:
# what the system allows (real-time scheduling, its limits), the parallel
# profile of a block (bench/parallel_bench), offline scaling, and real-time
# probes on a private `jackd -R -d dummy` at several periods, voice counts,
# thread counts and --hot-workers settings.  Prints markdown.
#
# It runs from a device bundle (../shared/device/README.md), made with
#   ../shared/device/bundle.sh bench/parallel_bench bench/device_probe.sh \
#       [forksynth-base]
# and then, on the machine:  bash .device-bundle/device_probe.sh
# forksynth-base, when present, is an older build probed beside the new one.
# Env: SECS (seconds per real-time probe, default 8), QUICK=1 (a few probes
# only, to try the script), PROBES="PERIOD:VOICES:THREADS[:OPTION] ..." (the
# machine facts and these real-time probes only).
set -u
B=$(cd "$(dirname "$0")" && pwd)
. "$B/env.sh"
W=$(mktemp -d)
SECS=${SECS:-8}
export XDG_STATE_HOME=$W JACK_NO_START_SERVER=1
jp=
trap '[ -n "$jp" ] && kill $jp 2>/dev/null; rm -rf "$W"' EXIT

echo "## Machine"
echo
echo "- $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "- RLIMIT_RTPRIO $(ulimit -r), CapEff $(awk '/CapEff/ { print $2 }' /proc/self/status), sched_rt_runtime_us $(cat /proc/sys/kernel/sched_rt_runtime_us 2>/dev/null)"
echo "- cgroup: $(tr '\n' ' ' < /proc/self/cgroup)"
for f in /sys/fs/cgroup/cpu.rt_runtime_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us /sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us; do
	[ -r "$f" ] && echo "- $f: $(cat "$f")"
done
if command -v chrt > /dev/null; then
	chrt -f 10 true 2> "$W/chrt" && echo "- chrt -f 10: allowed" || echo "- chrt -f 10: refused ($(cat "$W/chrt"))"
fi
python3 -c 'import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10)); print("- SCHED_FIFO for a process: allowed")' 2>/dev/null ||
	echo "- SCHED_FIFO for a process: refused"
echo "- cpufreq governor: $(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo none visible)"
echo

N=$(nproc)
T16="1 2 4 8 $N"
if [ -n "${PROBES:-}" ]; then
	ONLY_PROBES=1
else
echo "## Parallel profile (bench/parallel_bench)"
if [ "${QUICK:-0}" = 1 ]; then
	"$B/parallel_bench" --voices 256 --threads "1 $N" --blocks 200
else
	"$B/parallel_bench" --voices 256 --threads "$T16" --blocks 600 --reverb
	"$B/parallel_bench" --voices 1024 --threads "1 $N" --blocks 300
	"$B/parallel_bench" --voices 1024 --threads "1 $N" --blocks 300 --rt 10
	for mode in "" "--lead-us 250" "--spin-us 10000"; do
		"$B/parallel_bench" --voices 1024 --threads "$N" --blocks 1500 --paced $mode --rt 10 | tail -n 1
	done
	for mode in "" "--lead-us 250"; do
		"$B/parallel_bench" --voices 1024 --threads "$N" --blocks 1500 --paced $mode | tail -n 1
	done
fi
echo

echo "## Offline scaling (scaling.sh: held bench voices into a reverb, 10 s of audio)"
echo
VOICES="${QUICK:+64}" THREADS="1 $([ "${QUICK:-0}" = 1 ] || echo 2 4 8) $N" SECS=10 RUNS=1 bash "$B/scaling.sh" 2>&1 | sed 's/^/    /'
echo

fi

# stat FILE FIELD: a field of the last `stats` answer
stat() { grep "^ok cycles" "$1" | tail -n 1 | awk -v f="$2" '{ for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }'; }

# server PERIOD: (re)start the private jackd at that period
server() {
	[ -n "$jp" ] && { kill "$jp"; wait "$jp" 2> /dev/null; }
	export JACK_DEFAULT_SERVER=dp$$_$1
	jackd -R -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p "$1" > "$W/jackd.log" 2>&1 &
	jp=$!
	for _ in $(seq 50); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done
	PERIOD=$1
}

# probe BINARY VOICES THREADS [OPTION]: one row
probe() {
	bin=$1 v=$2 t=$3 x=${4:-}
	voice_patch "$v" > "$W/p.fsp"; rm -f "$W/cmd"; mkfifo "$W/cmd"
	"$bin" --no-ui --no-start-server --name fsb --threads "$t" $x "$W/p.fsp" < "$W/cmd" > "$W/out" 2> "$W/err" &
	fs=$!; exec 7> "$W/cmd"
	for _ in $(seq 100); do jack_lsp 2> /dev/null | grep -q "fsb:midi_in" && break; sleep 0.1; done
	# in batches: a period takes at most 512 note events
	for k in $(seq 0 $((v - 1))); do
		echo "note $((24 + (k * 7) % 72)) $((40 + (k * 37) % 88)) 600" >&7
		[ $((k % 200)) = 199 ] && sleep 0.05
	done
	sleep 2; echo stats >&7; sleep 0.3
	l0=$(stat "$W/out" late); c0=$(stat "$W/out" cycles); b0=$(stat "$W/out" dsp_busy_us)
	sleep "$SECS"; echo stats >&7; sleep 0.3
	l1=$(stat "$W/out" late); c1=$(stat "$W/out" cycles); x1=$(stat "$W/out" max_cycle_us); b1=$(stat "$W/out" dsp_busy_us)
	sch=$(stat "$W/out" sched)
	echo quit >&7; exec 7>&-; wait "$fs"
	cyc=$(( ${c1:-0} - ${c0:-0} ))
	pv=-
	[ -n "${b1:-}" ] && [ "$cyc" -gt 0 ] && pv=$(awk -v b=$((b1 - b0)) -v c=$cyc -v p="$PERIOD" -v v="$v" 'BEGIN { printf "%.1f", b * 1000 / (c * p * v) }')
	warn=$(grep -ioE "warn[^;]*" "$W/err" | sort -u | head -1 | cut -c1-90)
	echo "| $PERIOD | $(basename "$bin") $x | $v | $t | $(( ${l1:-0} - ${l0:-0} )) of $cyc | ${x1:--} | $pv | ${sch:--} | ${warn:-} |"
}

echo "## Real time (jackd -R -d dummy, 48 kHz, ${SECS} s a probe after 2 s)"
echo
echo "| period | binary, option | voices | threads | late cycles | longest cycle µs | ns per voice-sample (DSP busy) | DSP threads' scheduling | warning |"
echo "|---:|---|---:|---:|---|---:|---:|---|---|"
NEW=$FS BASE=$B/forksynth-base
if [ -n "${ONLY_PROBES:-}" ]; then
	# PROBES="PERIOD:VOICES:THREADS[:OPTION] ...", new binary
	for spec in $PROBES; do
		IFS=: read -r per v t x <<< "$spec"
		[ "${PERIOD:-}" = "$per" ] || server "$per"
		probe "$NEW" "$v" "$t" "$x"
	done
	exit 0
fi
if [ "${QUICK:-0}" = 1 ]; then
	server 128
	probe "$NEW" 64 1; probe "$NEW" 256 "$N"
	[ -x "$BASE" ] && probe "$BASE" 256 "$N"
	exit 0
fi
server 128
probe "$NEW" 128 1; probe "$NEW" 192 1
[ -x "$BASE" ] && { probe "$BASE" 64 1; probe "$BASE" 768 "$N"; }
for v in 768 1024 1536 2048 2560 3072; do probe "$NEW" "$v" "$N"; done
probe "$NEW" 1536 "$N" "--hot-workers=off"; probe "$NEW" 1536 "$N" "--hot-workers=on"
server 64
for v in 768 1280 1536; do probe "$NEW" "$v" "$N"; done
server 256
for v in 2048 3072 4096; do probe "$NEW" "$v" "$N"; done
