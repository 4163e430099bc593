/*
 * ui/view.c — draws the screen from the UI state: two status lines, the
 * load bars (one per DSP thread and one for the JACK callback), the output
 * level meters, the view of the moment (patch, connections, cost, log,
 * help), the message line and the key hints or the prompt, and the pick
 * list over it all.  Usable at 80x24; wider and taller screens get more
 * meters per row and longer lists.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "recorder.h"
#include "browser.h"
#include "midilive.h"
#include "midimap.h"
#include "ui_internal.h"

#define LEVEL_METERS_SHOWN 8       /* output meters drawn, at most */

/* Print at (y, x) at most `width` columns of text. */
static void
put(int y, int x, int width, const char *text)
{
	if (y < 0 || y >= LINES || x >= COLS || width <= 0)
		return;
	if (x + width > COLS)
		width = COLS - x;
	mvprintw(y, x, "%-*.*s", width, width, text);
}

/* Turn a colour pair on (or off) when colour is in use. */
static void
pair(struct ui *u, int p, int on)
{
	if (!u->color || p == 0)
		return;
	if (on)
		attron(COLOR_PAIR(p));
	else
		attroff(COLOR_PAIR(p));
}

void
view_format_value(const struct param_desc *d, float v, char *buf, size_t size)
{
	if (d->kind == PARAM_CHOICE && d->choices != NULL) {
		int i = (int)v;
		snprintf(buf, size, "%s", d->choices[i < 0 ? 0 : i]);
		return;
	}
	if (d->kind == PARAM_INT) {
		snprintf(buf, size, "%d%s%s", (int)v, d->unit[0] ? " " : "", d->unit);
		return;
	}
	if (strcmp(d->unit, "Hz") == 0 && fabsf(v) >= 1000)
		snprintf(buf, size, "%.3g kHz", v / 1000);
	else
		snprintf(buf, size, "%.4g%s%s", v, d->unit[0] ? " " : "", d->unit);
}

double
view_value_fraction(const struct param_desc *d, float v)
{
	if (d->max <= d->min)
		return 0;
	if (view_log_scale(d))
		return log(v / d->min) / log(d->max / d->min);
	return (v - d->min) / (d->max - d->min);
}

/* A MIDI note's name as scores write it: C4 is 60, F#3, A-1. */
static void
view_note_name(int note, char *buf, size_t size)
{
	static const char *const names[12] = { "C", "C#", "D", "D#", "E", "F",
	    "F#", "G", "G#", "A", "A#", "B" };
	snprintf(buf, size, "%s%d", names[note % 12], (note & 127) / 12 - 1);
}

