# tests/ui_scope_test.sh — see the sound (issue 18): the scope shows a
# 1 kHz sine where it is (its drawn trace, read back from the screen,
# rises through zero every 48 samples at 48 kHz with about its amplitude),
# the spectrum peaks in the column the axis labels 1k and nowhere else,
# and `probe NAME.OUTPUT` shows a module that no output plays; a probe of
# a module or output that does not exist is a clear error that changes
# nothing.  Through tmux at 80x24 against a private `jackd -d dummy`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
# a on both outputs; b plays nowhere: only the probe can show it
cat > scope.fsp <<'P'
global vco a wave=sine freq=1000 level=0.5
global vco b wave=sine freq=250 level=0.8
connect a.out out.1
connect a.out out.2
P

# trace NAME: from the scope as drawn, "PERIOD AMPLITUDE CROSSINGS": the
# mean distance in samples between rising zero crossings of the trace and
# its largest |value|, read off the rows with the axis's own scale (the
# heading's "N frames/col" and "y +-R", the '|' of the axis at column 6).
trace() {
	screen "$1" | awk '
		/frames\/col/ {
			for (i = 1; i <= NF; i++) {
				if ($(i + 1) == "frames/col") per = $i
				if ($i == "y") { r = $(i + 1); sub(/\+-/, "", r) }
			}
			head = NR; next
		}
		head && substr($0, 6, 1) == "|" { rows[n++] = $0; next }
		head && n { head = 0 }
		END {
			if (!per || !r || n < 3) { print "0 0 0"; exit }
			width = 0
			for (k = 0; k < n; k++) if (length(rows[k]) > width) width = length(rows[k])
			state = 0; first = -1; last = -1; count = 0; amp = 0
			for (c = 7; c <= width; c++) {
				lo = -1; hi = -1
				for (k = 0; k < n; k++)
					if (substr(rows[k], c, 1) == "*") { if (lo < 0) lo = k; hi = k }
				if (lo < 0) continue
				v = r * (1 - (lo + hi) / (n - 1))
				if (v > amp) amp = v; if (-v > amp) amp = -v
				if (v < -0.1 * r) state = -1
				else if (v > 0.1 * r) {
					if (state < 0) {
						if (first < 0) first = c; last = c; count++
					}
					state = 1
				}
			}
			period = count > 1 ? (last - first) / (count - 1) * per : 0
			printf "%.1f %.3f %d\n", period, amp, count
		}'
}

# check_trace NAME WHAT PERIOD AMPLITUDE: the trace has this period (+-10 %)
# and amplitude (+-0.15); tried on a few frames, as the screen may be
# caught mid-drawing on a loaded machine.
check_trace() {
	for _ in $(seq 20); do
		set -- "$1" "$2" "$3" "$4" $(trace "$1")
		if awk -v p="$5" -v a="$6" -v wp="$3" -v wa="$4" 'BEGIN {
			exit !(p > 0.9 * wp && p < 1.1 * wp && a > wa - 0.15 && a < wa + 0.15) }'; then
			pass "$2: rising zero crossings every $5 samples (want $3), amplitude $6 (want $4), $7 crossings"
			return 0
		fi
		sleep 0.3
	done
	fail "$2: the trace reads period $5 samples, amplitude $6, $7 crossings (want $3, $4)"
	screen "$1"
}

# spectrum_peak NAME: "PEAK_COLUMN 1K_COLUMN FAR_HEIGHT PEAK_HEIGHT": the
# column whose '#' bar stands highest, the column of the '+' tick labelled
# 1k, and the highest bar (rows) more than 4 columns away from it.
spectrum_peak() {
	screen "$1" | awk '
		/SPECTRUM/ { top = NR; next }
		top && !done && substr($0, 6, 1) == "+" { axis = $0; getline; labels = $0; done = 1; next }
		top && !done && substr($0, 6, 1) == "|" { rows[n++] = $0 }
		END {
			k1 = index(labels, "1k")
			if (!k1 || substr(axis, k1, 1) != "+") { print "0 0 0 0"; exit }
			best = -1; bh = 0
			for (c = 7; c <= length(axis); c++) {
				h[c] = 0
				for (k = 0; k < n; k++)
					if (substr(rows[k], c, 1) == "#") { h[c] = n - k; break }
				if (h[c] > bh) { bh = h[c]; best = c }
			}
			far = 0
			for (c = 7; c <= length(axis); c++)
				if ((c < k1 - 4 || c > k1 + 4) && h[c] > far) far = h[c]
			print best, k1, far, bh
		}'
}

