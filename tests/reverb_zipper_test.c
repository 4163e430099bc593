/*
 * tests/reverb_zipper_test.c — a reverb parameter change glides per
 * sample, with no zipper at the control tick: a 100 Hz sine runs through
 * the reverb for 3 s, one parameter jumps, and in the 85 ms after the jump
 * (Blackman-Harris, 4096 frames) the energy within 30 Hz of the tick's
 * sidebands (k x 1500 Hz +- 100 Hz, k = 1..15: a 32-sample tick at 48 kHz)
 * must be at most -90 dB relative to the carrier's.  The repro,
 * `set r.damping 0.05`, gave -35 dB; the same window with no edit is
 * printed as the floor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define BLOCK 64
#define CARRIER 100.0       /* Hz */
#define TICK_HZ 1500.0      /* 48 kHz / 32 */
#define HALF_BAND 30.0      /* Hz */
#define SETTLE 144000       /* frames before the edit (3 s) */
#define WINDOW 4096         /* frames analysed from the edit */
#define BOUND (-90.0)       /* dB */

/* Energy near the tick sidebands relative to the carrier, dB, over
 * WINDOW frames of x. */
static double
sideband_db(const float *x)
{
	double *p = spectrum(x, WINDOW, WINDOW_BLACKMAN_HARRIS);
	double carrier = 0, side = 0;

	for (size_t k = 0; k <= WINDOW / 2; k++) {
		double f = (double)k * RATE / WINDOW;
		if (fabs(f - CARRIER) <= HALF_BAND)
			carrier += p[k];
		for (int h = 1; h <= 15; h++)
			if (fabs(f - (h * TICK_HZ - CARRIER)) <= HALF_BAND ||
			    fabs(f - (h * TICK_HZ + CARRIER)) <= HALF_BAND)
				side += p[k];
	}
	free(p);
	return db_power(side / carrier + 1e-30);
}

/* The sine through a default reverb (decay 2 s, mix 0.3), `param` set to
 * `to` at the edit (none when NULL); the worse side's figure. */
static double
run_edit(const char *param, float from, float to)
{
	size_t n = SETTLE + WINDOW;
	struct inst *m = inst_new("reverb", (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof(float));
	float *l = xcalloc_test(n, sizeof(float));
	float *r = xcalloc_test(n, sizeof(float));

	gen_sine(x, n, CARRIER, RATE, 0.5);
	if (param != NULL)
		inst_set(m, param, from);
	inst_run(m, (float *[]){ x, x }, (float *[]){ l, r }, SETTLE, BLOCK);
	if (param != NULL)
		inst_set(m, param, to);
	inst_run(m, (float *[]){ x + SETTLE, x + SETTLE },
	    (float *[]){ l + SETTLE, r + SETTLE }, WINDOW, BLOCK);
	double z = fmax(sideband_db(l + SETTLE), sideband_db(r + SETTLE));
	free(x);
	free(l);
	free(r);
	inst_free(m);
	return z;
}

int
main(void)
{
	static const struct { const char *param; float from, to; } edits[] = {
		{ "damping", 0.5f, 0.05f },   /* the repro */
		{ "damping", 0.05f, 1.0f },
		{ "decay", 2.0f, 0.3f },
		{ "decay", 0.5f, 30.0f },
		{ "size", 1.0f, 1.5f },
		{ "predelay", 0.01f, 0.05f },
		{ "width", 1.0f, 0.0f },
		{ "mix", 0.3f, 1.0f },
	};
	char name[160];
	double floor = run_edit(NULL, 0, 0);

	printf("no edit: tick sidebands %.1f dB re the carrier\n", floor);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		double z = run_edit(edits[i].param, edits[i].from, edits[i].to);
		snprintf(name, sizeof name,
		    "set %s %g -> %g on a 100 Hz sine: tick sidebands (no edit: "
		    "%.1f dB)", edits[i].param, edits[i].from, edits[i].to, floor);
		report(name, z, "dB", "<=", BOUND, z <= BOUND);
	}
	return test_status();
}
