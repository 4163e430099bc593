# tests/render_test.sh — offline render: exact frame counts, real sound,
# byte-identical repeats, formats, scores and refusals.
. "$top_srcdir/tests/lib.sh"

# frames FILE: frame count as libsndfile sees it (through sox's soxi).
frames() { soxi -s "$1"; }

cd "$scratch"

# the built-in patch and phrase, 3.5 s at 48 kHz
check "render exits 0" "$FORKSYNTH" --render a.wav --seconds 3.5
n=$(frames a.wav)
[ "$n" = 168000 ] && pass "exact frame count 168000" || fail "frames: got $n, want 168000"
[ "$(soxi -r a.wav)" = 48000 ] && pass "48 kHz" || fail "rate $(soxi -r a.wav)"
[ "$(soxi -c a.wav)" = 2 ] && pass "stereo" || fail "channels $(soxi -c a.wav)"
[ "$(soxi -t a.wav)" = wav ] && soxi a.wav | grep -q "32-bit Floating Point" &&
	pass "32-bit float WAV" || fail "not float WAV: $(soxi a.wav)"

# not silent: RMS well above zero, and no NaN/inf (sox reports them as huge)
rms=$(sox a.wav -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
echo "rms: $rms"
awk -v r="$rms" 'BEGIN { exit !(r > 0.01 && r < 2) }' &&
	pass "non-silent (RMS $rms)" || fail "RMS $rms not in (0.01, 2)"

# deterministic: a second render is byte-identical
"$FORKSYNTH" --render b.wav --seconds 3.5
check "two renders are byte-identical" cmp -s a.wav b.wav

# a different block size still gives the exact length
"$FORKSYNTH" --render c.wav --seconds 1.01 --block 100 --rate 44100
n=$(frames c.wav)
[ "$n" = 44541 ] && pass "44.1 kHz, block 100: 44541 frames" || fail "frames $n, want 44541"

# never overwrite without --force
if "$FORKSYNTH" --render a.wav --seconds 1 2>err.txt; then
	fail "overwrote an existing file without --force"
else
	contains err.txt "a.wav" && contains err.txt "--force" &&
		pass "refuses to overwrite, names file and --force" ||
		fail "message: $(cat err.txt)"
fi
[ "$(frames a.wav)" = 168000 ] && pass "existing file untouched" || fail "file changed"
check "--force replaces" "$FORKSYNTH" --render a.wav --seconds 1 --force
[ "$(frames a.wav)" = 48000 ] && pass "replaced" || fail "not replaced"

# a score with notes by number and by name, and a timed set
cat > s.score <<'SC'
# a test score
at 0.0 note 57 100 0.5
at 0.25 note C5 90 0.5   # by name
at 0.5 set flt.cutoff 2000
SC
check "render with a score" "$FORKSYNTH" --render s.wav --seconds 1 --score s.score
[ "$(frames s.wav)" = 48000 ] && pass "score render length" || fail "score render length"

# a score error names the file, line and column, and nothing is written
printf 'at 0 note 60 100 1\nat 0.5 set nosuch.cutoff 100\n' > bad.score
if "$FORKSYNTH" --render bad.wav --seconds 1 --score bad.score 2>err.txt; then
	fail "bad score accepted"
else
	cat err.txt
	contains err.txt "bad.score:2:" && pass "score error names file:line" ||
		fail "score error: $(cat err.txt)"
	[ ! -e bad.wav ] && pass "no file written on a score error" || fail "bad.wav written"
fi

# other formats follow the name
for ext in flac ogg aiff; do
	if "$FORKSYNTH" --render "f.$ext" --seconds 1 2>err.txt; then
		n=$(frames "f.$ext")
		[ "$n" = 48000 ] && pass "$ext: 48000 frames" || fail "$ext: $n frames"
	else
		fail "$ext render: $(cat err.txt)"
	fi
done
if "$FORKSYNTH" --render f.xyz --seconds 1 2>err.txt; then
	fail "unknown extension accepted"
else
	contains err.txt "f.xyz" && pass "unknown extension named" || fail "$(cat err.txt)"
fi

# an unwritable path is a clear error
if "$FORKSYNTH" --render /nonexistent/dir/x.wav --seconds 1 2>err.txt; then
	fail "unwritable path accepted"
else
	contains err.txt "/nonexistent/dir/x.wav" && pass "unwritable path named" ||
		fail "$(cat err.txt)"
fi

# every example patch renders; those that play notes (not only the
# engine's inputs, silent offline) make sound
for p in "$top_srcdir"/patches/*.fsp; do
	name=$(basename "$p" .fsp)
	if "$FORKSYNTH" --render "$name.wav" --seconds 2 "$p" 2>err.txt; then
		rms=$(sox "$name.wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
		lo=0.001
		grep -qE '^[^#]*connect +in\.' "$p" && ! grep -qE '^[^#]* midi ' "$p" && lo=-1
		awk -v r="$rms" -v lo="$lo" 'BEGIN { exit !(r > lo && r < 2) }' &&
			pass "$name renders (RMS $rms)" || fail "$name: RMS $rms"
	else
		fail "$name: $(cat err.txt)"
	fi
done

# ---- outputs forksynth did not create are never unlinked or truncated:
# devices, a FIFO and a directory are refused even with --force and are
# still there afterwards; a failed replace leaves the old file whole
mknod full c 1 7 2>/dev/null && mknod null c 1 3 2>/dev/null || {
	echo "(not root: device nodes skipped)"; }
mkfifo fifo
mkdir outdir
for t in full null fifo outdir; do
	[ -e "$t" ] || continue
	kind=$(stat -c %F "$t")
	if "$FORKSYNTH" --render "$t" --format wav --seconds 1 --force 2>err.txt; then
		fail "--render $t ($kind) with --force succeeded"
	else
		contains err.txt "$t: is a" && contains err.txt "regular files" &&
			pass "--render $t refused: $(cat err.txt)" || fail "--render $t: $(cat err.txt)"
	fi
	[ "$(stat -c %F "$t")" = "$kind" ] && pass "$t is still $kind" ||
		fail "$t was replaced: $(ls -l "$t" 2>&1)"
done
ls -a | grep -q '^\..*XXX\|^\.full\.\|^\.fifo\.' && fail "temporary files left: $(ls -a)" ||
	pass "no temporary file left by the refusals"

# --force replaces a regular file only when the render succeeded: on a
# full disk (a 64 KiB tmpfs) the old file stays whole, nothing else is left
echo "take one" > keep.wav
chmod 640 keep.wav
"$FORKSYNTH" --render keep.wav --seconds 0.5 --force 2>err.txt &&
	[ "$(soxi -s keep.wav)" = 24000 ] && [ "$(stat -c %a keep.wav)" = 640 ] &&
	pass "--force replaces a regular file, keeping its mode 640" ||
	fail "--force replace: $(cat err.txt) $(ls -l keep.wav)"
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
	echo "old take" > small/old.wav
	if "$FORKSYNTH" --render small/old.wav --seconds 3 --force 2>err.txt; then
		fail "a render onto a full disk succeeded"
	else
		contains err.txt "disk is full" && contains err.txt "left as it was" &&
			pass "full disk: $(tail -1 err.txt)" || fail "full disk: $(cat err.txt)"
	fi
	[ "$(cat small/old.wav)" = "old take" ] && pass "the old file is intact" ||
		fail "the old file changed: $(ls -l small)"
	[ "$(ls -A small)" = old.wav ] && pass "no partial file left" || fail "left: $(ls -A small)"
	"$FORKSYNTH" --render small/new.wav --seconds 3 2>err.txt
	[ "$(ls -A small)" = old.wav ] && pass "a failed new render leaves no partial file" ||
		fail "left: $(ls -A small)"
	umount small
else
	echo "(not root: full-disk replace skipped)"
fi

# - renders to standard output (for sox and encoders), never to a terminal
"$FORKSYNTH" --render - --seconds 0.5 2>err.txt > stdout.wav &&
	[ "$(soxi -s stdout.wav)" = 24000 ] && pass "--render - writes a WAV to stdout" ||
	fail "--render -: $(cat err.txt)"
"$FORKSYNTH" --render - --format flac --seconds 0.5 2>err.txt | sox -t flac - -n stat 2> stat.txt &&
	grep -q "Samples read: *48000" stat.txt && pass "--render - --format flac pipes into sox" ||
	fail "flac to a pipe: $(cat err.txt stat.txt)"

no_leftovers
finish
