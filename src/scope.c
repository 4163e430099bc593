/*
 * src/scope.c — the signal side of the scope and spectrum views (see
 * scope.h): the output tap, histories, trigger, column and row mapping,
 * the FFT and the log-frequency axis.
 *
 * The tap is one element ring (src/ring.h) of interleaved frames, written
 * by the JACK thread and read by the UI thread.  The JACK thread pushes a
 * whole block or nothing: when the UI fell behind and the ring is full, it
 * drops the block and bumps `dropped` (relaxed: it only ever grows).  The
 * UI reads the ring empty, then looks at `dropped`: a change means a
 * block is missing right after what it has read (the ring was full, so
 * nothing newer was in it), and the histories get a gap there.
 */
#include <fftw3.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ring.h"
#include "scope.h"

/* Frames moved per ring read. */
#define TAP_CHUNK 1024

struct tap {
	unsigned channels;
	void *mem;
	struct ring tx, rx;          /* producer and consumer handles */
	_Atomic uint64_t dropped;    /* blocks dropped (JACK thread) */
	uint64_t dropped_seen;       /* UI: as last read */
	float chunk[];               /* UI: TAP_CHUNK frames, interleaved */
};

struct tap *
tap_create(unsigned channels, unsigned frames)
{
	if (channels == 0)
		channels = 1;
	struct tap *t = xcalloc(1, sizeof *t +
	    (size_t)TAP_CHUNK * channels * sizeof(float));
	size_t bytes = ring_elem_bytes(channels * sizeof(float), frames);
	t->channels = channels;
	t->mem = xaligned(bytes);
	memset(t->mem, 0, bytes);
	if (ring_elem_init(&t->tx, t->mem, channels * sizeof(float), frames) != 0 ||
	    ring_attach(&t->rx, t->mem, bytes, RING_MAGIC_ELEM) != 0)
		fatal("the output tap's ring cannot be laid out");
	return t;
}

void
tap_free(struct tap *t)
{
	if (t == NULL)
		return;
	free(t->mem);
	free(t);
}

unsigned
tap_channels(const struct tap *t)
{
	return t->channels;
}

void
tap_push(struct tap *t, const float *const *chans, unsigned n)
{
	unsigned ch = t->channels, done = 0;
	if (ring_elem_space(&t->tx) < n) {
		atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
		return;
	}
	while (done < n) {
		uint32_t room;
		float *dst = ring_elem_reserve(&t->tx, &room);
		if (room > n - done)
			room = n - done;
		for (uint32_t i = 0; i < room; i++)
			for (unsigned c = 0; c < ch; c++)
				dst[(size_t)i * ch + c] = chans[c][done + i];
		ring_elem_commit(&t->tx, room);
		done += room;
	}
}

unsigned
tap_drain(struct tap *t, struct scope_history *hist)
{
	unsigned total = 0;
	uint32_t got;
	while ((got = ring_elem_pop(&t->rx, t->chunk, TAP_CHUNK)) > 0) {
		for (unsigned c = 0; c < t->channels; c++)
			scope_history_append(&hist[c], t->chunk + c, got, t->channels);
		total += got;
	}
	uint64_t dropped = atomic_load_explicit(&t->dropped, memory_order_relaxed);
	if (dropped != t->dropped_seen) {
		t->dropped_seen = dropped;
		for (unsigned c = 0; c < t->channels; c++)
			scope_history_gap(&hist[c]);
	}
	return total;
}

uint64_t
tap_dropped(const struct tap *t)
{
	return atomic_load_explicit(&t->dropped, memory_order_relaxed);
}

/* ------------------------------------------------------------ history */

void
scope_history_clear(struct scope_history *h)
{
	h->written = h->start = 0;
}

void
scope_history_append(struct scope_history *h, const float *x, unsigned n,
    size_t stride)
{
	for (unsigned i = 0; i < n; i++) {
		float v = x[(size_t)i * stride];
		if (!isfinite(v)) {
			v = 0;
			h->replaced++;
		} else if (v > SCOPE_MAX_ABS) {
			v = SCOPE_MAX_ABS;
		} else if (v < -SCOPE_MAX_ABS) {
			v = -SCOPE_MAX_ABS;
		}
		h->buf[h->written++ % SCOPE_HISTORY] = v;
	}
}

void
scope_history_gap(struct scope_history *h)
{
	h->start = h->written;
}

unsigned
scope_history_latest(const struct scope_history *h, float *dst, unsigned n)
{
	uint64_t run = h->written - h->start;
	if (run > SCOPE_HISTORY)
		run = SCOPE_HISTORY;
	if (n > run)
		n = (unsigned)run;
	uint64_t from = h->written - n;
	for (unsigned i = 0; i < n; i++)
		dst[i] = h->buf[(from + i) % SCOPE_HISTORY];
	return n;
}

/* ------------------------------------------------------------ scope */

long
scope_trigger_find(const float *x, unsigned n, unsigned width, float level,
    float hyst)
{
	if (n < 2 || n - 1 < width)
		return -1;
	long last = -1;
	int armed = 0;
	/* forward, so that the hysteresis knows the past; the last
	 * crossing that leaves `width` samples wins */
	for (unsigned i = 1; i < n && i + width <= n; i++) {
		if (x[i - 1] <= level - hyst)
			armed = 1;
		if (armed && x[i - 1] < level && x[i] >= level) {
			last = (long)i;
			armed = 0;
		}
	}
	return last;
}

