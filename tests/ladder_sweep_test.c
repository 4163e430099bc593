/*
 * tests/ladder_sweep_test.c — the ladder stays finite and bounded under
 * audio-rate cutoff modulation at any res and drive, and its small-signal
 * response is the analytic one.
 *
 * Stability: 60 s per setting of loud saw / noise input while the mod input
 * (depth 6 octaves) is a 200 -> 2000 Hz sine sweep, then a 2000 -> 200 Hz
 * naive saw (jumps), the pitch input a slow +-2 octave sine, and the cutoff
 * parameter jumps to a random value every 0.1 s; res 0, 0.7 and 1, drive 0
 * and 1 (and comp 1 at res 1, which scales the input, and the bound, by
 * 1 + k).  Every sample must be finite, the peak within PEAK_BOUND.
 *
 * Response: steady sines at res 0 and 0.7, drive 0, compared with the
 * bilinear-transformed ladder H = P^4 / (1 + k P^4), P the prewarped one-pole
 * 1 / (1 + s); plus the -3 dB point and the slope well above cutoff.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define SECONDS 60.0
#define CHUNK 4800                  /* frames between cutoff jumps */
#define PEAK_BOUND 4.0
#define WINDOW 9600                 /* response: frames measured, 5 Hz grid */
#define SKIP 24000                  /* response: transient skipped, frames */
#define K_MAX 4.2                   /* the module's k at res 1 */
#define RESPONSE_BOUND_DB 0.05

/* A deterministic uniform random number in [-1, 1). */
static double
rnd(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (double)(int32_t)*state / 2147483648.0;
}

/* Run one stability setting; returns the peak |output| (INFINITY when a
 * sample is not finite). */
static double
stress(float res, float drive, float comp, const float *x, const float *mod,
    const float *pitch, size_t total)
{
	struct inst *m = inst_new("ladder", (float)RATE, 3);
	float *y = xcalloc_test(CHUNK, sizeof(float));
	uint32_t r = 99;
	double pk = 0;
	unsigned blocks[] = { 1, 7, 64, 256, 2048 };

	inst_set(m, "res", res);
	inst_set(m, "drive", drive);
	inst_set(m, "comp", comp);
	inst_set(m, "depth", 6);
	for (size_t done = 0, c = 0; done < total; done += CHUNK, c++) {
		float *in[3] = { (float *)x + done, (float *)pitch + done,
		    (float *)mod + done };
		float *out[1] = { y };
		inst_set(m, "cutoff",
		    (float)(20.0 * pow(1000.0, 0.5 + 0.5 * rnd(&r))));
		inst_run(m, in, out, CHUNK, blocks[c % 5]);
		for (size_t i = 0; i < CHUNK; i++) {
			if (!isfinite(y[i]))
				pk = INFINITY;
			else if (fabs(y[i]) > pk)
				pk = fabs(y[i]);
		}
	}
	inst_free(m);
	free(y);
	return pk;
}

/* Analytic response of the linear ladder at `freq` Hz, cutoff `fc` Hz,
 * feedback `k`. */
static double complex
ladder_analytic(double freq, double fc, double k)
{
	double complex s = I * tan(M_PI * freq / RATE) / tan(M_PI * fc / RATE);
	double complex p = 1.0 / (1.0 + s);
	double complex p4 = p * p * p * p;
	return p4 / (1.0 + k * p4);
}

/* Measured gain, dB, of the ladder at `freq` Hz (on the 5 Hz grid). */
static double
measure(double freq, double fc, float res, double amp)
{
	size_t total = SKIP + WINDOW;
	float *x = xcalloc_test(total, sizeof(float));
	float *y = xcalloc_test(total, sizeof(float));
	double *d = xcalloc_test(WINDOW, sizeof(double));
	double a_in, a_out, ph;
	struct inst *m = inst_new("ladder", (float)RATE, 1);

	inst_set(m, "cutoff", (float)fc);
	inst_set(m, "res", res);
	gen_sine(x, total, freq, RATE, amp);
	float *in[3] = { x, NULL, NULL };
	float *out[1] = { y };
	inst_run(m, in, out, total, 256);
	inst_free(m);
	for (size_t j = 0; j < WINDOW; j++)
		d[j] = x[SKIP + j];
	tone_measure(d, WINDOW, freq, RATE, &a_in, &ph);
	for (size_t j = 0; j < WINDOW; j++)
		d[j] = y[SKIP + j];
	tone_measure(d, WINDOW, freq, RATE, &a_out, &ph);
	free(x);
	free(y);
	free(d);
	return db_amp(a_out / a_in);
}

