/*
 * src/held.h — the notes sounding now, as the parent knows them from the
 * note events it hands the DSP: keys down (with velocity and the frame
 * they were struck at), notes the sustain pedal holds, the pedal, pitch
 * bend and mod wheel.  When a new DSP child takes over from one that
 * died, these go to it as note events so that the held notes sound again.
 * A fixed table, no allocation: kept on the JACK thread.
 */
#ifndef FORKSYNTH_HELD_H
#define FORKSYNTH_HELD_H

#include <stdint.h>

#include "region.h"

struct held_notes {
	uint64_t clock;             /* frames tracked so far */
	uint64_t since[128];        /* frame clock at which the note was struck */
	uint8_t velocity[128];      /* 1..127 */
	uint8_t down[128];          /* the key is down */
	uint8_t sustained[128];     /* released under the pedal: still sounding */
	int pedal;                  /* the sustain pedal is down */
	float bend;                 /* [-1, 1], 0 at rest */
	float mod;                  /* [0, 1], 0 at rest */
};

/* Nothing held, clock at 0. */
void held_init(struct held_notes *h);

/* Follow one cycle of `frames` frames and its `n` events, in frame order
 * (the order the DSP applies them in: stable by frame), as the DSP's voice
 * routing does: a note off under the pedal leaves the note sustained; the
 * pedal's release ends those; all notes off and all sound off end
 * everything. */
void held_track(struct held_notes *h, const struct region_midi *ev,
    unsigned n, unsigned frames);

/* The events that bring a fresh DSP to this state, at frame 0, into out
 * (up to max; 3 + 2 * 128 always fit): bend and mod wheel when not at
 * rest, the pedal when down, a note on for each sounding note, oldest
 * first (so that voice stealing picks the same voices), then a note off
 * for each note only the pedal holds.  Returns the number of events. */
unsigned held_replay(const struct held_notes *h, struct region_midi *out,
    unsigned max);

/* Notes sounding (held or sustained). */
unsigned held_count(const struct held_notes *h);

#endif
