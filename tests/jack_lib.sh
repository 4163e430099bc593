# tests/jack_lib.sh — shared by the tests that need JACK: a private
# `jackd -d dummy` under its own name, forksynth started headless with its
# commands on fd 7, and cleanup of both also when a test fails.  Source it
# after lib.sh.

server=""
export JACK_NO_START_SERVER=1
export XDG_STATE_HOME="$scratch/state"
jackd_pid=""
fs_pid=""

# stop_all: whatever this test started, also when it fails.
stop_all() {
	[ -n "$fs_pid" ] && kill "$fs_pid" 2>/dev/null
	pkill -f "jack_midiseq seq$$" 2>/dev/null
	if [ -n "$jackd_pid" ] && kill "$jackd_pid" 2>/dev/null; then
		reap "$jackd_pid" 10
		jackd_pid=""
	fi
	rm -rf "$scratch"
}
trap stop_all EXIT

# start_server: a private dummy server at 48 kHz, 256 frames.  Its name
# comes from a small pool (fstest-0 .. fstest-15): JACK keeps a registry of
# 8 servers in /dev/shm and reclaims the entry of a dead server only for a
# server of the same name, so unique names would fill it up with servers
# that were killed.  A name another test holds is skipped: each test
# claims its name with a lock (fd 6, inherited by jackd, so the name stays
# claimed while that server lives), else two tests starting at once could
# both take a free name, and the one whose jackd fails late would find the
# other's server and share it.
start_server() {
	for k in $(seq 0 15); do
		server="fstest-$k"
		exec 6> "${TMPDIR:-/tmp}/forksynth-test-$server.lock"
		flock -n 6 || continue
		jack_lsp -s "$server" > /dev/null 2>&1 && continue
		jackd -n "$server" -d dummy -r 48000 -p 256 > "$scratch/jackd.log" 2>&1 &
		jackd_pid=$!
		for _ in $(seq 50); do
			kill -0 "$jackd_pid" 2>/dev/null || break
			if JACK_DEFAULT_SERVER="$server" jack_lsp > /dev/null 2>&1; then
				sleep 0.2
				if kill -0 "$jackd_pid" 2>/dev/null; then
					export JACK_DEFAULT_SERVER="$server"
					return 0
				fi
				break
			fi
			sleep 0.1
		done
		kill "$jackd_pid" 2>/dev/null
		wait "$jackd_pid" 2>/dev/null
		jackd_pid=""
		grep -q "already active\|Too many servers" "$scratch/jackd.log" || break
	done
	fail "jackd did not start: $(cat "$scratch/jackd.log")"
	finish
}

# start_fs NAME ARGS...: forksynth headless, commands through a fifo on fd 7.
start_fs() {
	fs_name=$1; shift
	rm -f "$scratch/cmd"
	mkfifo "$scratch/cmd"
	"$FORKSYNTH" --no-ui --name "$fs_name" "$@" < "$scratch/cmd" \
		> "$scratch/$fs_name.out" 2> "$scratch/$fs_name.err" &
	fs_pid=$!
	exec 7> "$scratch/cmd"
	# up when its ports exist and it says it plays (after activation)
	for _ in $(seq 100); do
		jack_lsp 2>/dev/null | grep -qx "$fs_name:midi_in" &&
			grep -q "playing" "$scratch/$fs_name.err" && return 0
		sleep 0.1
	done
	fail "forksynth did not come up: $(cat "$scratch/$fs_name.err")"
}

# stop_fs: quit through the command channel and wait, 30 s at most (a
# forksynth that does not end fails the test and is killed).
stop_fs() {
	echo quit >&7
	exec 7>&-
	reap "$fs_pid" 30
	fs_status=$rc
	fs_pid=""
}

# send COMMAND: one command line to forksynth; wait for its answer.
send() {
	before=$(wc -l < "$scratch/$fs_name.out")
	echo "$1" >&7
	for _ in $(seq 50); do
		[ "$(wc -l < "$scratch/$fs_name.out")" -gt "$before" ] && break
		sleep 0.05
	done
	tail -n 1 "$scratch/$fs_name.out"
}

# roundtrip: jack_iodelay's measured total round trip in frames, looped
# through the ports given (or directly).
roundtrip() {
	timeout -s INT 4 stdbuf -o0 jack_iodelay > "$scratch/iod.log" 2>&1 &
	for _ in $(seq 30); do
		jack_lsp 2>/dev/null | grep -q "jack_delay:out" && break
		sleep 0.1
	done
	if [ $# -eq 0 ]; then
		jack_connect jack_delay:out jack_delay:in
	else
		jack_connect jack_delay:out "$1"
		jack_connect "$2" jack_delay:in
	fi
	sleep 3
	wait
	tr '\r' '\n' < "$scratch/iod.log" | awk '/total roundtrip/ { f = $1 } END { printf "%d", f }'
}

# stat_of NAME: that counter from the `stats` answer in $st.
stat_of() {
	echo "$st" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

# stats_field NAME: that field of a fresh `stats` answer (leaves $st alone).
stats_field() {
	send stats | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

# dsp_child: the DSP child playing now.  A warm standby, a second child,
# waits beside it, so pgrep -P would find two: `stats` says which plays.
dsp_child() {
	stats_field dsp_pid
}

# standby_ready SECONDS: wait until `stats` says a standby is ready; 1 on
# timeout.
standby_ready() {
	for _ in $(seq $(($1 * 10))); do
		[ "$(stats_field standby)" = ready ] && return 0
		sleep 0.1
	done
	return 1
}