ui_start sc 80 24 -- --threads 2 scope.fsp
# the views are on the tab line, reachable by their keys
screen sc | grep -q ' scope .* spectrum .* help' &&
	pass "the tab line names scope and spectrum at 80 columns" ||
	{ fail "no scope or spectrum on the tab line"; screen sc; }
keys sc 5
wait_screen sc "SCOPE out.1" 10 && pass "5 shows the scope of out.1" ||
	{ fail "5 did not show the scope"; screen sc; }
check_trace sc "scope of out.1 (1 kHz, 0.5)" 48 0.5
keys sc t t
wait_screen sc "trigger free" 5 && check_trace sc "free run" 48 0.5 ||
	fail "t t did not set the trigger to free run"
keys sc t
wait_screen sc "trigger rise" 5 || fail "t did not come back round to rise"
# a level the signal never reaches: the view says so and runs free
keys sc :
type_text sc "trigger level 0.9"
keys sc Enter
wait_screen sc "level 0.9 (none: free run)" 5 &&
	pass "a level the signal never reaches: the scope says so and runs free" ||
	{ fail "no free-run fallback shown for an unreachable level"; screen sc; }
check_trace sc "free run fallback" 48 0.5
keys sc t

# the spectrum: the 1 kHz column has the peak, nothing far from it stands up
keys sc 6
wait_screen sc "SPECTRUM out.1" 10 || { fail "6 did not show the spectrum"; screen sc; }
ok=0
for _ in $(seq 20); do
	set -- $(spectrum_peak sc)
	d=$(( $1 - $2 ))
	if [ "$4" -ge 6 ] && [ "$d" -ge -1 ] && [ "$d" -le 1 ] && [ "$3" -le $(( $4 - 6 )) ]; then
		ok=1; break
	fi
	sleep 0.3
done
[ "$ok" = 1 ] && pass "spectrum: the peak ($4 rows) is in column $1, the 1k tick's is $2; elsewhere at most $3 rows" ||
	{ fail "spectrum: peak column $1 height $4, 1k at $2, elsewhere $3 rows"; screen sc; }
keys sc P
wait_screen sc "peak hold cleared" 5 && pass "P clears the peak hold" ||
	fail "P did not clear the peak hold"

# the probe: b plays nowhere, the probe shows it
keys sc 5
keys sc :
type_text sc "probe b.out"
keys sc Enter
wait_screen sc "probing b.out" 5 && pass "probe b.out is taken" ||
	{ fail "probe b.out was not taken"; screen sc; }
wait_screen sc "SCOPE probe b.out" 10 || { fail "the scope did not follow the probe"; screen sc; }
keys sc "<" "<"
wait_screen sc "16 frames/col" 5 || fail "< < did not zoom out to 16 frames per column"
check_trace sc "probe of b.out (250 Hz, 0.8, on no output)" 192 0.8
keys sc 6
wait_screen sc "SPECTRUM probe b.out" 10 && pass "the spectrum follows the probe" ||
	fail "the spectrum does not show the probe"
keys sc 5

