/*
 * dsp/voices.c — the voice allocator (see voices.h for the rules): idle
 * voices first, then the oldest released, then the oldest held.
 */
#include <string.h>

#include "voices.h"

/* Make n voices, all idle, the age counter at 0. */
void
voices_init(struct voices *v, unsigned n)
{
	memset(v, 0, sizeof *v);
	v->n = n < 1 ? 1 : (n > VOICES_MAX ? VOICES_MAX : n);
	v->clock = 0;
}

/* The voice a new note should take, by the allocation rules. */
static unsigned
voices_pick(const struct voices *v)
{
	unsigned best_rel = v->n, best_held = v->n;

	for (unsigned i = 0; i < v->n; i++) {
		const struct voice *p = &v->voice[i];
		if (p->state == VOICE_IDLE)
			return i;
		if (p->state == VOICE_RELEASED) {
			if (best_rel == v->n || p->off_age < v->voice[best_rel].off_age)
				best_rel = i;
		} else if (best_held == v->n ||
		    p->on_age < v->voice[best_held].on_age) {
			best_held = i;
		}
	}
	return best_rel < v->n ? best_rel : best_held;
}

/* Take a voice for a note on: idle, else oldest released, else oldest held. */
int
voices_note_on(struct voices *v, unsigned note, unsigned velocity, int *stolen)
{
	unsigned i = voices_pick(v);
	struct voice *p = &v->voice[i];

	if (stolen != NULL)
		*stolen = p->state != VOICE_IDLE;
	p->state = VOICE_HELD;
	p->note = (uint8_t)(note & 127);
	p->velocity = (uint8_t)(velocity > 127 ? 127 : (velocity < 1 ? 1 : velocity));
	p->on_age = ++v->clock;
	return (int)i;
}

/* Release the newest voice holding `note`; its index or -1. */
int
voices_note_off(struct voices *v, unsigned note)
{
	int best = -1;

	for (unsigned i = 0; i < v->n; i++) {
		const struct voice *p = &v->voice[i];
		if (p->state == VOICE_HELD && p->note == note &&
		    (best < 0 || p->on_age > v->voice[best].on_age))
			best = (int)i;
	}
	if (best >= 0) {
		v->voice[best].state = VOICE_RELEASED;
		v->voice[best].off_age = ++v->clock;
	}
	return best;
}

/* Release every held voice, listing their indices. */
unsigned
voices_all_off(struct voices *v, int *released)
{
	unsigned count = 0;

	for (unsigned i = 0; i < v->n; i++) {
		struct voice *p = &v->voice[i];
		if (p->state != VOICE_HELD)
			continue;
		p->state = VOICE_RELEASED;
		p->off_age = ++v->clock;
		if (released != NULL)
			released[count] = (int)i;
		count++;
	}
	return count;
}

/* Mark a released voice idle once its sound has ended. */
void
voices_silent(struct voices *v, int i)
{
	if (i >= 0 && (unsigned)i < v->n && v->voice[i].state == VOICE_RELEASED)
		v->voice[i].state = VOICE_IDLE;
}
