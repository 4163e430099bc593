/*
 * tests/vco_sine_thd_test.c — the vco's sine: total harmonic distortion
 * (power of harmonics 2..10 over the fundamental) <= -100 dB, and amplitude
 * equal to the level parameter within 0.01 dB.
 *
 * Exact-periodic analysis as in vco_alias_test.c: 48 kHz, N = 65536,
 * freq = 48000 m / N with m odd, rectangular window, so harmonic h is bin
 * h m (folded about Nyquist).  The per-sample path (pitch input connected)
 * is not exactly periodic; it is measured with a Blackman-Harris window,
 * summing 6 bins either side of each harmonic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define N 65536u
#define SETTLE 16384u
#define BLOCK 128u
#define GUARD 6u

/* Power around bin k (folded into 0..N/2), `guard` bins either side. */
static double
line_power(const double *p, unsigned long k, unsigned guard)
{
	double s = 0;

	k %= N;
	if (k > N / 2)
		k = N - k;
	for (unsigned long b = k > guard ? k - guard : 0; b <= k + guard &&
	    b <= N / 2; b++)
		s += p[b];
	return s;
}

/* THD in dB of a vco sine on bin m at `level`; amplitude into *amp. */
static double
measure(unsigned m, double level, int pitch_zero, double *amp)
{
	struct inst *v = inst_new("vco", (float)RATE, 1);
	size_t total = SETTLE + N;
	float *y = xcalloc_test(total, sizeof *y);
	float *zero = xcalloc_test(total, sizeof *zero);
	float *in[4] = { pitch_zero ? zero : NULL, NULL, NULL, NULL };
	float *out[1] = { y };
	enum window w = pitch_zero ? WINDOW_BLACKMAN_HARRIS : WINDOW_RECT;
	unsigned guard = pitch_zero ? GUARD : 0;

	inst_set(v, "wave", 3);
	inst_set(v, "freq", (float)(RATE * m / N));
	inst_set(v, "level", (float)level);
	inst_run(v, in, out, total, BLOCK);

	double *p = spectrum(y + SETTLE, N, w);
	double fund = line_power(p, m, guard), harm = 0;
	for (unsigned h = 2; h <= 10; h++)
		harm += line_power(p, (unsigned long)h * m, guard);
	if (pitch_zero) {
		/* Blackman-Harris: sum of bins over the main lobe, divided by
		 * the window's noise bandwidth (2.0044 bins) */
		*amp = sqrt(4 * fund / 2.0044);
	} else {
		*amp = sqrt(4 * fund);
	}
	free(p);
	free(y);
	free(zero);
	inst_free(v);
	return db_power(harm / fund);
}

int
main(void)
{
	static const struct {
		const char *name;
		unsigned m;
		double level;
		int pitch_zero;
	} cases[] = {
		{ "1 kHz", 1365, 1.0, 0 },
		{ "1 kHz level 0.5", 1365, 0.5, 0 },
		{ "100 Hz", 137, 1.0, 0 },
		{ "5 kHz", 6827, 1.0, 0 },
		{ "1 kHz, pitch input connected", 1365, 1.0, 1 },
	};
	char name[96];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double amp, thd = measure(cases[i].m, cases[i].level,
		    cases[i].pitch_zero, &amp);
		double err = db_amp(amp / cases[i].level);

		snprintf(name, sizeof name, "sine THD, %s", cases[i].name);
		report(name, thd, "dB", "<=", -100, thd <= -100);
		snprintf(name, sizeof name, "sine amplitude error, %s",
		    cases[i].name);
		report(name, fabs(err), "dB", "<=", 0.01, fabs(err) <= 0.01);
	}
	return test_status();
}
