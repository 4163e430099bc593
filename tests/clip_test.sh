# tests/clip_test.sh — blow-ups never reach JACK or a file.  A delay fed
# into itself (loop gain above 1), a module that outputs 1e30 or NaN, and a
# child that writes 1e30, NaN and infinities straight into its output
# block, each rendered offline and played live against a private
# `jackd -d dummy` while the `record` command records: no sample in the
# file beyond 0 dBFS, none NaN or infinite, the module named in one
# message, the rest of the patch still playing, `stats` counting what was
# clipped and what was not finite.  --no-clip lets large finite samples
# through, never a non-finite one.  In the terminal UI the output meter
# shows CLIP while it clips, and after, until `C` (clear-clip).
. "$top_srcdir/tests/lib.sh"
: "${FORKSYNTH_FI:?}" "${ANALYZE:?}"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
cat > blowup.fsp <<'P'
# a delay fed into itself: dry and wet go round again, a gain above 1
global vco    tone  wave=sine freq=220 level=0.3
global vco    kick  wave=sine freq=330 level=0.05
global delay  fb    time=0.01 feedback=0.99 mix=0.5
connect kick.out  fb.in
connect fb.out    fb.in
connect fb.out    out.1
connect tone.out  out.1
connect tone.out  out.2
P
cat > huge.fsp <<'P'
# `bad` outputs 1e30 once a second has played (and again a second after
# each reset); out.2 carries the tone alone
global vco    tone  wave=sine freq=220 level=0.3
global fault  bad   mode=huge after=1
connect tone.out  bad.in
connect bad.out   out.1
connect tone.out  out.2
P
cat > nan.fsp <<'P'
global vco    tone  wave=sine freq=220 level=0.3
global fault  bad   mode=nan after=0.5
connect tone.out  bad.in
connect bad.out   out.1
connect tone.out  out.2
P
cat > poison.fsp <<'P'
# a child that writes garbage into its output block (out.1) after 0.5 s
global vco    tone  wave=sine freq=220 level=0.3
global fault  liar  mode=poison after=0.5
connect tone.out  liar.in
connect liar.out  out.1
connect tone.out  out.2
P

# safety FILE: "peak P nonfinite N over K" (analyze safety)
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

# still_plays FILE START LEN: out.2 (the tone alone) is the 220 Hz tone at
# its level there
still_plays() {
	f=$(ANALYZE_CHANNEL=1 "$ANALYZE" freq "$1" "$2" "$3")
	r=$(ANALYZE_CHANNEL=1 "$ANALYZE" rms "$1" "$2" "$3")
	awk -v f="$f" -v r="$r" 'BEGIN { exit !(f > 219 && f < 221 && r > 0.2 && r < 0.22) }'
}

# ---- offline render
for case in "blowup.fsp fb delay $FORKSYNTH" "huge.fsp bad fault $FORKSYNTH_FI" \
    "nan.fsp bad fault $FORKSYNTH_FI"; do
	set -- $case
	patch=$1 module=$2 type=$3 bin=$4
	"$bin" --render "r-$patch.wav" --seconds 4 --threads 2 "$patch" 2> "r-$patch.err"
	s=$("$ANALYZE" safety "r-$patch.wav")
	[ "$(field "$s" nonfinite)" = 0 ] && [ "$(field "$s" over)" = 0 ] &&
		pass "render $patch: nothing beyond 0 dBFS, nothing non-finite ($s)" ||
		fail "render $patch: $s"
	n=$(grep -c "module '$module' ($type) blew up:" "r-$patch.err")
	[ "$n" = 1 ] && pass "render $patch: '$module' named in one message" ||
		{ fail "render $patch: $n messages naming '$module'"; cat "r-$patch.err"; }
	check "render $patch: the tone plays on to the end" still_plays "r-$patch.wav" 144000 48000
done
grep -q "not a number" r-nan.fsp.err && pass "render nan.fsp: the message says NaN" ||
	fail "render nan.fsp: $(cat r-nan.fsp.err)"
