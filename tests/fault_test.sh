# tests/fault_test.sh — the fault matrix: each fault against a private
# `jackd -d dummy`, forksynth headless (commands on fd 7), JACK tools on the
# other side.  After every fault: the JACK client and its connections are
# still there (or, where forksynth must end, it ends cleanly), the patch is
# intact, the recording opens, is whole (its header counts every frame in
# the file) and lasts as long as the wall time played, and stderr says what
# happened, naming the module, file or path.
#
#   a  SIGKILL of the DSP child           f  SIGINT, SIGTERM, SIGHUP to forksynth
#   b  SIGSEGV and SIGABRT in a module;   g  SIGKILL to forksynth
#      a module that crashes every start  h  a full disk while recording
#   c  a module that hangs                i  unwritable record and save paths
#   d  a module too slow for the deadline j  a patch file rewritten while loading
#   e  the JACK server goes away (last: it ends the server)
#
# FAULT_CASES="a c" runs some cases only (e last: it ends the server).  The
# machine may be loaded and produce xruns of its own: the only timings
# asserted are forksynth's own (its callback against its deadline, a whole
# period per JACK cycle in a recording); xruns jackd blames on forksynth are
# compared to the same session idle and to `jack_cpu -c 75`, a client that
# spends as long per period.  The figures each case measured (restart and
# exit times, silent gaps, late cycles, xruns, frames) are repeated at the
# end under "figures".
. "$top_srcdir/tests/lib.sh"
: "${FORKSYNTH_FI:?}" "${ANALYZE:?}" "${PATCHCMP:?}"
. "$top_srcdir/tests/jack_lib.sh"

plain=$FORKSYNTH          # the shipped binary, for the faults from outside
fi_bin=$FORKSYNTH_FI      # with the `fault` module, for the faults inside
rate=48000 period=256
period_us=$((period * 1000000 / rate))
deadline_us=$((period_us * 3 / 4))
cases=${FAULT_CASES:-a b c d f g h i j e}
mounts=""
writer_pid=""
started=$(date +%s%3N)

