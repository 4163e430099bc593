/*
 * ui/scopeview.c — the oscilloscope and spectrum views and their commands:
 * which signal (an output, or the probe: `probe NAME.OUTPUT`), the trigger
 * (rising zero crossing, a rising level, or free run; a trigger that does
 * not come falls back to free run), the time scale, and the spectrum's
 * peak hold.  The signals come from the output tap the JACK callback fills
 * and from the DSP child's probe ring (src/scope.h, src/engine.h), read
 * here on the UI thread at every frame; the maths is in src/scope.c.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "log.h"
#include "scope.h"
#include "ui_internal.h"

#define SCOPE_OUTPUTS 8            /* outputs the tap copies, at most */
#define TAP_FRAMES 32768u          /* frames the tap holds between reads */
#define SPECTRUM_SIZE 4096u        /* FFT length: 11.7 Hz bins at 48 kHz */
#define SPECTRUM_FMIN 20.0
#define SPECTRUM_TOP_DB 0.0f
#define SPECTRUM_BOTTOM_DB (-96.0f)
#define PEAK_FALL_DB_PER_S 12.0    /* the peak hold sinks this fast */
#define PER_COLUMN_MAX 128u        /* frames per scope column, at most */
#define AXIS_WIDTH 6               /* the left axis's labels */

struct scopeview {
	struct tap *tap;
	unsigned n_out;                /* outputs tapped */
	struct scope_history *hist;    /* n_out outputs, then the probe */
	unsigned source;               /* 0 .. n_out - 1, or n_out: the probe */
	enum scope_trigger trigger;
	float level;                   /* SCOPE_TRIGGER_LEVEL's level */
	unsigned per;                  /* frames per column */
	char probe[PATCH_NAME_MAX + 40];   /* the probe target last seen */
	int probe_live;                /* the child writes it (not -1) */
	struct spectrum *fft;
	float *bins, *now_db, *peak_db;
	unsigned peak_cols;            /* columns peak_db holds, 0: none */
	uint64_t peak_at;              /* ns, when the hold last fell */
	float *work;                   /* SCOPE_HISTORY samples */
};

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

static void
heading(struct ui *u, int y, const char *text)
{
	attron(A_BOLD);
	if (u->color && u->colors.param)
		attron(COLOR_PAIR(u->colors.param));
	put(y, 0, COLS, text);
	if (u->color && u->colors.param)
		attroff(COLOR_PAIR(u->colors.param));
	attroff(A_BOLD);
}

/* The view's state, made at the first call (the tap then starts). */
static struct scopeview *
scopeview(struct ui *u)
{
	if (u->scope != NULL)
		return u->scope;
	struct scopeview *v = xcalloc(1, sizeof *v);
	struct jackio *j = session_jack(u->s);
	v->n_out = jackio_outputs(j) < SCOPE_OUTPUTS ? jackio_outputs(j) : SCOPE_OUTPUTS;
	v->hist = xcalloc(v->n_out + 1, sizeof *v->hist);
	v->work = xmalloc(SCOPE_HISTORY * sizeof(float));
	v->per = 4;
	v->level = 0.5f;
	v->probe_live = -1;
	if (v->n_out > 0) {
		v->tap = tap_create(v->n_out, TAP_FRAMES);
		jackio_set_tap(j, v->tap);
	}
	v->fft = spectrum_create(SPECTRUM_SIZE);
	v->bins = xcalloc(SPECTRUM_SIZE / 2 + 1, sizeof(float));
	u->scope = v;
	return v;
}

/* A source's name: out.N or probe. */
static void
source_name(const struct scopeview *v, unsigned source, char *buf, size_t size)
{
	if (source < v->n_out)
		snprintf(buf, size, "out.%u", source + 1);
	else
		snprintf(buf, size, "probe");
}

/* The spectrum of the source now, into v->now_db (cols), and the peak
 * hold fallen for the time since the last call. */