/* Stability under audio-rate modulation, all settings. */
static void
test_stability(void)
{
	size_t total = (size_t)(SECONDS * RATE);
	float *x = xcalloc_test(total, sizeof(float));
	float *mod = xcalloc_test(total, sizeof(float));
	float *pitch = xcalloc_test(total, sizeof(float));
	uint32_t r = 1;
	double ph = 0, saw = 0, mph = 0;
	const float res[] = { 0, 0.7f, 1 }, drive[] = { 0, 1 };
	char name[80];

	for (size_t i = 0; i < total; i++) {
		double t = (double)i / RATE;
		int seg = (int)(t / 5.0) % 3;     /* saw, noise, both */
		ph += 110.0 / RATE;
		ph -= floor(ph);
		saw = 2.0 * ph - 1.0;
		double noise = rnd(&r);
		x[i] = (float)(seg == 0 ? saw : seg == 1 ? noise :
		    0.6 * saw + 0.4 * noise);
		/* mod: 200 -> 2000 Hz sine, then 2000 -> 200 Hz saw */
		double half = SECONDS / 2;
		double mf = t < half ? 200.0 * pow(10.0, t / half) :
		    2000.0 * pow(0.1, (t - half) / half);
		mph += mf / RATE;
		mph -= floor(mph);
		mod[i] = (float)(t < half ? sin(2 * M_PI * mph) : 2 * mph - 1);
		pitch[i] = (float)(2.0 * sin(2 * M_PI * 0.3 * t));
	}
	for (size_t a = 0; a < 3; a++) {
		for (size_t b = 0; b < 2; b++) {
			double pk = stress(res[a], drive[b], 0, x, mod, pitch,
			    total);
			snprintf(name, sizeof name,
			    "ladder sweep res %.1f drive %.0f: peak", res[a],
			    drive[b]);
			report(name, pk, "", "<=", PEAK_BOUND, pk <= PEAK_BOUND);
		}
	}
	for (size_t b = 0; b < 2; b++) {
		double pk = stress(1, drive[b], 1, x, mod, pitch, total);
		/* comp 1 scales the input by 1 + k: so does the bound */
		double bound = PEAK_BOUND * (1.0 + K_MAX);
		snprintf(name, sizeof name,
		    "ladder sweep res 1.0 drive %.0f comp 1 (input x%.1f): peak",
		    drive[b], 1.0 + K_MAX);
		report(name, pk, "", "<=", bound, pk <= bound);
	}
	free(x);
	free(mod);
	free(pitch);
}

/* Small-signal response against the analytic ladder. */
static void
test_response(void)
{
	const double fc = 1000;
	const float res[] = { 0, 0.7f };

	for (size_t a = 0; a < 2; a++) {
		double worst = 0, k = K_MAX * res[a];
		for (int i = 0; i < 40; i++) {
			double f = 20.0 * pow(1000.0, i / 39.0);
			f = round(f / 5.0) * 5.0;
			double want = db_amp(cabs(ladder_analytic(f, fc, k)));
			if (want < -100)
				continue;
			double err = fabs(measure(f, fc, res[a], 0.001) - want);
			if (!(err <= worst))
				worst = err;
		}
		char name[80];
		snprintf(name, sizeof name,
		    "ladder res %.1f response max error vs analytic", res[a]);
		report(name, worst, "dB", "<=", RESPONSE_BOUND_DB,
		    worst <= RESPONSE_BOUND_DB);
	}

	/* gain at the cutoff, res 0: four poles at -3.01 dB each */
	double at_fc = measure(fc, fc, 0, 0.5);
	report("ladder res 0 gain at cutoff (analytic -12.04)", at_fc, "dB",
	    "within 0.05 of", -12.04, fabs(at_fc + 12.041) <= 0.05);

	/* -3 dB point, res 0: analytic by bisection, measured on the grid
	 * around it with linear interpolation in dB */
	double lo = 10, hi = fc;
	for (int i = 0; i < 60; i++) {
		double mid = sqrt(lo * hi);
		if (db_amp(cabs(ladder_analytic(mid, fc, 0))) > -3.0103)
			lo = mid;
		else
			hi = mid;
	}
	double f0 = floor(lo / 5.0) * 5.0, g0 = measure(f0, fc, 0, 0.5);
	double g1 = measure(f0 + 5.0, fc, 0, 0.5);
	double f3 = f0 + 5.0 * (-3.0103 - g0) / (g1 - g0);
	printf("ladder res 0: -3 dB at %.2f Hz (analytic %.2f Hz, %.3f of "
	    "cutoff)\n", f3, lo, lo / fc);
	report("ladder res 0 -3 dB point error", fabs(f3 / lo - 1) * 100, "%",
	    "<=", 0.5, fabs(f3 / lo - 1) <= 0.005);

	/* slope well above cutoff: cutoff 200 Hz, 2 -> 4 kHz */
	double slope = measure(4000, 200, 0, 0.5) - measure(2000, 200, 0, 0.5);
	report("ladder res 0 slope 10x-20x cutoff", slope, "dB/oct",
	    "within 1 of", -24, fabs(slope + 24) <= 1);
}

int
main(void)
{
	test_response();
	test_stability();
	return test_status();
}
