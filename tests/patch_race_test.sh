# tests/patch_race_test.sh — a patch file rewritten in place, slowly and in
# pieces, while `forksynth --check` reads it again and again: every run
# reports one of the two whole versions, or says that the file changed
# while being read, or (when the busy machine stretched a writer's pause
# past the 0.1 s of quiet the loader waits for) a prefix that really sat
# still in the file; never a mix of versions or anything the file never held.
. "$top_srcdir/tests/lib.sh"
cd "$scratch"
writer=""
trap '[ -n "$writer" ] && kill "$writer" 2>/dev/null; rm -rf "$scratch"' EXIT

# Each version comes in pieces that end at line boundaries, so that every
# prefix is itself a valid patch: A has 3 modules (prefixes 0, 1, 2), B has
# 12 (prefixes 0, 5, 9).
printf 'poly 2\nvoice vco a1\n' > a.1
printf 'voice vco a2\n' > a.2
printf 'voice vca a3\nconnect a1.out a3.in\nconnect a2.out a3.in\nconnect a3.out out.1\n' > a.3
printf 'poly 8\nvoice midi b1\nvoice vco b2\nvoice vco b3\nvoice vco b4\nvoice vco b5\n' > b.1
printf 'voice adsr b6\nvoice adsr b7\nvoice ladder b8\nvoice ladder b9\n' > b.2
printf 'voice vca b10\nglobal delay b11\nglobal reverb b12\nconnect b1.pitch b2.pitch\nconnect b2.out b8.in\nconnect b8.out b10.in\nconnect b10.out b11.in\nconnect b11.out b12.left\nconnect b12.left out.1\nconnect b12.right out.2\n' > b.3
cat a.1 a.2 a.3 > a.fsp
cat b.1 b.2 b.3 > b.fsp
want_a=$("$FORKSYNTH" --check a.fsp | sed 's/^a\.fsp/patch.fsp/')
want_b=$("$FORKSYNTH" --check b.fsp | sed 's/^b\.fsp/patch.fsp/')
echo "A: $want_a"
echo "B: $want_b"
case "$want_a $want_b" in
*"(3 modules"*"(12 modules"*) pass "the two versions load whole" ;;
*) fail "the versions: '$want_a', '$want_b'" ;;
esac
changed="patch.fsp changed while being read; try again when it is written"
cp a.fsp patch.fsp
mkfifo pause.fifo

# start_writer REST: rewrite patch.fsp as B, A, B ... in the background:
# truncate it, append the version's pieces 20 ms apart, rest REST seconds
# on the whole version.  In bash, so that it never forks: a fork per piece
# takes tens of milliseconds on a busy machine and would stretch the pauses.
# A pause that the machine stretched to near forksynth's 0.1 s anyway (the
# file then really did sit still at a prefix) is logged in `stalls`: from
# the end of one write to the end of the next, with 0.01 s to spare as file
# times lag the clock by a tick.
start_writer() {
	rm -f stop stalls
	LC_ALL=C bash -c '
		exec 9<> pause.fifo
		for f in a.1 a.2 a.3 b.1 b.2 b.3; do
			IFS= read -r -d "" "piece_${f%.*}${f#*.}" < "$f"
		done
		while [ ! -e stop ] && [ -e pause.fifo ]; do
			for v in b a; do
				: > patch.fsp
				done_at=${EPOCHREALTIME/./}
				for k in 1 2 3; do
					read -t 0.02 -u 9 _
					name="piece_$v$k"
					printf "%s" "${!name}" >> patch.fsp
					now=${EPOCHREALTIME/./}
					gap=$((now - done_at)) done_at=$now
					[ "$gap" -lt 90000 ] || echo "$gap" >> stalls
				done
				read -t "$1" -u 9 _
			done
		done' writer "$1" &
	writer=$!
}

# stop_writer: let the writer finish its round and wait for it; sets
# `stalled` to the number of its pauses that lasted 0.09 s or more.
stop_writer() {
	touch stop
	wait "$writer"
	writer=""
	stalled=$(cat stalls 2>/dev/null | wc -l)
}

# Every state the file passes through, as --check reports it: empty after
# the truncation, then each version's prefixes at its piece boundaries.  A
# prefix that stays put longer than the loader waits for quiet cannot be
# told from a finished file (an editor saves by rename for that reason);
# the promise is that a run reads one state the file really held, whole.
: > held.txt
for pieces in "" "a.1" "a.1 a.2" "b.1" "b.1 b.2"; do
	# shellcheck disable=SC2086
	cat /dev/null $pieces > state.fsp
	"$FORKSYNTH" --check state.fsp 2>&1 | sed 's/^state\.fsp/patch.fsp/' >> held.txt
done

# classify OUT: a, b, gave_up (the message), prefix (a state the file held
# at a piece boundary) or other (a mix, or a part never written as such)
classify() {
	if [ "$1" = "$want_a" ]; then echo a
	elif [ "$1" = "$want_b" ]; then echo b
	elif printf '%s' "$1" | grep -qF "$changed"; then echo gave_up
	elif grep -qxF -- "$1" held.txt; then echo prefix
	else echo other
	fi
}

# check_runs OTHER PREFIX: no run read what the file never held; runs that
# read a prefix are counted, with the writer's stretched pauses beside them.
check_runs() {
	[ "$1" = 0 ] && pass "no run read a mix of versions or a part never written as such" ||
		fail "$1 runs read something the file never held"
	[ "$2" = 0 ] || echo "$2 runs read a prefix that sat still past the loader's" \
		"wait (the writer's pauses of 0.09 s or more: $(tr '\n' ' ' < stalls 2>/dev/null)us)"
}

# Resting 0.2 s on each version: the runs read A or B whole (or, now and
# then, give up with the message, or read a prefix the machine left still),
# never anything else.
start_writer 0.2
runs=120 a=0 b=0 gave_up=0 prefix=0 other=0
for i in $(seq "$runs"); do
	out=$("$FORKSYNTH" --check patch.fsp 2>&1)
	kind=$(classify "$out")
	eval "$kind=\$(($kind + 1))"
	[ "$kind" = other ] && echo "run $i: $out"
done
stop_writer
echo "$runs runs: $a A, $b B, $gave_up changed while being read, $prefix a" \
	"prefix the file held, $other other; the writer stalled $stalled times"
check_runs "$other" "$prefix"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && pass "both versions were read whole" ||
	fail "A read $a times, B $b times: the writer or the reader is stuck"

# Never resting: the runs give up with the message and exit status 1 (a
# whole version or a held prefix is still fine, should the machine stall
# the writer).
start_writer 0.01
sleep 0.3
a=0 b=0 gave_up=0 prefix=0 other=0
for i in 1 2 3; do
	if "$FORKSYNTH" --check patch.fsp > out.txt 2> err.txt; then
		kind=$(classify "$(cat out.txt)")
		[ "$kind" = gave_up ] && kind=other     # not with exit status 0
		eval "$kind=\$(($kind + 1))"
		[ "$kind" = other ] && echo "run $i: $(cat out.txt)"
	elif contains err.txt "$changed"; then
		gave_up=$((gave_up + 1))
		cat err.txt
	else
		fail "a file never left alone: $(cat err.txt)"
	fi
done
stop_writer
check_runs "$other" "$prefix"
# each run gave up naming the file (a failure otherwise, above) or read a
# state that a loaded machine let sit still: how often which is a figure
echo "a file never left alone: $gave_up of 3 runs gave up, naming it;" \
	"$((a + b)) read a whole version, $prefix a prefix; the writer stalled $stalled times"

finish
