/*
 * tests/ladder_drive_test.c — the driven ladder: its aliasing, its
 * asymmetry control, its DC blocker, and that drive 0 is left linear.
 *
 * Alias: a full-scale sine through the ladder at drive 1 (cutoff at the top,
 * res 0 and 0.5, asym 0 and 0.5), one second analysed with a
 * Blackman-Harris window on a 1 Hz grid; the worst line more than 8 bins
 * from DC and from every harmonic below Nyquist, against the fundamental,
 * in dBc.  The repro: 9 kHz gave -25 dBc (at 3 kHz) and 5 kHz -41.
 * Bound -70 dBc: below 20 kHz for 5, 7 and 9 kHz, and over the whole band
 * for 9 kHz (the goal).  A 5 kHz sine's fifth harmonic, 25 kHz, falls in
 * the decimator's transition band and folds to 23 kHz: printed.
 *
 * Asymmetry: a 1 kHz sine at 0.5, drive 1: the second harmonic is absent at
 * asym 0 (symmetric) and present at asym 0.5 and -0.5.
 *
 * DC: the repro (a pulse at pw 0.1 from the vco into a driven
 * ladder gave DC -0.12), a sine at asym 1, and a DC step: the mean of the
 * last second after a settling second, <= -80 dBFS.  At drive 0 the ladder
 * is the textbook lowpass, DC passed at unit gain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define N 48000u                /* analysed, 1 Hz bins */
#define SETTLE 24000u
#define GUARD 8u
#define ALIAS_BOUND (-70.0)
#define DC_BOUND (-80.0)

/* Run a ladder on x[0..total) into y with the given settings. */
static void
run_ladder(const float *x, float *y, size_t total, float cutoff, float res,
    float drive, float asym)
{
	struct inst *m = inst_new("ladder", (float)RATE, 5);
	float *in[3] = { (float *)x, NULL, NULL };
	float *out[1] = { y };

	inst_set(m, "cutoff", cutoff);
	inst_set(m, "res", res);
	inst_set(m, "drive", drive);
	inst_set(m, "asym", asym);
	inst_run(m, in, out, total, 256);
	inst_free(m);
}

/* Worst non-harmonic line of y[0..N) for a fundamental on bin m, below
 * `top` Hz, dBc. */
static double
worst_alias(const float *y, unsigned m, unsigned top, unsigned *where)
{
	double *p = spectrum(y, N, WINDOW_BLACKMAN_HARRIS);
	double fund = 0, worst = 0;

	for (unsigned k = m - GUARD; k <= m + GUARD; k++)
		fund = p[k] > fund ? p[k] : fund;
	for (unsigned k = GUARD + 1; k <= top && k <= N / 2; k++) {
		unsigned near = (k + m / 2) / m * m;
		unsigned dist = k > near ? k - near : near - k;
		if (dist <= GUARD)
			continue;
		if (p[k] > worst) {
			worst = p[k];
			*where = k;
		}
	}
	free(p);
	return db_power(worst / fund);
}

static void
test_alias(void)
{
	const unsigned freqs[] = { 9000, 5000, 7000 };
	const float res[] = { 0, 0.5f }, asym[] = { 0, 0.5f };
	size_t total = SETTLE + N;
	float *x = xcalloc_test(total, sizeof(float));
	float *y = xcalloc_test(total, sizeof(float));
	char name[120];

	for (size_t f = 0; f < sizeof freqs / sizeof freqs[0]; f++) {
		gen_sine(x, total, freqs[f], RATE, 1.0);
		for (size_t r = 0; r < 2; r++) {
			for (size_t a = 0; a < 2; a++) {
				unsigned at = 0;
				run_ladder(x, y, total, 20000, res[r], 1,
				    asym[a]);
				double z = worst_alias(y + SETTLE, freqs[f],
				    N / 2, &at);
				unsigned at20 = 0;
				double z20 = worst_alias(y + SETTLE, freqs[f],
				    20000, &at20);
				snprintf(name, sizeof name, "ladder drive 1 "
				    "res %.1f asym %.1f, %u Hz sine: worst "
				    "alias below 20 kHz (at %u Hz)", res[r],
				    asym[a], freqs[f], at20);
				report(name, z20, "dBc", "<=", ALIAS_BOUND,
				    z20 <= ALIAS_BOUND);
				/* the 9 kHz goal holds over the whole band;
				 * others alias into 20-24 kHz, where the
				 * halfband's transition lies */
				snprintf(name, sizeof name, "    whole band "
				    "(at %u Hz)", at);
				if (freqs[f] == 9000)
					report(name, z, "dBc", "<=",
					    ALIAS_BOUND, z <= ALIAS_BOUND);
				else
					printf("%s: %.1f dBc\n", name, z);
			}
		}
	}
	free(x);
	free(y);
}

