# tests/jack_close_test.sh — libjack stuck in jack_client_close (seen in
# CI: twenty clients closing at once on a loaded machine hung one of them
# for good) does not keep forksynth from ending, nor cost the user
# anything: the fault-injection build makes the close hang on demand
# (FORKSYNTH_FI_STUCK_CLOSE); forksynth says so, waits its bounded time,
# and ends with the recording finished and the autosave written.  Against
# a private `jackd -d dummy`.
. "$top_srcdir/tests/lib.sh"
: "${FORKSYNTH_FI:?}"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server
export XDG_STATE_HOME="$scratch/state"
FORKSYNTH=$FORKSYNTH_FI FORKSYNTH_FI_STUCK_CLOSE=1 start_fs stuck --threads 1
a=$(send "record stuck.wav")
b=$(send "set flt.cutoff 1234")
sleep 1
echo quit >&7
exec 7>&-
# the close is given JACKIO_CLOSE_WAIT_S (10 s); a loaded machine may add
# to that, so the bound here is generous: what matters is that it ends
reap "$fs_pid" 120
fs_pid=""
[ "$rc" = 0 ] && pass "quit with libjack stuck in its close ends forksynth (status 0)" ||
	fail "forksynth with a stuck close: status $rc; $(tail -3 stuck.err)"
grep -q "did not close within 10 s" stuck.err &&
	pass "it says so: $(grep -o "the JACK client 'stuck' did not close.*" stuck.err | head -1)" ||
	fail "no word of the stuck close: $(tail -5 stuck.err)"
case $a in "ok "*) ;; *) fail "record: $a" ;; esac
frames=$(sed -n 's/.*recording stuck.wav finished: \([0-9]*\) frames, 0 lost.*/\1/p' stuck.err)
header=$(soxi -s stuck.wav 2>/dev/null)
[ -n "$frames" ] && [ "$frames" -gt 0 ] && [ "$header" = "$frames" ] &&
	pass "the recording is finished: $frames frames, all in its header" ||
	fail "recording: said '$frames' frames, header '$header': $(grep recording stuck.err)"
auto=$(ls "$XDG_STATE_HOME"/forksynth/autosave/stuck/*.fsp 2>/dev/null | head -1)
[ "$b" = ok ] && [ -n "$auto" ] && grep -q "cutoff=1234" "$auto" &&
	pass "the autosave holds the last change: $(basename "$auto")" ||
	fail "autosave after a stuck close: '$b' '$auto'"
# the server is unharmed: a client can come and go
jack_lsp > /dev/null 2>&1 && pass "the server still answers" || fail "jack_lsp after the stuck close"
finish
