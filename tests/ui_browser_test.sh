# tests/ui_browser_test.sh — the patch browser as a person uses it: the UI
# in tmux against a private `jackd -d dummy`, the user's patch folder
# ($XDG_DATA_HOME/forksynth/patches) holding two drones of different
# pitch and one broken patch.  j auditions (heard in jack_capture
# recordings, pitch measured by tests/analyze), Esc restores the patch
# that played with its unsaved edit (screen and sound), the autosave is
# never the auditioned patch, a broken patch is shown with its error and
# never plays, Enter keeps a patch only after a word about unsaved work.
. "$top_srcdir/tests/lib.sh"
: "${ANALYZE:?}"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
export XDG_DATA_HOME="$scratch/data"
mine="$XDG_DATA_HOME/forksynth/patches"
mkdir -p "$mine"
# drone PITCH NAME FILE: a sine drone on both outputs
drone() {
	cat <<P
# $3 — a sine drone at $1 Hz
poly 1
global vco $2osc wave=sine freq=$1
global vca $2amp gain=0.3
connect $2osc.out $2amp.in
connect $2amp.out out.1
connect $2amp.out out.2
P
}
drone 300 home home.fsp > home.fsp
drone 220 low a-low.fsp > "$mine/a-low.fsp"
drone 660 high b-high.fsp > "$mine/b-high.fsp"
printf '# c-broken.fsp — a patch with a typo\nglobal vco osc wave=sine\nglobal vcx amp\n' \
	> "$mine/c-broken.fsp"
# a FIFO in the folder must not hang the browser
mkfifo "$mine/d-fifo.fsp"

# pitch FILE: the strongest frequency of the middle of a recording, Hz
pitch() {
	"$ANALYZE" freq "$1" 12000 24000 | awk '{ printf "%d", $1 + 0.5 }'
}
# near HZ WANT: within 2 %
near() { awk -v f="$1" -v w="$2" 'BEGIN { exit !(f > w * 0.98 && f < w * 1.02) }'; }
# hear NAME WANT WHAT: record a second and check its pitch
hear() {
	capture "$1.wav" 1.5 b
	f=$(pitch "$1.wav")
	near "$f" "$2" && pass "$3: $f Hz heard" ||
		fail "$3: heard $f Hz, not $2 Hz"
}

ui_start b 100 30 -- home.fsp
# an unsaved edit: 300 -> 330 Hz, [+]
keys b :
type_text b "set homeosc.freq 330"
keys b Enter
wait_screen b "home.fsp [+]" 10 && pass "an edit marks the patch [+]" ||
	fail "no [+] after an edit"
hear edited 330 "the edited patch plays"

# ---- open the browser: the user's folder, with the first comment lines
keys b b
wait_screen b "PATCHES (" 10 || { fail "b did not open the browser"; screen b; }
s=$(screen b)
echo "$s" | grep -q "a-low.fsp *a sine drone at 220 Hz" &&
	echo "$s" | grep -q "b-high.fsp *a sine drone at 660 Hz" &&
	pass "the browser lists the user's patches with their first comment line" ||
	{ fail "the browser's list"; echo "$s"; }
echo "$s" | grep -q "c-broken.fsp *ERROR line 3, column 8: .*vcx" &&
	pass "a broken patch is listed with its error" ||
	{ fail "the broken patch's row"; echo "$s" | grep broken; }
echo "$s" | grep -q "d-fifo" && fail "a FIFO was listed as a patch" ||
	pass "a FIFO in the folder is not listed (and did not hang the browser)"
echo "$s" | grep -q "bass.fsp *a punchy mono bass" &&
	pass "the examples of the source tree are listed (run from the build tree)" ||
	{ fail "no example patches listed"; echo "$s"; }
hear opened 330 "opening the browser changes nothing"

# ---- the highlight starts on the first; j auditions the next, k the first
keys b j
wait_screen b "auditioning b-high.fsp" 10 || { fail "j did not audition"; screen b; }
hear high 660 "j auditions b-high.fsp"
keys b k
wait_screen b "auditioning a-low.fsp" 10 || { fail "k did not audition"; screen b; }
hear low 220 "k auditions a-low.fsp"

