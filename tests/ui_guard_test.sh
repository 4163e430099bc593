# tests/ui_guard_test.sh — the UI never loses what the user owns: q and :q
# refuse while there are unsaved changes, :q! :wq ZZ ZQ behave as in vim;
# autosaves are kept per patch and per client name and the restore offer
# says what it restores; C-z in an interactive shell leaves the sound (and
# the JACK graph) running and fg brings the screen back; typed UTF-8 is
# kept, and refused with a message where the language wants ASCII.  Runs
# in tmux against a private `jackd -d dummy`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"
. "$top_srcdir/tests/ui_lib.sh"

cd "$scratch"
start_server
drone_patch drone.fsp
cp drone.fsp mypad.fsp
sed 's/cutoff=8000/cutoff=2000/' drone.fsp > bass.fsp


# ended NAME: the program in window NAME has ended (its exit is written).
ended() {
	for _ in $(seq 50); do [ -s "$scratch/$1.exit" ] && return 0; sleep 0.1; done
	return 1
}

# ---- q and :q refuse with [+]; :q! quits and the autosave keeps the change
STATE=g ui_start g1 100 30 -- --threads 1 mypad.fsp
at_prompt g1 "set flt.cutoff 500"
wait_screen g1 "[+]" 3 || fail "no [+] after a change"
keys g1 q
wait_screen g1 "unsaved changes [+]: :w writes them, :wq writes and quits" 3 &&
	pass "q with [+] is refused and says how to save or force" || { fail "q: no refusal"; screen g1; }
at_prompt g1 "q"
sleep 0.5
[ -s g1.exit ] && fail ":q quit with unsaved changes" || pass ":q with [+] is refused too"
at_prompt g1 "q!"
ended g1 && grep -q "exit 0" g1.exit && pass ":q! quits ($(cat g1.exit))" || fail ":q! did not quit"
tmx kill-session -t g1 2>/dev/null
grep -q "cutoff=8000" mypad.fsp && pass "mypad.fsp is untouched by :q!" || fail "mypad.fsp changed"
as=$(ls state-g/forksynth/autosave/g1/mypad-*.fsp 2>/dev/null)
[ -n "$as" ] && grep -q "cutoff=500" "$as" && pass "the autosave keeps the change: $as" ||
	fail "no autosave with the change: $(ls -R state-g)"

# ---- another patch in between does not take mypad's autosave; the offer
# names what it restores
STATE=g ui_start g1 100 30 -- --threads 1 bass.fsp
ui_stop g1
STATE=g ui_start g1 100 30 -- --threads 1 mypad.fsp &
job=$!
if wait_screen g1 "Restore the autosave of mypad.fsp? [y/N]" 10; then
	pass "reopening mypad.fsp after bass.fsp offers mypad's autosave"
	s=$(screen g1 | tr -d '\n')
	echo "$s" | grep -q "Unsaved changes to mypad.fsp" && echo "$s" | grep -q "client 'g1'" &&
		echo "$s" | grep -qF "autosave/g1/mypad-" &&
		pass "the offer names the patch, the client and the file" || { fail "offer text"; screen g1; }
else
	fail "no restore offer for mypad.fsp"; screen g1
fi
keys g1 y
wait $job
keys g1 j
wait_screen g1 "restored the autosave of mypad.fsp" 5 && [ "$(shown g1 cutoff)" = "500 Hz" ] &&
	pass "y restores it: cutoff $(shown g1 cutoff)" || { fail "not restored: $(shown g1 cutoff)"; screen g1; }

# ---- :wq writes and quits
at_prompt g1 "wq"
ended g1 && grep -q "cutoff=500" mypad.fsp && pass ":wq wrote mypad.fsp and quit" ||
	{ fail ":wq: $(cat g1.exit 2>/dev/null)"; screen g1; }
tmx kill-session -t g1 2>/dev/null

# ---- ZZ writes a changed patch and quits; ZQ quits without writing
ui_start zz 100 30 -- --threads 1 bass.fsp
at_prompt zz "set flt.res 0.7"
keys zz Z
keys zz Z
ended zz && grep -q "res=0.7" bass.fsp && pass "ZZ wrote bass.fsp and quit" || { fail "ZZ"; screen zz; }
tmx kill-session -t zz 2>/dev/null
ui_start zq 100 30 -- --threads 1 bass.fsp
at_prompt zq "set flt.res 0.2"
keys zq Z
keys zq Q
ended zq && grep -q "res=0.7" bass.fsp && pass "ZQ quit without writing" || { fail "ZQ"; screen zq; }
tmx kill-session -t zq 2>/dev/null

# ---- :wq on the built-in patch: no file, says so; :wq FILE writes there
ui_start bi 100 30 -- --threads 1
at_prompt bi "set flt.cutoff 1234"
at_prompt bi "wq"
wait_screen bi "no file name: the built-in patch has none; :wq FILE" 3 && [ ! -s bi.exit ] &&
	pass ":wq without a file says so and stays" || { fail ":wq on the built-in patch"; screen bi; }
at_prompt bi "wq mine.fsp"
ended bi && grep -q "cutoff=1234" mine.fsp && pass ":wq FILE wrote mine.fsp and quit" ||
	{ fail ":wq FILE"; screen bi; }
tmx kill-session -t bi 2>/dev/null