# the delay is reset and builds up again: out.1 is not silent at the end
r=$("$ANALYZE" rms r-blowup.fsp.wav 144000 48000)
awk -v r="$r" 'BEGIN { exit !(r > 0.3) }' && pass "render blowup.fsp: the delay plays again after its reset (rms $r)" ||
	fail "render blowup.fsp: out.1 at the end: rms $r"

"$FORKSYNTH" --render r-noclip.wav --seconds 4 --no-clip blowup.fsp 2> r-noclip.err
s=$("$ANALYZE" safety r-noclip.wav 1001)
awk -v p="$(field "$s" peak)" 'BEGIN { exit !(p > 1) }' &&
	[ "$(field "$s" nonfinite)" = 0 ] && [ "$(field "$s" over)" = 0 ] &&
	pass "render --no-clip: beyond 0 dBFS, within the +60 dBFS reset limit ($s)" ||
	fail "render --no-clip: $s"

"$FORKSYNTH_FI" --render r-poison.wav --seconds 2 poison.fsp 2> r-poison.err
s=$("$ANALYZE" safety r-poison.wav)
[ "$(field "$s" nonfinite)" = 0 ] && [ "$(field "$s" over)" = 0 ] &&
	pass "render, child writes 1e30/NaN/inf: none of it in the file ($s)" ||
	fail "render, child writes garbage: $s"
"$FORKSYNTH_FI" --render r-poison-nc.wav --seconds 2 --no-clip poison.fsp 2> r-poison-nc.err
s=$("$ANALYZE" safety r-poison-nc.wav)
awk -v p="$(field "$s" peak)" 'BEGIN { exit !(p >= 1e29) }' &&
	[ "$(field "$s" nonfinite)" = 0 ] &&
	pass "render --no-clip, child writes 1e30/NaN/inf: 1e30 kept, no NaN or inf ($s)" ||
	fail "render --no-clip, child writes garbage: $s"
check "render --no-clip, child writes garbage: the tone plays on" \
	still_plays r-poison-nc.wav 48000 48000

# ---- live: record through the `record` command, then ask `stats`
start_server

# live BIN PATCH NAME [ARGS]: play PATCH for 3 s recording NAME.wav; the
# `stats` answer afterwards in $st
live() {
	bin=$1 patch=$2 name=$3; shift 3
	FORKSYNTH=$bin start_fs "$name" --threads 2 "$@" "$patch"
	send "record $scratch/$name.wav" > /dev/null
	sleep 3
	send "record stop" > /dev/null
	st=$(send stats)
	stop_fs
}

live "$FORKSYNTH" blowup.fsp lblow
s=$("$ANALYZE" safety lblow.wav)
[ "$(field "$s" nonfinite)" = 0 ] && [ "$(field "$s" over)" = 0 ] &&
	pass "live blowup.fsp: recording within 0 dBFS, nothing non-finite ($s)" ||
	fail "live blowup.fsp: $s"
n=$(grep -c "module 'fb' (delay) blew up:" lblow.err)
[ "$n" = 1 ] && pass "live blowup.fsp: 'fb' named once on stderr" ||
	{ fail "live blowup.fsp: $n first messages naming 'fb'"; cat lblow.err; }
clipped=$(stat_of clipped) nonfinite=$(stat_of nonfinite)
[ "${clipped:-0}" -gt 0 ] && [ "$nonfinite" = 0 ] &&
	pass "live blowup.fsp: stats counts clipped $clipped, nonfinite $nonfinite" ||
	fail "live blowup.fsp: stats: $st"
frames=$(sox --i -s lblow.wav 2>/dev/null || echo 0)
check "live blowup.fsp: the tone plays on to the end of the recording" \
	still_plays lblow.wav $((frames - 48000)) 48000
echo "$st" | grep -q "^ok cycles [0-9]* xruns [0-9]* late [0-9]* down [0-9]* restarts" &&
	echo "$st" | grep -q " sched [^ ]* shed [0-9]* .* standby_lost [0-9]* clipped [0-9]* nonfinite [0-9]* voices_sounding [0-9]*$" &&
	pass "stats: the new fields come last, the old ones unmoved" ||
	fail "stats layout: $st"

