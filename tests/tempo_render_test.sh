# tests/tempo_render_test.sh — musical time offline: the seq step
# sequencer, an lfo and a delay with sync=tempo, all at the patch's own
# tempo (`tempo BPM`) in renders, which are deterministic; bad divisions and
# tempos are refused with messages that name them.  Frames are exact: at
# 48 kHz and 120 BPM a quarter note is 24000 frames.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"

cd "$scratch"

# render PATCH SECONDS OUT: an offline render, 48 kHz, one DSP thread
render() {
	"$FORKSYNTH" --render "$3" --force --threads 1 --no-clip --seconds "$2" \
	    --score /dev/null "$1" > /dev/null 2> render.err ||
		fail "render $1: $(cat render.err)"
}

# rises FILE LEVEL: the frames where channel 1 rises through LEVEL, on one line
rises() {
	"$ANALYZE" rises "$1" "$2" | tr '\n' ' ' | sed 's/ $//'
}

# ---- seq: steps at the expected frames, pitches in order
cat > seq.fsp <<'P'
# four steps of eighth notes at the default tempo (120)
global seq s division=1/8 steps=4 gate=0.5 s1=12 s2=-12 s3=7 s4=0
connect s.gate  out.1
connect s.pitch out.2
P
render seq.fsp 1 seq.wav
r=$(rises seq.wav 0.5)
[ "$r" = "12000 24000 36000" ] &&
	pass "seq at 120 BPM, 1/8: gate rises at frames 12000 24000 36000" ||
	fail "seq gate rises: '$r'"
g=$("$ANALYZE" mean seq.wav 0 12000)
awk -v g="$g" 'BEGIN { exit !(g > 0.4999 && g < 0.5001) }' &&
	pass "gate=0.5: high for half of each step (mean $g)" || fail "gate mean $g"
k=0
for want in 1 -1 0.583333 0; do
	m=$(ANALYZE_CHANNEL=1 "$ANALYZE" mean seq.wav $((k * 12000)) 12000)
	awk -v m="$m" -v w="$want" 'BEGIN { d = m - w; exit !(d < 1e-4 && d > -1e-4) }' &&
		pass "step $((k + 1)): pitch $m octaves (want $want)" ||
		fail "step $((k + 1)): pitch $m, want $want"
	k=$((k + 1))
done
render seq.fsp 1 seq2.wav
cmp -s seq.wav seq2.wav && pass "a seq render repeats byte for byte" ||
	fail "two renders of the seq differ"

# the patch tempo: 90 BPM, an eighth note is 16000 frames
{ echo "tempo 90"; cat seq.fsp; } > seq90.fsp
render seq90.fsp 1 seq90.wav
r=$(rises seq90.wav 0.5)
[ "$r" = "16000 32000" ] && pass "tempo 90: gate rises at 16000 32000" ||
	fail "seq at tempo 90: '$r'"
# a dotted eighth and a triplet
sed 's|division=1/8|division=1/8d|' seq.fsp > seqd.fsp
render seqd.fsp 1 seqd.wav
r=$(rises seqd.wav 0.5)
[ "$r" = "18000 36000" ] && pass "1/8d: steps of 18000 frames" || fail "1/8d: '$r'"
sed 's|division=1/8|division=1/8t|' seq.fsp > seqt.fsp
render seqt.fsp 0.5 seqt.wav
r=$(rises seqt.wav 0.5)
[ "$r" = "8000 16000" ] && pass "1/8t: steps of 8000 frames" || fail "1/8t: '$r'"
# play=rolling: no transport offline, so the gate stays low
sed 's|gate=0.5|gate=0.5 play=rolling|' seq.fsp > seqr.fsp
render seqr.fsp 0.5 seqr.wav
r=$("$ANALYZE" rms seqr.wav 0 24000)
[ "$r" = "0.000000" ] || awk -v r="$r" 'BEGIN { exit !(r == 0) }' &&
	pass "play=rolling offline (transport absent): the gate stays low" ||
	fail "play=rolling offline: gate rms $r"

# ---- lfo sync=tempo: one cycle per division at the tempo
# periods FILE: the differences between successive rises through 0
periods() {
	"$ANALYZE" rises "$1" 0 | awk 'NR > 1 { printf "%s%d", sep, $1 - p; sep = " " } { p = $1 }'
}
for t in 120 90 133; do
	cat > lfo$t.fsp <<P
