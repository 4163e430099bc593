/*
 * src/held.c — the table of notes sounding now, kept from the note events
 * the parent hands the DSP, and the events that replay it into a new
 * child.  Real-time safe: no allocation, lock or system call.
 */
#include <string.h>

#include "held.h"
#include "module.h"

void
held_init(struct held_notes *h)
{
	memset(h, 0, sizeof *h);
}

/* End every note (all notes off, all sound off). */
static void
held_clear(struct held_notes *h)
{
	memset(h->down, 0, sizeof h->down);
	memset(h->sustained, 0, sizeof h->sustained);
	h->pedal = 0;
}

/* Apply one event at frame clock `at`. */
static void
held_apply(struct held_notes *h, const struct region_midi *e, uint64_t at)
{
	unsigned note = e->note & 127;

	switch (e->kind) {
	case NOTE_EVENT_ON:
		h->down[note] = 1;
		h->sustained[note] = 0;
		h->velocity[note] = (uint8_t)(e->velocity < 1 ? 1 :
		    e->velocity > 127 ? 127 : e->velocity);
		h->since[note] = at;
		break;
	case NOTE_EVENT_OFF:
		if (h->down[note] && h->pedal)
			h->sustained[note] = 1;
		h->down[note] = 0;
		break;
	case NOTE_EVENT_SUSTAIN:
		h->pedal = e->amount >= 0.5f;
		if (!h->pedal)
			memset(h->sustained, 0, sizeof h->sustained);
		break;
	case NOTE_EVENT_ALL_OFF:
	case NOTE_EVENT_SOUND_OFF:
		held_clear(h);
		break;
	case NOTE_EVENT_BEND:
		h->bend = e->amount;
		break;
	case NOTE_EVENT_MOD:
		h->mod = e->amount;
		break;
	default:
		break;
	}
}

void
held_track(struct held_notes *h, const struct region_midi *ev, unsigned n,
    unsigned frames)
{
	unsigned sorted = 1;
	for (unsigned i = 1; i < n && sorted; i++)
		sorted = ev[i - 1].frame <= ev[i].frame;
	if (sorted) {
		for (unsigned i = 0; i < n; i++)
			held_apply(h, &ev[i], h->clock + ev[i].frame);
		h->clock += frames;
		return;
	}
	/* out of order (the control plane's notes come after the MIDI port's):
	 * each pass takes the events of the smallest frame not yet done */
	uint32_t done_below = 0;
	for (;;) {
		uint32_t frame = UINT32_MAX;
		for (unsigned i = 0; i < n; i++)
			if (ev[i].frame >= done_below && ev[i].frame < frame)
				frame = ev[i].frame;
		if (frame == UINT32_MAX)
			break;
		for (unsigned i = 0; i < n; i++)
			if (ev[i].frame == frame)
				held_apply(h, &ev[i], h->clock + frame);
		done_below = frame + 1;
	}
	h->clock += frames;
}

unsigned
held_replay(const struct held_notes *h, struct region_midi *out, unsigned max)
{
	unsigned n = 0;
	uint8_t order[128];
	unsigned n_notes = 0;

	if (h->bend != 0.0f && n < max)
		out[n++] = (struct region_midi){ .kind = NOTE_EVENT_BEND,
		    .amount = h->bend };
	if (h->mod != 0.0f && n < max)
		out[n++] = (struct region_midi){ .kind = NOTE_EVENT_MOD,
		    .amount = h->mod };
	if (h->pedal && n < max)
		out[n++] = (struct region_midi){ .kind = NOTE_EVENT_SUSTAIN,
		    .amount = 1.0f };
	/* sounding notes, oldest first (insertion sort: 128 at most) */
	for (unsigned note = 0; note < 128; note++) {
		if (!h->down[note] && !h->sustained[note])
			continue;
		unsigned i = n_notes++;
		while (i > 0 && h->since[order[i - 1]] > h->since[note]) {
			order[i] = order[i - 1];
			i--;
		}
		order[i] = (uint8_t)note;
	}
	for (unsigned i = 0; i < n_notes && n < max; i++)
		out[n++] = (struct region_midi){ .kind = NOTE_EVENT_ON,
		    .note = order[i], .velocity = h->velocity[order[i]] };
	for (unsigned i = 0; i < n_notes && n < max; i++)
		if (h->sustained[order[i]])
			out[n++] = (struct region_midi){ .kind = NOTE_EVENT_OFF,
			    .note = order[i] };
	return n;
}

unsigned
held_count(const struct held_notes *h)
{
	unsigned n = 0;
	for (unsigned note = 0; note < 128; note++)
		n += h->down[note] || h->sustained[note];
	return n;
}
