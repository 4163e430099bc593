/*
 * ui/meter.h's bars: where a bar's fill ends, which zone (colour and fill
 * character) each cell gets, and drawing it with its label, text and hold
 * mark.
 */
#include <math.h>
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

int
meter_zone(enum meter_kind kind, double pos)
{
	switch (kind) {
	case METER_LOAD:
		return pos > 0.85 ? 2 : pos > 0.6 ? 1 : 0;
	case METER_LEVEL:
		/* from -12 and from -3 dBFS: the boundaries themselves warn
		 * (a little slack for the rounding of the fraction) */
		return pos >= meter_level_fraction(-3) - 1e-9 ? 2 :
		    pos >= meter_level_fraction(-12) - 1e-9 ? 1 : 0;
	default:
		return 0;
	}
}

int
meter_fill(enum meter_kind kind, double f, int cells, char *out)
{
	static const char level_chars[3] = { '-', '=', '#' };
	if (!(f > 0))
		f = 0;
	if (f > 1)
		f = 1;
	int filled = cells > 0 ? (int)ceil(f * cells - 1e-9) : 0;
	if (f > 0 && filled < 1 && cells > 0)
		filled = 1;
	for (int i = 0; i < cells; i++) {
		if (i >= filled) {
			out[i] = ' ';
			continue;
		}
		/* the highest value this cell stands for, capped by f */
		double top = (double)(i + 1) / cells;
		int zone = meter_zone(kind, top < f ? top : f);
		out[i] = kind == METER_LEVEL ? level_chars[zone] :
		    kind == METER_PARAM ? '#' : '|';
	}
	return filled;
}

/* The colour pair of a zone. */
static int
zone_pair(enum meter_kind kind, int zone, const struct meter_colors *c)
{
	if (kind == METER_PARAM)
		return c->param;
	return zone == 2 ? c->hot : zone == 1 ? c->warn : c->ok;
}

void
meter_draw(const struct meter *m, int y, int x, int width,
    const struct meter_colors *colors)
{
	char fill[512];
	int lw = m->label_cols > 0 ? m->label_cols : (int)strlen(m->label);
	int inner = width - lw - 2;
	if (inner < 1 || y < 0 || y >= LINES)
		return;
	if (inner > (int)sizeof fill)
		inner = (int)sizeof fill;
	double f = m->fraction < 0 ? 0 : m->fraction > 1 ? 1 : m->fraction;
	int tlen = m->text != NULL ? (int)strlen(m->text) : 0;
	if (tlen > inner)
		tlen = inner;
	int tstart = inner - tlen;
	/* the fill's cells: left of the text (and a blank) when the text
	 * keeps its own columns and room is left for a bar, else all */
	int tcols = m->text_cols > tlen ? m->text_cols : tlen;
	int cells = m->text_cols > 0 && inner - tcols - 1 >= 4 ? inner - tcols - 1 : inner;
	int filled = meter_fill(m->kind, f, cells, fill);
	int hold = m->hold < 0 ? -1 : (int)(m->hold * (cells - 1) + 0.5);
	/* with colour the fill is coloured by zone; without it the
	 * characters tell the zones apart, as htop's do */
	int mono = colors->ok == 0;
	int reading_zone = meter_zone(m->kind, f);

	attr_t label_attr = (m->selected ? A_REVERSE : 0) |
	    (m->alert ? A_BOLD | (mono ? 0 : COLOR_PAIR(colors->hot)) : 0);
	if (label_attr)
		attron(label_attr);
	mvprintw(y, x, "%-*.*s", lw, lw, m->label);
	if (label_attr)
		attroff(label_attr);
	addch('[');
	for (int i = 0; i < inner; i++) {
		chtype ch = ' ';
		attr_t attr = 0;
		if (i < cells && i < filled) {
			double top = (double)(i + 1) / cells;
			int zone = meter_zone(m->kind, top < f ? top : f);
			ch = (chtype)(unsigned char)fill[i];
			attr = mono ? (zone == 2 && m->kind != METER_PARAM ? A_BOLD : 0) :
			    COLOR_PAIR(zone_pair(m->kind, zone, colors));
		} else if (i < cells && i == hold) {
			int zone = meter_zone(m->kind, m->hold);
			ch = '|';
			attr = (mono ? 0 : COLOR_PAIR(zone_pair(m->kind, zone, colors))) |
			    A_BOLD;
		}
		if (i >= tstart) {
			ch = (chtype)(unsigned char)m->text[i - tstart];
			if (m->text_cols == 0)
				attr = i < filled && !mono ? A_BOLD : 0;
			else if (reading_zone > 0)
				/* the reading in its zone's colour, bold when hot */
				attr = (mono ? 0 : COLOR_PAIR(zone_pair(m->kind,
				    reading_zone, colors))) |
				    (reading_zone == 2 ? A_BOLD : 0);
			else
				attr = 0;
		}
		addch(ch | attr);
	}
	addch(']');
}
