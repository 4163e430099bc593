# tests/osc_test.sh — OSC control (--osc), against a real `jackd -d dummy`
# with liblo's own oscsend on the other side, and tests/oscpeer (liblo) where
# the answer matters (oscsend sends from a port of its own that nobody
# hears, so an answer "to the sender" needs a sender that listens): bound to
# 127.0.0.1 only; /forksynth/set and /forksynth/note heard in jack_capture
# recordings and seen in the saved patch; /forksynth/cmd answered to the
# sender with the same ok/error line as the headless protocol; every kind
# of bad message (wrong types, unknown path, garbage, a bundle, overlong and
# multi-line strings, a failing command, out-of-range notes) answered with
# an error and a log line, none of it run, and forksynth still playing.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}" "${OSCPEER:?}"
. "$top_srcdir/tests/jack_lib.sh"

command -v oscsend > /dev/null || { echo "SKIP: oscsend (liblo-tools) missing"; exit 77; }
cd "$scratch"
start_server

# a sine through a vca: silence is exact when the gain is 0
cat > sine.fsp <<'P'
# a sine for the OSC test
poly 4
voice midi note
voice vco osc wave=sine
voice adsr env attack=0.005 decay=0.1 sustain=1 release=0.05
voice vca amp gain=0.3
connect note.pitch osc.pitch
connect note.gate env.gate
connect osc.out amp.in
connect env.out amp.cv
connect amp.out out.1
connect amp.out out.2
P
start_fs fs --threads 1 --osc 0 sine.fsp
port=$(grep -o 'osc.udp://127.0.0.1:[0-9]*' fs.err | head -1 | sed 's/.*://')
[ -n "$port" ] && pass "OSC port $port told: $(grep -o 'OSC on [^ ]*' fs.err)" ||
	fail "no OSC port in the log: $(cat fs.err)"

# ---- bound to localhost only: /proc/net/udp lists 127.0.0.1 (0100007F)
hexport=$(printf '%04X' "$port")
if grep -q " 0100007F:$hexport " /proc/net/udp; then
	pass "the OSC socket is bound to 127.0.0.1:$port, not to every interface"
else
	fail "OSC socket not on 127.0.0.1: $(grep ":$hexport " /proc/net/udp)"
fi

# peer LINES...: tests/oscpeer sends each line and prints the answers
# heard (one per message sent), 30 s at most
peer() {
	n=$#
	{ for l in "$@"; do echo "$l"; done; } |
		"$OSCPEER" -n "$n" -t 30 | sed 1d
}

# capture NAME: one second of fs:out_1 by jack_capture; its RMS
capture() {
	jack_capture -d 1 -p fs:out_1 "$1.wav" > "$1.log" 2>&1
	frames=$(soxi -s "$1.wav" 2>/dev/null || echo 0)
	[ "$frames" -gt 2000 ] || { echo "no-recording"; return; }
	"$ANALYZE" rms "$1.wav" 1000 $((frames - 1000))
}

# ---- /forksynth/note (oscsend): a note heard in a recording
quiet=$(capture before)
oscsend localhost "$port" /forksynth/note iif 69 100 60
a=$(send "stats")   # stdin after OSC: the note's datagram was taken first
loud=$(capture note)
awk -v q="$quiet" -v l="$loud" 'BEGIN { exit !(q < 1e-4 && l > 0.05) }' &&
	pass "oscsend /forksynth/note 69 100 60: RMS $quiet before, $loud while it sounds" ||
	fail "note not heard: RMS $quiet before, $loud after"

# ---- /forksynth/set (oscsend): the gain to 0, heard as silence; saved
oscsend localhost "$port" /forksynth/set sf amp.gain 0
a=$(send "save! set0.fsp")
grep -q "amp.*gain=0\b" set0.fsp &&
	pass "oscsend /forksynth/set amp.gain 0: the patch says gain=0" ||
	fail "set not in the patch: $a $(grep amp set0.fsp)"
muted=$(capture muted)
awk -v m="$muted" 'BEGIN { exit !(m < 1e-4) }' &&
	pass "and the note held is silent in a recording: RMS $muted" ||
	fail "still sounding after gain 0: RMS $muted"
oscsend localhost "$port" /forksynth/set sf amp.gain 0.3
a=$(send "stats")
back=$(capture back)
awk -v b="$back" 'BEGIN { exit !(b > 0.05) }' &&
	pass "gain 0.3 again: heard, RMS $back" || fail "not back: RMS $back"

# ---- /forksynth/cmd: the headless protocol's answers, to the sender
peer "send|127.0.0.1|$port|/forksynth/cmd|s|set amp.gain 0.25" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|stats" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|set amp.loudness 3" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|   " > cmd.txt
sed -n 1p cmd.txt | grep -qx '/forksynth/reply s "ok"' &&
	pass "cmd 'set amp.gain 0.25': $(sed -n 1p cmd.txt)" || fail "cmd set: $(cat cmd.txt)"