# bad probes: one clear error each, the probe stays as it was
for bad in "probe nosuch.out|no module 'nosuch'" "probe b.nope|has no output 'nope'; its outputs: out" \
    "probe b|not NAME.OUTPUT" "probe b.out extra|usage: probe NAME.OUTPUT" \
    "probe out.1|the scope shows out.N itself"; do
	cmd=${bad%%|*} want=${bad#*|}
	keys sc :
	type_text sc "$cmd"
	keys sc Enter
	wait_screen sc "$want" 5 && pass "'$cmd': $want" ||
		{ fail "'$cmd' did not say: $want"; screen sc; }
done
wait_screen sc "SCOPE probe b.out" 5 && pass "after the bad probes b.out is still probed" ||
	fail "a bad probe changed the probe"
check_trace sc "the probe after bad probes" 192 0.8

# the probed module renamed away: said, not crashed; back, shown again
keys sc :
type_text sc "rename b c"
keys sc Enter
wait_screen sc "no module 'b' in the patch now" 10 &&
	pass "a probed module renamed away: the scope says so" ||
	{ fail "no word of the probed module gone"; screen sc; }
keys sc :
type_text sc "rename c b"
keys sc Enter
check_trace sc "the probed module back under its name" 192 0.8

# a DSP child killed: the new one gets the probe again
child=$(screen sc | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')
kill -9 "$child"
for _ in $(seq 100); do
	now=$(screen sc | sed -n 's/.*DSP pid \([0-9]*\).*/\1/p')
	[ -n "$now" ] && [ "$now" != "$child" ] && [ "$now" != 0 ] && break
	sleep 0.1
done
check_trace sc "the probe in a new DSP child" 192 0.8

keys sc :
type_text sc "probe off"
keys sc Enter
wait_screen sc "SCOPE out.1" 5 && pass "probe off: the scope shows out.1 again" ||
	{ fail "probe off did not go back to out.1"; screen sc; }
keys sc o o
wait_screen sc "no probe: \`:probe NAME.OUTPUT\`" 5 &&
	pass "o cycles to the probe, which says how to set one" ||
	{ fail "o did not reach an explained empty probe"; screen sc; }
keys sc ?
keys sc /
type_text sc "SPECTRUM (5, 6)"
keys sc Enter
wait_screen sc "SCOPE and SPECTRUM (5, 6)" 5 && pass "the help explains the scope" ||
	fail "the help says nothing of the scope"
keys sc ?

ui_stop sc
grep -q "exit 0" "$scratch/sc.exit" && pass "the UI ended cleanly" ||
	{ fail "the UI did not end cleanly: $(cat "$scratch/sc.exit" 2>/dev/null)"; cat "$scratch/sc.stderr"; }

# ---- a lying DSP child (the fault module's lie mode, in the test build):
# NaN, infinite and huge probe samples, an impossible ring index, wrong
# request numbers and drop counts; the parent shows what it can, finite,
# and carries on
cat > lie.fsp <<'P'
global vco b wave=sine freq=250 level=0.8
global fault f
connect b.out f.in
connect f.out out.1
P
FS="$FORKSYNTH_FI" ui_start li 80 24 -- --threads 2 lie.fsp
keys li 5 "<" "<" :
type_text li "probe b.out"
keys li Enter
check_trace li "the probe before the child lies" 192 0.8
keys li :
type_text li "set f.mode lie"
keys li Enter
sleep 3
pid=$(ui_pid li)
alive "$pid" && pass "the parent lives on while the child lies about the probe" ||
	fail "the parent died of a lying probe"
# the huge and non-finite samples reached the screen as the largest
# finite value kept (1e6: a range of 2^20), never as nan or inf
ok=0
for _ in $(seq 30); do
	head=$(screen li | grep "SCOPE probe b.out")
	case $head in *"y +-1.04858e+06"*) ok=1; break ;; esac
	sleep 0.3
done
[ "$ok" = 1 ] && ! screen li | grep "SCOPE" | grep -qi "nan\|inf" &&
	pass "the lies reach the scope held at 1e6: $(echo "$head" | grep -o 'y +-[^ ]*')" ||
	{ fail "the scope under a lying child: '$head'"; screen li; }
keys li 6
sleep 1
screen li | grep -q "SPECTRUM probe b.out" &&
	! screen li | awk 'substr($0, 6, 1) == "|"' | grep -qi "nan\|inf" &&
	pass "the spectrum stays up under a lying child" ||
	{ fail "the spectrum under a lying child"; screen li; }
keys li :
type_text li "probe"
keys li Enter
wait_screen li "b.out" 5 && pass "commands still answer (probe: b.out)" ||
	fail "no answer after the lies"
ui_stop li
grep -q "exit 0" "$scratch/li.exit" && pass "the UI ended cleanly after the lies" ||
	{ fail "the UI did not end cleanly: $(cat "$scratch/li.exit" 2>/dev/null)"; cat "$scratch/li.stderr"; }
finish
