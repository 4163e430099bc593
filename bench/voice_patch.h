/*
 * bench/voice_patch.h — the bench voice, shared by bench/bench.c and
 * bench/engine_bench.c: 64 voices of two saws into a ladder swept by an
 * envelope, a VCA with its own ADSR.  Voices differ by note and velocity:
 * the cutoff tracks the key and the velocity.  (bench/jack_voices.sh
 * writes the same voice with the voice count it probes.)
 */
#ifndef FORKSYNTH_BENCH_VOICE_PATCH_H
#define FORKSYNTH_BENCH_VOICE_PATCH_H

/* The voice itself, without its count and where it goes. */
#define VOICE_PATCH_VOICE \
    "voice midi note\n" \
    "voice vco osc1 wave=saw detune=-5\n" \
    "voice vco osc2 wave=saw detune=5\n" \
    "voice adsr fenv attack=0.05 decay=0.8 sustain=0.3 release=0.5\n" \
    "voice adsr env attack=0.02 decay=0.5 sustain=0.8 release=0.5\n" \
    "voice ladder flt cutoff=300 res=0.4 depth=4\n" \
    "voice vca amp gain=0.05\n" \
    "connect note.pitch osc1.pitch\n" \
    "connect note.pitch osc2.pitch\n" \
    "connect note.pitch flt.pitch\n" \
    "connect note.gate fenv.gate\n" \
    "connect note.gate env.gate\n" \
    "connect osc1.out flt.in\n" \
    "connect osc2.out flt.in\n" \
    "connect fenv.out flt.mod\n" \
    "connect flt.out amp.in\n" \
    "connect env.out amp.cv\n"

static const char voice_patch[] =
    "poly 64\n"
    VOICE_PATCH_VOICE
    "connect amp.out out.1\n"
    "connect amp.out out.2\n";

#endif
