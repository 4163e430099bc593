/*
 * ui/meter.c — htop-like bars (ui/meter.h).
 */
#include <string.h>

#include "meter.h"

/* The bottom of the level meter's scale, dBFS. */
#define LEVEL_FLOOR_DB -60.0

double
meter_level_fraction(double db)
{
	if (!(db > LEVEL_FLOOR_DB))
		return 0;
	if (db > 0)
		return 1;
	return (db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB;
}

/* The colour pair for a cell at position `pos` (0..1) of the bar. */
static int
cell_pair(enum meter_kind kind, double pos, const struct meter_colors *c)
{
	switch (kind) {
	case METER_LOAD:
		return pos > 0.85 ? c->hot : pos > 0.6 ? c->warn : c->ok;
	case METER_LEVEL:
		return pos > meter_level_fraction(-3) ? c->hot :
		    pos > meter_level_fraction(-12) ? c->warn : c->ok;
	default:
		return c->param;
	}
}

void
meter_draw(const struct meter *m, int y, int x, int width,
    const struct meter_colors *colors)
{
	int lw = m->label_cols > 0 ? m->label_cols : (int)strlen(m->label);
	int inner = width - lw - 2;
	if (inner < 1 || y < 0 || y >= LINES)
		return;
	double f = m->fraction < 0 ? 0 : m->fraction > 1 ? 1 : m->fraction;
	int filled = (int)(f * inner + 0.5);
	int hold = m->hold < 0 ? -1 : (int)(m->hold * (inner - 1) + 0.5);
	int tlen = m->text != NULL ? (int)strlen(m->text) : 0;
	if (tlen > inner)
		tlen = inner;
	int tstart = inner - tlen;
	/* with colour the bar is blocks of colour; without it, characters
	 * that read in monochrome, as htop does */
	int mono = colors->ok == 0;

	attr_t label_attr = (m->selected ? A_REVERSE : 0) |
	    (m->alert ? A_BOLD | (mono ? 0 : COLOR_PAIR(colors->hot)) : 0);
	if (label_attr)
		attron(label_attr);
	mvprintw(y, x, "%-*.*s", lw, lw, m->label);
	if (label_attr)
		attroff(label_attr);
	addch('[');
	for (int i = 0; i < inner; i++) {
		int in_text = i >= tstart;
		chtype ch = ' ';
		attr_t attr = 0;
		if (i < filled) {
			double pos = (i + 0.5) / inner;
			ch = mono ? (m->kind == METER_LEVEL ? '=' :
			    m->kind == METER_PARAM ? '#' : '|') : '|';
			attr = COLOR_PAIR(cell_pair(m->kind, pos, colors));
			if (mono && m->kind != METER_PARAM && pos > 0.85)
				attr |= A_BOLD;
		} else if (i == hold) {
			ch = '|';
			attr = COLOR_PAIR(cell_pair(m->kind, (i + 0.5) / inner, colors)) |
			    A_BOLD;
		}
		if (in_text) {
			ch = (chtype)(unsigned char)m->text[i - tstart];
			attr = i < filled && !mono ? A_BOLD : 0;
		}
		addch(ch | attr);
	}
	addch(']');
}