/* The two status lines; returns the next free row. */
static int
draw_status(struct ui *u, int y)
{
	const struct live_options *o = u->o;
	struct jackio *j = session_jack(u->s);
	struct engine_info ei;
	struct jackio_counters c;
	struct recorder_status rs;
	char line[1024], part[800];

	engine_info(session_engine(u->s), &ei);
	jackio_counters(j, &c);
	recorder_status(session_recorder(u->s), &rs);
	unsigned rate = jackio_rate(j);
	snprintf(line, sizeof line, " forksynth  %s  %u Hz  %u fr %.1f ms  %s  DSP pid %d",
	    o->jack.name, rate, c.period, rate ? 1000.0 * c.period / rate : 0.0,
	    o->jack.pipeline ? "pipeline" : "sync", (int)ei.child_pid);
	attron(A_REVERSE);
	pair(u, u->pair_title, 1);
	put(y, 0, COLS, line);
	pair(u, u->pair_title, 0);
	attroff(A_REVERSE);

	/* the counters first: they must never be cut off */
	int x = 0;
	if (ei.failed) {
		attron(A_REVERSE | A_BOLD);
		put(y + 1, 0, 13, " DSP GAVE UP ");
		attroff(A_REVERSE | A_BOLD);
		x = 13;
	}
	/* restarts count every new DSP child; those that were the warm
	 * standby taking over from a child killed or crashed are shown
	 * apart, and so is the streak of the DSP's own crashes right after
	 * starting that ends in DSP GAVE UP (kills from outside are not in
	 * it) */
	unsigned long takeovers = ei.takeovers < ei.restarts ? ei.takeovers :
	    ei.restarts;
	int n = snprintf(line, sizeof line, " restarts %lu", ei.restarts);
	if (takeovers > 0)
		n += snprintf(line + n, sizeof line - (size_t)n, " (%lu by standby)",
		    takeovers);
	put(y + 1, x, COLS - x, line);
	x += n;
	if (ei.crash_streak > 0 && !ei.failed) {
		snprintf(line, sizeof line, "  crashes %u/%u", ei.crash_streak,
		    ei.crash_limit);
		attron(A_BOLD);
		pair(u, u->pair_error, 1);
		put(y + 1, x, COLS - x, line);
		pair(u, u->pair_error, 0);
		attroff(A_BOLD);
		x += (int)strlen(line);
	}
	snprintf(line, sizeof line, "  xruns %lu  late %lu  ", c.xruns, c.late);
	put(y + 1, x, COLS - x, line);
	x += (int)strlen(line);
	/* MIDI: activity (bold while events come), keys down, voices
	 * sounding (a release tail sounds after its key is up), the last note
	 * and controller, or that a MIDI learn waits */
	struct midi_status ms;
	session_midi_status(u->s, &ms);
	u->midi_active = ms.messages != u->midi_seen;
	u->midi_seen = ms.messages;
	n = snprintf(line, sizeof line, "MIDI");
	unsigned voices = session_voices_sounding(u->s);
	if (ms.learning)
		n += snprintf(line + n, sizeof line - (size_t)n, " LEARN");
	else if (ms.messages == 0)
		n += snprintf(line + n, sizeof line - (size_t)n, voices ?
		    " - %uv" : " -", voices);
	else {
		char note[16] = "";
		if (ms.last_note >= 0)
			view_note_name(ms.last_note, note, sizeof note);
		n += snprintf(line + n, sizeof line - (size_t)n, " %uk %uv%s%s%s%s",
		    ms.keys, voices, note[0] ? " " : "", note,
		    ms.last_control[0] ? " " : "", ms.last_control);
	}
	if (u->midi_active || ms.learning)
		attron(A_BOLD);
	put(y + 1, x, COLS - x, line);
	if (u->midi_active || ms.learning)
		attroff(A_BOLD);
	x += n + 2;
	if (rs.recording) {
		unsigned long long s = rate ? rs.frames / rate : 0;
		snprintf(part, sizeof part, "REC %02llu:%02llu:%02llu %s%s", s / 3600,
		    s / 60 % 60, s % 60, rs.path, rs.dropped ? " (frames lost!)" : "");
		attron(A_BOLD);
		pair(u, u->pair_rec, 1);
		put(y + 1, x, COLS - x, part);
		pair(u, u->pair_rec, 0);
		attroff(A_BOLD);
	} else {
		snprintf(part, sizeof part, "%s", rs.failed ? "recording stopped (error)" :
		    "not recording");
		put(y + 1, x, COLS - x, part);
	}
	x += (int)strlen(part) + 2;
	/* then the patch, at the right, as much as fits */
	if (u->mode == MODE_PIANO)
		snprintf(part, sizeof part, " PIANO C%d vel %d ", u->piano.octave,
		    u->piano.velocity);
	else
		snprintf(part, sizeof part, "%s%s ", u->patch_file[0] ? u->patch_file :
		    "(built-in patch)", u->modified ? " [+]" : "");
	int w = (int)strlen(part);
	if (w > COLS - x)
		w = COLS - x;
	if (w > 4) {
		if (u->mode == MODE_PIANO)
			attron(A_REVERSE | A_BOLD);
		put(y + 1, COLS - w, w, part + strlen(part) - (size_t)w);
		if (u->mode == MODE_PIANO)
			attroff(A_REVERSE | A_BOLD);
	}
	return y + 2;
}

/* How many bars of `width` columns go in a row. */
static int
bars_per_row(int n)
{
	int per = COLS >= 160 ? 4 : COLS >= 120 ? 3 : COLS >= 60 ? 2 : 1;
	/* many threads on a short screen: narrower bars, more to a row */
	if (LINES < 40 && (n + per - 1) / per > 4 && COLS / (per * 2) >= 18)
		per *= 2;
	return per;
}

/* A DSP thread's scheduling in a few characters, for its bar's label:
 * F79 (SCHED_FIFO 79), R10 (SCHED_RR 10), N (normal), B (batch), I
 * (idle), ? (not known yet). */
static void
sched_marker(const struct engine_sched *sc, char *buf, size_t size)
{
	switch (sc->policy) {
	case SCHED_FIFO:
		snprintf(buf, size, "F%d", sc->priority);
		break;
	case SCHED_RR:
		snprintf(buf, size, "R%d", sc->priority);
		break;
	case SCHED_OTHER:
		snprintf(buf, size, "N");
		break;
	case SCHED_BATCH:
		snprintf(buf, size, "B");
		break;
	case SCHED_IDLE:
		snprintf(buf, size, "I");
		break;
	default:
		snprintf(buf, size, "?");
		break;
	}
}

