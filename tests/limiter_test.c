/*
 * tests/limiter_test.c — the limiter keeps its promises: no output sample
 * beyond the ceiling for hot and hostile input (music-like mixes 24 dB over,
 * square waves, spikes, NaN, infinity, a look-ahead changed mid-signal) at
 * every look-ahead, rate and block size; a signal under the ceiling passes
 * bit-exact, delayed by exactly the latency the module reports; with
 * look-ahead the gain ramps down before a peak.  Intersample peaks (4x
 * oversampled by FFT) are printed as a figure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "util.h"

enum { OUT_L, OUT_R, OUT_GAIN };

/* Deterministic noise in [-1, 1]. */
static float
noise(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((*s >> 8) * (2.0 / 16777216.0) - 1.0);
}

/* Fill a stereo test signal of kind k: 0 music-like (chords, drums, noise),
 * 1 full-scale square at 1 kHz, 2 spikes on silence, 3 alternating +-1 at
 * Nyquist, 4 DC at +10 then -10, 5 NaN and infinity among loud noise. */
static void
fill(int k, float *l, float *r, size_t n, float rate)
{
	uint32_t s = 12345;
	for (size_t i = 0; i < n; i++) {
		double t = i / rate;
		float a = 0, b = 0;
		switch (k) {
		case 0:
			a = (float)(0.4 * sin(2 * M_PI * 110 * t) + 0.3 * sin(2 * M_PI * 277 * t) +
			    0.3 * sin(2 * M_PI * 3300 * t) + 0.2 * noise(&s));
			if (i % 12000 < 200)          /* a drum hit */
				a += 2.0f * expf(-(float)(i % 12000) / 30.0f);
			b = (float)(0.5 * sin(2 * M_PI * 165 * t) + 0.2 * noise(&s));
			break;
		case 1:
			a = b = fmod(t * 1000, 1.0) < 0.5 ? 1.0f : -1.0f;
			break;
		case 2:
			a = i % 997 == 0 ? 1e6f : 0.0f;
			b = i % 1499 == 7 ? -300.0f : 0.0f;
			break;
		case 3:
			a = i & 1 ? 1.0f : -1.0f;
			b = -a;
			break;
		case 4:
			a = b = i < n / 2 ? 10.0f : -10.0f;
			break;
		case 5:
			a = noise(&s);
			b = noise(&s);
			if (i % 501 == 0) a = NAN;
			if (i % 703 == 0) b = INFINITY;
			if (i % 911 == 0) a = -INFINITY;
			break;
		}
		l[i] = a;
		r[i] = b;
	}
}

/* The largest |x| of x upsampled 4x (FFT zero padding): an estimate of the
 * intersample peak. */
static double
true_peak(const float *x, size_t n)
{
	size_t m = 4 * n;
	double *in = fftw_malloc(sizeof(double) * n), *out = fftw_malloc(sizeof(double) * m);
	fftw_complex *spec = fftw_malloc(sizeof(fftw_complex) * (m / 2 + 1));
	for (size_t i = 0; i < n; i++)
		in[i] = x[i];
	memset(spec, 0, sizeof(fftw_complex) * (m / 2 + 1));
	fftw_plan p = fftw_plan_dft_r2c_1d((int)n, in, spec, FFTW_ESTIMATE);
	fftw_execute(p);
	fftw_destroy_plan(p);
	p = fftw_plan_dft_c2r_1d((int)m, spec, out, FFTW_ESTIMATE);
	fftw_execute(p);
	fftw_destroy_plan(p);
	double pk = 0;
	for (size_t i = 0; i < m; i++)
		pk = fmax(pk, fabs(out[i] / n));
	fftw_free(in); fftw_free(out); fftw_free(spec);
	return pk;
}

