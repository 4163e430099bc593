# tests/record_test.sh — recording what forksynth plays, against a private
# `jackd -d dummy`: whole periods, sample-identical to what the ports carried
# (jack_capture records the same ports); a file that survives SIGKILL; a
# full disk; a DSP restart recorded as the silence that was played; every
# format read back by libsndfile; no silent overwrite.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}" "${WAVCMP:?}"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server
cat > sine.fsp <<'P'
poly 4
voice midi note
voice vco  osc wave=saw
voice vca  amp gain=0.3
connect note.pitch osc.pitch
connect osc.out    amp.in
connect note.gate  amp.cv
connect amp.out    out.1
connect osc.out    out.2
P

# ---- whole periods, identical to what the ports carried
start_fs fs sine.fsp
jack_midiseq "seq$$" 24000 0 57 9000 12000 64 9000 > /dev/null 2>&1 &
for _ in $(seq 30); do jack_lsp | grep -q "seq$$:out" && break; sleep 0.1; done
jack_connect "seq$$:out" fs:midi_in
jack_capture -d 6 -p fs:out_1 -p fs:out_2 ref.wav > capture.log 2>&1 &
cap=$!
sleep 0.7
a=$(send "record rec.wav")
case $a in "ok recording to rec.wav") pass "record starts: $a" ;; *) fail "record: $a" ;; esac
sleep 1.2
a=$(send "record stop")
echo "$a"
wait $cap
n=$(soxi -s rec.wav)
[ $((n % 256)) = 0 ] && [ "$n" -gt 40000 ] && pass "$n frames: whole periods of 256" ||
	fail "recorded $n frames, not whole periods"
case $a in *"$n frames, 0 lost"*) pass "record stop reports the same count" ;;
	*) fail "record stop said: $a (file has $n)" ;; esac
"$WAVCMP" --within rec.wav ref.wav > within.txt
case $? in
0) pass "sample-identical to jack_capture's recording of the ports: $(cat within.txt)" ;;
3) # jack_capture itself skipped frames (a loaded machine): every one of
   # our blocks is still in its file, in order
   pass "every block is in jack_capture's recording, which skipped some: $(cat within.txt)" ;;
*) fail "differs from the ports' data: $(cat within.txt)"; cat capture.log ;;
esac

# ---- an existing file is not replaced
a=$(send "record rec.wav")
case $a in *"error:"*"rec.wav"*"exists"*) pass "no overwrite: $a" ;; *) fail "overwrite: $a" ;; esac
[ "$(soxi -s rec.wav)" = "$n" ] && pass "the existing file is untouched" || fail "file changed"

# ---- across a SIGKILL of the DSP child: the gap is the silence played.
# The file holds one period per JACK cycle while recording; forksynth's
# cycle count is read before and after each of start and stop, which
# brackets the cycles recorded (a loaded machine runs fewer cycles than the
# wall time would give, never more).
st=$(send stats); c0=$(stat_of cycles)
a=$(send "record gap.wav")
st=$(send stats); c1=$(stat_of cycles)
sleep 1
child=$(dsp_child)
kill -KILL "$child"
sleep 1.5
st=$(send stats); c2=$(stat_of cycles)
a=$(send "record stop")
st=$(send stats); c3=$(stat_of cycles)
frames=$(soxi -s gap.wav)
p=$((frames / 256))
echo "gap.wav: $frames frames ($p periods) for $((c2 - c1))..$((c3 - c0)) JACK cycles"
[ $((frames % 256)) = 0 ] && [ "$p" -ge $((c2 - c1)) ] && [ "$p" -le $((c3 - c0)) ] &&
	pass "every period played is in the file, restart included ($p periods in $((c2 - c1))..$((c3 - c0)) cycles)" ||
	fail "file $frames frames for $((c2 - c1))..$((c3 - c0)) JACK cycles of 256 frames"
# a warm standby takes over within a period or two (or, with none ready,
# a restart costs about 100 ms of silence): how long is timing, not
# asserted; the file keeping every period is
echo "gap.wav: longest run of exact silence $("$ANALYZE" zeros gap.wav) frames"
grep -qE "restarted|took over" fs.err && pass "restart reported" || fail "no restart reported"

# ---- a full disk stops the recording with a message; the music plays on
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
	a=$(send "record small/full.wav")
	echo "$a"
	for _ in $(seq 60); do grep -q "recording stopped" fs.err && break; sleep 0.1; done
	grep "recording stopped" fs.err | head -1
	grep -q "recording stopped: small/full.wav: .*disk is full" fs.err &&
		pass "full disk: the message names the file and the reason" ||
		fail "full disk message: $(tail -3 fs.err)"
	s1=$(send stats | awk '{ print $3 }'); sleep 0.5; s2=$(send stats | awk '{ print $3 }')
	[ "$s2" -gt "$s1" ] && pass "the music plays on ($s1 -> $s2 periods)" || fail "stalled"
	send "record stop" > /dev/null
	soxi small/full.wav > full.txt 2>&1 && pass "the file on the full disk is valid: $(soxi -s small/full.wav) frames" ||
		fail "full disk file unreadable: $(cat full.txt)"
	umount small
else
	echo "SKIP: full-disk check needs root to mount a 1 MiB tmpfs"
fi

# ---- SIGKILL of forksynth while recording: all but the last second kept
a=$(send "record killed.wav")
sleep 2.5
t=$(send stats | awk '{ print $3 }')
kill -KILL "$fs_pid"
wait "$fs_pid" 2>/dev/null
fs_pid=""
exec 7>&-
if soxi killed.wav > killed.txt 2>&1; then
	k=$(soxi -s killed.wav)
	[ "$k" -ge $((48000 * 3 / 2)) ] && pass "after SIGKILL the file opens with $k frames (of ~2.5 s)" ||
		fail "after SIGKILL only $k frames"
else
	fail "after SIGKILL the file does not open: $(cat killed.txt)"
fi
if command -v sndfile-info > /dev/null; then
	sndfile-info killed.wav | grep -q "Frames" && pass "sndfile-info reads it" || fail "sndfile-info"
fi

# ---- every format: written by the recorder and by --render, read back
for f in wav wav24 wav16 flac ogg; do
	ext=$f; case $f in wav*) ext=wav ;; esac
	"$FORKSYNTH" --render "r-$f.$ext" --format "$f" --seconds 1.5 --rate 44100 2>/dev/null
	r=$(soxi -r "r-$f.$ext" 2>/dev/null) c=$(soxi -c "r-$f.$ext" 2>/dev/null) s=$(soxi -s "r-$f.$ext" 2>/dev/null)
	[ "$r/$c/$s" = "44100/2/66150" ] && pass "render $f: 44100 Hz, 2 channels, 66150 frames" ||
		fail "render $f: $r Hz $c ch $s frames"
done
soxi r-wav16.wav | grep -q "16-bit" && soxi r-wav24.wav | grep -q "24-bit" &&
	pass "wav16 and wav24 are 16- and 24-bit" || fail "bit depths"
start_fs fs2 --format flac --record-ports 2 --record live.flac sine.fsp
sleep 1
stop_fs
[ "$(soxi -c live.flac)" = 1 ] && [ "$(soxi -r live.flac)" = 48000 ] && [ "$(soxi -s live.flac)" -gt 20000 ] &&
	pass "--record with --format flac --record-ports 2: 1 channel, 48 kHz, $(soxi -s live.flac) frames" ||
	fail "live flac: $(soxi live.flac 2>&1 | tr '\n' ' ')"

no_leftovers
finish