/* The label of DSP thread i's bar: "dsp1 F79"; returns its length. */
static int
dsp_label(const struct ui_stats *st, int i, char *buf, size_t size)
{
	char mark[8];
	sched_marker(&st->sched[i], mark, sizeof mark);
	return snprintf(buf, size, "dsp%d %s", i + 1, mark);
}

/* The load bars and the level meters; returns the next free row. */
static int
draw_meters(struct ui *u, int y)
{
	struct ui_stats *st = &u->st;
	char label[24], text[32];
	int n = (int)st->threads + 1;
	int per = bars_per_row(n);
	int width = COLS / per;
	int label_cols = 5;

	for (int i = 0; i < (int)st->threads; i++) {
		int w = dsp_label(st, i, label, sizeof label) + 1;
		if (w > label_cols)
			label_cols = w;     /* and a space before '[' */
	}
	for (int i = 0; i < n; i++) {
		struct meter m = { .label = label, .label_cols = label_cols,
		    .hold = -1, .text = text, .text_cols = 6, .kind = METER_LOAD };
		if (i < (int)st->threads) {
			const struct engine_sched *sc = &st->sched[i];
			dsp_label(st, i, label, sizeof label);
			m.fraction = st->load[i];
			/* real-time asked for, normal scheduling had */
			m.alert = st->rt_priority > 0 && sc->policy >= 0 &&
			    sc->policy != SCHED_FIFO && sc->policy != SCHED_RR;
		} else {
			snprintf(label, sizeof label, "jack");
			m.fraction = st->jack_load;
		}
		snprintf(text, sizeof text, "%5.1f%%", 100 * m.fraction);
		meter_draw(&m, y + i / per, (i % per) * width, width - 1, &u->colors);
	}
	y += (n + per - 1) / per;
	int levels = (int)st->n_out < LEVEL_METERS_SHOWN ? (int)st->n_out : LEVEL_METERS_SHOWN;
	per = bars_per_row(levels);
	width = COLS / per;
	/* the readings keep their own columns beside the bars, the same in
	 * every meter (wider while one shows CLIP), so that no part of a
	 * bar, the warning zones at its right end least of all, is under a
	 * number */
	int text_cols = 9;
	for (int i = 0; i < levels; i++)
		if (st->clip[i])
			text_cols = 14;
	for (int i = 0; i < levels; i++) {
		snprintf(label, sizeof label, "out%d", i + 1);
		/* CLIP: this output had samples held at the ceiling or not
		 * finite since the marks were last cleared (clear-clip);
		 * a reading over full scale has its sign */
		if (st->level_db[i] > -99)
			snprintf(text, sizeof text, st->level_db[i] > 0.05 ?
			    "%s%+6.1f dB" : "%s%6.1f dB",
			    st->clip[i] ? "CLIP " : "", st->level_db[i]);
		else
			snprintf(text, sizeof text, "%s  -inf dB",
			    st->clip[i] ? "CLIP " : "");
		struct meter m = { .label = label, .label_cols = 5, .text = text,
		    .text_cols = text_cols, .alert = st->clip[i],
		    .kind = METER_LEVEL, .fraction = meter_level_fraction(st->level_db[i]),
		    .hold = st->hold_db[i] > -60 ? meter_level_fraction(st->hold_db[i]) : -1 };
		meter_draw(&m, y + i / per, (i % per) * width, width - 1, &u->colors);
	}
	return y + (levels + per - 1) / per;
}

void
view_hit(struct ui *u, enum hit_kind kind, int index, int y, int x, int width)
{
	if (u->n_hits == UI_MAX_HITS || width <= 0)
		return;
	u->hits[u->n_hits++] = (struct hit){ .y = y, .x0 = x, .x1 = x + width,
	    .kind = kind, .index = index };
}

/* The tab line: every view's name, the one shown in reverse; a click on
 * a name shows that view.  Returns the next free row. */
static int
draw_tabs(struct ui *u, int y)
{
	int x = 0;
	move(y, 0);
	clrtoeol();
	for (int v = 0; v < N_VIEWS; v++) {
		char name[32];
		int w = snprintf(name, sizeof name, " %s ", ui_view_names[v]);
		if (x + w > COLS)
			break;
		if (v == (int)u->view)
			attron(A_REVERSE);
		put(y, x, w, name);
		if (v == (int)u->view)
			attroff(A_REVERSE);
		view_hit(u, HIT_VIEW, v, y, x, w);
		x += w + 1;
	}
	return y + 1;
}