/* Second harmonic of a 1 kHz sine, dBc. */
static double
second_harmonic(float asym)
{
	size_t total = SETTLE + N;
	float *x = xcalloc_test(total, sizeof(float));
	float *y = xcalloc_test(total, sizeof(float));

	gen_sine(x, total, 1000, RATE, 0.5);
	run_ladder(x, y, total, 20000, 0, 1, asym);
	double *p = spectrum(y + SETTLE, N, WINDOW_BLACKMAN_HARRIS);
	double h1 = 0, h2 = 0;
	for (unsigned k = 1000 - GUARD; k <= 1000 + GUARD; k++)
		h1 = p[k] > h1 ? p[k] : h1;
	for (unsigned k = 2000 - GUARD; k <= 2000 + GUARD; k++)
		h2 = p[k] > h2 ? p[k] : h2;
	free(p);
	free(x);
	free(y);
	return db_power((h2 + 1e-30) / h1);
}

static void
test_asym(void)
{
	double sym = second_harmonic(0);
	double pos = second_harmonic(0.5f), neg = second_harmonic(-0.5f);

	report("ladder drive 1 asym 0: 2nd harmonic of 1 kHz", sym, "dBc",
	    "<=", -100, sym <= -100);
	report("ladder drive 1 asym 0.5: 2nd harmonic of 1 kHz", pos, "dBc",
	    ">=", -40, pos >= -40);
	report("ladder drive 1 asym -0.5: 2nd harmonic of 1 kHz", neg, "dBc",
	    ">=", -40, neg >= -40);
}

/* Mean of y[SETTLE + N/2 .. SETTLE + 3N/2), dBFS (the last second). */
static double
dc_dbfs(const float *y)
{
	double s = 0;
	for (size_t i = 0; i < N; i++)
		s += y[SETTLE + N / 2 + i];
	return db_amp(fabs(s / N) + 1e-30);
}

static void
test_dc(void)
{
	size_t total = SETTLE + N / 2 + N;
	float *x = xcalloc_test(total, sizeof(float));
	float *y = xcalloc_test(total, sizeof(float));
	struct inst *v = inst_new("vco", (float)RATE, 1);
	float *vin[4] = { NULL, NULL, NULL, NULL };
	float *vout[1] = { x };
	double d;

	/* the repro: a pulse at pw 0.1, 110 Hz, into a driven ladder */
	inst_set(v, "wave", 1);      /* pulse */
	inst_set(v, "pw", 0.1f);
	inst_set(v, "freq", 110);
	inst_run(v, vin, vout, total, 256);
	inst_free(v);
	run_ladder(x, y, total, 2000, 0.5f, 1, 0);
	d = dc_dbfs(y);
	report("ladder drive 1: DC of a pw 0.1 pulse (repro: -0.12)", d,
	    "dBFS", "<=", DC_BOUND, d <= DC_BOUND);
	run_ladder(x, y, total, 2000, 0.5f, 0.3f, 1);
	d = dc_dbfs(y);
	report("ladder drive 0.3 asym 1: DC of a pw 0.1 pulse", d, "dBFS",
	    "<=", DC_BOUND, d <= DC_BOUND);

	gen_sine(x, total, 220, RATE, 0.8);
	run_ladder(x, y, total, 5000, 0, 1, 1);
	d = dc_dbfs(y);
	report("ladder drive 1 asym 1: DC of a 220 Hz sine", d, "dBFS",
	    "<=", DC_BOUND, d <= DC_BOUND);

	for (size_t i = 0; i < total; i++)
		x[i] = 0.5f;
	run_ladder(x, y, total, 1000, 0.7f, 0.5f, -1);
	d = dc_dbfs(y);
	report("ladder drive 0.5 asym -1: a DC input of 0.5", d, "dBFS",
	    "<=", DC_BOUND, d <= DC_BOUND);

	/* drive 0 is the textbook lowpass: DC through at unit gain (res 0) */
	run_ladder(x, y, total, 1000, 0, 0, 0);
	d = fabs(y[total - 1] - 0.5);
	report("ladder drive 0: DC of 0.5 passed, error", d, "", "<=", 1e-6,
	    d <= 1e-6);
	free(x);
	free(y);
}

int
main(void)
{
	test_alias();
	test_asym();
	test_dc();
	return test_status();
}
