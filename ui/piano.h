/*
 * ui/piano.h — the computer-keyboard piano: two rows of keys as two
 * octaves, and note-off timing for terminals, which send no key releases.
 *
 * A key press starts a note held for `first_hold`, longer than the
 * terminal's auto-repeat delay; each auto-repeat of the same key while it
 * sounds extends it by `repeat_hold`, longer than the repeat interval.  So
 * a tap plays a short note, and a key held down plays until shortly after
 * it is let go.  Times are nanoseconds on CLOCK_MONOTONIC.
 */
#ifndef FORKSYNTH_UI_PIANO_H
#define FORKSYNTH_UI_PIANO_H

#include <stdint.h>

#define PIANO_MAX_HELD 32

struct piano {
	int octave;                  /* octave of the lower row's C: 4 is C4 = 60 */
	int velocity;                /* 1..127 */
	uint64_t first_hold;         /* ns a new note sounds without repeats */
	uint64_t repeat_hold;        /* ns each repeat extends it by */
	unsigned n_held;
	struct {
		int note;
		uint64_t off_at;
	} held[PIANO_MAX_HELD];
};

/* Octave 4, velocity 100, 0.7 s first hold, 0.15 s per repeat. */
void piano_init(struct piano *p);

/* The MIDI note a key plays (lower row z s x d c ..., upper row q 2 w 3 e
 * ...), or -1 when the key is not a piano key. */
int piano_note_for_key(const struct piano *p, int key);

/* A key for `note` was pressed at `now`: 1 when the note must start, 0
 * when it sounds already and was only extended, -1 when too many sound. */
int piano_press(struct piano *p, int note, uint64_t now);

/* Notes whose time is up at `now`, removed from the held set; up to `max`
 * into notes[].  Returns how many. */
unsigned piano_due(struct piano *p, uint64_t now, int *notes, unsigned max);

/* Forget every held note (panic; the caller silences the engine). */
void piano_clear(struct piano *p);

/* When the next note ends, or UINT64_MAX when none sounds. */
uint64_t piano_next_deadline(const struct piano *p);

#endif