float
scope_peak(const float *x, unsigned n)
{
	float m = 0;
	for (unsigned i = 0; i < n; i++) {
		float a = fabsf(x[i]);
		m = a > m ? a : m;
	}
	return m;
}

float
scope_range(float peak)
{
	float r = 1.0f / 1024;
	if (!(peak <= SCOPE_MAX_ABS))
		peak = SCOPE_MAX_ABS;
	while (r < peak)
		r *= 2;
	return r;
}

void
scope_columns(const float *x, unsigned cols, unsigned per, float *lo, float *hi)
{
	if (per == 0)
		per = 1;
	for (unsigned c = 0; c < cols; c++) {
		const float *s = x + (size_t)c * per;
		float a = s[0], b = s[0];
		for (unsigned i = 1; i < per; i++) {
			a = s[i] < a ? s[i] : a;
			b = s[i] > b ? s[i] : b;
		}
		if (c > 0) {
			float prev = s[-1];
			a = prev < a ? prev : a;
			b = prev > b ? prev : b;
		}
		lo[c] = a;
		hi[c] = b;
	}
}

int
scope_row(float v, float range, int rows)
{
	if (rows <= 1 || !(range > 0))
		return 0;
	double f = (1.0 - (double)v / range) / 2.0;   /* 0 top, 1 bottom */
	if (!(f > 0))
		return 0;
	int r = (int)lround(f * (rows - 1));
	return r > rows - 1 ? rows - 1 : r;
}

/* ------------------------------------------------------------ spectrum */

struct spectrum {
	unsigned size;
	float *in;                   /* windowed samples */
	fftwf_complex *out;
	float *window;
	double gain;                 /* amplitude of a full-scale sine's bin */
	fftwf_plan plan;
};

struct spectrum *
spectrum_create(unsigned size)
{
	if (size < 64 || size > 65536 || (size & (size - 1)) != 0)
		return NULL;
	struct spectrum *s = xcalloc(1, sizeof *s);
	s->size = size;
	s->in = fftwf_alloc_real(size);
	s->out = fftwf_alloc_complex(size / 2 + 1);
	s->window = xmalloc(size * sizeof(float));
	double sum = 0;
	for (unsigned i = 0; i < size; i++) {
		s->window[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / size));
		sum += s->window[i];
	}
	/* a sine of amplitude 1 at a bin's centre gives |X| = sum(w) / 2 */
	s->gain = sum / 2;
	s->plan = s->in && s->out ? fftwf_plan_dft_r2c_1d((int)size, s->in, s->out,
	    FFTW_ESTIMATE) : NULL;
	if (s->plan == NULL) {
		spectrum_free(s);
		return NULL;
	}
	return s;
}

void
spectrum_free(struct spectrum *s)
{
	if (s == NULL)
		return;
	if (s->plan != NULL)
		fftwf_destroy_plan(s->plan);
	fftwf_free(s->in);
	fftwf_free(s->out);
	free(s->window);
	free(s);
}

unsigned
spectrum_size(const struct spectrum *s)
{
	return s->size;
}

void
spectrum_analyze(struct spectrum *s, const float *x, float *db)
{
	for (unsigned i = 0; i < s->size; i++)
		s->in[i] = (isfinite(x[i]) ? x[i] : 0) * s->window[i];
	fftwf_execute(s->plan);
	for (unsigned k = 0; k <= s->size / 2; k++) {
		double re = s->out[k][0], im = s->out[k][1];
		double mag = sqrt(re * re + im * im) / s->gain;
		double d = mag > 1e-10 ? 20 * log10(mag) : -200;
		db[k] = (float)(d < -200 ? -200 : d);
	}
}

double
spectrum_column_freq(double c, unsigned cols, double fmin, double fmax)
{
	return fmin * pow(fmax / fmin, c / (cols ? cols : 1));
}

unsigned
spectrum_freq_column(double f, unsigned cols, double fmin, double fmax)
{
	if (cols == 0 || !(f > fmin))
		return 0;
	double c = floor(cols * log(f / fmin) / log(fmax / fmin));
	return c >= cols ? cols - 1 : (unsigned)c;
}

void
spectrum_columns(const float *db, unsigned bins, double rate, unsigned cols,
    double fmin, double fmax, float *col_db)
{
	double bin_hz = rate / (2.0 * (bins > 1 ? bins - 1 : 1));
	for (unsigned c = 0; c < cols; c++) {
		double f0 = spectrum_column_freq(c, cols, fmin, fmax);
		double f1 = spectrum_column_freq(c + 1, cols, fmin, fmax);
		long k0 = (long)ceil(f0 / bin_hz), k1 = (long)ceil(f1 / bin_hz);
		float best = -200;
		if (k1 > k0) {
			for (long k = k0; k < k1 && k < (long)bins; k++)
				best = db[k] > best ? db[k] : best;
		} else {
			long k = lround(sqrt(f0 * f1) / bin_hz);
			if (k >= 0 && k < (long)bins)
				best = db[k];
		}
		col_db[c] = best;
	}
}

void
spectrum_hold(float *peak, const float *now, unsigned cols, float fall_db)
{
	for (unsigned c = 0; c < cols; c++) {
		float p = peak[c] - fall_db;
		peak[c] = now[c] > p ? now[c] : p;
	}
}

int
spectrum_row(float db, float top_db, float bottom_db, int rows)
{
	if (rows <= 1 || !(top_db > bottom_db))
		return 0;
	double f = (top_db - db) / (top_db - bottom_db);
	if (!(f > 0))
		return 0;
	int r = (int)lround(f * (rows - 1));
	return r > rows - 1 ? rows - 1 : r;
}