/* Hot and hostile signals never pass the ceiling. */
static void
ceiling_holds(void)
{
	const float rates[] = { 44100, 48000, 96000 };
	const float looks[] = { 0, 0.00002f, 0.001f, 0.005f, 0.02f };
	const unsigned blocks[] = { 1, 64, 333, 2048 };
	const float ceilings[] = { -1, -6, 0 };
	double worst_over = -1e9;
	for (size_t ri = 0; ri < 3; ri++)
	for (size_t li = 0; li < 5; li++)
	for (int kind = 0; kind < 6; kind++) {
		float rate = rates[ri];
		size_t n = (size_t)rate;          /* one second */
		unsigned block = blocks[(ri + li + (size_t)kind) % 4];
		float ceiling = ceilings[(li + (size_t)kind) % 3];
		float *l = xcalloc_test(n, sizeof(float)), *r = xcalloc_test(n, sizeof(float));
		float *y[3];
		for (int k = 0; k < 3; k++)
			y[k] = xcalloc_test(n, sizeof(float));
		fill(kind, l, r, n, rate);
		struct inst *lim = inst_new("limiter", rate, 1);
		inst_set(lim, "ceiling", ceiling);
		inst_set(lim, "lookahead", looks[li]);
		inst_set(lim, "gain", kind == 0 ? 24 : 6);
		float *in[2] = { l, r };
		if (kind == 0) {
			/* the look-ahead changed mid-signal, twice */
			inst_run(lim, in, y, n / 3, block);
			inst_set(lim, "lookahead", looks[(li + 2) % 5]);
			float *in2[2] = { l + n / 3, r + n / 3 };
			float *y2[3] = { y[0] + n / 3, y[1] + n / 3, y[2] + n / 3 };
			inst_run(lim, in2, y2, n / 3, block);
			inst_set(lim, "lookahead", looks[li]);
			size_t done = 2 * (n / 3);
			float *in3[2] = { l + done, r + done };
			float *y3[3] = { y[0] + done, y[1] + done, y[2] + done };
			inst_run(lim, in3, y3, n - done, block);
		} else {
			inst_run(lim, in, y, n, block);
		}
		double c = pow(10, ceiling / 20.0);
		int finite = 1;
		double pk = 0;
		for (size_t i = 0; i < n; i++) {
			finite &= isfinite(y[OUT_L][i]) && isfinite(y[OUT_R][i]);
			pk = fmax(pk, fmax(fabs(y[OUT_L][i]), fabs(y[OUT_R][i])));
		}
		double over = db_amp(pk / c);
		if (over > worst_over)
			worst_over = over;
		if (!finite || pk > (float)c)
			fail("rate %g lookahead %g kind %d block %u ceiling %g: peak %.6f (%+.4f dB over), finite %d",
			    rate, looks[li], kind, block, ceiling, pk, over, finite);
		inst_free(lim);
		free(l); free(r);
		for (int k = 0; k < 3; k++)
			free(y[k]);
	}
	report("hot and hostile input: highest sample peak relative to the ceiling", worst_over,
	    "dB", "<=", 0, worst_over <= 0);
}

/* A figure, not a bound: the intersample peak of a mix driven 24 dB into
 * the ceiling, 4x oversampled, in the middle of the render (away from the
 * ends, which the FFT joins). */
static void
true_peak_figure(void)
{
	const float looks[] = { 0, 0.001f, 0.005f };
	const size_t n = 48000, from = 4800, len = 38400;
	for (size_t li = 0; li < 3; li++) {
		float *l = xcalloc_test(n, sizeof(float)), *r = xcalloc_test(n, sizeof(float));
		float *y[3];
		for (int k = 0; k < 3; k++)
			y[k] = xcalloc_test(n, sizeof(float));
		fill(0, l, r, n, 48000);
		struct inst *lim = inst_new("limiter", 48000, 1);
		inst_set(lim, "lookahead", looks[li]);
		inst_set(lim, "gain", 24);
		float *in[2] = { l, r };
		inst_run(lim, in, y, n, 256);
		double c = pow(10, -1 / 20.0);
		double tp = fmax(true_peak(y[OUT_L] + from, len), true_peak(y[OUT_R] + from, len));
		printf("figure: lookahead %g s, a mix 24 dB into the ceiling: 4x-oversampled peak "
		    "%+.3f dB relative to the ceiling (sample peak: never above)\n",
		    looks[li], db_amp(tp / c));
		inst_free(lim);
		free(l); free(r);
		for (int k = 0; k < 3; k++)
			free(y[k]);
	}
}

