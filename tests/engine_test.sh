# tests/engine_test.sh — the hybrid engine from outside: renders are
# byte-identical for any thread count and in-process; a render survives its
# DSP child being killed and equals a clean one outside the lost span; a
# hung child is replaced; a child that crashes on every start ends in a
# clear error; nothing is left behind.
. "$top_srcdir/tests/lib.sh"
: "${FORKSYNTH_FI:?}" "${WAVCMP:?}"
cd "$scratch"

# ENGINE_TEST_HOGS=N (.ci/run sets it): N busy loops run beside the
# determinism and crash renders, which must come out the same on a machine
# that has no time for them.  They end with the test, however it ends.
hogs=""
hogs_start() {
	for _ in $(seq "${ENGINE_TEST_HOGS:-0}"); do
		sh -c 'while :; do :; done' &
		hogs="$hogs $!"
	done
	[ -z "$hogs" ] || echo "running beside ${ENGINE_TEST_HOGS} busy loops"
}
hogs_stop() {
	# shellcheck disable=SC2086
	[ -z "$hogs" ] || kill $hogs 2>/dev/null
	hogs=""
}
trap 'hogs_stop; rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM HUP

# a 64-voice patch and a score that keeps every voice busy
cat > voices.fsp <<'P'
poly 64
voice  midi   note
voice  vco    o1   wave=saw detune=-5
voice  vco    o2   wave=pulse detune=5
voice  adsr   fenv attack=0.05 decay=0.8 sustain=0.3
voice  adsr   env  attack=0.02 release=0.3
voice  ladder flt  cutoff=300 res=0.4 depth=4
voice  vca    amp  gain=0.04
global delay  echo time=0.21 feedback=0.4 mix=0.3
connect note.pitch o1.pitch
connect note.pitch o2.pitch
connect note.pitch flt.pitch
connect note.gate  fenv.gate
connect note.gate  env.gate
connect o1.out     flt.in
connect o2.out     flt.in
connect fenv.out   flt.mod
connect flt.out    amp.in
connect env.out    amp.cv
connect amp.out    echo.in
connect echo.out   out.1
connect amp.out    out.2
P
: > voices.score
i=0
while [ $i -lt 96 ]; do
	echo "at $(awk -v i=$i 'BEGIN { printf "%.3f", i * 0.05 }') note $((36 + (i * 7) % 48)) $((40 + (i * 37) % 88)) 2.5" >> voices.score
	i=$((i + 1))
done

# ---- bit-identical for 1, 2, 4 threads and in-process
hogs_start
"$FORKSYNTH" --render t1.wav --seconds 6 --threads 1 --score voices.score voices.fsp 2>/dev/null
for mode in "--threads 2" "--threads 4" "--no-fork --threads 2" \
    "--threads 3 --hot-workers=on" "--threads 2 --hot-workers=off"; do
	out="m$(echo "$mode" | tr -dc '0-9a-z').wav"
	# shellcheck disable=SC2086
	"$FORKSYNTH" --render "$out" --seconds 6 $mode --score voices.score voices.fsp 2>/dev/null
	cmp -s t1.wav "$out" && pass "64 voices: $mode byte-identical to --threads 1" ||
		fail "64 voices: $mode differs from --threads 1"
done
if "$FORKSYNTH" --render bad.wav --hot-workers=warm voices.fsp 2> bad.err; then
	fail "--hot-workers=warm was accepted"
else
	grep -q "hot-workers.*auto, on or off.*warm" bad.err &&
		pass "--hot-workers=warm is refused, naming the choices" ||
		fail "--hot-workers=warm: unclear message: $(cat bad.err)"
