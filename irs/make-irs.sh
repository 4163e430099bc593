#!/bin/sh
# irs/make-irs.sh FORKSYNTH OUTDIR — make the example impulse responses by
# rendering a click through forksynth's own modules: deterministic, nothing
# downloaded.  room.wav (stereo, 0.9 s), plate.wav (stereo, 2.5 s),
# spring.wav (mono, 1.5 s).
set -eu
bin=$1 out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "at 0 note 60 127 0.01" > "$tmp/click.score"

# a one-sample click (the midi trig output) into a reverb
cat > "$tmp/room.fsp" <<P
voice midi note
global reverb rev decay=0.6 size=0.55 damping=0.35 predelay=0.004 width=1 mix=1
connect note.trig rev.left
connect rev.left  out.1
connect rev.right out.2
P
sed -e 's/decay=0.6 size=0.55 damping=0.35 predelay=0.004/decay=1.8 size=1.4 damping=0.7 predelay=0.012/' \
	"$tmp/room.fsp" > "$tmp/plate.fsp"
cat > "$tmp/spring.fsp" <<P
voice midi note
global delay d time=0.033 feedback=0.82 mix=1 damp=3500
global svf   f cutoff=1800 q=6
connect note.trig d.in
connect d.out f.in
connect f.bp out.1
P
"$bin" --render "$out/room.wav" --seconds 0.9 --force --score "$tmp/click.score" "$tmp/room.fsp"
"$bin" --render "$out/plate.wav" --seconds 2.5 --force --score "$tmp/click.score" "$tmp/plate.fsp"
"$bin" --render "$tmp/spring2.wav" --seconds 1.5 --force --score "$tmp/click.score" --outputs 1 "$tmp/spring.fsp"
mv "$tmp/spring2.wav" "$out/spring.wav"