static void
spectrum_update(struct ui *u, struct scopeview *v, unsigned cols, uint64_t now)
{
	unsigned rate = jackio_rate(session_jack(u->s));
	double fmax = rate / 2.0 < 20000 ? rate / 2.0 : 20000;
	if (v->fft == NULL || cols == 0)
		return;
	if (cols != v->peak_cols) {
		free(v->now_db);
		free(v->peak_db);
		v->now_db = xcalloc(cols, sizeof(float));
		v->peak_db = xcalloc(cols, sizeof(float));
		for (unsigned c = 0; c < cols; c++)
			v->peak_db[c] = -200;
		v->peak_cols = cols;
		v->peak_at = now;
	}
	unsigned n = scope_history_latest(&v->hist[v->source], v->work, SPECTRUM_SIZE);
	if (n < SPECTRUM_SIZE) {
		/* not enough yet: zeros before it */
		memmove(v->work + (SPECTRUM_SIZE - n), v->work, n * sizeof(float));
		memset(v->work, 0, (SPECTRUM_SIZE - n) * sizeof(float));
	}
	spectrum_analyze(v->fft, v->work, v->bins);
	spectrum_columns(v->bins, SPECTRUM_SIZE / 2 + 1, rate, cols, SPECTRUM_FMIN,
	    fmax, v->now_db);
	double dt = (double)(now - v->peak_at) * 1e-9;
	v->peak_at = now;
	spectrum_hold(v->peak_db, v->now_db, cols, (float)(PEAK_FALL_DB_PER_S *
	    (dt < 1 ? dt : 1)));
}

void
scopeview_tick(struct ui *u)
{
	struct scopeview *v = scopeview(u);
	struct engine *e = session_engine(u->s);
	if (v->tap != NULL)
		tap_drain(v->tap, v->hist);
	/* not while the supervisor starts a DSP child: the screen would
	 * stop for as long (the probe is read at the next frame) */
	if (session_trylock(u->s) == 0) {
		const char *target = engine_probe_target(e);
		if (strcmp(target, v->probe) != 0) {
			/* a new probe: shown at once; `probe off` goes back to
			 * out.1 */
			snprintf(v->probe, sizeof v->probe, "%s", target);
			scope_history_clear(&v->hist[v->n_out]);
			v->source = target[0] ? v->n_out : 0;
			v->peak_cols = 0;
		}
		v->probe_live = engine_probe_read(e, &v->hist[v->n_out]) >= 0;
		session_unlock(u->s);
	}
	if (u->view == VIEW_SPECTRUM)
		spectrum_update(u, v, COLS > AXIS_WIDTH ? (unsigned)(COLS - AXIS_WIDTH) : 0,
		    futex_now_ns());
}

/* Why the probe shows nothing, or NULL when it shows its signal. */
static const char *
probe_problem(struct ui *u, struct scopeview *v, char *buf, size_t size)
{
	if (v->source != v->n_out)
		return NULL;
	if (v->probe[0] == '\0')
		return "no probe: `:probe NAME.OUTPUT` shows a module's output here "
		    "(o: the next source)";
	char name[PATCH_NAME_MAX];
	snprintf(name, sizeof name, "%.*s", (int)strcspn(v->probe, "."), v->probe);
	if (patch_find_module(session_patch(u->s), name) < 0) {
		snprintf(buf, size, "probe %s: no module '%s' in the patch now", v->probe,
		    name);
		return buf;
	}
	if (!v->probe_live) {
		snprintf(buf, size, "probe %s: waiting for the DSP child", v->probe);
		return buf;
	}
	return NULL;
}

/* A value as an axis label in 5 columns (+1, -0.5, +1024); one too long
 * for them is "+y" or "-y" (the heading says y's range). */
static void
axis_value(float v, char *buf, size_t size)
{
	snprintf(buf, size, "%+.3g", (double)v);
	if (strlen(buf) > AXIS_WIDTH - 1)
		snprintf(buf, size, "%cy", v < 0 ? '-' : '+');
}