fi
[ ! -e bad.wav ] && pass "a refused option writes no file" || fail "bad.wav written"
rms=$(sox t1.wav -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' && pass "64-voice render sounds (RMS $rms)" ||
	fail "64-voice render silent (RMS $rms)"
no_leftovers

# ---- SIGKILL of the child, three times, during a render
# a slow global module stretches the render over seconds of wall time
sed -e 's/^connect echo.out   out.1$/connect echo.out slow.in\nconnect slow.out out.1/' \
    -e 's/^global delay .*/&\nglobal fault slow mode=slow slow=1.5/' voices.fsp > slow.fsp
"$FORKSYNTH_FI" --check slow.fsp >/dev/null || fail "slow.fsp does not load"
"$FORKSYNTH_FI" --render clean.wav --seconds 6 --score voices.score slow.fsp 2>/dev/null
"$FORKSYNTH_FI" --render crash.wav --seconds 6 --score voices.score slow.fsp 2>crash.err &
render=$!
for k in 1 2 3; do
	sleep 0.7
	# only this render's child: other tests run theirs at the same time
	pkill -KILL -P "$render" -f -- "--dsp-child" || true
done
wait $render && pass "render survives three SIGKILLs of its child" ||
	fail "render failed after SIGKILLs: $(cat crash.err)"
cat crash.err
n=$(grep -c "restarted" crash.err)
[ "$n" -eq 3 ] && pass "three restarts reported" || fail "restarts reported: $n, want 3"
grep -q "signal 9" crash.err && pass "the signal is named" || fail "no signal named"
# where a kill from outside lands is chance: each report says where it was
grep -c "while running module '\|between modules" crash.err | grep -qx 3 &&
	pass "each report says where the child was" || fail "a report lacks where"
[ "$(soxi -s crash.wav)" = "$(soxi -s clean.wav)" ] && pass "exact frame count" ||
	fail "frames: $(soxi -s crash.wav) vs $(soxi -s clean.wav)"
if "$WAVCMP" crash.wav clean.wav 256 > cmp.txt; then
	pass "outside the lost span the render equals a clean one: $(cat cmp.txt)"
else
	fail "crash render differs from the clean one: $(cat cmp.txt)"
fi
grep -qE "silent: [1-9]" cmp.txt && pass "the lost span is silence" ||
	fail "no silent span: $(cat cmp.txt)"
hogs_stop
no_leftovers

# ---- a hung child is detected and replaced
cat > hang.fsp <<'P'
poly 2
voice midi note
voice vco osc
voice vca amp gain=0.3
global fault stuck mode=hang after=0.3
connect note.pitch osc.pitch
connect osc.out amp.in
connect note.gate amp.cv
connect amp.out stuck.in
connect stuck.out out.1
P
printf 'at 0 note 57 100 2\n' > hang.score
if "$FORKSYNTH_FI" --render hang.wav --seconds 0.5 --score hang.score hang.fsp 2>hang.err; then
	pass "render with a hanging module completes"
else
	fail "render with a hanging module failed: $(cat hang.err)"
fi
cat hang.err
grep -q "stopped answering" hang.err && grep -q "module 'stuck' (fault)" hang.err &&
	pass "the hang is reported and blamed on 'stuck'" || fail "hang report: $(cat hang.err)"
[ "$(soxi -s hang.wav)" = 24000 ] && pass "hang render: exact frame count" ||
	fail "hang render frames $(soxi -s hang.wav)"
no_leftovers

# ---- a child that crashes, or hangs, on every start: a clear error that
# names the fault and the module after five failed starts, not a loop (a hang is
# seen only after the heartbeat timeout, but it counts as a failed start)
# gives_up MODE WHAT FAULT: the hang patch with its module doing MODE at
# once; the render fails, saying FAULT (a regex) in module 'stuck', then
# that it gives up.
gives_up() {
	sed "s/mode=hang after=0.3/mode=$1 after=0/" hang.fsp > "always-$1.fsp"
	start=$(date +%s)
	if timeout 600 "$FORKSYNTH_FI" --render "always-$1.wav" --seconds 1 --score hang.score \
		"always-$1.fsp" 2> "always-$1.err"; then
		fail "a render whose child always $2 succeeded"
	else
		pass "a child that always $2 fails the render"
	fi
	cat "always-$1.err"
	grep -q "$3 while running module 'stuck' (fault).*giving up" "always-$1.err" &&
		pass "says it gives up, naming the fault and the module" ||
		fail "no give-up message naming '$3' and 'stuck'"
	# not a loop: four restarts, then the fifth failed start gives up (a
	# hang is seen after hang_ms of the child's CPU time, which a loaded
	# machine stretches: the time is a figure, not a bound)
	grep -c "restarted" "always-$1.err" | grep -qx 4 &&
		pass "gave up on the fifth failed start ($(( $(date +%s) - start )) s)" ||
		fail "restarts before giving up: $(grep -c restarted "always-$1.err"), want 4"
	no_leftovers
}
gives_up crash crashes "died of signal 11 (Segmentation fault)"
gives_up hang hangs "stopped answering (no heartbeat for [0-9]* ms)"

# ---- a patch slow to load (big IR files and FFT plans on a loaded machine
# take seconds): the render waits for it, however long, and says so; it
# never runs a block on a patch not yet in effect
cat > slowload.fsp <<'P'
global vco osc wave=sine freq=440 level=0.5
global fault f
connect osc.out f.in
connect f.out out.1
P
"$FORKSYNTH_FI" --render quick.wav --outputs 1 --seconds 0.2 slowload.fsp 2>/dev/null
if FORKSYNTH_FAULT_LOAD_MS=11000 "$FORKSYNTH_FI" --render slowload.wav --outputs 1 \
	--seconds 0.2 slowload.fsp 2>slow.err; then
	pass "a render whose patch takes 11 s to load completes"
else
	fail "slow-loading render: $(cat slow.err)"
fi
cat slow.err
grep -q "still loading the patch" slow.err && pass "says it is still loading" ||
	fail "no word of the wait"
check "the slow-loading render equals the quick one" cmp -s quick.wav slowload.wav
no_leftovers

finish
