/*
 * tests/ring_test.c — the ring modulator's promise, measured: with offset 0
 * the output holds the sum and difference frequencies at half the product
 * of the amplitudes each, and the input and carrier themselves are
 * suppressed to better than -120 dBc; with offset 1 the input leaks at its
 * own level (amplitude modulation).  Both with an external carrier and
 * with the internal sine.
 *
 * Exact-periodic analysis: every frequency is a whole number of cycles in
 * N, so a rectangular window has no leakage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define N 48000u            /* 1 s: bins are whole Hz */
#define BLOCK 256u

/* Level of bin `hz` relative to `ref` (amplitude), dB. */
static double
level_db(const double *p, unsigned hz, double ref)
{
	/* a sine of amplitude a on a bin gives a^2/4 (rectangular window) */
	return db_power(p[hz] / (ref * ref / 4));
}

static void
ring_case(int internal, float offset)
{
	struct inst *r = inst_new("ring", (float)RATE, 1);
	float *x = xcalloc_test(N, sizeof *x), *c = xcalloc_test(N, sizeof *c);
	float *y = xcalloc_test(N, sizeof *y);
	float *in[2] = { x, internal ? NULL : c }, *out[1] = { y };
	unsigned fx = 1000, fc = 300;
	double ax = 0.8, ac = 1.0;

	gen_sine(x, N, fx, RATE, ax);
	gen_sine(c, N, fc, RATE, ac);
	inst_set(r, "freq", (float)fc);
	inst_set(r, "offset", offset);
	inst_run(r, in, out, N, BLOCK);
	double *p = spectrum(y, N, WINDOW_RECT);
	double side = ax * ac / 2;   /* each sideband's amplitude */
	double lo = level_db(p, fx - fc, side), hi = level_db(p, fx + fc, side);
	double leak_x = level_db(p, fx, side), leak_c = level_db(p, fc, side);
	double other = 0;
	for (unsigned k = 0; k <= N / 2; k++)
		if (k != fx - fc && k != fx + fc && k != fx && k != fc)
			other = fmax(other, p[k]);
	other = db_power(other / (side * side / 4));
	char name[200];
	const char *src = internal ? "internal carrier" : "external carrier";

	snprintf(name, sizeof name, "ring %s offset %g: sidebands 700 and 1300 Hz "
	    "vs in*carrier/2 (%.4f, %.4f dB), worst", src, offset, lo, hi);
	double dev = fmax(fabs(lo), fabs(hi));
	report(name, dev, "dB", "<=", 0.01, dev <= 0.01);
	snprintf(name, sizeof name, "ring %s offset %g: carrier 300 Hz leak", src,
	    offset);
	report(name, leak_c, "dBc", "<=", -120, leak_c <= -120);
	if (offset == 0.0f) {
		snprintf(name, sizeof name, "ring %s offset 0: input 1000 Hz leak", src);
		report(name, leak_x, "dBc", "<=", -120, leak_x <= -120);
	} else {
		/* the input at offset * its amplitude */
		double want = db_amp(offset * ax / side);
		snprintf(name, sizeof name, "ring %s offset %g: input 1000 Hz level "
		    "vs offset * in (%.4f dB)", src, offset, leak_x - want);
		report(name, fabs(leak_x - want), "dB", "<=", 0.01,
		    fabs(leak_x - want) <= 0.01);
	}
	snprintf(name, sizeof name, "ring %s offset %g: any other line", src, offset);
	report(name, other, "dBc", "<=", -120, other <= -120);
	free(p);
	free(x);
	free(c);
	free(y);
	inst_free(r);
}

int
main(void)
{
	ring_case(0, 0.0f);
	ring_case(1, 0.0f);
	ring_case(0, 1.0f);
	ring_case(1, 0.5f);
	return test_status();
}
