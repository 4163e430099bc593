/*
 * ui/meter.h — bars in the manner of htop's meters: a label, a bracketed
 * bar filled to a fraction, a text inside its right end (beside the fill,
 * or over it), and an optional hold mark.  Load bars, output level meters and parameter bars are all
 * drawn here; what a bar means (its value, scale and text) is the
 * caller's.
 */
#ifndef FORKSYNTH_UI_METER_H
#define FORKSYNTH_UI_METER_H

#include <curses.h>

/* How the filled part is coloured along its length. */
enum meter_kind {
	METER_LOAD,                /* green, yellow past 60 %, red past 85 % */
	METER_LEVEL,               /* green, yellow from -12 dBFS, red from -3 */
	METER_PARAM                /* one colour */
};

/* Colour pairs the UI set up (0 when it runs without colour). */
struct meter_colors {
	int ok, warn, hot, param, dim;
};

struct meter {
	const char *label;         /* drawn before '[' */
	int label_cols;           /* columns kept for it (0: its length) */
	double fraction;           /* filled part, clamped to [0, 1] */
	double hold;               /* position of a hold mark in [0, 1], or < 0 */
	const char *text;          /* right-aligned inside the bar, or NULL */
	int text_cols;             /* columns kept for the text beside the
				      fill, so that no part of the fill is
				      under it; 0: the text is drawn over the
				      fill's end (a parameter's value) */
	enum meter_kind kind;
	int selected;              /* draw the label highlighted */
	int alert;                 /* draw the label bold, in the hot colour */
};

/* Draw `m` at row y, column x, `width` columns wide, on the standard screen. */
void meter_draw(const struct meter *m, int y, int x, int width,
    const struct meter_colors *colors);

/* The level meter's position in [0, 1] of a peak in dBFS (-60 .. 0). */
double meter_level_fraction(double db);

/* The zone of a value at position `pos` (0..1) of a bar of `kind`: 0 fine
 * (green), 1 warning (yellow), 2 hot (red). */
int meter_zone(enum meter_kind kind, double pos);

/* The fill of a bar `cells` wide at fraction f, one character a cell into
 * out[cells] (no NUL): ' ' empty; filled cells by the zone of the highest
 * value each stands for, never more than f itself, so that the last filled
 * cell has the reading's own zone: '-' '=' '#' for a level meter's zones
 * (read without colour), '|' for load, '#' for parameters.  Returns the
 * number of filled cells (any f > 0 fills at least one). */
int meter_fill(enum meter_kind kind, double f, int cells, char *out);

#endif
