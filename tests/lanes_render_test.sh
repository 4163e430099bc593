# tests/lanes_render_test.sh — voices side by side never change a sample:
# a 16-voice patch with every module that has a lane kernel (dsp/lanes.h)
# and a hard-synced vco renders byte-identically on each path
# (FORKSYNTH_SIMD=scalar, sse2, and avx2 where the CPU has it), on 1 and
# 3 DSP threads, forked and in process; voices that sleep between
# phrases included.  A path the CPU lacks or a misspelt one is named on
# stderr and the widest path is used.
. "$top_srcdir/tests/lib.sh"

cd "$scratch"

cat > lanes.fsp <<'P'
poly 16
voice midi n glide=0.02
voice vco saw wave=saw detune=-7
voice vco sq wave=pulse pw=0.3
voice vco tri wave=triangle octave=-1
voice vco sine wave=sine fm=0.3
voice vco hard wave=saw octave=1 level=0.5
voice lfo wob rate=3
voice noise hiss color=pink level=0.05
voice mixer mix
voice ladder flt cutoff=400 res=0.5 depth=3
voice svf band cutoff=1200 q=3
voice adsr fenv attack=0.01 decay=0.3 sustain=0.2 release=0.2
voice adsr env attack=0.005 decay=0.2 sustain=0.7 release=0.15
voice vca amp gain=0.2
voice pan p
connect n.pitch saw.pitch
connect n.pitch sq.pitch
connect n.pitch tri.pitch
connect n.pitch sine.pitch
connect n.pitch flt.pitch
connect n.gate fenv.gate
connect n.gate env.gate
connect wob.out sq.pw
connect tri.out sine.fm
connect n.pitch hard.pitch
connect tri.out hard.sync
connect hard.out flt.in
connect saw.out mix.in1
connect sq.out mix.in2
connect sine.out mix.in3
connect hiss.out mix.in4
connect mix.out flt.in
connect fenv.out flt.mod
connect flt.out band.in
connect wob.out band.mod
connect band.lp amp.in
connect env.out amp.cv
connect amp.out p.in
connect n.velocity p.pan
connect p.left out.1
connect p.right out.2
P
{
	t=0
	for k in 0 1 2 3 4 5 6 7 8 9 10 11; do
		echo "at $t note $((40 + (k * 7) % 36)) $((60 + k * 5)) 0.$((3 + k % 6))"
		t=$(awk -v t="$t" 'BEGIN { print t + 0.07 }')
	done
	echo "at 0.4 set flt.res 0.8"
	# a second phrase after the first one's voices have gone to sleep
	for k in 0 1 2 3 4 5; do
		echo "at 2.$k note $((50 + k * 3)) 100 0.4"
	done
} > lanes.score
if ! "$FORKSYNTH" --check lanes.fsp > check.txt 2>&1; then
	fail "the test patch does not load: $(cat check.txt)"
	finish
fi

paths="scalar sse2"
grep -qw avx2 /proc/cpuinfo && paths="$paths avx2"
render() {  # render OUT PATH ARGS...
	out=$1 path=$2; shift 2
	FORKSYNTH_SIMD=$path "$FORKSYNTH" --render "$out" --force --seconds 3.2 \
		--score lanes.score "$@" lanes.fsp 2> "$out.err" ||
		fail "render $out ($path $*): $(tail -3 "$out.err")"
}
render ref.wav scalar --threads 1
rms=$(sox ref.wav -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
awk -v r="$rms" 'BEGIN { exit !(r > 0.001) }' &&
	pass "the patch sounds (RMS $rms)" || fail "RMS $rms: silent"
for path in $paths; do
	for mode in "--threads 1" "--threads 3" "--threads 3 --no-fork"; do
		render "$path.wav" "$path" $mode
		if cmp -s ref.wav "$path.wav"; then
			pass "$path, $mode: byte-identical to scalar on 1 thread"
		else
			fail "$path, $mode: differs from scalar: $(cmp ref.wav "$path.wav" | head -1)"
		fi
	done
done
echo "paths checked: $paths"

# a misspelt path: named, and the render goes on on the widest path
render typo.wav sse3 --threads 1
grep -q "FORKSYNTH_SIMD=sse3" typo.wav.err && cmp -s ref.wav typo.wav &&
	pass "FORKSYNTH_SIMD=sse3 is named on stderr: $(head -1 typo.wav.err)" ||
	fail "a misspelt path: $(cat typo.wav.err)"
finish
