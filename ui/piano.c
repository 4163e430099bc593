/*
 * ui/piano.c — the computer-keyboard piano (ui/piano.h).
 */
#include <string.h>

#include "piano.h"

/* Semitones from the row's C, by position: white keys on the letter row,
 * black keys on the row above, as on a tracker. */
static const char lower_row[] = "zsxdcvgbhnjm,l.;/";
static const char upper_row[] = "q2w3er5t6y7ui9o0p";

void
piano_init(struct piano *p)
{
	memset(p, 0, sizeof *p);
	p->octave = 4;
	p->velocity = 100;
	p->first_hold = 700000000;
	p->repeat_hold = 150000000;
}

int
piano_note_for_key(const struct piano *p, int key)
{
	if (key <= 0 || key > 127)
		return -1;
	const char *at = strchr(lower_row, key);
	int note;
	if (at != NULL)
		note = 12 * (p->octave + 1) + (int)(at - lower_row);
	else if ((at = strchr(upper_row, key)) != NULL)
		note = 12 * (p->octave + 2) + (int)(at - upper_row);
	else
		return -1;
	return note >= 0 && note <= 127 ? note : -1;
}

int
piano_press(struct piano *p, int note, uint64_t now)
{
	for (unsigned i = 0; i < p->n_held; i++) {
		if (p->held[i].note != note)
			continue;
		if (now + p->repeat_hold > p->held[i].off_at)
			p->held[i].off_at = now + p->repeat_hold;
		return 0;
	}
	if (p->n_held == PIANO_MAX_HELD)
		return -1;
	p->held[p->n_held].note = note;
	p->held[p->n_held].off_at = now + p->first_hold;
	p->n_held++;
	return 1;
}

unsigned
piano_due(struct piano *p, uint64_t now, int *notes, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->n_held && n < max; ) {
		if (p->held[i].off_at <= now) {
			notes[n++] = p->held[i].note;
			p->held[i] = p->held[--p->n_held];
		} else {
			i++;
		}
	}
	return n;
}

void
piano_clear(struct piano *p)
{
	p->n_held = 0;
}

uint64_t
piano_next_deadline(const struct piano *p)
{
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < p->n_held; i++)
		if (p->held[i].off_at < next)
			next = p->held[i].off_at;
	return next;
}