sed -n 2p cmd.txt | grep -q '^/forksynth/reply s "ok cycles [0-9]* xruns' &&
	pass "cmd 'stats': $(sed -n 2p cmd.txt | cut -c1-70)..." || fail "cmd stats: $(sed -n 2p cmd.txt)"
sed -n 3p cmd.txt | grep -q '^/forksynth/reply s "error: .*loudness' &&
	pass "a failing command: $(sed -n 3p cmd.txt | cut -c1-110)" || fail "cmd bad param: $(sed -n 3p cmd.txt)"
echo "set amp.loudness 3" >&7
want=$(tail -1 fs.out | cut -c1-60)
sed -n 3p cmd.txt | grep -qF "$want" &&
	pass "the same error line as the headless protocol's" ||
	fail "OSC and stdin differ: '$want' vs $(sed -n 3p cmd.txt)"
sed -n 4p cmd.txt | grep -qx '/forksynth/reply s "ok"' &&
	pass "a blank command: ok, as on stdin" || fail "blank: $(sed -n 4p cmd.txt)"
a=$(send "save! cmd.fsp")
grep -q "amp.*gain=0.25" cmd.fsp && pass "the cmd's change is in the patch" ||
	fail "cmd change missing: $(grep amp cmd.fsp)"

# ---- the fast paths answer too; a note by name
peer "send|127.0.0.1|$port|/forksynth/set|sf|amp.gain|0.2" \
	"send|127.0.0.1|$port|/forksynth/note|sif|C4|90|0.2" \
	"send|127.0.0.1|$port|/forksynth/set|ss|amp.gain|0.3" > fast.txt
[ "$(grep -c '"ok"' fast.txt)" = 3 ] && pass "set (sf, ss) and note by name (sif): ok each" ||
	fail "fast paths: $(cat fast.txt | tr '\n' '|')"

# ---- bad messages: each one error answer, nothing run
long=$(head -c 5000 /dev/zero | tr '\0' x)
peer "send|127.0.0.1|$port|/forksynth/cmd|i|5" \
	"send|127.0.0.1|$port|/forksynth/cmd||" \
	"send|127.0.0.1|$port|/forksynth/cmd|ss|set amp.gain 0|x" \
	"send|127.0.0.1|$port|/forksynth/nope|s|x" \
	"send|127.0.0.1|$port|/forksynth/set|fs|1|amp.gain" \
	"send|127.0.0.1|$port|/forksynth/set|sf|amp.gain 0 remove amp|0" \
	"send|127.0.0.1|$port|/forksynth/set|sf|amp.gain|nan" \
	"send|127.0.0.1|$port|/forksynth/set|sf|amp.gain|7" \
	"send|127.0.0.1|$port|/forksynth/set|sf|nosuch.gain|0" \
	"send|127.0.0.1|$port|/forksynth/note|iif|128|100|1" \
	"send|127.0.0.1|$port|/forksynth/note|fif|60.5|100|1" \
	"send|127.0.0.1|$port|/forksynth/note|iif|60|0|1" \
	"send|127.0.0.1|$port|/forksynth/note|iif|60|100|-1" \
	"send|127.0.0.1|$port|/forksynth/note|ii|60|100" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|set amp.gain $long" \
	"raw|127.0.0.1|$port|this is not OSC" \
	"raw|127.0.0.1|$port|#bundle" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|help" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|save! $scratch/victim.txt" \
	"send|127.0.0.1|$port|/forksynth/cmd|s|  record  $scratch/victim.wav" > bad.txt
n=$(wc -l < bad.txt)
e=$(grep -c '^/forksynth/reply s "error: ' bad.txt)
[ "$n" = 20 ] && [ "$e" = 20 ] && pass "20 bad messages: 20 error answers" ||
	fail "bad messages: $n answers, $e errors: $(cat bad.txt)"
grep -q 'cmd takes one string (type s), got types .i.' bad.txt && pass "wrong type named" || fail "wrong type"
grep -q "unknown OSC path '/forksynth/nope'; forksynth takes /forksynth/cmd s" bad.txt &&
	pass "unknown path named, with what is taken" || fail "unknown path"
grep -q "is 5013 bytes, longer than 4096; nothing was run" bad.txt && pass "overlong command (5013 bytes): refused whole" || fail "overlong: $(grep -c longer bad.txt)"
grep -q "not an OSC message" bad.txt && pass "garbage: not an OSC message" || fail "garbage"
grep -q "bundles are not taken" bad.txt && pass "a bundle: refused" || fail "bundle"
grep -q "NOTE must be a whole number 0..127" bad.txt && pass "note 128 and 60.5 refused" || fail "note range"
[ "$(grep -c 'take no file name' bad.txt)" = 2 ] && [ ! -e victim.txt ] && [ ! -e victim.wav ] &&
	pass "save! FILE and record FILE over OSC: refused, nothing written" || fail "file over OSC: $(ls victim* 2>&1)"