tempo $t
global lfo l wave=sine sync=tempo division=1/4
connect l.out out.1
P
	render lfo$t.fsp 3 lfo$t.wav
	want=$(awk -v t=$t 'BEGIN { printf "%.0f", 48000 * 60 / t }')
	p=$(periods lfo$t.wav)
	echo "tempo $t: lfo periods $p (want $want)"
	ok=$(echo "$p" | awk -v w="$want" '{ n = 0; for (i = 1; i <= NF; i++) if ($i - w > 1 || w - $i > 1) n++; print (NF >= 2 && n == 0) }')
	[ "$ok" = 1 ] && pass "lfo 1/4 at tempo $t: every period $want +-1 frames ($p)" ||
		fail "lfo 1/4 at tempo $t: periods '$p', want $want"
done
# the rate parameter does not matter with sync=tempo
sed 's/sync=tempo/rate=37 sync=tempo/' lfo120.fsp > lfor.fsp
render lfor.fsp 3 lfor.wav
cmp -s lfo120.wav lfor.wav && pass "sync=tempo ignores rate" || fail "rate changed a synced lfo"
# sync=free is the lfo of before, at its rate
cat > lfofree.fsp <<'P'
global lfo l wave=sine rate=4 sync=free division=1/16
connect l.out out.1
P
render lfofree.fsp 2 lfofree.wav
p=$(periods lfofree.wav | awk '{ print $2 }')
[ "$p" -ge 11999 ] && [ "$p" -le 12001 ] && pass "sync=free: the rate rules (4 Hz: $p frames)" ||
	fail "sync=free period $p"

# ---- delay sync=tempo: the echo of an impulse lands one division later
# the impulse: a seq's trig, once per whole note
delay_patch() {
	cat <<P
tempo $1
global seq s division=1/1 steps=1
global delay d sync=tempo division=$2 mix=1 feedback=0 time=0.05
connect s.trig d.in
connect d.out out.1
P
}
for c in "120 1/8 12000" "90 1/8 16000" "120 1/8d 18000" "133 1/4 21654" "20 1/1 96000"; do
	set -- $c
	delay_patch "$1" "$2" > delay.fsp
	render delay.fsp 2.5 delay.wav
	r=$(rises delay.wav 0.5 | cut -d ' ' -f 1)
	[ "$r" = "$3" ] && pass "delay $2 at tempo $1: the first echo at frame $3" ||
		fail "delay $2 at tempo $1: echoes at '$r', want $3"
done
# (at 20 BPM a whole note is 12 s: held to the delay's longest, 2 s = 96000)

# ---- bad input: clear messages naming the thing
bad() {   # bad LINE EXPECTED-TEXT WHAT
	printf 'global seq s\nglobal lfo l\n%s\n' "$1" > bad.fsp
	if "$FORKSYNTH" --check bad.fsp > out.txt 2>&1; then
		fail "$3 accepted"
	else
		contains out.txt "bad.fsp:3:" && contains out.txt "$2" &&
			pass "$3 refused: $(head -n 1 out.txt)" || fail "$3: $(cat out.txt)"
	fi
}
bad "set s.division 0" "unknown division '0' (expected one of: 4/1, 2/1, 1/1" "division 0"
bad "set l.division 1/0" "unknown division '1/0'" "division 1/0"
bad "global delay d sync=tempo division=3/7" "unknown division '3/7'" "division 3/7"
bad "set l.sync beat" "unknown sync 'beat' (expected one of: free, tempo)" "sync=beat"
bad "tempo 0" "tempo must be in 20..999 BPM, got 0" "tempo 0"
bad "tempo 10000" "tempo must be in 20..999 BPM, got 10000" "tempo 10000"
bad "tempo -120" "tempo must be in 20..999 BPM" "tempo -120"
bad "tempo fast" "expected a number of beats per minute for tempo, got 'fast'" "tempo fast"
bad "tempo nan" "expected a number of beats per minute for tempo" "tempo nan"
bad "tempo" "tempo" "tempo without a value"
bad "tempo 120 130" "tempo" "tempo with two values"
bad "set s.steps 9" "steps must be in 1..8" "steps 9"
bad "set s.gate 0" "gate must be in 0.01..1" "gate 0"
printf 'tempo 92.5\nglobal seq s\n' > ok.fsp
"$FORKSYNTH" --check ok.fsp > out.txt 2>&1 && pass "tempo 92.5 accepted" ||
	fail "tempo 92.5: $(cat out.txt)"

finish