live "$FORKSYNTH_FI" poison.fsp lpois
s=$("$ANALYZE" safety lpois.wav)
[ "$(field "$s" nonfinite)" = 0 ] && [ "$(field "$s" over)" = 0 ] &&
	pass "live, child writes 1e30/NaN/inf: none of it in the recording ($s)" ||
	fail "live, child writes garbage: $s"
clipped=$(stat_of clipped) nonfinite=$(stat_of nonfinite)
[ "${clipped:-0}" -gt 0 ] && [ "${nonfinite:-0}" -gt 0 ] &&
	[ "$clipped" = "$nonfinite" ] &&
	pass "live, child writes garbage: stats clipped $clipped, nonfinite $nonfinite (1e30, NaN, inf, -1e30 in turn)" ||
	fail "live, child writes garbage: stats: $st"

check "live, child writes garbage: the tone plays on in out.2" still_plays lpois.wav 48000 48000

live "$FORKSYNTH_FI" poison.fsp lpoisnc --no-clip
s=$("$ANALYZE" safety lpoisnc.wav)
awk -v p="$(field "$s" peak)" 'BEGIN { exit !(p >= 1e29) }' &&
	[ "$(field "$s" nonfinite)" = 0 ] &&
	pass "live --no-clip, child writes garbage: 1e30 kept, no NaN or inf ($s)" ||
	fail "live --no-clip, child writes garbage: $s"
[ "$(stat_of clipped)" = 0 ] && [ "$(stat_of nonfinite)" -gt 0 ] &&
	pass "live --no-clip: stats clipped 0, nonfinite $(stat_of nonfinite)" ||
	fail "live --no-clip: stats: $st"

# ---- the terminal UI: CLIP on the meter, latched until C
if command -v tmux > /dev/null; then
	sock="fsclip$$"
	tmx() { tmux -L "$sock" "$@"; }
	trap 'tmx kill-server 2>/dev/null; stop_all' EXIT
	screen() { tmx capture-pane -p -t ui 2>/dev/null; }
	wait_screen() {
		for _ in $(seq $(($2 * 10))); do
			screen | grep -qE -- "$1" && return 0
			sleep 0.1
		done
		return 1
	}
	mkdir -p "$scratch/config"
	cat > loud.fsp <<'P'
# a saw at twice full scale on out.1 until the mixer is turned down
global vco    saw   wave=saw freq=110
global mixer  m     master=2
global vco    tone  wave=sine freq=220 level=0.3
connect saw.out   m.in1
connect m.out     out.1
connect tone.out  out.2
P
	tmx new-session -d -s ui -x 80 -y 24 \
		"cd '$scratch'; JACK_DEFAULT_SERVER='$server' XDG_CONFIG_HOME='$scratch/config' \
		XDG_STATE_HOME='$scratch/state-ui' '$FORKSYNTH' --name ui --threads 2 loud.fsp \
		2> '$scratch/ui.stderr'; sleep 60"
	if wait_screen "forksynth  ui " 10; then
		wait_screen "out1 \[.*CLIP.*dB\]" 10 &&
			pass "UI: CLIP on out1's meter while it clips" ||
			{ fail "UI: no CLIP on out1"; screen; }
		screen | grep -qE "out2 \[.*CLIP" && fail "UI: CLIP on out2, which never clipped" ||
			pass "UI: no CLIP on out2"
		tmx send-keys -t ui : ; sleep 0.3
		tmx send-keys -t ui -l "set m.master 0.25"; sleep 0.2
		tmx send-keys -t ui Enter
		sleep 1.5
		screen | grep -qE "out1 \[.*CLIP" &&
			pass "UI: the mark stays after the clipping stopped (latched)" ||
			{ fail "UI: CLIP went away by itself"; screen; }
		tmx send-keys -t ui C
		wait_screen "clip marks cleared" 5 && sleep 1 && ! screen | grep -qE "out1 \[.*CLIP" &&
			pass "UI: C (clear-clip) clears the mark" || { fail "UI: C did not clear CLIP"; screen; }
		tmx send-keys -t ui q
		sleep 1
	else
		fail "UI did not come up: $(cat "$scratch/ui.stderr")"
	fi
	tmx kill-server 2>/dev/null
else
	echo "SKIP: tmux is not installed (UI CLIP mark)"
fi
no_leftovers
finish