peer "send|127.0.0.1|$port|/forksynth/cmd|s|record status" > rs.txt
grep -q '"ok not recording' rs.txt && pass "record status over OSC: $(cut -c1-60 rs.txt)" || fail "record status: $(cat rs.txt)"
# a control character (a newline would hide a second command) refuses the
# whole message; oscpeer reads a line per message, so byte 1 stands for it
awk -v p="$port" 'BEGIN { printf "send|127.0.0.1|%s|/forksynth/cmd|s|set amp.gain 0.12%cremove amp\n", p, 1 }' > nl.txt
"$OSCPEER" -n 1 -t 30 < nl.txt | sed 1d > nl.out
grep -q "control character (byte 0x01)" nl.out &&
	pass "a control character in a command: $(cut -c1-100 nl.out)" || fail "control char: $(cat nl.out)"
grep -c "forksynth: warning: OSC from 127.0.0.1:" fs.err > /dev/null &&
	pass "bad messages are logged: $(grep -m1 'warning: OSC from' fs.err | cut -c1-100)" ||
	fail "no log lines: $(tail -5 fs.err)"
a=$(send "save! after.fsp")
grep -q "voice vca *amp.*gain=0.3" after.fsp && ! grep -q "0.11\|0.12" after.fsp &&
	pass "none of the bad messages changed the patch" || fail "patch changed: $(grep amp after.fsp)"
kill -0 "$fs_pid" && a=$(send stats) && case $a in "ok cycles"*) true ;; *) false ;; esac &&
	pass "forksynth still answers and plays after the bad messages" || fail "forksynth gone: $(tail -5 fs.err)"

# ---- 3000 malformed datagrams (random bytes, cut messages, random type
# tags): answered or dropped, never a crash, never a change
a=$(send "save! before-fuzz.fsp")
echo "fuzz|127.0.0.1|$port|3000" | "$OSCPEER" -n 100 -t 30 | sed 1d > fuzz.out
a=$(send stats)
case $a in "ok cycles"*) pass "3000 malformed datagrams: forksynth still answers ($(grep -c '"error' fuzz.out) error answers heard)" ;;
	*) fail "after fuzz: $a $(tail -3 fs.err)" ;; esac
grep -v '"error' fuzz.out | grep -q . && fail "a fuzzed datagram ran: $(grep -v '"error' fuzz.out | head -3)" ||
	pass "none of them ran a command"
a=$(send "save! after-fuzz.fsp")
grep -v "^#" before-fuzz.fsp > b.txt; grep -v "^#" after-fuzz.fsp > c.txt
cmp -s b.txt c.txt && pass "the patch is the same after them" || fail "fuzz changed the patch: $(diff b.txt c.txt | head -3)"

# ---- a flood: 2000 messages at once; what is taken is answered, stdin too
awk -v p="$port" 'BEGIN { for (i = 0; i < 2000; i++)
	printf "send|127.0.0.1|%s|/forksynth/set|sf|amp.gain|%g\n", p, 0.1 + (i % 10) / 100 }' > flood.txt
"$OSCPEER" -n 2000 -t 15 < flood.txt | sed 1d > flood.out &
fl=$!
a=$(send stats)
wait $fl
n=$(grep -c '"ok"' flood.out)
# UDP drops what the socket's buffer cannot hold: no count is promised,
# but what was taken is answered ok, and nothing else is
[ "$n" -ge 1 ] && [ "$n" = "$(wc -l < flood.out)" ] &&
	pass "a flood of 2000 sets: $n taken (the rest dropped by UDP), each answered ok" ||
	fail "flood: $n ok of $(wc -l < flood.out) answers"
case $a in "ok cycles"*) pass "stdin answered during the flood" ;; *) fail "stdin: $a" ;; esac

# ---- --osc: a port in use is refused with a clear message; a bad port
"$FORKSYNTH" --no-ui --name fs2 --osc "$port" sine.fsp < /dev/null > busy.out 2> busy.err
[ $? != 0 ] && grep -q "another program has that port" busy.err &&
	pass "port in use: $(grep -m1 osc busy.err)" || fail "busy port: $(cat busy.err)"
"$FORKSYNTH" --no-ui --name fs2 --osc 70000 sine.fsp < /dev/null > bad.out 2> badport.err
[ $? != 0 ] && grep -q "expected a UDP port number" badport.err &&
	pass "a bad port: $(cat badport.err)" || fail "bad port: $(cat badport.err)"
"$FORKSYNTH" --no-ui --name fs2 --osc-any sine.fsp < /dev/null > any.out 2> any.err
[ $? != 0 ] && grep -q "osc-any: give the port" any.err &&
	pass "--osc-any alone: $(cat any.err)" || fail "--osc-any alone: $(cat any.err)"

"$FORKSYNTH" --osc 0 --render r.wav sine.fsp < /dev/null > r.out 2> r.err
[ $? != 0 ] && grep -q "only a live session takes OSC" r.err && [ ! -e r.wav ] &&
	pass "--osc with --render: $(cat r.err)" || fail "--osc --render: $(cat r.err)"

stop_fs
[ "$fs_status" = 0 ] && pass "quit: exit 0" || fail "exit $fs_status"
finish
