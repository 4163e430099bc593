#!/bin/sh
# bench/scsynth_pad.sh BINARY [OUT] — forksynth against SuperCollider's
# scsynth on the same 64-voice pad, one thread each (issue 13's "64-voice
# pad, one thread, against scsynth" row): bench/scsynth_pad.py renders
# bench/scsynth_pad.fsp with `BINARY --render --threads 1` on each SIMD path
# and the same pad with `scsynth -N` at block size 64, RUNS times each
# (default 5, interleaved), and prints a markdown table (machine, seconds
# per run, ratio to scsynth, real-time factor).  With OUT, its section there
# is rewritten (or appended).  Without scsynth it says so and succeeds.
# PATHS (default "default sse2 scalar") and BLOCK (default 256) are passed on.
set -u
if ! command -v scsynth > /dev/null 2>&1; then
	echo "scsynth_pad: skipped: scsynth not installed (apt-get install supercollider-server)"
	exit 0
fi
if ! command -v python3 > /dev/null 2>&1; then
	echo "scsynth_pad: skipped: python3 not installed"
	exit 0
fi
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 BINARY [OUT]" >&2
	exit 2
fi
here=$(dirname "$0")
exec python3 "$here/scsynth_pad.py" --forksynth "$1" \
	--patch "$here/scsynth_pad.fsp" --runs "${RUNS:-5}" \
	--paths "${PATHS:-default sse2 scalar}" --block "${BLOCK:-256}" \
	${2:+--out "$2"}
