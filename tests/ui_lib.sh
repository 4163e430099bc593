# tests/ui_lib.sh — shared by the tests of the terminal UI: forksynth's UI
# in tmux windows against the private server of tests/jack_lib.sh, keys in
# with `tmux send-keys`, the screen back with `tmux capture-pane`.  Source
# it after lib.sh and jack_lib.sh.

command -v tmux > /dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
sock="fsui$$"
export XDG_CONFIG_HOME="$scratch/config"
mkdir -p "$XDG_CONFIG_HOME"
tmx() { tmux -L "$sock" "$@"; }
trap 'tmx kill-server 2>/dev/null; stop_all' EXIT

# ui_start NAME COLS ROWS [ENV=VALUE ...] -- ARGS...: forksynth's UI in a
# tmux window of that size; when it ends, its exit status and the
# terminal's settings are written next to the scratch files.  The first
# window starts the test's tmux server, which takes the test's environment
# then, and keeps it to the end (exit-empty off): by default it exits with
# its last session, and a window started right after ui_stop could reach
# the exiting server ("server exited unexpectedly", seen on a loaded
# machine).  Each window
# keeps its autosave apart (state-NAME) unless STATE names a shared one.
ui_start() {
	name=$1 cols=$2 rows=$3; shift 3
	envs=""
	while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	shift
	tmx new-session -d -s "$name" -x "$cols" -y "$rows" \
		"cd '$scratch'; env$envs JACK_DEFAULT_SERVER='$server' \
		XDG_STATE_HOME='$scratch/state-${STATE:-$name}' \
		XDG_CONFIG_HOME='$XDG_CONFIG_HOME' ${FS:-$FORKSYNTH} --name $name $* \
		2> '$scratch/$name.stderr'; rc=\$?; \
		stty -a > '$scratch/$name.stty'; echo \"exit \$rc\" > '$scratch/$name.exit'; \
		sleep 60" \; set-option -s exit-empty off
	wait_screen "$name" "forksynth  $name " 10 || {
		fail "$name: the UI did not come up"; screen "$name"; cat "$scratch/$name.stderr"
	}
}

# screen NAME: the pane as text.
screen() { tmx capture-pane -p -t "$1" 2>/dev/null; }

# wait_screen NAME TEXT [SECONDS]: until the pane shows TEXT (a message
# may run on into the next row).
wait_screen() {
	for _ in $(seq $((${3:-5} * 10))); do
		screen "$1" | tr -d '\n' | grep -qF -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# ui_pid NAME: the forksynth process of a window: the DSP child's parent.
ui_pid() {
	child=$(screen "$1" | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')
	ps -o ppid= -p "$child" | tr -d ' '
}

# keys NAME KEY...: press keys (tmux names: Enter, Up, C-r ...).
keys() { n=$1; shift; tmx send-keys -t "$n" "$@"; sleep 0.25; }
# type NAME TEXT: type literal text.
type_text() { tmx send-keys -t "$1" -l "$2"; sleep 0.2; }

# drone_patch FILE [CUTOFF [RES [OUTPUTS]]]: the UI tests' patch, a saw drone
# through a ladder into out.1 (and out.2 unless OUTPUTS is 1).
drone_patch() {
	{
		echo "# a saw drone through a ladder: cutoff decides the brightness"
		echo "poly 1"
		echo "global vco    osc wave=saw"
		echo "global ladder flt cutoff=${2:-8000} res=${3:-0.1}"
		echo "global vca    amp gain=0.3"
		echo "connect osc.out flt.in"
		echo "connect flt.out amp.in"
		echo "connect amp.out out.1"
		[ "${4:-2}" = 1 ] || echo "connect amp.out out.2"
	} > "$1"
}

# at_prompt NAME TEXT: type TEXT at the : prompt and Enter.
at_prompt() { keys "$1" :; type_text "$1" "$2"; keys "$1" Enter; }

# ui_stop NAME: quit with q (with :q! when q is refused: unsaved changes)
# and wait for the program to end.
ui_stop() {
	keys "$1" q
	for _ in $(seq 20); do [ -s "$scratch/$1.exit" ] && break; sleep 0.1; done
	if [ ! -s "$scratch/$1.exit" ] && screen "$1" | grep -q "unsaved changes"; then
		keys "$1" :
		type_text "$1" "q!"
		keys "$1" Enter
	fi
	for _ in $(seq 100); do [ -s "$scratch/$1.exit" ] && break; sleep 0.1; done
	tmx kill-session -t "$1" 2>/dev/null
}

# shown NAME PARAM: the value a parameter bar shows ("450.2 Hz").
shown() {
	screen "$1" | sed -n "s/.* $2 *\[[|# ]*\([^]]*\)\].*/\1/p" | head -1 | sed 's/^ *//'
}

# hf_level FILE: RMS level above 3 kHz, dBFS (first channel).
hf_level() {
	sox "$1" -n remix 1 sinc 3000 stats 2>&1 | awk '/RMS lev dB/ { print $4 }'
}

# capture FILE SECONDS CLIENT: record the client's outputs.
capture() {
	jack_capture -d "$2" -p "$3:out_1" -p "$3:out_2" "$1" > "$scratch/capture.log" 2>&1
}

