# tests/osc_ui_test.sh — OSC while the terminal UI runs (in tmux, against a
# private `jackd -d dummy`): a /forksynth/set from oscsend shows in the
# parameter bar and marks the patch modified [+]; a module removed over OSC
# leaves the list, with the selection on it moved to one that exists; the
# keys still work between OSC messages.
. "$top_srcdir/tests/lib.sh"
: "${OSCPEER:?}"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

command -v oscsend > /dev/null || { echo "SKIP: oscsend (liblo-tools) missing"; exit 77; }
cd "$scratch"
start_server
cat > drone.fsp <<'P'
# a saw drone: its parameters on the screen
poly 1
global vco    osc wave=saw
global ladder flt cutoff=8000 res=0.1
global vca    amp gain=0.3
connect osc.out flt.in
connect flt.out amp.in
connect amp.out out.1
P
ui_start ou 80 24 -- --threads 1 --osc 0 drone.fsp
port=$(grep -o 'osc.udp://127.0.0.1:[0-9]*' ou.stderr | sed 's/.*://')
[ -n "$port" ] && pass "OSC port with the UI: $port" || fail "no port: $(cat ou.stderr)"

# select amp (the last module) with the keys: its gain bar shows
keys ou End
before=$(shown ou gain)
oscsend localhost "$port" /forksynth/set sf amp.gain 1.5
for _ in $(seq 50); do [ "$(shown ou gain)" != "$before" ] && break; sleep 0.1; done
case "$(shown ou gain)" in 1.5*) pass "oscsend set amp.gain 1.5: the bar shows '$(shown ou gain)' (was '$before')" ;;
	*) fail "gain bar: '$(shown ou gain)'"; screen ou ;; esac
wait_screen ou "[+]" 5 && pass "and the patch is marked modified [+]" || { fail "no [+]"; screen ou; }

# remove the selected module over OSC: the list loses it, the UI goes on
echo "send|127.0.0.1|$port|/forksynth/cmd|s|remove amp" | "$OSCPEER" -n 1 -t 30 | sed 1d > rm.txt
grep -qx '/forksynth/reply s "ok"' rm.txt && pass "cmd 'remove amp' over OSC: ok" || fail "remove: $(cat rm.txt)"
for _ in $(seq 50); do screen ou | grep -q "amp" || break; sleep 0.1; done
if screen ou | grep -q " amp "; then
	fail "amp still listed"; screen ou
else
	pass "amp left the module list"
fi
keys ou Up
keys ou Down
kill -0 "$(ui_pid ou)" 2>/dev/null && pass "the UI still runs and takes keys" || fail "the UI is gone: $(cat ou.stderr)"
ui_stop ou
grep -q "exit 0" ou.exit && pass "quit: exit 0" || fail "exit: $(cat ou.exit)"
finish
