# tests/nsm_test.sh — forksynth as an NSM client, against a real
# `jackd -d dummy`, with tests/oscpeer (liblo) playing the session
# manager's side of the published NSM API: announce with ":dirty:", open
# (the client id names the JACK client and the autosave; the patch file is
# the path prefix + ".fsp", created from the patch forksynth was started
# with), is_dirty/is_clean as the patch changes and changes back, save
# answered /reply with the file written, a second open refused (no
# :switch:), a restart that loads the saved patch, a session file that does
# not load (an /error, the file untouched), a manager that is not there,
# and one that vanishes: the session plays on, says so, and loses nothing.
. "$top_srcdir/tests/lib.sh"
: "${OSCPEER:?}"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server
mkdir -p session

# wait_for FILE TEXT: until FILE holds TEXT (fixed string), 30 s at most
wait_for() {
	for _ in $(seq 300); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# manager: start the fake session manager (tests/oscpeer); its commands
# go to fd 8, what it hears to nsm.out; $mgr_port and $mgr_pid
manager() {
	rm -f mgr.in nsm.out
	mkfifo mgr.in
	"$OSCPEER" -t 300 < mgr.in > nsm.out &
	mgr_pid=$!
	exec 8> mgr.in
	wait_for nsm.out "port " || fail "the fake manager did not start"
	mgr_port=$(sed -n 's/^port //p' nsm.out)
}

# client: forksynth under the manager, commands on fd 7, log in nsm.err
client() {
	rm -f cmd
	mkfifo cmd
	NSM_URL="osc.udp://127.0.0.1:$mgr_port/" "$FORKSYNTH" --threads 1 "$@" \
		< cmd > nsm.stdout 2> nsm.err &
	fs_pid=$!
	exec 7> cmd
}

# ask LINE: a command on stdin; its answer
ask() {
	before=$(wc -l < nsm.stdout)
	echo "$1" >&7
	for _ in $(seq 200); do
		[ "$(wc -l < nsm.stdout)" -gt "$before" ] && break
		sleep 0.05
	done
	tail -n 1 nsm.stdout
}

# count TEXT: how many lines of nsm.out hold TEXT
count() {
	grep -cF -- "$1" nsm.out
}

# ---- announce, open: a new session creates the patch file
manager
client
wait_for nsm.out '/nsm/server/announce sssiii "forksynth" ":dirty:" "forksynth" 1 2' &&
	pass "announce: $(grep announce nsm.out)" || fail "no announce: $(cat nsm.out nsm.err)"
echo "reply|/reply|ssss|/nsm/server/announce|hello from the test|fakensm|:server-control:" >&8
echo "reply|/nsm/client/open|sss|$scratch/session/forksynth.nTEST|forksynth|nTEST" >&8
wait_for nsm.out '/reply ss "/nsm/client/open"' &&
	pass "open answered: $(grep 'client/open' nsm.out | cut -c1-120)" ||
	fail "open not answered: $(cat nsm.out); $(cat nsm.err)"
jack_lsp | grep -qx "nTEST:midi_in" && pass "the JACK client is named by the client id: nTEST" ||
	fail "no nTEST client: $(jack_lsp | tr '\n' ' ')"
f="$scratch/session/forksynth.nTEST.fsp"
[ -f "$f" ] && "$FORKSYNTH" --check "$f" > /dev/null &&
	pass "a new session: the patch file $f was created and loads" || fail "no session patch file"
grep -q "built-in patch" "$f" && pass "from the patch forksynth was started with (its comments kept)" ||
	fail "session file: $(head -3 "$f")"
[ -d "$XDG_STATE_HOME/forksynth/autosave/nTEST" ] &&
	pass "the autosave is kept under the client id" || fail "no autosave folder for nTEST"

# ---- dirty and clean as the patch changes, and changes back
a=$(ask "set flt.cutoff 1234")
wait_for nsm.out "/nsm/client/is_dirty" && pass "a change: is_dirty ($a)" || fail "no is_dirty: $(cat nsm.out)"
a=$(ask "set flt.cutoff 260")
wait_for nsm.out "/nsm/client/is_clean" && pass "changed back to the saved value: is_clean" ||
	fail "no is_clean after changing back"
a=$(ask "set flt.cutoff 1234")
for _ in $(seq 100); do [ "$(count is_dirty)" = 2 ] && break; sleep 0.1; done
[ "$(count is_dirty)" = 2 ] && pass "dirty again: one is_dirty per change of state" ||
	fail "is_dirty count $(count is_dirty)"

# ---- save: the file written, /reply, then clean
echo "reply|/nsm/client/save|" >&8
wait_for nsm.out '/reply ss "/nsm/client/save"' &&
	pass "save answered: $(grep 'client/save' nsm.out | cut -c1-120)" || fail "save not answered: $(cat nsm.out)"
grep -q "cutoff=1234" "$f" && pass "the session file has the change" || fail "not saved: $(grep flt "$f")"
grep -q "two detuned saws" "$f" && pass "and keeps its comments" || fail "comments lost"
for _ in $(seq 100); do [ "$(count is_clean)" = 2 ] && break; sleep 0.1; done
[ "$(count is_clean)" = 2 ] && pass "saved: is_clean" || fail "no is_clean after save: $(cat nsm.out)"

# ---- a second open: refused (no :switch:), the session goes on
echo "reply|/nsm/client/open|sss|$scratch/session/other|forksynth|nOTHER" >&8
wait_for nsm.out '/error sis "/nsm/client/open" -8' &&
	pass "a second open: $(grep 'error sis "/nsm/client/open"' nsm.out | cut -c1-110)" ||
	fail "second open: $(tail -3 nsm.out)"
echo "reply|/nsm/client/frobnicate|s|x" >&8
wait_for nsm.err "ignored /nsm/client/frobnicate" && pass "an unknown message: ignored, logged" ||
	fail "unknown message: $(tail -3 nsm.err)"
a=$(ask stats)
case $a in "ok cycles"*) pass "commands still answered" ;; *) fail "stats: $a" ;; esac

