# tests/save_test.sh — saving keeps the user's files theirs, headless
# against a private `jackd -d dummy`: a 0644 commented patch edited and
# saved changes only the edited line and keeps its mode; a symlinked patch
# has its target updated and stays a link; an unrelated file, and the
# patch's own file changed on disk, need save!; device nodes, a FIFO and a
# directory are refused by save, save! and record (even with --force) and
# are still there afterwards.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/jack_lib.sh"

cd "$scratch"
start_server
umask 022

# expect WANT ANSWER WHAT: the answer starts with WANT.
expect() {
	case $2 in "$1"*) pass "$3: $2" ;; *) fail "$3: '$2' (want '$1...')" ;; esac
}

# ---- a commented 0644 patch: one edit changes one line, the mode stays
cp "$top_srcdir/patches/pad.fsp" mypad.fsp
chmod 0644 mypad.fsp
cp mypad.fsp mypad.orig
start_fs fs mypad.fsp
expect ok "$(send 'set flt.cutoff 500')" "set flt.cutoff 500"
expect "ok saved mypad.fsp" "$(send save)" "save (its own file)"
diff mypad.orig mypad.fsp > d.txt
[ "$(grep -c '^<' d.txt)" = 1 ] && [ "$(grep -c '^>' d.txt)" = 1 ] &&
	grep -q '^> voice ladder flt   cutoff=500 res=0.25 depth=3$' d.txt &&
	pass "only the edited line changed: $(grep '^>' d.txt)" ||
	fail "diff after one edit: $(cat d.txt)"
[ "$(stat -c %a mypad.fsp)" = 644 ] && pass "mode 0644 kept" ||
	fail "mode became $(stat -c %a mypad.fsp)"
[ "$(wc -c < mypad.fsp)" = "$(wc -c < mypad.orig)" ] &&
	pass "the same size ($(wc -c < mypad.fsp) bytes): every comment kept" ||
	fail "size $(wc -c < mypad.orig) -> $(wc -c < mypad.fsp)"

# structural edits: the new module and connection are added, the removed
# one's lines go, comments stay
expect ok "$(send 'global vca boost gain=0.8')" "add a module"
expect ok "$(send 'connect echo.out boost.in')" "connect it"
expect ok "$(send 'disconnect wet.right out.2')" "disconnect one"
expect "ok saved" "$(send 'save mypad.fsp')" "save mypad.fsp"
"$FORKSYNTH" --check mypad.fsp > check.txt 2>&1 && pass "it loads: $(cat check.txt)" ||
	fail "$(cat check.txt)"
diff mypad.orig mypad.fsp > d.txt
grep -q '^> global vca   boost gain=0.8$' d.txt &&
	grep -q '^> connect echo.out   boost.in$' d.txt &&
	grep -q '^< connect wet.right  out.2$' d.txt &&
	[ "$(grep -c '^[<>]' d.txt)" = 5 ] &&
	pass "added and removed lines only: $(grep '^[<>]' d.txt | tr '\n' ' ')" ||
	fail "structural diff: $(cat d.txt)"
[ "$(grep -c '^#' mypad.fsp)" = "$(grep -c '^#' mypad.orig)" ] &&
	pass "all $(grep -c '^#' mypad.fsp) comment lines kept" || fail "comments lost"

# changed on disk by someone else: refused, the other's text kept
sed -i 's/^poly 8$/poly 6/' mypad.fsp
cp mypad.fsp theirs.fsp
expect "error: mypad.fsp changed on disk" "$(send save)" "save after an edit on disk"
cmp -s mypad.fsp theirs.fsp && pass "their edit is kept" || fail "their edit was overwritten"
expect "ok saved mypad.fsp" "$(send 'save! mypad.fsp')" "save! forces it"
grep -q '^poly 8$' mypad.fsp && grep -q '^# pad.fsp' mypad.fsp &&
	pass "forced: this patch, in the file's layout" || fail "forced: $(head -3 mypad.fsp)"

# an unrelated file: not without force
printf 'my notes\nnot a patch\n' > notes.txt
expect "error: notes.txt exists and is not this patch's file" "$(send 'save notes.txt')" \
	"save over an unrelated file"
[ "$(cat notes.txt)" = "$(printf 'my notes\nnot a patch')" ] && pass "notes.txt untouched" ||
	fail "notes.txt changed: $(cat notes.txt)"