/* Under the ceiling: bit-exact, delayed by the reported latency. */
static void
transparent_and_delayed(void)
{
	const float looks[] = { 0, 0.0001f, 0.001f, 0.0053f, 0.02f };
	const size_t n = 20000;
	for (size_t li = 0; li < 5; li++) {
		struct inst *lim = inst_new("limiter", 48000, 1);
		inst_set(lim, "lookahead", looks[li]);
		float params[MODULE_MAX_PARAMS];
		for (unsigned k = 0; k < lim->type->n_params; k++)
			params[k] = lim->type->params[k].def;
		params[module_param_index(lim->type, "lookahead")] = looks[li];
		unsigned latency = lim->type->latency(params, 48000);
		unsigned want = (unsigned)lroundf(looks[li] * 48000);
		float *x = xcalloc_test(n, sizeof(float)), *y[3];
		for (int k = 0; k < 3; k++)
			y[k] = xcalloc_test(n, sizeof(float));
		uint32_t s = 99;
		for (size_t i = 0; i < n; i++)
			x[i] = 0.5f * noise(&s);      /* -6 dBFS at most, so even its
					 * intersample estimates stay under -1 */
		float *in[2] = { x, NULL };
		inst_run(lim, in, y, n, 100);
		int exact = 1;
		for (size_t i = 0; i < n; i++) {
			float expect = i >= latency ? x[i - latency] : 0.0f;
			exact &= y[OUT_L][i] == expect && y[OUT_R][i] == expect;
		}
		char name[160];
		snprintf(name, sizeof name, "lookahead %g s: reported latency", looks[li]);
		report(name, latency, "frames", "==", want, latency == want);
		snprintf(name, sizeof name, "lookahead %g s: under the ceiling, output is the input "
		    "delayed by the latency, bit-exact", looks[li]);
		report(name, exact, "", "==", 1, exact);
		inst_free(lim);
		free(x);
		for (int k = 0; k < 3; k++)
			free(y[k]);
	}
}

/* With look-ahead, the gain is down before the peak arrives and moves by
 * small steps; without, it drops at the peak. */
static void
ramps_before_the_peak(void)
{
	const size_t n = 9600, at = 4800;
	float *x = xcalloc_test(n, sizeof(float)), *y[3];
	for (int k = 0; k < 3; k++)
		y[k] = xcalloc_test(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = i == at ? 2.0f : 0.1f * (float)sin(i * 0.01);
	struct inst *lim = inst_new("limiter", 48000, 1);
	inst_set(lim, "lookahead", 0.005f);        /* 240 frames */
	float *in[2] = { x, NULL };
	inst_run(lim, in, y, n, 64);
	double c = pow(10, -1 / 20.0);
	double at_peak = y[OUT_L][at + 240];
	double step = 0;
	for (size_t i = 1; i < n; i++)
		step = fmax(step, fabs(y[OUT_GAIN][i] - y[OUT_GAIN][i - 1]));
	report("a +6 dBFS spike, 5 ms look-ahead: it comes out at", db_amp(fabs(at_peak)),
	    "dBFS", "within 0.01 of", -1, fabs(db_amp(fabs(at_peak) / c)) <= 0.01);
	report("gain already down 120 frames before the spike",
	    db_amp(y[OUT_GAIN][at + 120]), "dB", "<=", -0.5, db_amp(y[OUT_GAIN][at + 120]) <= -0.5);
	report("largest gain step per frame (a ramp, not a corner)", step, "", "<=", 0.01,
	    step <= 0.01);
	inst_free(lim);
	free(x);
	for (int k = 0; k < 3; k++)
		free(y[k]);
}

/* NaN and infinity come out as silence at their own frames, not as a
 * sample at the ceiling, and leave the rest alone. */
static void
nonfinite_is_silence(void)
{
	const size_t n = 4800;
	float *x = xcalloc_test(n, sizeof(float)), *y[3];
	for (int k = 0; k < 3; k++)
		y[k] = xcalloc_test(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = 0.25f;
	x[1000] = INFINITY;
	x[2000] = NAN;
	x[3000] = -INFINITY;
	struct inst *lim = inst_new("limiter", 48000, 1);
	float *in[2] = { x, NULL };
	inst_run(lim, in, y, n, 256);
	int ok = y[OUT_L][1000] == 0 && y[OUT_L][2000] == 0 && y[OUT_L][3000] == 0 &&
	    y[OUT_L][999] == 0.25f && y[OUT_L][1001] == 0.25f && y[OUT_L][n - 1] == 0.25f;
	report("inf, NaN, -inf in: silent at those frames, the rest untouched", ok, "", "==", 1, ok);
	inst_free(lim);
	free(x);
	for (int k = 0; k < 3; k++)
		free(y[k]);
}

int
main(void)
{
	nonfinite_is_silence();
	ceiling_holds();
	true_peak_figure();
	transparent_and_delayed();
	ramps_before_the_peak();
	return test_status();
}