/* Keep `sel` visible in a list of `rows` rows starting at *scroll. */
static void
follow(int *scroll, int sel, int rows)
{
	if (sel < *scroll)
		*scroll = sel;
	if (rows > 0 && sel >= *scroll + rows)
		*scroll = sel - rows + 1;
	if (*scroll < 0)
		*scroll = 0;
}

/* Underline and embolden each occurrence of the search term in `text`,
 * drawn at (y, x) over at most `width` columns (its characters kept). */
static void
mark_matches(struct ui *u, int y, int x, int width, const char *text)
{
	size_t n = strlen(u->search);
	if (n == 0 || u->mode == MODE_SEARCH || y < 0 || y >= LINES)
		return;
	for (const char *m = search_in(text, u->search); m != NULL;
	    m = search_in(m + n, u->search)) {
		int at = (int)(m - text), len = (int)n;
		if (at >= width)
			break;
		if (at + len > width)
			len = width - at;
		mvchgat(y, x + at, len, A_BOLD | A_UNDERLINE,
		    u->color ? (short)u->colors.warn : 0, NULL);
	}
}

/* A section heading across `width` columns. */
static void
heading(struct ui *u, int y, int x, int width, const char *text)
{
	attron(A_BOLD);
	pair(u, u->colors.param, 1);
	put(y, x, width, text);
	pair(u, u->colors.param, 0);
	attroff(A_BOLD);
}

static void
draw_patch(struct ui *u, int top, int bottom)
{
	struct patch *p = session_patch(u->s);
	char line[300], value[64];
	int lw = COLS >= 100 ? 36 : 32;
	int rows = bottom - top - 1;

	snprintf(line, sizeof line, "MODULES (%u)  %u voices%s", p->n_modules, p->poly,
	    p->mono ? ", mono" : "");
	heading(u, top, 0, lw, line);
	follow(&u->scroll[VIEW_PATCH], u->sel_module, rows);
	for (int i = 0; i < rows; i++) {
		int m = u->scroll[VIEW_PATCH] + i;
		if (m >= (int)p->n_modules)
			break;
		const struct patch_module *pm = &p->modules[m];
		snprintf(line, sizeof line, " %-12s %-9s %s", pm->name, pm->type->name,
		    pm->scope == SCOPE_VOICE ? "voice" : "global");
		int sel = m == u->sel_module;
		if (sel)
			attron(u->focus_params ? A_BOLD : A_REVERSE);
		put(top + 1 + i, 0, lw - 1, line);
		view_hit(u, HIT_MODULE, m, top + 1 + i, 0, lw - 1);
		if (sel)
			attroff(u->focus_params ? A_BOLD : A_REVERSE);
		mark_matches(u, top + 1 + i, 0, lw - 1, line);
	}
	if (u->sel_module < 0 || u->sel_module >= (int)p->n_modules) {
		put(top + 1, lw + 1, COLS - lw - 1, "an empty patch: a adds a module");
		return;
	}
	const struct patch_module *pm = &p->modules[u->sel_module];
	const struct module_type *t = pm->type;
	snprintf(line, sizeof line, "%s: %s, %s", pm->name, t->name, t->help);
	heading(u, top, lw + 1, COLS - lw - 1, line);
	int x = lw + 1, width = COLS - lw - 1;
	int prow = rows - 2;             /* two rows of help under the list */
	follow(&u->scroll_params, u->sel_param, prow);
	for (int i = 0; i < prow; i++) {
		int k = u->scroll_params + i;
		if (k >= (int)t->n_params)
			break;
		const struct param_desc *d = &t->params[k];
		int sel = u->focus_params && k == u->sel_param;
		view_hit(u, HIT_PARAM, k, top + 1 + i, x, width);
		if (d->kind == PARAM_TEXT) {
			snprintf(line, sizeof line, "%-10s %s", d->name,
			    pm->text[0] ? pm->text : "(none)");
			if (sel)
				attron(A_REVERSE);
			put(top + 1 + i, x, width, line);
			if (sel)
				attroff(A_REVERSE);
			continue;
		}
		view_format_value(d, pm->params[k], value, sizeof value);
		/* a controller mapped onto it: its tag after the value */
		session_lock(u->s);
		int mi = midimap_find(p, u->sel_module, (unsigned)k);
		if (mi >= 0) {
			char tag[24];
			size_t len = strlen(value);
			midimap_tag(&p->maps[mi], tag, sizeof tag);
			snprintf(value + len, sizeof value - len, " %s", tag);
		}
		session_unlock(u->s);
		struct meter m = { .label = d->name, .label_cols = 10, .hold = -1,
		    .text = value, .kind = METER_PARAM, .selected = sel,
		    .fraction = view_value_fraction(d, pm->params[k]) };
		meter_draw(&m, top + 1 + i, x, width, &u->colors);
	}
	/* what the selected parameter is */
	if (u->focus_params && u->sel_param < (int)t->n_params) {
		const struct param_desc *d = &t->params[u->sel_param];
		char lo[32], hi[32], def[32];
		view_format_value(d, d->min, lo, sizeof lo);
		view_format_value(d, d->max, hi, sizeof hi);
		view_format_value(d, d->def, def, sizeof def);
		snprintf(line, sizeof line, "%s: %s", d->name, d->help);
		pair(u, u->pair_dim, 1);
		put(bottom - 2, x, width, line);
		if (d->kind == PARAM_TEXT)
			snprintf(line, sizeof line, "a file; Enter types its name");
		else
			snprintf(line, sizeof line, "%s .. %s, default %s", lo, hi, def);
		put(bottom - 1, x, width, line);
		pair(u, u->pair_dim, 0);
	}
}