expect "ok saved new.fsp" "$(send 'save new.fsp')" "a new file needs no force"
grep -q '^# pad.fsp' new.fsp && pass "save as keeps the layout" || fail "new.fsp: $(head -2 new.fsp)"
expect "ok saved notes.txt" "$(send 'save! notes.txt')" "save! replaces it"
expect "error: new.fsp exists" "$(send 'save new.fsp')" \
	"the file saved before is no longer this patch's own"

# non-regular targets: refused even with force, still there
mknod null c 1 3 2>/dev/null
mknod full c 1 7 2>/dev/null
mkfifo fifo
mkdir dir
mkfifo rfifo
for t in null full fifo dir; do
	[ -e "$t" ] || { echo "(no $t: not root)"; continue; }
	kind=$(stat -c %F "$t")
	for cmd in save save!; do
		a=$(send "$cmd $t")
		case $a in "error: $t is a"*"not a patch file"*) pass "$cmd $t: $a" ;;
			*) fail "$cmd $t: '$a'" ;; esac
	done
	[ "$(stat -c %F "$t")" = "$kind" ] && pass "$t is still $kind" ||
		fail "$t became $(stat -c %F "$t" 2>&1)"
done
ls -a | grep -q '^\.\(null\|full\|fifo\|dir\|mypad\|notes\)' &&
	fail "temporary files left: $(ls -a | tr '\n' ' ')" || pass "no temporary file left"
stop_fs

# ---- recording refuses them too, even started with --force
start_fs rec --force mypad.fsp
for t in null full rfifo dir; do
	[ -e "$t" ] || continue
	kind=$(stat -c %F "$t")
	a=$(send "record $t")
	case $a in "error: $t: is a"*) pass "record $t: $a" ;; *) fail "record $t: '$a'" ;; esac
	[ "$(stat -c %F "$t")" = "$kind" ] && pass "$t is still $kind" ||
		fail "$t became $(stat -c %F "$t" 2>&1)"
done
expect "error: -: a recording cannot go to standard output" "$(send 'record -')" "record -"
echo "old take" > take.wav
expect "ok recording to take.wav" "$(send 'record take.wav')" "record over a file with --force"
sleep 0.5
expect "ok stopped take.wav" "$(send 'record stop')" "record stop"
[ "$(soxi -t take.wav 2>/dev/null)" = wav ] && pass "take.wav replaced by the recording" ||
	fail "take.wav: $(ls -l take.wav)"
stop_fs

# ---- --record at the start refuses them as well, and says so
for t in null rfifo; do
	[ -e "$t" ] || continue
	kind=$(stat -c %F "$t")
	if "$FORKSYNTH" --no-ui --name rs --force --record "$t" mypad.fsp < /dev/null 2> rs.err; then
		fail "--record $t started"
	else
		grep -q "$t: is a" rs.err && pass "--record $t refused: $(grep -m1 "is a" rs.err)" ||
			fail "--record $t: $(cat rs.err)"
	fi
	[ "$(stat -c %F "$t")" = "$kind" ] && pass "$t is still $kind" || fail "$t replaced"
done

# ---- a symlinked patch: the target is written, the link stays a link
mkdir real
cp "$top_srcdir/patches/pad.fsp" real/target.fsp
chmod 0664 real/target.fsp
ln -s real/target.fsp link.fsp
start_fs ln link.fsp
expect ok "$(send 'set flt.res 0.5')" "set flt.res 0.5"
expect "ok saved link.fsp" "$(send save)" "save through the link"
[ -L link.fsp ] && [ "$(readlink link.fsp)" = real/target.fsp ] && pass "link.fsp is still a link" ||
	fail "link.fsp: $(ls -l link.fsp)"
grep -q '^voice ladder flt   cutoff=400 res=0.5 depth=3$' real/target.fsp &&
	pass "its target holds the change" || fail "target: $(grep flt real/target.fsp | head -1)"
[ "$(stat -c %a real/target.fsp)" = 664 ] && pass "the target's mode 0664 kept" ||
	fail "target mode $(stat -c %a real/target.fsp)"
ls -a real | grep -q '^\.target' && fail "temporary file left in real/" ||
	pass "nothing left next to the target"
stop_fs

no_leftovers
finish