void
scopeview_draw_scope(struct ui *u, int top, int bottom)
{
	struct scopeview *v = scopeview(u);
	unsigned rate = jackio_rate(session_jack(u->s));
	int rows = bottom - top - 1;
	int cols = COLS - AXIS_WIDTH;
	char line[400], src[16], why[200], trig[64];
	if (rows < 3 || cols < 8)
		return;
	/* a screen so wide that the history cannot fill it: fewer frames
	 * per column (shown as such) */
	unsigned per = v->per;
	while (per > 1 && (unsigned)cols * per > SCOPE_HISTORY / 2)
		per /= 2;
	unsigned width = (unsigned)cols * per;
	unsigned n = scope_history_latest(&v->hist[v->source], v->work, SCOPE_HISTORY);
	long at = -1;
	const char *mode = v->trigger == SCOPE_TRIGGER_FREE ? "free" :
	    v->trigger == SCOPE_TRIGGER_RISE ? "rise" : "level";
	if (n >= width && v->trigger != SCOPE_TRIGGER_FREE) {
		float level = v->trigger == SCOPE_TRIGGER_RISE ? 0 : v->level;
		float hyst = scope_peak(v->work + n - width, width) * 0.02f;
		at = scope_trigger_find(v->work, n, width, level, hyst);
	}
	if (v->trigger == SCOPE_TRIGGER_LEVEL)
		snprintf(trig, sizeof trig, "level %g%s", (double)v->level,
		    at < 0 ? " (none: free run)" : "");
	else
		snprintf(trig, sizeof trig, "%s%s", mode, v->trigger != SCOPE_TRIGGER_FREE &&
		    at < 0 ? " (none: free run)" : "");
	source_name(v, v->source, src, sizeof src);
	const float *x = NULL;
	if (n >= width)
		x = at >= 0 ? v->work + at : v->work + n - width;
	float range = x != NULL ? scope_range(scope_peak(x, width)) : 1;
	snprintf(line, sizeof line, "SCOPE %s%s%s  trigger %s  %u frames/col "
	    "(%.3g ms)  y +-%g   o source  t trigger  < > time", src,
	    v->source == v->n_out && v->probe[0] ? " " : "",
	    v->source == v->n_out ? v->probe : "", trig, per,
	    rate ? 1000.0 * width / rate : 0.0, (double)range);
	heading(u, top, line);
	int y0 = top + 1;
	/* the axis: the range at the top and bottom, 0 in the middle */
	int zero = scope_row(0, range, rows);
	for (int r = 0; r < rows; r++) {
		char label[16] = "";
		if (r == 0)
			axis_value(range, label, sizeof label);
		else if (r == rows - 1)
			axis_value(-range, label, sizeof label);
		else if (r == zero)
			snprintf(label, sizeof label, " 0");
		snprintf(line, sizeof line, "%-*.*s|", AXIS_WIDTH - 1, AXIS_WIDTH - 1,
		    label);
		put(y0 + r, 0, AXIS_WIDTH, line);
	}
	if (u->color && u->pair_dim)
		attron(COLOR_PAIR(u->pair_dim));
	for (int c = 0; c < cols; c++)
		mvaddch(y0 + zero, AXIS_WIDTH + c, '-');
	if (u->color && u->pair_dim)
		attroff(COLOR_PAIR(u->pair_dim));
	const char *problem = probe_problem(u, v, why, sizeof why);
	if (problem != NULL || x == NULL) {
		snprintf(line, sizeof line, " %s ", problem != NULL ? problem :
		    "collecting the signal ...");
		put(y0 + rows / 4, AXIS_WIDTH + 1, cols - 1, line);
		return;
	}
	float *lo = xmalloc((size_t)cols * sizeof(float));
	float *hi = xmalloc((size_t)cols * sizeof(float));
	scope_columns(x, (unsigned)cols, per, lo, hi);
	attron(A_BOLD);
	for (int c = 0; c < cols; c++) {
		int r0 = scope_row(hi[c], range, rows), r1 = scope_row(lo[c], range, rows);
		for (int r = r0; r <= r1; r++)
			mvaddch(y0 + r, AXIS_WIDTH + c, '*');
	}
	attroff(A_BOLD);
	free(lo);
	free(hi);
}

/* A frequency as an axis label: 50, 500, 1k, 20k. */
static void
freq_label(double f, char *buf, size_t size)
{
	if (f >= 1000)
		snprintf(buf, size, "%gk", f / 1000);
	else
		snprintf(buf, size, "%g", f);
}

