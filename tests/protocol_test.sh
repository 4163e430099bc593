# tests/protocol_test.sh — the headless protocol's contract, against a real
# `jackd -d dummy`: exactly one answer per input line, in order, for
# 100,000 lines of every kind (blank, comment, good and bad commands); an
# overlong line is one error and none of it runs; a 10 MB line is one
# answer; the last line runs at EOF without its newline; NUL and invalid
# UTF-8 are errors naming the column; `help` ends in one answer line; lines
# after `quit` are not read.  And the autosave: one per client name and
# patch, so twenty instances keep twenty.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server

# run NAME INPUT [ARGS...]: forksynth headless on the file INPUT until its
# end; answers in NAME.out, messages in NAME.err, exit status in $rc.
run() {
	n=$1 in=$2; shift 2
	"$FORKSYNTH" --no-ui --threads 1 --name "$n" "$@" < "$in" > "$n.out" 2> "$n.err"
	rc=$?
}

# autosave_of NAME: the autosave file(s) of client NAME.
autosave_of() {
	ls "$XDG_STATE_HOME/forksynth/autosave/$1/"*.fsp 2>/dev/null
}

# ---- 100,000 lines of every kind: one answer each, in order
awk 'BEGIN {
	for (i = 0; i < 100000; i++) {
		k = i % 7
		if (k == 0) { print ""; e = "ok" }
		else if (k == 1) { print "# comment " i; e = "ok" }
		else if (k == 2) { printf "set flt.cutoff %d\n", 100 + i % 9000; e = "ok" }
		else if (k == 3) { print "set flt.cutoff loud"; e = "error:" }
		else if (k == 4) { print "   \t  # indented comment"; e = "ok" }
		else if (k == 5) { print "frobnicate " i; e = "error:" }
		else { printf "set flt.res 0.%d\r\n", i % 10; e = "ok" }
		print e > "expected.txt"
	}
}' > many.txt
run many many.txt
[ "$rc" = 0 ] && pass "100,000 lines: exit status 0" || fail "100,000 lines: exit $rc: $(tail -3 many.err)"
n=$(wc -l < many.out)
[ "$n" = 100000 ] && pass "100,000 lines: 100,000 answers" || fail "100,000 lines: $n answers"
awk '{ print $1 }' many.out > got.txt
if cmp -s expected.txt got.txt; then
	pass "every answer in order: ok for blank, comment and good lines, error: for bad ones"
else
	fail "answers out of order: $(diff expected.txt got.txt | head -4 | tr '\n' ' ')"
fi
last=$(awk 'BEGIN { for (i = 99999; i % 7 != 2; i--); print 100 + i % 9000 }')
grep -q "cutoff=$last " $(autosave_of many) &&
	pass "the last change is in the autosave" || fail "autosave stale: $(grep cutoff $(autosave_of many))"

# ---- an overlong line: one error, none of it runs (its tail is a command)
{
	echo "set flt.cutoff 321"
	printf '#'; head -c 8190 /dev/zero | tr '\0' x; echo "remove flt"
	printf 'set flt.cutoff 4'; head -c 9000 /dev/zero | tr '\0' 0; echo
	echo "set flt.res 0.2"
	printf 'remove flt'; head -c 10000000 /dev/zero | tr '\0' ' '; echo
	echo "set flt.cutoff 654"
} > long.txt
run long long.txt
n=$(wc -l < long.out)
[ "$n" = 6 ] && pass "overlong lines (8,201 bytes, 9,016 bytes, 10 MB): one answer each ($n for 6 lines)" ||
	fail "overlong lines: $n answers for 6 lines: $(cut -c1-100 long.out | tr '\n' '|')"
sed -n 2p long.out | grep -q "^error: line 2 is 8201 bytes, longer than 8191; none of it was run" &&
	pass "$(sed -n 2p long.out)" || fail "line 2: $(sed -n 2p long.out | cut -c1-120)"
sed -n 5p long.out | grep -q "^error: line 5 is 10000010 bytes" &&
	pass "a 10 MB line: $(sed -n 5p long.out)" || fail "line 5: $(sed -n 5p long.out | cut -c1-120)"
sed -n 6p long.out | grep -qx "ok" && grep -q "cutoff=654" $(autosave_of long) &&
	pass "flt is still there: the tails of the overlong lines did not run" ||
	fail "after the overlong lines: $(sed -n 6p long.out)"

# ---- the last line runs without its newline
printf 'set flt.cutoff 777\nset flt.res 0.3' > unterminated.txt
run unterm unterminated.txt
[ "$(cat unterm.out | tr '\n' ' ')" = "ok ok " ] && grep -q "res=0.3" $(autosave_of unterm) &&
	pass "an unterminated last line is answered and applied" ||
	fail "unterminated last line: $(cat unterm.out | tr '\n' '|') $(grep res $(autosave_of unterm))"

# ---- NUL, invalid UTF-8, UTF-8 where it belongs and where it does not
{
	printf 'set flt.cutoff 500\0junk\n'
	printf 'set flt.cutoff 5\3420\n'
	printf '# caf\303\251 \342\202\254 comment\n'
	printf 'set flt.cutoff 5\342\202\2540\n'
	printf 'rename flt f\303\257lter\n'
	printf '\377\376set flt.cutoff 1\n'
	printf 'set flt.cutoff 432\n'
	printf 'save caf\303\251-\342\202\254.fsp\n'
} > bytes.txt
run bytes bytes.txt
answer() { sed -n "${1}p" bytes.out; }
answer 1 | grep -q "^error: column 19: a NUL byte" && pass "NUL: $(answer 1)" || fail "NUL: $(answer 1)"
answer 2 | grep -q "^error: column 17: invalid UTF-8" && pass "invalid UTF-8: $(answer 2)" ||
	fail "invalid UTF-8: $(answer 2)"