# the autosave is the user's patch (with its edit), never the audition
sleep 1.2
as=$(ls "$scratch"/state-b/forksynth/autosave/b/*.fsp 2>/dev/null | head -1)
if [ -n "$as" ] && grep -q "homeosc.*freq=330" "$as" && ! grep -q "highosc\|lowosc" "$as"; then
	pass "the autosave holds the user's edited patch while auditioning"
else
	fail "the autosave during an audition: ${as:-none}"; cat "$as" 2>/dev/null
fi

# an edit to the auditioned patch is refused: it is not the user's
keys b :
type_text b "set lowosc.freq 100"
keys b Enter
wait_screen b "is only auditioned" 10 && pass "editing an auditioned patch is refused" ||
	{ fail "an edit of the audition was not refused"; screen b | tail -3; }
hear still_low 220 "the refused edit changed nothing"
keys b j
wait_screen b "auditioning b-high.fsp" 10 || { fail "j did not audition"; screen b; }

# ---- the broken patch: its error, and the audition plays on
keys b j
wait_screen b "c-broken.fsp does not load" 10 &&
	pass "moving onto the broken patch says why it does not load" ||
	{ fail "no message for the broken patch"; screen b | tail -4; }
screen b | grep -q "unknown module type\|vcx" && pass "the message names the error" ||
	{ fail "the broken patch's error"; screen b | tail -4; }
hear after_broken 660 "the broken patch never replaced the one playing"
keys b Enter
wait_screen b "nothing changed" 10 && pass "Enter on the broken patch is refused" ||
	{ fail "Enter on the broken patch"; screen b | tail -3; }

# ---- Esc: the user's patch, with its unsaved edit
keys b Escape
wait_screen b "back to home.fsp [+], as it was" 10 &&
	pass "Esc says it went back to the edited patch" ||
	{ fail "Esc's message"; screen b | tail -3; }
s=$(screen b)
echo "$s" | grep -q "MODULES (2)" && echo "$s" | grep -q " homeosc " &&
	pass "the patch view shows the user's patch again" ||
	{ fail "the patch view after Esc"; echo "$s"; }
keys b l
[ "$(shown b freq)" = "330 Hz" ] && pass "its edited value is back: 330 Hz" ||
	{ fail "freq after Esc: '$(shown b freq)'"; screen b; }
hear back 330 "Esc plays the edited patch again"

# ---- an edit made in the browser before any audition is the user's: it
# is what Esc goes back to
keys b b
wait_screen b "PATCHES (" 10
keys b :
type_text b "set homeosc.freq 340"
keys b Enter
keys b j
wait_screen b "auditioning" 10
keys b Escape
wait_screen b "back to home.fsp [+], as it was" 10
hear edited_in_browser 340 "an edit made with the browser open survives an audition and Esc"

# ---- leaving by another view ends the audition as Esc does
keys b b
wait_screen b "PATCHES (" 10
keys b j
wait_screen b "auditioning" 10
keys b 1
wait_screen b "left the browser: back to home.fsp [+]" 10 &&
	pass "leaving the browser by another view goes back to the user's patch" ||
	{ fail "leaving by 1"; screen b | tail -3; }
hear left 340 "and plays it"

# ---- Enter with unsaved changes: a word first, then the load; u undoes
keys b b
wait_screen b "PATCHES (" 10
keys b g
wait_screen b "auditioning a-low.fsp" 10 || { fail "g did not audition the first"; screen b; }
keys b Enter
wait_screen b "unsaved changes [+] to home.fsp" 10 &&
	pass "Enter with unsaved changes says so first" ||
	{ fail "Enter did not warn about unsaved changes"; screen b | tail -3; }
keys b Enter
wait_screen b "unsaved changes to home.fsp: u brings them back" 10 &&
	pass "a second Enter keeps the patch, and says how to get the edits back" ||
	{ fail "the second Enter"; screen b | tail -3; }
screen b | sed -n 2p | grep -q "a-low.fsp *$" &&
	pass "the status line names the kept patch, unmodified" ||
	{ fail "status after keeping"; screen b | sed -n 2p; }
hear kept 220 "the kept patch plays"
keys b u
wait_screen b "home.fsp [+]" 10 && pass "u brings the edited patch back" ||
	{ fail "undo after keeping"; screen b | sed -n 2p; }
hear undone 340 "and it sounds as edited"

# ---- an empty or missing folder, and no patches at all
ui_stop b
XDG_DATA_HOME="$scratch/none" ui_start e 80 24 XDG_DATA_HOME="$scratch/none" -- home.fsp
keys e b
wait_screen e "PATCHES (" 10 && pass "the browser opens with the user's folder missing" ||
	{ fail "browser without the user's folder"; screen e; }
keys e Escape
wait_screen e "left the patch browser" 10 && pass "Esc without an audition just leaves" ||
	{ fail "Esc without an audition"; screen e | tail -3; }
ui_stop e
finish
