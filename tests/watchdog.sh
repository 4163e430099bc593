#!/bin/sh
# tests/watchdog.sh — runs one test of make check under a time limit, so
# that a test that hangs fails with a picture of what hung instead of
# stalling the suite (and CI) for good.
#
#   watchdog.sh COMMAND [ARGS...]
#
# TEST_TIMEOUT (seconds, 900 by default) is the limit; a test normally takes
# a tenth of it.  Past the limit the watchdog prints the test's processes
# (state, kernel wait channel, age), the threads of every forksynth, jackd
# and JACK tool among them with a backtrace of each (gdb, where installed),
# then sends SIGTERM to the test, which runs its cleanup, and 10 s later
# SIGKILL to all that is left of its process group.  Exit status 124.

limit=${TEST_TIMEOUT:-900}
began=$(date +%s)

# the test leads its own session and process group (setsid execs it in
# the background child itself), so all it started is found and ended
# together
setsid "$@" &
test_pid=$!

# wait up to the limit; `wait` returns as soon as the test ends
( sleep "$limit"; kill -USR1 $$ 2>/dev/null ) &
sleeper=$!
timed_out=0
trap 'timed_out=1' USR1
wait "$test_pid"
status=$?
# a USR1 interrupts the wait: the test still runs
if [ "$timed_out" = 0 ]; then
	kill "$sleeper" 2>/dev/null
	eval "test_name=\${$#}"
	echo "watchdog: ${test_name##*/} ran $(( $(date +%s) - began )) s, exit status $status"
	exit "$status"
fi

echo "WATCHDOG: $* still runs after $limit s (TEST_TIMEOUT); what it was doing:"
ps -g "$test_pid" -o pid,ppid,stat,wchan:32,etimes,args --forest 2>/dev/null
for pid in $(ps -g "$test_pid" -o pid=,comm= 2>/dev/null |
	awk '$2 ~ /forksynth|jackd|jack_|lt-/ { print $1 }'); do
	echo "---- pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
	for task in /proc/"$pid"/task/*; do
		printf '  thread %s %s state %s wchan %s\n' "${task##*/}" \
			"$(cat "$task/comm" 2>/dev/null)" \
			"$(awk '{ print $3 }' "$task/stat" 2>/dev/null)" \
			"$(cat "$task/wchan" 2>/dev/null)"
	done
	if command -v gdb > /dev/null 2>&1; then
		timeout 30 gdb -batch -nx -p "$pid" -ex 'thread apply all bt 16' 2>&1 |
			grep -E '^(Thread|#)'
	fi
done
echo "WATCHDOG: SIGTERM to the test, SIGKILL to its process group in 10 s"
kill -TERM "$test_pid" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
	kill -0 "$test_pid" 2>/dev/null || break
	sleep 1
done
kill -s KILL -- "-$test_pid" 2>/dev/null
wait "$test_pid" 2>/dev/null
exit 124