# cleanup: our mounts and helpers first, then jack_lib's stop_all
cleanup() {
	[ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null
	for m in $mounts; do umount "$m" 2>/dev/null; done
	stop_all
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# figure TEXT: a measured figure, printed now and again at the end.
figure() {
	echo "figure: $*"
	echo "$*" >> "$scratch/figures"
}

# wait_for FILE REGEX SECONDS: until FILE matches REGEX (extended); 1 on timeout.
wait_for() {
	end=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# session NAME BINARY ARGS...: forksynth headless as JACK client NAME with
# its own autosave directory; its outputs connected to the dummy playback.
session() {
	name=$1 FORKSYNTH=$2
	shift 2
	export XDG_STATE_HOME="$scratch/state-$name"
	autosave_dir="$XDG_STATE_HOME/forksynth/autosave/$name"
	t=$(now_ms)
	start_fs "$name" "$@"
	# ports exist before the client is active, and JACK connects only
	# active clients: wait for forksynth to say it plays
	wait_for "$name.err" "playing" 10 || fail "$name never said it plays: $(cat "$name.err")"
	figure "$name: up in $(( $(now_ms) - t )) ms"
	jack_connect "$name:out_1" system:playback_1
	jack_connect "$name:out_2" system:playback_2
}

# find_autosave: $autosave, the file the last session autosaved its patch
# to (one per client name and patch; each session plays one patch).
find_autosave() {
	autosave=$(ls "$autosave_dir"/*.fsp 2>/dev/null | head -1)
}

# child_of: the DSP child playing now (a warm standby waits beside it).
child_of() {
	dsp_child
}

# RECOVERED: what the message of a recovery says, a takeover by the warm
# standby or, with none ready, a restart (a regex for grep -E)
RECOVERED="the standby took over|restarted"

# client_intact: the client's five ports are listed and out_1 is still
# connected to the playback port.
client_intact() {
	# jack_lsp itself may fail to open a client on a loaded machine (it
	# then lists nothing, not even the server's own ports): ask again
	for _ in 1 2 3 4 5; do
		ports=$(jack_lsp 2>/dev/null)
		echo "$ports" | grep -q "^system:" && break
		sleep 0.5
	done
	n=$(echo "$ports" | grep -c "^$name:")
	[ "$n" = 5 ] && pass "$name: JACK client still there with its 5 ports" ||
		fail "$name: JACK client has $n ports: $(jack_lsp 2>&1 | tr '\n' ' ')"
	# the same for the connection: a jack_lsp that could not open its
	# client prints nothing, which is not a lost connection
	for _ in 1 2 3 4 5; do
		conns=$(jack_lsp -c "$name:out_1" 2>&1)
		echo "$conns" | grep -q "system:playback_1" && break
		sleep 0.5
	done
	echo "$conns" | grep -q "system:playback_1" &&
		pass "$name: connection to system:playback_1 kept" ||
		fail "$name: connection lost: $(echo "$conns" | tr '\n' ' ')"
}

# frames FILE: the frame count its header gives (empty if it does not open).
frames() {
	soxi -s "$1" 2>/dev/null
}

# rec_begin FILE: start recording FILE, noting JACK's cycle count and the
# time on both sides of the command (rc0 rt0 before, rc1 rt1 after).
rec_begin() {
	st=$(send stats); rc0=$(stat_of cycles); rt0=$(now_ms)
	a=$(send "record $1")
	rt1=$(now_ms); st=$(send stats); rc1=$(stat_of cycles)
	[ "$a" = "ok recording to $1" ] || fail "record $1: $a"
}

# rec_end FILE: stop the recording the same way (rc2 rt2 before, rc3 rt3
# after), then check the answer and the file.
rec_end() {
	st=$(send stats); rc2=$(stat_of cycles); rt2=$(now_ms)
	a=$(send "record stop")
	rt3=$(now_ms); st=$(send stats); rc3=$(stat_of cycles)
	stopped "$1" "$a"
	rec_whole "$1"
	rec_span "$1" $((rc2 - rc1)) $((rc3 - rc0)) $((rt2 - rt1)) $((rt3 - rt0))
}

# rec_whole FILE: FILE opens and its header counts every frame in it.
rec_whole() {
	if ! soxi "$1" > "$scratch/soxi.txt" 2>&1; then
		fail "$1 does not open: $(tr '\n' ' ' < "$scratch/soxi.txt")"
		return
	fi
	n=$(frames "$1") ch=$(soxi -c "$1" 2>/dev/null)
	extra=$(( $(stat -c %s "$1") - n * ch * 4 ))
	[ "$extra" -ge 0 ] && [ "$extra" -le 4096 ] &&
		pass "$1: opens; its header counts all $n frames (header $extra bytes)" ||
		fail "$1: the header counts $n frames, the file has $extra bytes more than that"
}

# rec_span FILE CMIN CMAX WMIN WMAX: FILE holds whole periods, one for each
# JACK cycle while it recorded (at least CMIN, at most CMAX), and lasts the
# wall time played (at least WMIN ms less 250, at most WMAX ms and 50).
rec_span() {
	n=$(frames "$1")
	[ -n "$n" ] || return
	p=$((n / period)) ms=$((n * 1000 / rate))
	[ $((n % period)) = 0 ] && [ "$p" -ge "$2" ] && [ "$p" -le "$3" ] &&
		pass "$1: $p whole periods, one per JACK cycle while recording ($2..$3)" ||
		fail "$1: $n frames ($p periods) for $2..$3 JACK cycles while recording"
	[ "$ms" -ge $(($4 - 250)) ] && [ "$ms" -le $(($5 + 50)) ] &&
		pass "$1: $ms ms long for $4..$5 ms played" ||
		fail "$1: $ms ms long for $4..$5 ms of wall time played"
}

# stopped FILE ANSWER: the answer to `record stop` counts the file's frames
# and no frame lost.
stopped() {
	n=$(frames "$1")
	case $2 in
	"ok stopped $1: $n frames, 0 lost") pass "record stop: $2" ;;
	*) fail "record stop answered '$2' (file has ${n:-no} frames)" ;;
	esac
}

# sounds FILE FROM MS WHAT: the first channel has the tone there.
sounds() {
	r=$("$ANALYZE" rms "$1" "$2" $(($3 * rate / 1000)))
	awk -v r="$r" 'BEGIN { exit !(r > 0.1) }' && pass "$4 (RMS $r)" ||
		fail "$4: RMS $r"
}

# body FILE: a patch without its comments and blank lines, for comparing.
body() {
	grep -v '^[[:space:]]*#' "$1" | grep -v '^[[:space:]]*$'
}

# blamed NAME: how many xruns jackd has blamed on client NAME so far.
blamed() {
	grep -c "client = $1 was not finished" "$scratch/jackd.log"
}

# closing_counts ERRFILE: the session ran its cycles and closed with its counts;
# how many came late is a figure (the machine's load decides it as much as
# we do; make bench measures lateness on a quiet machine).
closing_counts() {
	l=$(grep -m1 "cycles, .* late" "$1")
	figure "late cycles: $(echo "$l" | awk '{ print $6 " of " $2 }')"
	awk '/cycles, .* late/ { c = $2 } END { exit !(c > 100) }' "$1" &&
		pass "the session ran its cycles: ${l#forksynth: }" || fail "cycles: ${l:-no closing line}"
}

# a steady tone through a fault module that behaves until told otherwise
tone() {
	cat <<P
global vco   osc wave=sine freq=440 level=0.5
global fault $1 $2
connect osc.out $1.in
connect $1.out  out.1
connect $1.out  out.2
P
}

# fault_once CLIENT MODULE WHAT SECONDS MESSAGE: the session CLIENT reports
# a restart within SECONDS; MODULE is told to behave at once (before the
# replayed patch reaches its fault again); the message says MESSAGE (a
# regex) while running MODULE; the session takes commands, and a moment
# later there was exactly one restart (the replayed patch runs).  Leaves
# the stats answer in $st.
fault_once() {
	if wait_for "$1.err" "$RECOVERED" "$4"; then
		a=$(send "set $2.mode none")
		pass "$3 reported: $(grep -m1 -E "$RECOVERED" "$1.err")"
	else
		a="(no restart)"
		fail "no restart after the $3: $(tail -3 "$1.err")"
	fi
	grep -q "$5 while running module '$2' (fault)" "$1.err" &&
		pass "the message names the $3 and the module" ||
		fail "$3 message: $(grep -m1 'DSP child' "$1.err")"
	[ "$a" = ok ] && pass "the session takes commands after the $3" || fail "set after the $3: $a"
	sleep 1.2
	st=$(send stats)
	[ "$(stat_of restarts)" = 1 ] && pass "one restart, the replayed patch runs: $st" ||
		fail "restarts after the $3: $st: $(grep 'DSP' "$1.err" | tr '\n' ' ')"
}

# ---- a. SIGKILL of the DSP child
case_a() {
	echo "---- a. the DSP child is killed (SIGKILL)"
	session fa "$fi_bin" tone.fsp
	rec_begin a.wav
	sleep 1
	a=$(send "set osc.freq 660")
	[ "$a" = ok ] || fail "set before the kill: $a"
	sleep 0.3
	x0=$(blamed fa)
	child=$(child_of)
	tk=$(now_ms)
	kill -KILL "$child"
	if wait_for fa.err "$RECOVERED" 10; then
		figure "a: SIGKILL to takeover reported: $(( $(now_ms) - tk )) ms"
		pass "takeover reported: $(grep -m1 -E "$RECOVERED" fa.err)"
	else
		fail "no restart reported after SIGKILL: $(tail -3 fa.err)"
	fi
	grep -q "DSP child died of signal 9 (Killed)" fa.err && pass "the signal is named" ||
		fail "signal not named: $(grep -m1 'DSP child' fa.err)"
	new=$(child_of)
	[ -n "$new" ] && [ "$new" != "$child" ] && pass "a new DSP child runs (pid $child -> $new)" ||
		fail "no new DSP child ($child -> ${new:-none})"
	sleep 1.2
	st=$(send stats)
	[ "$(stat_of restarts)" = 1 ] && pass "stats: $st" || fail "stats after the kill: $st"
	rec_end a.wav
	client_intact
	z=$("$ANALYZE" zeros a.wav)
	d=$("$ANALYZE" dip a.wav 0.25 256)
	figure "a: silent gap in the recording $((z * 1000 / rate)) ms ($z frames), below half level ${d%% *} frames; late $(stat_of late), without DSP $(stat_of down) cycles; xruns jackd blamed on fa around the restart: $(( $(blamed fa) - x0 ))"
	# a restart (no standby was ready yet) plays silence until the new
	# child runs; a takeover costs a period or two (timing: a figure, and
	# tests/standby_test.sh)
	if grep -q "restarted" fa.err; then
		[ "$z" -ge "$period" ] && pass "the restart is in the file as $z frames of silence" ||
			fail "no silent span at the restart ($z frames)"
	fi
	n=$(frames a.wav)
	sounds a.wav $((n - rate)) 500 "sound is back after the restart"
	# three windows: a late cycle on a loaded machine may spoil one
	fs3=""
	for o in 30000 20000 10000; do fs3="$fs3 $("$ANALYZE" freq a.wav $((n - o)) 8192)"; done
	echo "$fs3" | awk '{ for (i = 1; i <= NF; i++) if ($i > 657 && $i < 663) k++; exit !(k >= 2) }' &&
		pass "the replayed patch has the live change (osc.freq 660:$fs3 Hz)" ||
		fail "after the restart the tone is$fs3 Hz, not the 660 Hz set before"
	stop_fs
}

# ---- b. SIGSEGV and SIGABRT inside a module; a module that always crashes
case_b() {
	echo "---- b. a module crashes (SIGSEGV), then aborts (SIGABRT)"
	tone crashy "mode=crash after=3" > crash.fsp
	session fb "$fi_bin" crash.fsp
	rec_begin b.wav
	fault_once fb crashy crash 10 "died of signal 11 (Segmentation fault)"
	rec_end b.wav
	client_intact
	z=$("$ANALYZE" zeros b.wav)
	figure "b: silent gap after the SIGSEGV $((z * 1000 / rate)) ms"
	n=$(frames b.wav)
	sounds b.wav $((n - rate)) 500 "sound is back after the crash"
	# SIGABRT: fires when this instance has played its 3 s; the replayed
	# one would abort 3 s in, unless told otherwise first
	send "set crashy.mode abort" > /dev/null
	if wait_for fb.err "signal 6" 8; then
		send "set crashy.mode none" > /dev/null
		grep -qE "died of signal 6 \(Aborted\) while running module 'crashy' \(fault\); ($RECOVERED)" fb.err &&
			pass "abort: $(grep -m1 'signal 6' fb.err)" ||
			fail "abort message: $(grep -m1 'signal 6' fb.err)"
	else
		fail "no abort reported: $(tail -3 fb.err)"
	fi
	stop_fs

	# crashing at once, on every start: forksynth gives up with advice, the
	# session and the client stay, and following the advice brings sound back
	echo "---- b. a module that crashes at once, on every start"
	session fb2 "$fi_bin" tone.fsp
	send "record b2.wav" > /dev/null
	send "set f.mode crash" > /dev/null
	if wait_for fb2.err "giving up" 15; then
		m=$(grep -m1 "giving up" fb2.err)
		case $m in *"module 'f' (fault)"*"fix or remove that module"*)
			pass "gives up, naming the module and what to do: $m" ;;
		*) fail "give-up message lacks the module or the advice: $m" ;; esac
	else
		fail "no give-up after a crash loop: $(tail -3 fb2.err)"
	fi
	figure "b: a crash on every start: $(grep -cE "$RECOVERED" fb2.err) restart(s) before giving up"
	client_intact
	a=$(send "remove f")
	b=$(send "connect osc.out out.1")
	[ "$a/$b" = "ok/ok" ] && pass "following the advice: remove f, connect osc.out out.1: ok" ||
		fail "remove f: $a; connect: $b"
	sleep 1.5
	send "record stop" > /dev/null
	n=$(frames b2.wav)
	sounds b2.wav $((n - rate / 2)) 400 "with the crashing module removed the sound comes back"
	stop_fs
}

# ---- c. a module that hangs
case_c() {
	echo "---- c. a module hangs"
	tone stuck "mode=hang after=3" > hang.fsp
	session fc "$fi_bin" hang.fsp
	rec_begin c.wav
	fault_once fc stuck hang 12 "stopped answering (no heartbeat for [0-9]* ms)"
	rec_end c.wav
	client_intact
	z=$("$ANALYZE" zeros c.wav)
	figure "c: hang to sound again $((z * 1000 / rate)) ms; late $(stat_of late), without DSP $(stat_of down) cycles; longest callback $(stat_of max_cycle_us) us of $period_us; xruns jackd blamed on fc: $(blamed fc)"
	[ "$z" -ge $((rate / 2)) ] && pass "the hang is in the file as $((z * 1000 / rate)) ms of silence" ||
		fail "hang: silent span only $z frames"
	n=$(frames c.wav)
	sounds c.wav $((n - rate)) 500 "sound is back after the hang"
	stop_fs
}

# ---- d. a module too slow for the deadline
# Three phases of 3 s in one session: forksynth idle (the machine's noise
# for a short callback); forksynth idle beside `jack_cpu -c 75`, a client
# that spends 75 % of each period, as forksynth's callback does when it
# waits for a late DSP until its deadline (the noise for such a client);
# then a module that takes 5 ms of each 5.33 ms period.  jackd's log says
# which client each xrun is blamed on.
case_d() {
	echo "---- d. a module too slow for the deadline (5 ms per $period_us us period)"
	tone sluggish "" > slow.fsp
	session fd "$fi_bin" slow.fsp
	rec_begin d.wav
	sleep 0.3
	st=$(send stats); c0=$(stat_of cycles) l0=$(stat_of late) o0=$(stat_of overlong)
	j0=$(blamed fd)
	sleep 3
	st=$(send stats); c1=$(stat_of cycles) l1=$(stat_of late) m1=$(stat_of recent_max_cycle_us)
	o1=$(stat_of overlong)
	j1=$(blamed fd)
	if command -v jack_cpu > /dev/null; then
		timeout 10 jack_cpu -n fdref -c 75 -t 3 > jack_cpu.log 2>&1
		ref=$(blamed fdref)
	else
		echo "note: no jack_cpu: the reference client is left out"
		ref=0
	fi
	st=$(send stats); cr=$(stat_of cycles)
	jr=$(blamed fd)
	n0=$(grep -c "missed its deadline" fd.err)
	send "set sluggish.slow 5" > /dev/null
	send "set sluggish.mode slow" > /dev/null
	ts=$(now_ms)
	st=$(send stats); c1s=$(stat_of cycles) l1s=$(stat_of late) o1s=$(stat_of overlong)
	sh1s=$(stat_of shed)
	j1s=$(blamed fd)
	sleep 3
	st=$(send stats); c2=$(stat_of cycles) l2=$(stat_of late) m2=$(stat_of recent_max_cycle_us)
	o2=$(stat_of overlong)
	j2=$(blamed fd)
	sh2=$(stat_of shed)
	a=$(send "set osc.freq 550")
	# overloaded, the DSP is asked for a block only now and then; the
	# command that lightens it takes effect as soon as the child has it
	send "set sluggish.mode none" > /dev/null
	tn=$(now_ms)
	slow_s=$(( (tn - ts + 999) / 1000 ))
	n1=$(grep -c "missed its deadline" fd.err)
	lp="" tl=$tn
	while [ $(( $(now_ms) - tn )) -lt 3000 ]; do
		st=$(send stats); l=$(stat_of late)
		[ -n "$lp" ] && [ "$l" != "$lp" ] && tl=$(now_ms)
		lp=$l
		[ $(( $(now_ms) - tl )) -ge 300 ] && break
		sleep 0.02
	done
	figure "d: on time again $((tl - tn)) ms after the command that ended the overload (the last rise of the late counter, polled every 20 ms; 0: none after the first poll)"
	sleep 0.2
	st=$(send stats); c3=$(stat_of cycles) l3=$(stat_of late)
	sleep 1
	st=$(send stats); c4=$(stat_of cycles) l4=$(stat_of late)
	bc=$((c1 - c0)) rc=$((cr - c1)) sc=$((c2 - c1s)) sl=$((l2 - l1s)) sj=$((j2 - j1s))
	figure "d: idle, $bc cycles: $((l1 - l0)) late, $((j1 - j0)) xruns blamed on fd, longest callback $m1 us, $((o1 - o0)) longer than the period"
	figure "d: jack_cpu -c 75 beside it, $rc cycles: $ref xruns blamed on jack_cpu, $((jr - j1)) on fd"
	figure "d: slow=5 ms, $sc cycles: $sl late, $sj xruns blamed on fd, longest callback $m2 us, $((o2 - o1s)) longer than the period (period $period_us us, deadline $deadline_us us)"
	figure "d: $((n1 - n0)) 'missed its deadline' lines on stderr over ~$slow_s s"
	[ $((sl * 2)) -ge "$sc" ] && pass "late cycles counted: $sl of $sc" ||
		fail "only $sl of $sc cycles counted late with a 5 ms module"
	[ "$a" = ok ] && pass "commands are answered while the module is slow" || fail "set while slow: $a"
	sh1=$(echo "$sh1s" | tr -dc 0-9)
	[ "$((sh2 - sh1))" -gt 0 ] && [ $(( (sh2 - sh1) * 2 )) -ge "$sl" ] &&
		pass "an overloaded DSP is asked only now and then: $((sh2 - sh1)) of $sl late cycles shed" ||
		fail "late cycles not shed while overloaded: $((sh2 - sh1)) of $sl"
	# on time again: how often is the machine's doing (a figure); stuck in
	# shedding, every cycle would be late
	figure "d: after mode=none, $((c4 - c3)) cycles: $((l4 - l3)) late"
	[ $((c4 - c3)) -gt 0 ] && [ $((l4 - l3)) -lt $((c4 - c3)) ] &&
		pass "the DSP plays again after mode=none: $((l4 - l3)) late of $((c4 - c3))" ||
		fail "still late after mode=none: $((l4 - l3)) of $((c4 - c3))"
	# forksynth's callback waits for the DSP until its deadline, 75 % of the
	# period, and returns: not later than the period, but for as many
	# cycles as the machine itself delays (idle, 1 %: a loaded machine or a
	# sanitizer build stalls a thread now and then)
	ol=$((o2 - o1s)) ol_allow=$(( (o1 - o0) + sc / 100 ))
	[ "$ol" -le "$ol_allow" ] &&
		pass "the callback returns in time: $ol of $sc cycles longer than the period (at most $ol_allow), longest $m2 us" ||
		fail "$ol of $sc callbacks longer than the $period_us us period (idle $((o1 - o0)) of $bc); longest $m2 us"
	# no more xruns than a client spending as long, and the idle noise
	allow=$((ref + (j1 - j0) + (jr - j1) + sc / 100))
	[ "$sj" -le "$allow" ] &&
		pass "no xruns caused: $sj blamed on fd while slow, at most $allow allowed (jack_cpu $ref, idle $((j1 - j0)), 1 % $((sc / 100)))" ||
		fail "the slow module makes forksynth late for JACK: $sj xruns blamed on fd in $sc cycles; a client spending 75 % of each period had $ref, forksynth idle $((j1 - j0))"
	# the last report while slow: it covers a second of the slow module
	# (one before may be of late cycles while idle, on a loaded machine)
	m=""
	[ "$n1" -gt "$n0" ] && m=$(grep "missed its deadline" fd.err | sed -n "${n1}p")
	case $m in *sluggish*) pass "late cycles reported naming the module: $m" ;;
		"") fail "late cycles not reported on stderr" ;;
		*) fail "the late-cycle message does not name the slow module 'sluggish': $m" ;; esac
	[ $((n1 - n0)) -le $((slow_s + 2)) ] && pass "reported at most once a second ($((n1 - n0)) lines)" ||
		fail "the late-cycle message floods stderr: $((n1 - n0)) lines in ~$slow_s s, like: $(grep "missed its deadline" fd.err | sed -n '20,22p' | tr '\n' '|')"
	client_intact
	rec_end d.wav
	stop_fs
}

# ---- f. SIGINT, SIGTERM, SIGHUP to forksynth
case_f() {
	cat > plain.fsp <<'P'
poly 4
global vco osc wave=sine freq=440 level=0.5
connect osc.out out.1
connect osc.out out.2
P
	for sig in INT TERM HUP; do
		echo "---- f. SIG$sig to forksynth"
		session "f$sig" "$plain" plain.fsp
		for cmd in "set osc.freq 330" "voice vca vg gain=0.7" "connect osc.out vg.in"; do
			a=$(send "$cmd")
			[ "$a" = ok ] || fail "$cmd: $a"
		done
		a=$(send "save ref-$sig.fsp")
		[ "$a" = "ok saved ref-$sig.fsp" ] || fail "save: $a"
		rec_begin "f-$sig.wav"
		sleep 1
		st=$(send stats); ck=$(stat_of cycles)
		tk=$(now_ms)
		kill "-$sig" "$fs_pid"
		reap "$fs_pid" 10
		te=$(now_ms)
		fs_pid=""
		exec 7>&-
		figure "f: SIG$sig to exit $((te - tk)) ms, exit status $rc"
		[ "$rc" = 0 ] && pass "SIG$sig: clean exit (0)" || fail "SIG$sig: exit status $rc: $(tail -3 "f$sig.err")"
		grep -q "stopping: signal " "f$sig.err" && pass "says why: $(grep -m1 'stopping:' "f$sig.err")" ||
			fail "no reason given: $(tail -3 "f$sig.err")"
		n=$(frames "f-$sig.wav")
		grep -q "recording f-$sig.wav finished: $n frames, 0 lost" "f$sig.err" &&
			pass "$(grep -m1 'finished' "f$sig.err")" ||
			fail "recording not reported finished with the file's $n frames: $(grep recording "f$sig.err")"
		rec_whole "f-$sig.wav"
		total=$(awk '/cycles, .* late/ { print $2 }' "f$sig.err")
		rec_span "f-$sig.wav" $((ck - rc1)) $((${total:-0} - rc0)) $((tk - rt1)) $((te - rt0))
		closing_counts "f$sig.err"
		find_autosave
		if "$plain" --check "$autosave" > check.txt 2>&1; then
			pass "the autosave is a valid patch: $(cat check.txt)"
		else
			fail "the autosave does not load: $(cat check.txt)"
		fi
		body "$autosave" > as.txt
		# save keeps plain.fsp's layout: compare what the files build
		"$PATCHCMP" "$autosave" "ref-$sig.fsp" > cmp.txt 2>&1 &&
			pass "the autosave is the patch (as 'save' wrote it)" ||
			fail "autosave differs from the patch: $(tr '\n' ' ' < cmp.txt)"
		cp as.txt "as-$sig.txt"
	done
	cmp -s as-INT.txt as-TERM.txt && cmp -s as-INT.txt as-HUP.txt &&
		pass "the three autosaves are identical" || fail "the autosaves differ between signals"
}

# ---- g. SIGKILL to forksynth
case_g() {
	echo "---- g. forksynth is killed (SIGKILL)"
	printf 'poly 4\nglobal vco osc wave=sine level=0.5\nconnect osc.out out.1\n' > g.fsp
	session fg "$plain" g.fsp
	for cmd in "voice vca vk gain=0.7" "set osc.freq 770" "connect osc.out vk.in" "set vk.gain 0.25"; do
		a=$(send "$cmd")
		[ "$a" = ok ] || fail "$cmd: $a"
	done
	send "save ref-g.fsp" > /dev/null
	rec_begin g.wav
	sleep 2.5
	child=$(child_of)
	tk=$(now_ms)
	kill -KILL "$fs_pid"
	wait "$fs_pid" 2>/dev/null
	fs_pid=""
	exec 7>&-
	gone=""
	for _ in $(seq 200); do
		alive "$child" || { gone=$(( $(now_ms) - tk )); break; }
		sleep 0.01
	done
	[ -n "$gone" ] && pass "the DSP child (pid $child) ended by itself, $gone ms after its parent" ||
		fail "the DSP child $child outlived its parent by 2 s"
	figure "g: DSP child ended ${gone:-never} ms after the SIGKILL"
	find_autosave
	if [ -f "$autosave" ] && "$plain" --check "$autosave" > check.txt 2>&1; then
		pass "the autosave is a valid patch: $(cat check.txt)"
	else
		fail "no loadable autosave after SIGKILL: $(cat check.txt 2>/dev/null)"
	fi
	"$PATCHCMP" "$autosave" ref-g.fsp > cmp.txt 2>&1 &&
		pass "the autosave holds every command before the kill" ||
		fail "autosave after SIGKILL is not the patch: $(tr '\n' ' ' < cmp.txt)"
	n=$(frames g.wav)
	if [ -n "$n" ]; then
		ms=$((n * 1000 / rate)) lo=$((tk - rt1)) hi=$((tk - rt0))
		figure "g: after SIGKILL the recording opens with $ms ms of the $lo..$hi ms played"
		[ "$ms" -ge $((lo - 1500)) ] && [ "$ms" -le $((hi + 50)) ] &&
			pass "the recording so far opens: $ms ms of $lo..$hi ms (its header at most a second behind)" ||
			fail "after SIGKILL the recording has $ms ms of $lo..$hi ms played"
	else
		fail "after SIGKILL g.wav does not open: $(soxi g.wav 2>&1)"
	fi
	no_leftovers
}

# ---- h. a full disk while recording
case_h() {
	echo "---- h. a full disk while recording"
	if [ "$(id -u)" != 0 ] || ! mkdir small || ! mount -t tmpfs -o size=256k tmpfs small 2>/dev/null; then
		echo "SKIP: the full-disk case needs root to mount a 256 KiB tmpfs"
		return
	fi
	mounts="$mounts $scratch/small"
	session fh "$plain" g.fsp
	st=$(send stats); c0=$(stat_of cycles)
	a=$(send "record small/full.wav")
	[ "$a" = "ok recording to small/full.wav" ] || fail "record on the small disk: $a"
	if wait_for fh.err "recording stopped" 10; then
		m=$(grep -m1 "recording stopped" fh.err)
		case $m in *"small/full.wav"*"disk is full"*"music plays on"*) pass "full disk: $m" ;;
			*) fail "full disk message lacks the file, the reason or the outlook: $m" ;; esac
	else
		fail "no message on a full disk: $(tail -3 fh.err)"
	fi
	sleep 0.5
	st=$(send stats)
	figure "late cycles after the full disk: $(stat_of late) of $(stat_of cycles)"
	[ $(( $(stat_of cycles) - c0 )) -gt 150 ] &&
		pass "the music plays on: $st" || fail "after the full disk: $st"
	echo "record status: $(send "record status")"
	echo "record stop after the full disk: $(send "record stop")"
	n=$(frames small/full.wav)
	if [ -n "$n" ]; then
		extra=$(( $(stat -c %s small/full.wav) - n * 8 ))
		figure "h: the full disk kept $((n * 1000 / rate)) ms ($n frames; $extra bytes of header)"
		[ "$extra" -ge 0 ] && [ "$extra" -le 4096 ] && pass "the file on the full disk is valid and whole: $n frames" ||
			fail "full disk file: header counts $n frames, $extra bytes more in the file"
	else
		fail "the file on the full disk does not open: $(soxi small/full.wav 2>&1)"
	fi
	a=$(send "record h2.wav")
	sleep 1
	b=$(send "record stop")
	case $a in "ok recording to h2.wav") pass "recording again elsewhere: $b" ;; *) fail "record after a full disk: $a" ;; esac
	n=$(frames h2.wav)
	sounds h2.wav $((${n:-0} / 2)) 200 "the next recording has the music"
	client_intact
	stop_fs
	umount small && mounts=""
}

# ---- i. unwritable record and save paths
case_i() {
	echo "---- i. unwritable record and save paths"
	session fw "$plain" g.fsp
	: > afile
	mkdir adir
	bad="afile/take.wav /proc/forksynth-take.wav"
	badsave="afile/p.fsp /proc/forksynth.fsp adir"
	if [ "$(id -u)" = 0 ] && mkdir ro && mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null; then
		mounts="$mounts $scratch/ro"
		bad="$bad ro/take.wav"
		badsave="$badsave ro/p.fsp"
	elif [ "$(id -u)" != 0 ]; then
		mkdir locked && chmod 555 locked
		bad="$bad locked/take.wav"
		badsave="$badsave locked/p.fsp"
	fi
	for p in $bad; do
		a=$(send "record $p")
		case $a in "error: "*"$p"*) pass "record $p: $a" ;;
			*) fail "record $p: '$a' (want an error naming the path)" ;; esac
	done
	for p in $badsave; do
		a=$(send "save $p")
		case $a in "error: "*"$p"*) pass "save $p: $a" ;;
			*) fail "save $p: '$a' (want an error naming the path)" ;; esac
	done
	ls -a | grep -E '^(adir|afile)\.' > tmp.txt && fail "a failed save left temporary files: $(cat tmp.txt)" ||
		pass "a failed save leaves no temporary file"
	a=$(send "set osc.freq 550")
	b=$(send "save good.fsp")
	st=$(send stats)
	[ "$a" = ok ] && [ "$b" = "ok saved good.fsp" ] && grep -q "freq=550" good.fsp &&
		pass "the session goes on: set, save and stats answer ($st)" || fail "after the errors: $a / $b / $st"
	client_intact
	stop_fs
	for m in $mounts; do umount "$m"; done
	mounts=""
}

# ---- j. a patch file rewritten while forksynth loads it
# try_start K FILE: a headless start on FILE; sets `got` to "A", "B",
# "partial" (something else was loaded) or "refused" (it said why).
try_start() {
	nm="fj$1"
	export XDG_STATE_HOME="$scratch/state-$nm"
	rm -f cmd
	mkfifo cmd
	"$plain" --no-ui --name "$nm" "$2" < cmd > "$nm.out" 2> "$nm.err" &
	fs_pid=$!
	exec 7> cmd
	# up, or ended having refused: on a loaded machine either may take
	# seconds; one that does neither in 30 s fails (reap below)
	up=0
	t_end=$(( $(now_ms) + 30000 ))
	while [ "$(now_ms)" -lt "$t_end" ]; do
		jack_lsp 2>/dev/null | grep -qx "$nm:midi_in" && { up=1; break; }
		alive "$fs_pid" || break
		sleep 0.05
	done
	if [ "$up" = 1 ]; then
		name=$nm fs_name=$nm
		send "save got$1.fsp" > /dev/null
		stop_fs
		body "got$1.fsp" > got.txt 2>/dev/null
		if cmp -s got.txt canonA.txt; then got=A
		elif cmp -s got.txt canonB.txt; then got=B
		elif cmp -s got.txt canonA1.txt || cmp -s got.txt canonB1.txt ||
		    ! grep -qE "^(global|voice) " got.txt; then
			got=prefix
			echo "start $1 loaded the first piece or the empty file, which sat still past the loader's wait"
		else
			got=partial
			fail "start $1 loaded what the file never held: $(tr '\n' '|' < got.txt)"
		fi
	else
		exec 7>&-
		reap "$fs_pid" 5
		fs_pid=""
		if [ "$rc" != 0 ] && grep -q "$2" "$nm.err"; then
			got=refused
			pass "start $1 refused: $(head -1 "$nm.err")"
		else
			got=silent
			fail "start $1 neither played nor said why (status $rc): $(cat "$nm.err")"
		fi
	fi
}

# check_loads N FILE: N times `--check FILE`; counts complete loads, loads
# of the first piece (1 module, no connection: a state the file held),
# refusals and anything else into full, prefix, refused, partial.  The
# empty file (truncated by the shell's `>`, not yet written) is a state the
# file held too, and a loaded machine may hold the writer there for long.
check_loads() {
	full=0 prefix=0 refused=0 partial=0
	for _ in $(seq "$1"); do
		if "$plain" --check "$2" > chk.txt 2> chkerr.txt; then
			if grep -qE "\(1 modules?, 2 connections" chk.txt; then
				full=$((full + 1))
			elif grep -qE "\([01] modules?, 0 connections" chk.txt; then
				# the first piece, or the empty file between the
				# shell's truncation and its first write
				prefix=$((prefix + 1))
			else
				partial=$((partial + 1))
				[ "$partial" = 1 ] && echo "loaded a partial file: $(cat chk.txt)"
			fi
		elif grep -q "$2" chkerr.txt; then
			refused=$((refused + 1))
			[ "$refused" = 1 ] && echo "refused: $(cat chkerr.txt)"
		else
			fail "--check failed without naming the file: $(cat chkerr.txt)"
		fi
		sleep 0.013
	done
}

case_j() {
	echo "---- j. the patch file changes while loading"
	# two complete versions; a writer rewrites the file in place, each in two
	# writes 5 ms apart, 10 ms between versions: a third of the time the file
	# holds a prefix (A's module without its connections, or B cut inside its
	# frequency: freq=3).  The writer pauses with bash's `read -t` on a fifo
	# that never has data, not with sleep(1), which forks.  Still, a loaded
	# machine may stretch a pause past the 0.1 s of quiet the loader waits
	# for, and a first piece that stays put that long is a finished file to
	# anyone.  The promise asserted: each load is all or nothing, of one
	# state the file really held (a whole version, or a first piece that
	# sat still, counted as a figure); never a mix of the two versions,
	# never a patch applied in part.
	a1='poly 1
global vco osc wave=sine freq=220 level=0.5
'
	a2='connect osc.out out.1
connect osc.out out.2
'
	b1='poly 1
global vco osc wave=sine freq=3'
	b2='30 level=0.5
connect osc.out out.1
connect osc.out out.2
'
	printf '%s%s' "$a1" "$a2" > A.fsp
	printf '%s%s' "$b1" "$b2" > B.fsp
	# the canonical form of each, as forksynth saves it
	session fj0 "$plain" A.fsp
	send "save canonA.fsp" > /dev/null
	stop_fs
	body canonA.fsp > canonA.txt
	sed 's/freq=220/freq=330/' canonA.txt > canonB.txt
	grep -q "freq=220" canonA.txt || fail "canonical A has no freq=220: $(cat canonA.txt)"
	# the first pieces, as states of their own
	printf '%s' "$a1" > A1.fsp
	session fj0a "$plain" A1.fsp
	send "save canonA1.fsp" > /dev/null
	stop_fs
	body canonA1.fsp > canonA1.txt
	sed 's/freq=220/freq=3/' canonA1.txt > canonB1.txt
	grep -q "freq=220" canonA1.txt && ! grep -q "^connect" canonA1.txt ||
		fail "canonical first piece of A: $(cat canonA1.txt)"
	cp A.fsp p.fsp
	rm -f stop-writer
	rm -f pause.fifo
	mkfifo pause.fifo
	(
		exec 9<> pause.fifo
		while [ ! -e stop-writer ]; do
			{ printf '%s' "$a1"; read -r -t 0.005 -u 9; printf '%s' "$a2"; } > p.fsp
			read -r -t 0.01 -u 9
			{ printf '%s' "$b1"; read -r -t 0.005 -u 9; printf '%s' "$b2"; } > p.fsp
			read -r -t 0.01 -u 9
		done
	) &
	writer_pid=$!
	check_loads 12 p.fsp
	figure "j: --check on the file rewritten in place, 12 times: $full complete, $prefix a first piece that sat still, $refused refused, $partial other"
	[ "$partial" = 0 ] && pass "every --check read one state the file held, whole, or refused ($full complete, $prefix first piece, $refused refused)" ||
		fail "the loader accepted what the file never held $partial times out of 12"
	loaded=0 prefix=0 refused=0 partial=0
	for k in 1 2 3; do
		try_start "$k" p.fsp
		case $got in A|B) loaded=$((loaded + 1)) ;; prefix) prefix=$((prefix + 1)) ;;
			refused) refused=$((refused + 1)) ;; *) partial=$((partial + 1)) ;; esac
	done
	figure "j: headless starts on it: $loaded complete, $prefix a first piece that sat still, $refused refused, $partial other or silent"
	[ "$partial" = 0 ] && pass "every headless start loaded one state the file held, whole, or refused ($loaded complete, $prefix first piece, $refused refused)"
	# the writer stops after a whole version (B): a start at once loads it
	touch stop-writer
	wait "$writer_pid"
	writer_pid=""
	try_start 4 p.fsp
	[ "$got" = B ] && pass "once the writer stops, a start at once loads the last version" ||
		fail "a start right after the last write got: $got"
	# an editor that saves atomically (write, then rename) every 0.2 s: every
	# load sees one whole version
	(
		while [ -e stop-writer ]; do
			cp A.fsp p.tmp && mv p.tmp p.fsp
			sleep 0.2
			cp B.fsp p.tmp && mv p.tmp p.fsp
			sleep 0.2
		done
	) &
	writer_pid=$!
	check_loads 8 p.fsp
	rm -f stop-writer
	wait "$writer_pid"
	writer_pid=""
	figure "j: --check while the file is replaced by rename every 0.2 s, 8 times: $full complete, $refused refused, $((prefix + partial)) partial"
	# a rename never shows a piece: here only whole versions may load
	[ "$partial" = 0 ] && [ "$prefix" = 0 ] && [ "$full" -ge 1 ] &&
		pass "replaced by rename: $full complete loads, $refused refused, none partial" ||
		fail "replaced by rename: $full complete, $refused refused, $((prefix + partial)) partial"
}

# ---- e. the JACK server goes away.  SIGTERM: a SIGKILLed jackd would keep
# its entry in JACK's registry of 8 servers for good.  Last: no server after.
case_e() {
	echo "---- e. the JACK server goes away"
	printf 'poly 4\nglobal vco osc wave=sine level=0.5\nconnect osc.out out.1\n' > e.fsp
	session fe "$plain" e.fsp
	send "set osc.freq 550" > /dev/null
	rec_begin e.wav
	sleep 1.5
	st=$(send stats); ck=$(stat_of cycles)
	tk=$(now_ms)
	kill "$jackd_pid"
	reap "$jackd_pid" 10
	jackd_pid=""
	ended=""
	for _ in $(seq 250); do
		kill -0 "$fs_pid" 2>/dev/null || { ended=$(( $(now_ms) - tk )); break; }
		sleep 0.02
	done
	if [ -z "$ended" ]; then
		fail "forksynth still runs 5 s after the server went away"
		return
	fi
	wait "$fs_pid"
	rc=$?
	fs_pid=""
	exec 7>&-
	figure "e: server gone to forksynth's exit $ended ms, exit status $rc"
	[ "$rc" -lt 128 ] && pass "forksynth ended by itself (status $rc)" || fail "forksynth died of a signal ($rc)"
	grep -q "JACK server went away" fe.err && pass "says so: $(grep -m1 'went away' fe.err)" ||
		fail "no message: $(tail -3 fe.err)"
	n=$(frames e.wav)
	grep -q "recording e.wav finished: $n frames, 0 lost" fe.err &&
		pass "$(grep -m1 'finished' fe.err)" || fail "recording not finalized: $(grep recording fe.err)"
	rec_whole e.wav
	total=$(awk '/cycles, .* late/ { print $2 }' fe.err)
	rec_span e.wav $((ck - rc1)) $((${total:-0} - rc0)) $((tk - rt1)) $((tk - rt0 + ended))
	find_autosave
	grep -q "freq=550" "$autosave" 2>/dev/null && "$plain" --check "$autosave" > /dev/null 2>&1 &&
		pass "autosave written and valid, with the last change" || fail "autosave missing or stale"
	grep -q "patch autosaved to $autosave" fe.err && pass "names the autosave: $(grep -m1 'autosaved to' fe.err)" ||
		fail "the autosave is not named: $(tail -3 fe.err)"
	no_leftovers
}

cd "$scratch"
start_server
printf 'poly 4\nglobal vco osc wave=sine level=0.5\nconnect osc.out out.1\n' > g.fsp
tone f "" > tone.fsp
for kase in $cases; do
	kt=$(now_ms)
	"case_$kase"
	figure "case $kase took $(( ($(now_ms) - kt) / 1000 )) s"
done
no_leftovers

echo "---- figures"
cat "$scratch/figures"
echo "fault_test ran $(( ($(now_ms) - started) / 1000 )) s"
finish