static void
draw_connections(struct ui *u, int top, int bottom)
{
	struct patch *p = session_patch(u->s);
	char line[300], from[80], to[80];
	int rows = bottom - top - 1;
	snprintf(line, sizeof line, "CONNECTIONS (%u): output -> input; inputs sum",
	    p->n_connections);
	heading(u, top, 0, COLS, line);
	if (p->n_connections == 0) {
		put(top + 1, 1, COLS - 1, "none yet: c connects");
		return;
	}
	follow(&u->scroll[VIEW_CONNECTIONS], u->sel_conn, rows);
	for (int i = 0; i < rows; i++) {
		int k = u->scroll[VIEW_CONNECTIONS] + i;
		if (k >= (int)p->n_connections)
			break;
		patch_port_name(p, p->connections[k].from, 1, from, sizeof from);
		patch_port_name(p, p->connections[k].to, 0, to, sizeof to);
		snprintf(line, sizeof line, " %-28s -> %s", from, to);
		view_hit(u, HIT_CONNECTION, k, top + 1 + i, 0, COLS);
		if (k == u->sel_conn)
			attron(A_REVERSE);
		put(top + 1 + i, 0, COLS, line);
		if (k == u->sel_conn)
			attroff(A_REVERSE);
	}
}

static const double *cost_values;