# ---- SIGTERM (how a manager stops its clients): a clean exit
kill -TERM "$fs_pid"
reap "$fs_pid" 30
[ "$rc" = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $rc: $(tail -3 nsm.err)"
exec 7>&-
echo quit >&8
exec 8>&-
wait "$mgr_pid"

# ---- a restart in the same session loads the saved patch
manager
client
wait_for nsm.out "/nsm/server/announce" || fail "no announce on restart"
echo "reply|/nsm/client/open|sss|$scratch/session/forksynth.nTEST|forksynth|nTEST" >&8
wait_for nsm.out '/reply ss "/nsm/client/open"' || fail "restart: open not answered: $(cat nsm.err)"
a=$(ask "save! reopened.fsp")
grep -q "cutoff=1234" reopened.fsp && pass "reopened: the session's saved patch plays" ||
	fail "reopened: $a $(grep flt reopened.fsp)"

# ---- the manager vanishes: the session plays on, says so, loses nothing
echo quit >&8
exec 8>&-
wait "$mgr_pid"
a=$(ask "set flt.cutoff 2345")
wait_for nsm.err "the session manager at osc.udp://127.0.0.1:$mgr_port/ went away" &&
	pass "vanished: $(grep -m1 'went away' nsm.err | cut -c1-150)..." ||
	fail "vanishing not told: $(tail -3 nsm.err)"
a=$(ask stats)
case $a in "ok cycles"*) pass "it plays on: stats answered" ;; *) fail "after vanishing: $a" ;; esac
a=$(ask "save! $f")
grep -q "cutoff=2345" "$f" && pass "'save! FILE' writes the session file, as the message says: $a" ||
	fail "save after vanishing: $a"
