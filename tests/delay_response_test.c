/*
 * tests/delay_response_test.c — the delay's interpolation keeps the top
 * end: at every fractional delay 0.0 .. 0.9 samples (on top of a whole
 * number) the magnitude at 10 kHz, relative to DC, is at least -0.6 dB at
 * 48 kHz.  Also: the delay is as long as set (impulse peak on the right
 * sample, low-frequency phase delay within 0.01 samples, fractions
 * included), and echoes decay by the feedback factor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define BLOCK 64
#define BOUND_DB (-0.6)        /* at 10 kHz */
#define DELAY_TOL 0.01         /* samples */

static const double freqs[] = { 100, 1000, 5000, 10000, 15000, 20000 };
#define N_FREQS (sizeof freqs / sizeof freqs[0])
#define TONE_AMP 0.1
#define DC 0.1

/* Run a wet-only delay, no feedback, of `samples` (may be fractional) on x. */
static float *
run_delay(const float *x, size_t n, double samples, float feedback)
{
	struct inst *m = inst_new("delay", (float)RATE, 1);
	float *y = xcalloc_test(n, sizeof(float));

	inst_set(m, "time", (float)(samples / RATE));
	inst_set(m, "feedback", feedback);
	inst_set(m, "mix", 1.0f);
	inst_run(m, (float *[]){ (float *)x, NULL }, (float *[]){ y }, n, BLOCK);
	inst_free(m);
	return y;
}

/* Magnitude (dB re DC) and delay (samples) at each test frequency for a
 * delay of `samples`; returns the 10 kHz figure, fills the worst seen. */
static void
measure(double samples, double *db10k, double *worst_delay_err, double *db)
{
	size_t skip = (size_t)samples + 64, len = (size_t)RATE;  /* 1 s */
	size_t n = skip + len;
	float *x = xcalloc_test(n, sizeof(float));
	double *in_d = xcalloc_test(len, sizeof(double));
	double *out_d = xcalloc_test(len, sizeof(double));

	for (size_t i = 0; i < n; i++) {
		double v = DC;
		for (size_t k = 0; k < N_FREQS; k++)
			v += TONE_AMP * sin(2 * M_PI * freqs[k] * (double)i / RATE);
		x[i] = (float)v;
	}
	float *y = run_delay(x, n, samples, 0.0f);
	double dc_in = 0, dc_out = 0;
	for (size_t i = 0; i < len; i++) {
		in_d[i] = x[skip + i];
		out_d[i] = y[skip + i];
		dc_in += in_d[i];
		dc_out += out_d[i];
	}
	double dc_gain = dc_out / dc_in;
	for (size_t k = 0; k < N_FREQS; k++) {
		double ai, pi, ao, po;
		tone_measure(in_d, len, freqs[k], RATE, &ai, &pi);
		tone_measure(out_d, len, freqs[k], RATE, &ao, &po);
		db[k] = db_amp(ao / ai / dc_gain);
		if (freqs[k] <= 1000) {
			/* phase delay, unwrapped around the expected value */
			double ph = pi - po, w = 2 * M_PI * freqs[k] / RATE;
			double turns = round((samples * w - ph) / (2 * M_PI));
			double d = (ph + 2 * M_PI * turns) / w;
			double err = fabs(d - samples);
			if (err > *worst_delay_err)
				*worst_delay_err = err;
		}
	}
	*db10k = db[3];
	free(x);
	free(y);
	free(in_d);
	free(out_d);
}

/* Sweep the fractions on top of `whole` samples; report the worst. */
static void
check_fractions(double whole)
{
	double worst10k = 0, worst_err = 0, worst_frac = 0;
	double db[N_FREQS];
	char name[160];

	printf("delay %g + fraction, magnitude re DC (dB) at", whole);
	for (size_t k = 0; k < N_FREQS; k++)
		printf(" %g", freqs[k]);
	printf(" Hz\n");
	for (int f = 0; f <= 9; f++) {
		double d10;
		measure(whole + f / 10.0, &d10, &worst_err, db);
		printf("  frac %.1f:", f / 10.0);
		for (size_t k = 0; k < N_FREQS; k++)
			printf(" %+.4f", db[k]);
		printf("\n");
		if (d10 < worst10k) {
			worst10k = d10;
			worst_frac = f / 10.0;
		}
	}
	snprintf(name, sizeof name,
	    "delay %g samples + fraction: worst 10 kHz magnitude (frac %.1f)",
	    whole, worst_frac);
	report(name, worst10k, "dB", ">=", BOUND_DB, worst10k >= BOUND_DB);
	snprintf(name, sizeof name,
	    "delay %g samples + fraction: worst phase-delay error at <= 1 kHz",
	    whole);
	report(name, worst_err, "samples", "<=", DELAY_TOL, worst_err <= DELAY_TOL);
}

/* An impulse comes out on exactly the set (whole) sample, at full height. */
static void
check_impulse(size_t samples)
{
	size_t n = samples + 256;
	float *x = xcalloc_test(n, sizeof(float));
	char name[120];

	x[10] = 1.0f;
	float *y = run_delay(x, n, (double)samples, 0.0f);
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		if (fabsf(y[i]) > fabsf(y[at]))
			at = i;
	snprintf(name, sizeof name, "impulse delayed %zu samples: peak at",
	    samples);
	long off = (long)at - 10;
	report(name, (double)off, "samples", "==", (double)samples,
	    off == (long)samples);
	snprintf(name, sizeof name, "impulse delayed %zu samples: peak height error",
	    samples);
	double e = fabs(y[at] - 1.0);
	report(name, e, "", "<=", 1e-4, e <= 1e-4);
	free(x);
	free(y);
}

/* Echoes of an impulse come every `samples` and shrink by `fb` each. */
static void
check_feedback(size_t samples, float fb)
{
	size_t echoes = 6, n = samples * (echoes + 1) + 64;
	float *x = xcalloc_test(n, sizeof(float));
	double worst = 0;
	char name[120];

	x[0] = 1.0f;
	float *y = run_delay(x, n, (double)samples, fb);
	for (size_t e = 1; e < echoes; e++) {
		double ratio = y[(e + 1) * samples] / y[e * samples];
		double err = fabs(ratio - fb);
		if (err > worst)
			worst = err;
	}
	snprintf(name, sizeof name,
	    "feedback %.2f, %zu-sample echoes: worst echo ratio error", fb,
	    samples);
	report(name, worst, "", "<=", 1e-4, worst <= 1e-4);
	free(x);
	free(y);
}

int
main(void)
{
	check_fractions(5);            /* near the shortest, 0.0001 s = 4.8 */
	check_fractions(100);
	check_fractions(47000);        /* near 1 s: float time precision */
	check_impulse(5);
	check_impulse(480);
	check_impulse(96000);          /* the longest: 2 s */
	check_feedback(480, 0.5f);
	check_feedback(1000, 0.99f);
	return test_status();
}