# ---- two instances with different names: two autosaves, each offered back
STATE=two ui_start a1 100 30 -- --threads 1 drone.fsp
STATE=two ui_start a2 100 30 -- --threads 1 drone.fsp
at_prompt a1 "set flt.cutoff 600"
at_prompt a2 "set flt.cutoff 700"
at_prompt a1 "q!"
at_prompt a2 "q!"
ended a1 && ended a2
tmx kill-session -t a1 2>/dev/null
tmx kill-session -t a2 2>/dev/null
grep -q "cutoff=600" state-two/forksynth/autosave/a1/drone-*.fsp &&
	grep -q "cutoff=700" state-two/forksynth/autosave/a2/drone-*.fsp &&
	pass "--name a1 and --name a2 keep separate autosaves" || fail "autosaves: $(ls -R state-two)"
STATE=two ui_start a2 100 30 -- --threads 1 drone.fsp &
job=$!
wait_screen a2 "client 'a2'" 10 && keys a2 y
wait $job
keys a2 j
[ "$(shown a2 cutoff)" = "700 Hz" ] && pass "a2 gets a2's autosave back: $(shown a2 cutoff)" ||
	{ fail "a2 restored $(shown a2 cutoff)"; screen a2; }
ui_stop a2

# ---- UTF-8 at the prompt
ui_start u8 100 30 -- --threads 1 drone.fsp
at_prompt u8 "set flt.cutoff 5€0"
wait_screen u8 "expected a number for cutoff, got '5€0'" 3 &&
	pass "5€0 is refused with a message (not read as 50)" || { fail "5€0"; screen u8; }
at_prompt u8 "rename flt fïlter"
wait_screen u8 "names are ASCII" 3 && pass "a non-ASCII name is refused with a message" ||
	{ fail "fïlter"; screen u8; }
screen u8 | grep -q " flter " && fail "the name lost its ï" || pass "no 'flter'"
keys u8 :
type_text u8 "set flt.cutoff 5€"
keys u8 BSpace
type_text u8 "00"
keys u8 Enter
keys u8 j
[ "$(shown u8 cutoff)" = "500 Hz" ] && pass "Backspace takes a whole €: cutoff $(shown u8 cutoff)" ||
	{ fail "after Backspace over €: $(shown u8 cutoff)"; screen u8; }
keys u8 :
type_text u8 "w ½-fïlé.fsp"
keys u8 Left Left Left Left Left
keys u8 Right Right Right Right Right
keys u8 Enter
[ -f "½-fïlé.fsp" ] && pass ":w to a UTF-8 file name: $(ls ./*.fsp | grep -v '^./[a-z]*\.fsp$' | tr '\n' ' ')" ||
	{ fail ":w ½-fïlé.fsp: $(ls)"; screen u8; }
type_text u8 "é"
wait_screen u8 "a non-ASCII key does nothing here" 3 && pass "a non-ASCII key is answered, not dropped" ||
	{ fail "é as a key"; screen u8; }
ui_stop u8

# ---- C-z in an interactive shell: the sound plays on, fg brings it back
tmx new-session -d -s cz -x 100 -y 30 "cd '$scratch'; env JACK_DEFAULT_SERVER='$server' \
	XDG_STATE_HOME='$scratch/state-cz' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' PS1='shell$ ' \
	bash --norc --noprofile -i"
wait_screen cz "shell\$" 10 || fail "no shell"
# one job: a shell waits for forksynth and writes its exit status (bash
# itself would go on to the next command as soon as the job stops)
type_text cz "sh -c '$FORKSYNTH --name cz --threads 1 drone.fsp 2> cz.stderr; echo exit \$? > cz.exit'"
keys cz Enter
wait_screen cz "forksynth  cz " 10 || { fail "the UI did not come up"; screen cz; }
keys cz C-z
if wait_screen cz "Stopped" 15; then
	pass "C-z: the shell has the terminal ($(screen cz | grep -o '\[1\]+ *Stopped' | head -1))"
else
	fail "C-z: no 'Stopped' from the shell"; screen cz
fi
if timeout 10 jack_lsp > lsp.txt 2>&1 && grep -qx "cz:out_1" lsp.txt; then
	pass "jack_lsp answers and lists cz:out_1 while the job is stopped"
else
	fail "jack_lsp while stopped: $(cat lsp.txt)"
fi
timeout 30 jack_capture -d 1 -p cz:out_1 -p cz:out_2 cz.wav > capture.log 2>&1
level=$(sox cz.wav -n stats 2>&1 | awk '/RMS lev dB/ { print $4 }')
if [ -s cz.wav ] && awk -v l="${level:--inf}" 'BEGIN { exit !(l + 0 > -40) }'; then
	pass "the server runs cycles and forksynth plays on while stopped (jack_capture 1 s: RMS $level dB)"
else
	fail "capture while stopped: level ${level:-none}: $(tail -3 capture.log)"
fi
type_text cz "echo typed-in-shell"
keys cz Enter
wait_screen cz "typed-in-shell" 3 && pass "the shell reads and echoes while forksynth plays" ||
	{ fail "shell after C-z"; screen cz; }
type_text cz "fg"
keys cz Enter
wait_screen cz "forksynth  cz " 10 && pass "fg: the UI is back" || { fail "fg: no UI"; screen cz; }
at_prompt cz "set flt.cutoff 900"
keys cz j
[ "$(shown cz cutoff)" = "900 Hz" ] && pass "and takes keys again: cutoff $(shown cz cutoff)" ||
	{ fail "keys after fg: $(shown cz cutoff)"; screen cz; }
at_prompt cz "q!"
ended cz && grep -q "exit 0" cz.exit && pass "then :q! ends it ($(cat cz.exit))" ||
	{ fail "quit after fg: $(cat cz.exit 2>/dev/null)"; screen cz; }
wait_screen cz "shell\$" 5 && pass "the shell's prompt is back" || fail "no prompt after quit"
tmx kill-session -t cz 2>/dev/null

no_leftovers
finish