/* Order modules by cost, highest first. */
static int
compare_cost(const void *a, const void *b)
{
	double x = cost_values[*(const int *)a], y = cost_values[*(const int *)b];
	return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

static void
draw_cost(struct ui *u, int top, int bottom)
{
	struct patch *p = session_patch(u->s);
	int order[PATCH_MAX_MODULES];
	char line[300];
	double period_us = 1e6 * jackio_period(session_jack(u->s)) /
	    (double)jackio_rate(session_jack(u->s));
	double total = 0;

	for (unsigned m = 0; m < p->n_modules; m++) {
		order[m] = (int)m;
		total += u->st.cost[m];
	}
	cost_values = u->st.cost;
	qsort(order, p->n_modules, sizeof order[0], compare_cost);
	snprintf(line, sizeof line, "%-14s %-9s %-6s %5s %7s %10s  (CPU: share of one "
	    "core)", "MODULE", "TYPE", "SCOPE", "INST", "CPU%", "us/period");
	attron(A_REVERSE);
	put(top, 0, COLS, line);
	attroff(A_REVERSE);
	int rows = bottom - top - 2;
	if (u->scroll[VIEW_COST] > (int)p->n_modules - rows)
		u->scroll[VIEW_COST] = (int)p->n_modules - rows > 0 ?
		    (int)p->n_modules - rows : 0;
	for (int i = 0; i < rows; i++) {
		int k = u->scroll[VIEW_COST] + i;
		if (k >= (int)p->n_modules)
			break;
		const struct patch_module *pm = &p->modules[order[k]];
		double c = u->st.cost[order[k]];
		snprintf(line, sizeof line, "%-14s %-9s %-6s %5u %6.2f%% %10.1f", pm->name,
		    pm->type->name, pm->scope == SCOPE_VOICE ? "voice" : "global",
		    pm->scope == SCOPE_VOICE ? p->poly : 1, 100 * c, c * period_us);
		put(top + 1 + i, 0, COLS, line);
	}
	snprintf(line, sizeof line, "%-14s %-9s %-6s %5s %6.2f%% %10.1f", "total", "", "", "", 100 * total, total * period_us);
	attron(A_BOLD);
	put(bottom - 1, 0, COLS, line);
	attroff(A_BOLD);
}

/* Split `text` into rows of at most `width` characters, breaking after the
 * last space that fits (inside a word only when one word is wider than a
 * row): the start and length of each row into start[] and len[], at most
 * `max` rows; returns the number of rows. */
static int
wrap_rows(const char *text, int width, int *start, int *len, int max)
{
	int n = 0, at = 0, total = (int)strlen(text);
	if (width < 1)
		width = 1;
	while (n < max) {
		int rest = total - at, take = rest;
		if (rest > width) {
			take = width;
			for (int k = width; k > 0; k--)
				if (text[at + k] == ' ') {
					take = k;
					break;
				}
		}
		start[n] = at;
		len[n++] = take;
		at += take;
		while (at < total && text[at] == ' ')
			at++;
		if (at >= total)
			break;
	}
	return n;
}

static void
draw_log(struct ui *u, int top, int bottom)
{
	unsigned have = u->log_n < UI_LOG_LINES ? u->log_n : UI_LOG_LINES;
	heading(u, top, 0, COLS, "MESSAGES (newest last; Up/Down scroll)");
	int back = u->scroll[VIEW_LOG];
	if (back > (int)have - 1)
		back = (int)have > 0 ? (int)have - 1 : 0;
	u->scroll[VIEW_LOG] = back;
	/* fill from the bottom: the newest shown line is `back` lines up,
	 * long lines wrap */
	int y = bottom - 1;
	for (int k = (int)u->log_n - 1 - back; k >= (int)(u->log_n - have) && y > top; k--) {
		const char *text = u->log[k % UI_LOG_LINES];
		int start[UI_MESSAGE_MAX], len[UI_MESSAGE_MAX];
		int n = wrap_rows(text, COLS, start, len, UI_MESSAGE_MAX);
		int err = strstr(text, "error") != NULL;
		pair(u, u->pair_error, err);
		for (int r = n - 1; r >= 0; r--, y--)
			if (y > top) {
				char row[UI_MESSAGE_MAX];
				snprintf(row, sizeof row, "%.*s", len[r], text + start[r]);
				mvprintw(y, 0, "%-*s", COLS, row);
				mark_matches(u, y, 0, COLS, row);
			}
		pair(u, u->pair_error, 0);
	}
}

unsigned
view_help_lines(struct ui *u, char lines[][160], unsigned max)
{
	unsigned n = 0;
	char key[32];
#define LINE(...) do { if (n < max) snprintf(lines[n++], 160, __VA_ARGS__); } while (0)
	LINE("KEYS (bound in the rc: bind KEY COMMAND; ~/.config/forksynth/rc overrides)");
	/* one line per bound command, with all its keys */
	for (const struct ui_command *c = ui_commands; c->name != NULL; c++)
		for (unsigned i = 0; i < u->keys.n; i++) {
			const char *cmd = u->keys.b[i].command;
			size_t len = strlen(c->name);
			unsigned j = 0;
			if (strncmp(cmd, c->name, len) != 0 || (cmd[len] != '\0' && cmd[len] != ' '))
				continue;
			while (j < i && strcmp(u->keys.b[j].command, cmd) != 0)
				j++;
			if (j < i)
				continue;
			char keys[64] = "";
			for (j = i; j < u->keys.n; j++) {
				if (strcmp(u->keys.b[j].command, cmd) != 0)
					continue;
				key_describe(u->keys.b[j].key, key, sizeof key);
				if (strlen(keys) + strlen(key) + 2 < sizeof keys) {
					strcat(keys, keys[0] ? " " : "");
					strcat(keys, key);
				}
			}
			LINE("  %-15s %-16s %s", keys, cmd, c->help);
		}
	LINE("%s", "");
	LINE("PIANO (p): lower row z s x d c v g b h n j m , l . ; / from C%d, upper row",
	    u->piano.octave);
	LINE("  q 2 w 3 e r 5 t 6 y 7 u i 9 o 0 p an octave up; Left/Right octave,");
	LINE("  Up/Down velocity, Space panic, Esc back to keys.  A tap sounds %.2f s,",
	    (double)u->piano.first_hold * 1e-9);
	LINE("  a held key until %.2f s after its last auto-repeat (piano-hold F R).",
	    (double)u->piano.repeat_hold * 1e-9);
	LINE("%s", "");
	LINE("BROWSER (b or :browse): the patches in %s", "~/.local/share/forksynth/"
	    "patches and the examples;");
	LINE("  j/k or Up/Down audition the highlighted one, Enter keeps it, Esc goes "
	    "back to what played.");
	LINE("MOUSE (--no-mouse or `mouse off` in the rc: off): a click selects a "
	    "module, a");
	LINE("  parameter or a view's name on the tab line; the wheel turns a "
	    "parameter by its step.");
	LINE("SCOPE and SPECTRUM (5, 6): an output, or the probe (probe NAME.OUTPUT:");
	LINE("  a module's output, summed over its voices); o the next source, t the");
	LINE("  trigger (rise, level, free; no trigger: free run), < > time, P peaks.");
	LINE("%s", "");
	LINE("COMMANDS at the : prompt (Tab completes, Up/Down history)");
	for (const struct ui_command *c = ui_commands; c->name != NULL; c++) {
		char name[64];
		snprintf(name, sizeof name, "%s%s%s %s", c->name, c->alias ? "|" : "",
		    c->alias ? c->alias : "", c->usage);
		LINE("  %-30s %s", name, c->help);
	}
	for (const struct cmd_entry *c = cmd_table; c->name != NULL; c++) {
		char name[96];
		snprintf(name, sizeof name, "%s %s", c->name, c->usage);
		LINE("  %-30s %s", name, c->help);
	}
	LINE("  %-30s %s", "note NOTE VELOCITY SECONDS", "play a note");
	LINE("  %-30s %s", "save FILE", "write the patch to FILE");
	LINE("  %-30s %s", "stats", "counters since the start");
	LINE("  %-30s %s", "probe NAME.OUTPUT|off", "show a module's output in the "
	    "scope and spectrum");
#undef LINE
	return n;
}

static void
draw_help(struct ui *u, int top, int bottom)
{
	static char lines[256][160];
	unsigned n = view_help_lines(u, lines, 256);
	int rows = bottom - top - 1;
	heading(u, top, 0, COLS, "HELP (? again goes back; Up/Down scroll; / "
	    "searches, n N next and previous)");
	if (u->scroll[VIEW_HELP] > (int)n - rows)
		u->scroll[VIEW_HELP] = (int)n - rows > 0 ? (int)n - rows : 0;
	for (int i = 0; i < rows && u->scroll[VIEW_HELP] + i < (int)n; i++) {
		put(top + 1 + i, 0, COLS, lines[u->scroll[VIEW_HELP] + i]);
		mark_matches(u, top + 1 + i, 0, COLS, lines[u->scroll[VIEW_HELP] + i]);
	}
}

/* The first key bound to `command`, as text, or "" when none. */
static const char *
key_for(struct ui *u, const char *command, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < u->keys.n; i++)
		if (strcmp(u->keys.b[i].command, command) == 0) {
			key_describe(u->keys.b[i].key, buf, size);
			break;
		}
	return buf;
}

