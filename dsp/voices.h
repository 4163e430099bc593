/*
 * dsp/voices.h — the voice allocator: which voice plays which note, and
 * which voice to take when all are busy.  Plain C, no JACK, fixed arrays,
 * no allocation: a struct voices is a value that may be copied whole.
 *
 * Choosing a voice for a note on, deterministically:
 *   1. an idle voice (never used, or marked silent by voices_silent), the
 *      lowest index first;
 *   2. else the RELEASED voice released longest ago;
 *   3. else the HELD voice whose note started longest ago.
 * *stolen is set when the chosen voice was sounding (cases 2 and 3); the
 * engine then sends the voice NOTE_EVENT_STEAL with the new note instead of
 * NOTE_EVENT_ON.  Ages come from a counter that increases by one per note
 * on or off, so ties cannot happen.
 */
#ifndef FORKSYNTH_DSP_VOICES_H
#define FORKSYNTH_DSP_VOICES_H

#include <stdint.h>

#define VOICES_MAX 4096

enum voice_state {
	VOICE_IDLE = 0,     /* never used, or known silent */
	VOICE_HELD,         /* note on, key down */
	VOICE_RELEASED      /* key up, possibly still sounding (release tail) */
};

struct voice {
	uint8_t state;      /* enum voice_state */
	uint8_t note;       /* MIDI note 0..127 (last one, when idle) */
	uint8_t velocity;   /* 1..127 */
	uint8_t pad;
	uint64_t on_age;    /* counter value at the note on */
	uint64_t off_age;   /* counter value at the note off */
};

struct voices {
	unsigned n;                      /* voices in use, 1..VOICES_MAX */
	uint64_t clock;                  /* the age counter */
	struct voice voice[VOICES_MAX];
};

/* Make `n` voices (clamped to 1..VOICES_MAX), all idle. */
void voices_init(struct voices *v, unsigned n);

/* Give note `note` (velocity 1..127) a voice and return its index; *stolen
 * (may be NULL) is 1 when that voice was sounding, else 0. */
int voices_note_on(struct voices *v, unsigned note, unsigned velocity,
    int *stolen);

/* Release the most recently started voice holding `note`; return its index,
 * or -1 when no voice holds it. */
int voices_note_off(struct voices *v, unsigned note);

/* Release every held voice.  When `released` is not NULL it receives their
 * indices (room for v->n), in index order.  Returns how many. */
unsigned voices_all_off(struct voices *v, int *released);

/* Mark voice `i` silent (its release has ended): it becomes idle, first in
 * line for the next note.  Optional: without it released voices are still
 * reused, oldest release first. */
void voices_silent(struct voices *v, int i);

#endif