a=$(ask quit)
reap "$fs_pid" 30
[ "$rc" = 0 ] && pass "quit: exit 0" || fail "quit after vanishing: exit $rc"
grep -q "cutoff=2345" "$XDG_STATE_HOME"/forksynth/autosave/nTEST/*.fsp &&
	pass "the autosave has the change too" || fail "autosave stale"
exec 7>&-

# ---- a session file that does not load: /error, nothing touched
printf 'poly 4\nvoice vco osc wave=square\n' > session/broken.nBAD.fsp
cp session/broken.nBAD.fsp broken.orig
manager
client
wait_for nsm.out "/nsm/server/announce" || fail "no announce (broken)"
echo "reply|/nsm/client/open|sss|$scratch/session/broken.nBAD|forksynth|nBAD" >&8
wait_for nsm.out '/error sis "/nsm/client/open" -9' &&
	pass "a session file that does not load: $(grep '/error' nsm.out | cut -c1-130)" ||
	fail "broken file: $(cat nsm.out)"
reap "$fs_pid" 30
[ "$rc" != 0 ] && cmp -s broken.orig session/broken.nBAD.fsp &&
	pass "forksynth stops (exit $rc) and the file is untouched" || fail "broken: exit $rc, file changed?"
grep -q "broken.nBAD.fsp:2" nsm.err && pass "the message names file and line: $(grep -m1 'nBAD' nsm.err | cut -c1-120)" ||
	fail "message: $(cat nsm.err)"
exec 7>&-
echo quit >&8
exec 8>&-
wait "$mgr_pid"

# ---- a manager that refuses the announce: its reason, an exit
manager
client
wait_for nsm.out "/nsm/server/announce" || fail "no announce (refused)"
echo "reply|/error|sis|/nsm/server/announce|-2|incompatible API version" >&8
reap "$fs_pid" 30
[ "$rc" != 0 ] && grep -q "refused us: incompatible API version" nsm.err &&
	pass "announce refused: $(grep -m1 refused nsm.err | cut -c1-120)" ||
	fail "refused announce: exit $rc: $(cat nsm.err)"
exec 7>&-
echo quit >&8
exec 8>&-
wait "$mgr_pid"

# ---- a new session started with a PATCH: that patch is the template
cat > tmpl.fsp <<'P'
# my template, kept in the session
poly 2
voice midi note
voice vco osc wave=sine
voice vca amp gain=0.2
connect note.pitch osc.pitch
connect osc.out amp.in
connect note.gate amp.cv
connect amp.out out.1
P
manager
client --name ignored tmpl.fsp
wait_for nsm.out "/nsm/server/announce" || fail "no announce (template)"
echo "reply|/nsm/client/open|sss|$scratch/session/deeper/dir/tmpl.nTMPL|forksynth|nTMPL" >&8
wait_for nsm.out '/reply ss "/nsm/client/open"' || fail "template: open not answered: $(cat nsm.err)"
cmp -s tmpl.fsp session/deeper/dir/tmpl.nTMPL.fsp &&
	pass "a new session from PATCH: its file is a copy of the template, folders created" ||
	fail "template copy: $(ls -R session)"
grep -q "named 'nTMPL' by the session, not --name ignored" nsm.err &&
	pass "--name gives way to the client id, and says so" || fail "--name: $(grep -m1 NSM nsm.err)"
kill -TERM "$fs_pid"
reap "$fs_pid" 30
exec 7>&-
echo quit >&8
exec 8>&-
wait "$mgr_pid"

# ---- liblo's own oscdump, as the manager, reads our announce the same way
if command -v oscdump > /dev/null; then
	for try in 1 2 3 4 5; do
		dport=$((20000 + ($$ * 7 + try * 997) % 30000))
		oscdump -L "$dport" > dump.out 2> dump.err &
		dpid=$!
		sleep 0.3
		alive "$dpid" && break
		dpid=""
	done
	if [ -n "$dpid" ]; then
		NSM_URL="osc.udp://localhost:$dport/" "$FORKSYNTH" --threads 1 < /dev/null \
			> dumpfs.out 2> dumpfs.err &
		dfs=$!
		wait_for dump.out "/nsm/server/announce" &&
			grep -q '/nsm/server/announce sssiii "forksynth" ":dirty:" "forksynth" 1 2 [0-9]' dump.out &&
			pass "oscdump hears the announce: $(grep announce dump.out)" ||
			fail "oscdump: $(cat dump.out dump.err)"
		kill "$dfs" "$dpid" 2>/dev/null
		wait "$dfs" "$dpid" 2>/dev/null
	else
		fail "oscdump did not start: $(cat dump.err)"
	fi
fi

# ---- no manager at NSM_URL: a clear message, a quick exit
mgr_port=$(( $(sed -n 's/^port //p' nsm.out) ))
NSM_URL="osc.udp://127.0.0.1:$mgr_port/" "$FORKSYNTH" --threads 1 < /dev/null > none.out 2> none.err
rc=$?
[ "$rc" != 0 ] && grep -q "NSM_URL is .*, but no session manager answers there" none.err && pass "no manager there: $(head -1 none.err | cut -c1-150)" ||
	fail "no manager: exit $rc: $(cat none.err)"
NSM_URL="osc.tcp://127.0.0.1:1/" "$FORKSYNTH" --threads 1 < /dev/null > tcp.out 2> tcp.err
[ $? != 0 ] && grep -q "forksynth speaks NSM over UDP" tcp.err && pass "a TCP NSM_URL: $(cat tcp.err)" ||
	fail "tcp url: $(cat tcp.err)"
fs_pid=""
finish