answer 3 | grep -qx "ok" && pass "a UTF-8 comment: ok" || fail "UTF-8 comment: $(answer 3)"
answer 4 | grep -q "^error: column 16: expected a number for cutoff" &&
	pass "5€0 is refused: $(answer 4)" || fail "5€0: $(answer 4)"
answer 5 | grep -q "^error: .*names are ASCII" && pass "a non-ASCII name is refused: $(answer 5)" ||
	fail "non-ASCII name: $(answer 5)"
answer 6 | grep -q "^error: column 1: invalid UTF-8 (byte 0xff)" && pass "a leading 0xff: $(answer 6)" ||
	fail "0xff: $(answer 6)"
answer 8 | grep -q "^ok" && [ -f "café-€.fsp" ] && grep -q "cutoff=432" "café-€.fsp" &&
	pass "a UTF-8 file name: $(answer 8)" || fail "UTF-8 file name: $(answer 8); $(ls)"
[ "$(wc -l < bytes.out)" = 8 ] && pass "8 lines, 8 answers" || fail "$(wc -l < bytes.out) answers for 8 lines"

# ---- help: information lines start with '# ', then one answer
printf 'help\nset flt.cutoff 300\n' > help.txt
run help help.txt
grep -v '^# ' help.out > answers.txt
[ "$(cat answers.txt | tr '\n' ' ')" = "ok help ok " ] &&
	pass "help: $(grep -c '^# ' help.out) information lines, then 'ok help'" ||
	fail "help answers: $(cat answers.txt | tr '\n' '|')"
# every command the session takes is in its help, save! too
for c in "save [FILE]" "save! [FILE]" "record" "stats" "quit"; do
	grep -qF "# $c" help.out && pass "help names $c" || fail "help lacks $c"
done

# ---- quit: the lines after it are not read
printf 'set flt.cutoff 300\nquit\nset flt.cutoff 301\n' > quit.txt
run quit quit.txt
[ "$(cat quit.out | tr '\n' ' ')" = "ok ok " ] && grep -q "cutoff=300" $(autosave_of quit) &&
	pass "nothing after quit runs" || fail "after quit: $(cat quit.out | tr '\n' '|')"

# ---- twenty instances with different names keep twenty autosaves
pids=""
for i in $(seq 1 20); do
	printf 'set flt.cutoff %d\n' $((1000 + i)) > "inst$i.txt"
	"$FORKSYNTH" --no-ui --threads 1 --name "inst$i" < "inst$i.txt" > "inst$i.out" 2> "inst$i.err" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
kept=0
for i in $(seq 1 20); do
	f=$(autosave_of "inst$i")
	[ -n "$f" ] && grep -q "cutoff=$((1000 + i))" $f && kept=$((kept + 1))
done
[ "$kept" = 20 ] && pass "twenty --name instN: twenty autosaves, each with its own change" ||
	fail "only $kept of 20 autosaves kept their change"
head -1 $(autosave_of inst7) | grep -q "^# forksynth autosave of: (the built-in patch)" &&
	pass "an autosave says what it is of: $(head -1 $(autosave_of inst7))" || fail "no origin line"

# ---- one autosave per patch for one client: two patches, two autosaves
cat > mypad.fsp <<'P'
poly 2
voice vco osc
voice ladder flt
connect osc.out flt.in
connect flt.out out.1
P
sed 's/poly 2/poly 3/' mypad.fsp > bass.fsp
echo "set flt.res 0.9" > res.txt
run same res.txt mypad.fsp
run same /dev/null bass.fsp
n=$(autosave_of same | wc -l)
[ "$n" = 2 ] && grep -q "res=0.9" $(autosave_of same | grep mypad) &&
	pass "mypad.fsp and bass.fsp keep an autosave each: $(autosave_of same | xargs -n1 basename | tr '\n' ' ')" ||
	fail "autosaves of client 'same': $(autosave_of same | tr '\n' ' ')"

# ---- the autosave is coalesced: a stream of changes is not a write each
if command -v strace > /dev/null; then
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "set flt.cutoff %d\n", 100 + i % 9000 }' > burst.txt
	# LeakSanitizer cannot stop a traced process's threads (make
	# asan-check): no leak check for this one run under strace
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -e trace=rename,renameat,renameat2 -o trace.txt \
		"$FORKSYNTH" --no-ui --threads 1 --name burst < burst.txt > burst.out 2> burst.err
	renames=$(grep -c "autosave" trace.txt)
	# 20,000 changes take a fraction of a second (at most one write per
	# 0.5 s while they come in, and one on the way out); the bound is
	# loose so that a slow machine passes: one write per change would be
	# 20,000
	[ "$(wc -l < burst.out)" = 20000 ] && [ "$renames" -lt 100 ] &&
		pass "20,000 changes: $renames autosave write(s)" ||
		fail "20,000 changes: $renames autosave writes, $(wc -l < burst.out) answers"
fi

no_leftovers
finish