void
scopeview_draw_spectrum(struct ui *u, int top, int bottom)
{
	static const double ticks[] = { 20, 50, 100, 200, 500, 1000, 2000, 5000,
	    10000, 20000 };
	struct scopeview *v = scopeview(u);
	unsigned rate = jackio_rate(session_jack(u->s));
	double fmax = rate / 2.0 < 20000 ? rate / 2.0 : 20000;
	int rows = bottom - top - 3;
	int cols = COLS - AXIS_WIDTH;
	char line[400], src[16], why[200];
	if (rows < 3 || cols < 8)
		return;
	source_name(v, v->source, src, sizeof src);
	snprintf(line, sizeof line, "SPECTRUM %s%s%s  %u-point FFT, %.3g Hz bins  "
	    "peak hold falls %g dB/s   o source  P clear peaks", src,
	    v->source == v->n_out && v->probe[0] ? " " : "",
	    v->source == v->n_out ? v->probe : "", SPECTRUM_SIZE,
	    rate ? (double)rate / SPECTRUM_SIZE : 0.0, PEAK_FALL_DB_PER_S);
	heading(u, top, line);
	int y0 = top + 1;
	for (int r = 0; r < rows; r++) {
		char label[16] = "";
		/* a label every 24 dB (dBFS: a full-scale sine reads 0), on the
		 * row nearest it */
		for (int d = 0; d >= (int)SPECTRUM_BOTTOM_DB; d -= 24)
			if (spectrum_row((float)d, SPECTRUM_TOP_DB, SPECTRUM_BOTTOM_DB, rows) == r)
				snprintf(label, sizeof label, "%d", d);
		snprintf(line, sizeof line, "%-*.*s|", AXIS_WIDTH - 1, AXIS_WIDTH - 1, label);
		put(y0 + r, 0, AXIS_WIDTH, line);
	}
	/* the frequency axis: + at each tick, its label under it */
	move(y0 + rows, 0);
	clrtoeol();
	move(y0 + rows + 1, 0);
	clrtoeol();
	put(y0 + rows, 0, AXIS_WIDTH, "     +");
	put(y0 + rows + 1, 0, AXIS_WIDTH, "  Hz  ");
	for (int c = 0; c < cols; c++)
		mvaddch(y0 + rows, AXIS_WIDTH + c, '-');
	int free_from = AXIS_WIDTH;
	for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
		if (ticks[i] < SPECTRUM_FMIN || ticks[i] > fmax)
			continue;
		int c = AXIS_WIDTH + (int)spectrum_freq_column(ticks[i], (unsigned)cols,
		    SPECTRUM_FMIN, fmax);
		char label[16];
		freq_label(ticks[i], label, sizeof label);
		mvaddch(y0 + rows, c, '+');
		if (c >= free_from && c + (int)strlen(label) <= COLS) {
			put(y0 + rows + 1, c, (int)strlen(label), label);
			free_from = c + (int)strlen(label) + 1;
		}
	}
	const char *problem = probe_problem(u, v, why, sizeof why);
	if (problem != NULL || v->peak_cols != (unsigned)cols) {
		snprintf(line, sizeof line, " %s ", problem != NULL ? problem :
		    "collecting the signal ...");
		put(y0 + rows / 4, AXIS_WIDTH + 1, cols - 1, line);
		return;
	}
	for (int c = 0; c < cols; c++) {
		float d = v->now_db[c], p = v->peak_db[c];
		if (d >= SPECTRUM_BOTTOM_DB) {
			int r0 = spectrum_row(d, SPECTRUM_TOP_DB, SPECTRUM_BOTTOM_DB, rows);
			for (int r = r0; r < rows; r++)
				mvaddch(y0 + r, AXIS_WIDTH + c, '#');
		}
		if (p >= SPECTRUM_BOTTOM_DB) {
			int r = spectrum_row(p, SPECTRUM_TOP_DB, SPECTRUM_BOTTOM_DB, rows);
			if (d < SPECTRUM_BOTTOM_DB ||
			    r < spectrum_row(d, SPECTRUM_TOP_DB, SPECTRUM_BOTTOM_DB, rows))
				mvaddch(y0 + r, AXIS_WIDTH + c, '_');
		}
	}
}

/* ------------------------------------------------------------ commands */