/* The bottom line: the prompt, or hints for the keys that matter most. */
static void
draw_bottom(struct ui *u)
{
	static const struct {
		const char *command, *hint;
	} hints[] = {
		{ "help", "help" }, { "prompt", "cmd" }, { "add", "add" },
		{ "remove", "remove" }, { "connect-pick", "connect" },
		{ "undo", "undo" }, { "piano", "piano" }, { "record", "rec" },
		{ "view next", "view" }, { "quit", "quit" },
	};
	char line[512] = "", key[32];
	int y = LINES - 1;

	if (u->mode == MODE_PROMPT || u->mode == MODE_SEARCH) {
		/* scroll by whole characters so that the cursor stays in view */
		const char *buf = u->prompt.buf;
		size_t width = COLS > 3 ? (size_t)COLS - 3 : 1, start = 0;
		while (prompt_columns(buf + start, u->prompt.cursor - start) > width) {
			start++;
			while ((buf[start] & 0xc0) == 0x80)
				start++;
		}
		size_t end = start;
		while (buf[end] != '\0' && prompt_columns(buf + start, end - start) <= width)
			end++;
		while ((buf[end] & 0xc0) == 0x80)
			end++;
		move(y, 0);
		clrtoeol();
		mvaddch(y, 0, u->mode == MODE_SEARCH ? '/' : ':');
		mvaddnstr(y, 1, buf + start, (int)(end - start));
		move(y, 1 + (int)prompt_columns(buf + start, u->prompt.cursor - start));
		return;
	}
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		if (key_for(u, hints[i].command, key, sizeof key)[0] == '\0')
			continue;
		size_t len = strlen(line);
		snprintf(line + len, sizeof line - len, "%s:%s ", key, hints[i].hint);
	}
	if (u->mode == MODE_PIANO)
		snprintf(line, sizeof line, "PIANO: zsxdcv.. qwe.. play  Left/Right octave  "
		    "Up/Down velocity  Space panic  Esc keys");
	pair(u, u->pair_dim, 1);
	put(y, 0, COLS, line);
	pair(u, u->pair_dim, 0);
}

