# tests/convolver_module_test.sh — the convolver module through the whole
# engine: IRs made by irs/make-irs.sh; a click gives the IR back from frame
# 0; an IR change makes no click; bad IR files are refused with a message
# naming them, at load and live, and the patch plays on.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"
. "$top_srcdir/tests/jack_lib.sh"
export XDG_CACHE_HOME="$scratch/cache"
cd "$scratch"

sh "$top_srcdir/irs/make-irs.sh" "$FORKSYNTH" irs 2>/dev/null
for f in room plate spring; do
	[ -s "irs/$f.wav" ] && pass "made irs/$f.wav ($(soxi -c irs/$f.wav) ch, $(soxi -D irs/$f.wav) s)" ||
		fail "irs/$f.wav not made"
done
echo "at 0 note 60 127 0.01" > click.score

# ---- a click through the convolver gives the IR, from frame 0
cat > stereo.fsp <<'P'
voice midi note
global convolver cv ir="irs/room.wav"
connect note.trig cv.left
connect cv.left  out.1
connect cv.right out.2
P
"$FORKSYNTH" --render click.wav --seconds 0.9 --score click.score stereo.fsp 2>/dev/null
e=$("$ANALYZE" errdb click.wav irs/room.wav)
awk -v e="$e" 'BEGIN { exit !(e <= -100) }' &&
	pass "stereo IR back from frame 0, error $e dB (bound -100)" || fail "stereo IR error $e dB"
for b in 16 2048; do
	"$FORKSYNTH" --render "click$b.wav" --block "$b" --seconds 0.9 --score click.score stereo.fsp 2>/dev/null
	e=$("$ANALYZE" errdb "click$b.wav" irs/room.wav)
	awk -v e="$e" 'BEGIN { exit !(e <= -100) }' &&
		pass "engine blocks of $b frames: error $e dB" || fail "blocks of $b: error $e dB"
done
sed 's/room.wav/spring.wav/; /out.2/d' stereo.fsp > mono.fsp
"$FORKSYNTH" --render clickm.wav --outputs 1 --seconds 1.5 --score click.score mono.fsp 2>/dev/null
e=$("$ANALYZE" errdb clickm.wav irs/spring.wav)
awk -v e="$e" 'BEGIN { exit !(e <= -100) }' &&
	pass "mono IR back from frame 0, error $e dB" || fail "mono IR error $e dB"

# ---- changing the IR while it plays: no click
cat > sine.fsp <<'P'
global vco osc wave=sine freq=220 level=0.5
global convolver cv ir="irs/room.wav" normalize=on
connect osc.out  cv.left
connect cv.left  out.1
connect cv.right out.2
P
echo 'at 0.6 set cv.ir "irs/plate.wav"' > switch.score
"$FORKSYNTH" --render switch.wav --seconds 1.4 --score switch.score sine.fsp 2>/dev/null
# a click is a spike in the second difference, which a 220 Hz tone keeps
# tiny; the same change with fade=0 (at once) is the click to compare with
sed 's/normalize=on/normalize=on fade=0/' sine.fsp > sine0.fsp
"$FORKSYNTH" --render switch0.wav --seconds 1.4 --score switch.score sine0.fsp 2>/dev/null
steady=$("$ANALYZE" maxcurve switch.wav 14400 9600)
at=$("$ANALYZE" maxcurve switch.wav 28000 10400)
hard=$("$ANALYZE" maxcurve switch0.wav 28000 10400)
echo "largest second difference: $steady before, $at across the faded change, $hard at once"
awk -v h="$hard" -v s="$steady" 'BEGIN { exit !(h > 20 * s) }' &&
	pass "the IR really changes (an abrupt change clicks: $hard)" || fail "no change heard ($hard)"
awk -v a="$at" -v h="$hard" 'BEGIN { exit !(a * 10 <= h) }' &&
	pass "the crossfade takes the click out ($at vs $hard at once)" ||
	fail "click at the IR change: $at vs $hard at once"

# ---- bad IR files: a message naming the file, nothing loaded
printf 'not audio\n' > text.wav
sox -n -r 48000 -c 1 empty.wav trim 0 0 2>/dev/null
mkdir -p adir
mkfifo fifo.wav
for bad in missing.wav adir text.wav empty.wav fifo.wav; do
	sed "s|irs/room.wav|$bad|" stereo.fsp > bad.fsp
	# (a pipe must be refused, not waited on)
	if timeout 20 "$FORKSYNTH" --check bad.fsp 2> err.txt; then
		fail "IR $bad accepted"
	else
		grep -q "$bad" err.txt && pass "IR $bad: $(cat err.txt)" || fail "IR $bad: $(cat err.txt)"
	fi
done
sed 's|irs/room.wav|irs/plate.wav|' stereo.fsp > long.fsp
if "$FORKSYNTH" --max-ir-seconds 1 --check long.fsp 2> err.txt; then
	fail "a 2.5 s IR passed --max-ir-seconds 1"
else
	grep -q "more than the 1 s allowed" err.txt && pass "too long: $(cat err.txt)" ||
		fail "too long: $(cat err.txt)"
fi

# ---- live: a bad IR is refused and the old one plays on
start_server
start_fs fs sine.fsp
a=$(send 'set cv.ir "missing.wav"')
case $a in *"error:"*"missing.wav"*) pass "live: $a" ;; *) fail "live bad IR: $a" ;; esac
a=$(send 'set cv.ir "text.wav"')
case $a in *"error:"*"text.wav"*) pass "live: $a" ;; *) fail "live non-audio IR: $a" ;; esac
jack_rec -f live.wav -d 1 fs:out_1 > /dev/null 2>&1
r=$("$ANALYZE" rms live.wav 0 48000)
awk -v r="$r" 'BEGIN { exit !(r > 0.05) }' && pass "the patch plays on with the old IR (RMS $r)" ||
	fail "silent after bad IRs (RMS $r)"
a=$(send 'set cv.ir "irs/plate.wav"')
[ "$a" = ok ] && pass "a good IR is taken live" || fail "live IR change: $a"
stop_fs
[ -s cache/forksynth/fftw-wisdom ] && pass "FFTW wisdom cached in \$XDG_CACHE_HOME/forksynth" ||
	fail "no wisdom cache"
no_leftovers
finish