int
scopeview_run_source(struct ui *u, int argc, const char *const *argv)
{
	struct scopeview *v = scopeview(u);
	char name[16];
	const char *want = argc > 1 ? argv[1] : "next";
	if (strcmp(want, "next") == 0) {
		v->source = (v->source + 1) % (v->n_out + 1);
	} else {
		unsigned s;
		for (s = 0; s <= v->n_out; s++) {
			source_name(v, s, name, sizeof name);
			if (strcmp(want, name) == 0)
				break;
		}
		if (s > v->n_out) {
			ui_message(u, 1, "scope-input: no source '%s': out.1 to out.%u, "
			    "probe, or next", want, v->n_out);
			return UI_REDRAW;
		}
		v->source = s;
	}
	v->peak_cols = 0;
	source_name(v, v->source, name, sizeof name);
	ui_message(u, 0, "scope and spectrum show %s%s%s", name,
	    v->source == v->n_out && v->probe[0] ? " " : "",
	    v->source == v->n_out ? v->probe : "");
	return UI_REDRAW;
}

int
scopeview_run_trigger(struct ui *u, int argc, const char *const *argv)
{
	struct scopeview *v = scopeview(u);
	const char *want = argc > 1 ? argv[1] : "next";
	if (strcmp(want, "next") == 0) {
		v->trigger = (v->trigger + 1) % 3;
	} else if (strcmp(want, "rise") == 0 && argc == 2) {
		v->trigger = SCOPE_TRIGGER_RISE;
	} else if (strcmp(want, "free") == 0 && argc == 2) {
		v->trigger = SCOPE_TRIGGER_FREE;
	} else if (strcmp(want, "level") == 0 && argc <= 3) {
		if (argc == 3) {
			char *end;
			double level = strtod(argv[2], &end);
			if (*end != '\0' || end == argv[2] || !isfinite(level) ||
			    fabs(level) > SCOPE_MAX_ABS) {
				ui_message(u, 1, "trigger level: '%s' is not a level (a "
				    "number, as the signal reads: 0.5, -0.2)", argv[2]);
				return UI_REDRAW;
			}
			v->level = (float)level;
		}
		v->trigger = SCOPE_TRIGGER_LEVEL;
	} else {
		ui_message(u, 1, "usage: trigger rise | level [LEVEL] | free | next");
		return UI_REDRAW;
	}
	if (v->trigger == SCOPE_TRIGGER_LEVEL)
		ui_message(u, 0, "scope trigger: rising through %g", (double)v->level);
	else
		ui_message(u, 0, "scope trigger: %s", v->trigger == SCOPE_TRIGGER_RISE ?
		    "rising zero crossing" : "free run");
	return UI_REDRAW;
}

int
scopeview_run_zoom(struct ui *u, int argc, const char *const *argv)
{
	struct scopeview *v = scopeview(u);
	const char *want = argc > 1 ? argv[1] : "";
	if (strcmp(want, "in") == 0 && argc == 2) {
		v->per = v->per > 1 ? v->per / 2 : 1;
	} else if (strcmp(want, "out") == 0 && argc == 2) {
		v->per = v->per < PER_COLUMN_MAX ? v->per * 2 : PER_COLUMN_MAX;
	} else {
		char *end;
		long per = argc == 2 ? strtol(want, &end, 10) : 0;
		if (argc != 2 || *end != '\0' || per < 1 || per > (long)PER_COLUMN_MAX) {
			ui_message(u, 1, "usage: scope-zoom in | out | FRAMES (frames per "
			    "column, 1 to %u)", PER_COLUMN_MAX);
			return UI_REDRAW;
		}
		v->per = (unsigned)per;
	}
	ui_message(u, 0, "scope: %u frames per column", v->per);
	return UI_REDRAW;
}

int
scopeview_run_peak_clear(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	struct scopeview *v = scopeview(u);
	for (unsigned c = 0; c < v->peak_cols; c++)
		v->peak_db[c] = v->now_db[c];
	ui_message(u, 0, "spectrum: peak hold cleared");
	return UI_REDRAW;
}

void
scopeview_free(struct ui *u)
{
	struct scopeview *v = u->scope;
	if (v == NULL)
		return;
	tap_free(v->tap);
	spectrum_free(v->fft);
	free(v->hist);
	free(v->work);
	free(v->bins);
	free(v->now_db);
	free(v->peak_db);
	free(v);
	u->scope = NULL;
}