/* The pick list, in a box over the middle of the screen. */
static void
draw_pick(struct ui *u)
{
	unsigned shown[UI_PICK_MAX];
	unsigned n = ui_pick_shown(u, shown, UI_PICK_MAX);
	int width = COLS - 4 < 70 ? COLS - 4 : 70;
	int height = (int)n + 4 < LINES - 4 ? (int)n + 4 : LINES - 4;
	int y0 = (LINES - height) / 2, x0 = (COLS - width) / 2;
	int rows = height - 4;
	char line[200];
	static int scroll;

	if (u->pick.sel >= (int)n)
		u->pick.sel = n > 0 ? (int)n - 1 : 0;
	follow(&scroll, u->pick.sel, rows);
	for (int r = 0; r < height; r++)
		put(y0 + r, x0, width, "");
	attron(A_BOLD);
	snprintf(line, sizeof line, " %s ", u->pick.title);
	put(y0, x0 + 1, width - 2, line);
	attroff(A_BOLD);
	snprintf(line, sizeof line, " type to filter: %s_  (%u of %u; Enter, Esc)",
	    u->pick.filter, n, u->pick.n);
	put(y0 + 1, x0 + 1, width - 2, line);
	for (int r = 0; r < rows; r++) {
		int k = scroll + r;
		if (k >= (int)n)
			break;
		snprintf(line, sizeof line, " %s", u->pick.items[shown[k]]);
		if (k == u->pick.sel)
			attron(A_REVERSE);
		put(y0 + 2 + r, x0 + 1, width - 2, line);
		if (k == u->pick.sel)
			attroff(A_REVERSE);
	}
	/* a frame in plain characters reads everywhere */
	for (int r = 0; r < height; r++) {
		mvaddch(y0 + r, x0, r == 0 || r == height - 1 ? '+' : '|');
		mvaddch(y0 + r, x0 + width - 1, r == 0 || r == height - 1 ? '+' : '|');
	}
	for (int c = 1; c < width - 1; c++)
		mvaddch(y0 + height - 1, x0 + c, '-');
}

void
view_draw(struct ui *u)
{
	erase();
	u->n_hits = 0;
	curs_set(u->mode == MODE_PROMPT || u->mode == MODE_SEARCH ? 1 : 0);
	int y = draw_status(u, 0);
	y = draw_meters(u, y);
	y = draw_tabs(u, y);
	/* a long message takes two rows rather than lose its end */
	int message_rows = (int)strlen(u->message) > COLS ? 2 : 1;
	int bottom = LINES - 1 - message_rows;
	if (bottom - y >= 3) {
		switch (u->view) {
		case VIEW_PATCH:
			draw_patch(u, y, bottom);
			break;
		case VIEW_CONNECTIONS:
			draw_connections(u, y, bottom);
			break;
		case VIEW_COST:
			draw_cost(u, y, bottom);
			break;
		case VIEW_LOG:
			draw_log(u, y, bottom);
			break;
		case VIEW_BROWSER:
			browser_draw(u, y, bottom);
			break;
		case VIEW_SCOPE:
			scopeview_draw_scope(u, y, bottom);
			break;
		case VIEW_SPECTRUM:
			scopeview_draw_spectrum(u, y, bottom);
			break;
		default:
			draw_help(u, y, bottom);
			break;
		}
	}
	if (u->message_error) {
		attron(A_BOLD);
		pair(u, u->pair_error, 1);
	}
	put(bottom, 0, COLS, u->message);
	if (message_rows == 2)
		put(bottom + 1, 0, COLS, u->message + COLS);
	if (u->message_error) {
		pair(u, u->pair_error, 0);
		attroff(A_BOLD);
	}
	if (u->mode == MODE_PICK)
		draw_pick(u);
	draw_bottom(u);
	refresh();
}
