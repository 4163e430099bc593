# tests/ui_search_test.sh — search in the UI (issue 18, missing 4): `/`
# in the help, the log and the module list goes to the first match and
# highlights the term; n and N go to the next and previous match, round
# the ends with a note; a term that is nowhere says "not found" plainly;
# other views say where search works.  Through tmux against a private
# `jackd -d dummy`; the highlight read with `capture-pane -e`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
drone_patch drone.fsp

search() { keys "$1" /; type_text "$1" "$2"; keys "$1" Enter; }
# highlighted NAME TERM: the term is drawn underlined somewhere.
highlighted() {
	tmx capture-pane -e -p -t "$1" | grep -q "\[[0-9;]*4[0-9;]*m\(.\[[0-9;]*m\)*$2"
}

ui_start s 80 24 -- --threads 2 drone.fsp

# ---- the help
keys s '?'
wait_screen s "HELP (" 5 || fail "no help view"
search s "record"
wait_screen s "/record" 5 && pass "/record in the help: the message says the term" ||
	{ fail "no /record"; screen s | tail -3; }
screen s | sed -n '7,22p' | grep -q "record" && highlighted s record &&
	pass "the help moved to a line with 'record', the term underlined" ||
	{ fail "no highlighted match in the help"; tmx capture-pane -e -p -t s | grep record | cat -v; }
first=$(screen s | sed -n 8p)
keys s n
second=$(screen s | sed -n 8p)
[ "$first" != "$second" ] && screen s | sed -n '7,22p' | grep -q record &&
	pass "n goes on to the next match" || { fail "n did not move: $first"; screen s; }
keys s N
[ "$(screen s | sed -n 8p)" = "$first" ] && pass "N goes back to the previous one" ||
	{ fail "N did not go back"; screen s; }
# a term the help has once: n goes round the end, and says so
search s "extends it"
wait_screen s "/extends it" 5 && keys s n &&
	wait_screen s "passed the end, went on from the top" 5 &&
	screen s | grep -q "extends it" &&
	pass "n past the last match goes round to the first, with a note" ||
	{ fail "no wrap note"; screen s | tail -3; }
keys s N
wait_screen s "passed the top, went on from the end" 5 &&
	pass "N before the first match goes round from the end, with a note" ||
	{ fail "no wrap note going back"; screen s | tail -3; }
search s "zzqxj"
wait_screen s "not found: 'zzqxj' is nowhere in the help" 5 &&
	pass "a term that is nowhere: not found, plainly" || { fail "not found"; screen s | tail -3; }
# Esc leaves the / line without searching; n still has the last term
keys s /
type_text s "osc"
keys s Escape
wait_screen s "HELP (" 3 && ! screen s | tail -1 | grep -q "^/" &&
	pass "Esc leaves the / line" || fail "Esc in the / line"
keys s '?'

# ---- the module list: by name or by type
keys s 1
search s "amp"
wait_screen s "amp: vca" 5 && pass "/amp in the module list selects amp" ||
	{ fail "/amp"; screen s | sed -n 7,9p; }
search s "ladder"
wait_screen s "flt: ladder" 5 && pass "/ladder finds flt by its type" ||
	{ fail "/ladder"; screen s | sed -n 7,9p; }
highlighted s ladder && pass "the type is underlined in the list" ||
	{ fail "no highlight in the module list"; tmx capture-pane -e -p -t s | grep ladder | cat -v; }
search s "o"
keys s n
keys s n
sel=$(screen s | sed -n 8p)
keys s N
keys s n
[ "$(screen s | sed -n 8p)" = "$sel" ] && pass "n and N step through the modules" ||
	fail "n/N in the module list"
search s "nope"
wait_screen s "not found: 'nope' is nowhere in the module list" 5 &&
	pass "not found in the module list" || fail "not found in the list"

# ---- the log: a message long scrolled off comes back
at_prompt s "set flt.cutoff 500"
for i in $(seq 30); do at_prompt s "set amp.gain 0.$((i % 9 + 1))"; done
keys s 4
wait_screen s "MESSAGES" 5
screen s | grep -q "set flt.cutoff 500" && fail "the cutoff message is still on screen" ||
	pass "the cutoff message has scrolled off the log view"
search s "cutoff 500"
wait_screen s "set flt.cutoff 500" 5 && highlighted s "cutoff 500" &&
	pass "/cutoff 500 in the log brings it back, underlined" ||
	{ fail "log search"; screen s; }
# (a term not searched before: the log holds the earlier searches' messages)
search s "qqxzv"
wait_screen s "not found: 'qqxzv' is nowhere in the log" 5 &&
	pass "not found in the log" || fail "not found in the log"

# ---- elsewhere: says where search works
keys s 3
search s "amp"
wait_screen s "search works in the help (?), the log (4) and the module list (1)" 5 &&
	pass "the cost view says where search works" || { fail "search in cost view"; screen s | tail -3; }
ui_stop s
finish
