# tests/lib.sh — shared by the black-box test scripts: a private scratch
# directory removed on exit, and small assertions that count failures.
# Source it; then call `finish` at the end.

set -u
: "${FORKSYNTH:?run through make check (FORKSYNTH names the binary)}"
: "${top_srcdir:=.}"

failures=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/forksynth-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# killed (a timeout, C-c), a test still runs its EXIT trap: the servers,
# clients and hogs it started go with it
trap 'exit 1' INT TERM HUP

# fail MESSAGE: print and count a failure.
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# pass MESSAGE: print a passed check.
pass() {
	echo "ok: $*"
}

# figure TEXT: a measured figure (timing, the machine's doing: printed,
# never asserted).
figure() {
	echo "figure: $*"
}

# check DESCRIPTION COMMAND...: run COMMAND, pass when it exits 0.
check() {
	desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# contains FILE TEXT: the file holds TEXT (fixed string).
contains() {
	grep -qF -- "$2" "$1"
}

# finish: exit with the verdict.
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	exit 0
}

# alive PID: the process exists and is not a zombie waiting for its reaper.
alive() {
	s=""
	read -r _ _ s _ 2>/dev/null < "/proc/$1/stat"
	[ -n "$s" ] && [ "$s" != Z ]
}

# threads_of PID: each thread of PID on one line, with its state and the
# kernel function it waits in: what a process that will not end is doing.
threads_of() {
	for task in /proc/"$1"/task/*; do
		echo "${task##*/} $(cat "$task/comm" 2>/dev/null)" \
			"$(sed 's/.*) //' "$task/stat" 2>/dev/null | cut -d' ' -f1)" \
			"$(cat "$task/wchan" 2>/dev/null)"
	done | tr '\n' ';'
}

# reap PID SECONDS: wait for PID, a child of this shell, to end by itself;
# after SECONDS it fails the test, naming what its threads were doing, and
# is killed.  Sets `rc` to its exit status (255 if it had to be killed).
reap() {
	for _ in $(seq $(($2 * 50))); do
		alive "$1" || break
		sleep 0.02
	done
	if alive "$1"; then
		fail "pid $1 ($(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null)) still runs after $2 s: killed; its threads: $(threads_of "$1")"
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=255
	else
		wait "$1"
		rc=$?
	fi
}

# no_leftovers: nothing of forksynth's is left in /dev/shm, and no DSP
# child outlived its parent or is still running from this test's directory
# (other tests may run children of their own at the same time).
no_leftovers() {
	sleep 0.2
	# JACK's own semaphores carry client names (jack_sem.*_forksynth) and
	# belong to whichever server runs them, not to us
	if ls /dev/shm 2>/dev/null | grep -v '^jack' | grep -qi forksynth; then
		fail "left in /dev/shm: $(ls /dev/shm | grep -v '^jack' | grep -i forksynth)"
	else
		pass "nothing left in /dev/shm"
	fi
	stray=""
	for round in 1 2 3; do
		found=""
		for pid in $(pgrep -f -- "--dsp-child"); do
			# a DSP child is `EXE --dsp-child FD SIZE PARENT_PID`; other
			# matches (another test's pgrep, run at the same moment) are not
			parent=$(awk -v RS='\0' '{ a[NR] = $0 }
				END { if (NR == 5 && a[2] == "--dsp-child" && a[5] ~ /^[0-9]+$/) print a[5] }' \
				"/proc/$pid/cmdline" 2>/dev/null)
			[ -n "$parent" ] || continue
			cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null)
			if [ "$cwd" = "$scratch" ] || ! kill -0 "$parent" 2>/dev/null; then
				found="$found $pid"
			fi
		done
		# a child whose parent has just gone dies with it, though on a
		# loaded machine its exit may take a while; a real orphan stays
		[ "$round" != 3 ] && [ -n "$found" ] && sleep 5
		stray=$found
	done
	# one that ended while it was looked at is no orphan either
	alive=""
	for pid in $stray; do
		kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
	done
	stray=$alive
	if [ -n "$stray" ]; then
		fail "stray DSP child:$stray ($(ps -o pid=,ppid=,stat=,etime=,args= -p "$(echo $stray | tr ' ' ',')" 2>/dev/null | tr '\n' ';'))"
	else
		pass "no stray DSP child"
	fi
}
