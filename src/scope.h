/*
 * src/scope.h — what the oscilloscope and spectrum views see, kept apart
 * from drawing: the output tap (the JACK callback's lock-free copy of the
 * outputs for the UI thread), a signal's recent history with the gaps
 * that break it, the trigger, the scope's columns and rows, and the
 * spectrum (FFTW, Hann window) mapped onto a log-frequency axis with a
 * decaying peak hold.  Everything but the tap's push is for the UI thread;
 * the mapping functions are pure, so that tests/scope_test.c checks them.
 */
#ifndef FORKSYNTH_SCOPE_H
#define FORKSYNTH_SCOPE_H

#include <stddef.h>
#include <stdint.h>

/* Samples of history kept per signal: the widest scope window (128
 * frames per column on a 240-column screen) plus room to find a trigger. */
#define SCOPE_HISTORY 65536u
/* Largest |sample| kept: anything larger (a lying DSP child, a CV in
 * volts gone wild) is held there, so the ranges stay finite. */
#define SCOPE_MAX_ABS 1.0e6f

/* ------------------------------------------------------------ output tap */

struct tap;

/* A tap for `channels` outputs holding `frames` frames (a power of two)
 * between two reads. */
struct tap *tap_create(unsigned channels, unsigned frames);
void tap_free(struct tap *t);
unsigned tap_channels(const struct tap *t);

/* The JACK thread: copy n frames of chans[0 .. channels) into the ring,
 * whole or not at all (a full ring drops the block and counts it).
 * Wait-free: no allocation, lock or syscall. */
void tap_push(struct tap *t, const float *const *chans, unsigned n);

struct scope_history;
/* The UI thread: move every frame waiting into hist[c] (channels of them);
 * a block dropped since the last read breaks each history there.
 * Returns the frames moved. */
unsigned tap_drain(struct tap *t, struct scope_history *hist);

/* Blocks the tap dropped because the UI did not read in time. */
uint64_t tap_dropped(const struct tap *t);

/* --------------------------------------------------------------- history */

/* The newest SCOPE_HISTORY samples of one signal, and since when they
 * run without a break. */
struct scope_history {
	float buf[SCOPE_HISTORY];
	uint64_t written;          /* samples appended, ever */
	uint64_t start;            /* the unbroken run is [start, written) */
	uint64_t replaced;         /* samples that were not finite (made 0) */
};

/* Empty it. */
void scope_history_clear(struct scope_history *h);

/* Append n samples read x[0], x[stride], x[2 * stride] ...: a non-finite
 * one becomes 0 (counted), one beyond SCOPE_MAX_ABS is held there. */
void scope_history_append(struct scope_history *h, const float *x, unsigned n,
    size_t stride);

/* What comes next does not continue what came before. */
void scope_history_gap(struct scope_history *h);

/* The newest min(n, unbroken run) samples, oldest first, into dst;
 * returns how many. */
unsigned scope_history_latest(const struct scope_history *h, float *dst,
    unsigned n);

/* --------------------------------------------------------------- scope */

enum scope_trigger {
	SCOPE_TRIGGER_RISE = 0,    /* a rising zero crossing */
	SCOPE_TRIGGER_LEVEL,       /* a rising crossing of a set level */
	SCOPE_TRIGGER_FREE         /* none: the newest samples */
};

/*
 * Where in x[0 .. n) a window of `width` samples starts on a trigger: the
 * latest i with x[i - 1] < level <= x[i], where the signal was at or
 * below level - hyst since its last time above level (hysteresis: noise
 * riding on a slow wave does not trigger on every wiggle), and with
 * `width` samples from i on.  -1 when there is none (the view then runs
 * free).
 */
long scope_trigger_find(const float *x, unsigned n, unsigned width, float level,
    float hyst);

/* The largest |x| of n samples. */
float scope_peak(const float *x, unsigned n);

/* The vertical range for a signal whose peak is `peak`: the smallest power
 * of two (1/1024 at least) that holds it, so that a full-scale output
 * fills the screen at +-1 and a probe's CV fits. */
float scope_range(float peak);

/*
 * The trace per column: column c shows samples [c * per, (c + 1) * per)
 * of x (cols * per of them), as their lowest and highest value, widened to
 * reach the previous column's last sample so that the line is unbroken.
 */
void scope_columns(const float *x, unsigned cols, unsigned per, float *lo,
    float *hi);

/* The row (0 at the top, rows - 1 at the bottom) of value v on a scale of
 * +-range; values beyond it sit on the edge rows. */
int scope_row(float v, float range, int rows);

/* ------------------------------------------------------------- spectrum */

struct spectrum;

/* An analyser of `size` samples (a power of two, 64 .. 65536); NULL when
 * FFTW cannot plan it. */
struct spectrum *spectrum_create(unsigned size);
void spectrum_free(struct spectrum *s);
unsigned spectrum_size(const struct spectrum *s);

/* The level of each bin (size / 2 + 1 of them) of x[0 .. size), Hann
 * windowed, in dB where a full-scale sine reads 0 dB; at least -200. */
void spectrum_analyze(struct spectrum *s, const float *x, float *db);

/* The log-frequency axis: column c of `cols` covers
 * [freq(c), freq(c + 1)), freq(c) = fmin * (fmax / fmin)^(c / cols). */
double spectrum_column_freq(double c, unsigned cols, double fmin, double fmax);
/* The column that holds frequency f (clamped to the axis). */
unsigned spectrum_freq_column(double f, unsigned cols, double fmin, double fmax);

/* Per column, the loudest bin whose centre falls in it; a column narrower
 * than a bin shows the bin nearest its centre.  `bins` levels of a
 * transform at `rate` frames per second (bin k at k * rate / (2 * (bins
 * - 1)) Hz). */
void spectrum_columns(const float *db, unsigned bins, double rate,
    unsigned cols, double fmin, double fmax, float *col_db);

/* Peak hold: each peak falls by fall_db, never below the level now. */
void spectrum_hold(float *peak, const float *now, unsigned cols, float fall_db);

/* The row of level `db` on an axis from top_db (row 0) down to bottom_db
 * (row rows - 1); levels outside sit on the edge rows. */
int spectrum_row(float db, float top_db, float bottom_db, int rows);

#endif
