/*
 * src/builtin.h — the patch and the phrase forksynth plays when given none.
 */
#ifndef FORKSYNTH_BUILTIN_H
#define FORKSYNTH_BUILTIN_H

/* A playable polyphonic voice: two detuned saws and a sub, a resonant
 * ladder swept by its own envelope, stereo echoes.  Command language. */
extern const char builtin_patch[];

/* A short phrase for that patch, as a score: a few bars of chords and a
 * melody, so an offline render is never silent. */
extern const char builtin_score[];

#endif
