/*
 * tests/ladder_selfosc_test.c — at res 1 the ladder self-oscillates from
 * silence, at a steady bounded amplitude, within 1 cent of its cutoff; for
 * drive 0 and drive > 0, on the settled path (exact tan once per block) and
 * the per-sample path (pitch input connected, fast tan).
 *
 * Frequency is measured from positive-going zero crossings, located by
 * linear interpolation, over the last ANALYSE seconds: (crossings - 1) over
 * the time between the first and the last, so only two interpolation errors
 * enter, divided by the whole span.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define SETTLE 3.0              /* s before measuring */
#define ANALYSE 2.0             /* s measured */
#define BOUND_CENTS 1.0
#define MIN_RMS 0.01            /* oscillating: 140 dB above the noise floor */
#define MAX_PEAK 2.0            /* bounded */
#define MAX_DRIFT 0.01          /* rms change between the window's halves */

static const double cutoffs[] = { 220, 1000, 3000, 8000, 7919, 12000 };
static const double drives[] = { 0, 0.5, 1 };

/* Frequency, Hz, of x[0..n) from interpolated positive-going crossings;
 * 0 when fewer than two. */
static double
crossing_freq(const float *x, size_t n)
{
	double first = -1, last = -1;
	long count = 0;

	for (size_t i = 1; i < n; i++) {
		if (x[i - 1] < 0 && x[i] >= 0) {
			double t = (double)(i - 1) +
			    x[i - 1] / ((double)x[i - 1] - x[i]);
			if (first < 0)
				first = t;
			last = t;
			count++;
		}
	}
	return count >= 2 ? (double)(count - 1) * RATE / (last - first) : 0;
}

int
main(void)
{
	size_t settle = (size_t)(SETTLE * RATE), window = (size_t)(ANALYSE * RATE);
	size_t total = settle + window;
	float *y = xcalloc_test(total, sizeof(float));
	float *zero = xcalloc_test(total, sizeof(float));
	double worst = 0;

	for (int path = 0; path < 2; path++) {
		for (size_t d = 0; d < sizeof drives / sizeof drives[0]; d++) {
			for (size_t c = 0; c < sizeof cutoffs / sizeof cutoffs[0]; c++) {
				struct inst *m = inst_new("ladder", (float)RATE, 7);
				inst_set(m, "cutoff", (float)cutoffs[c]);
				inst_set(m, "res", 1);
				inst_set(m, "drive", (float)drives[d]);
				float *in[3] = { NULL, path ? zero : NULL, NULL };
				float *out[1] = { y };
				inst_run(m, in, out, total, 256);
				inst_free(m);

				const float *w = y + settle;
				double f = crossing_freq(w, window);
				double cents = f > 0 ?
				    1200.0 * log2(f / cutoffs[c]) : INFINITY;
				double r1 = rms(w, window / 2);
				double r2 = rms(w + window / 2, window / 2);
				double drift = fabs(r2 / r1 - 1.0);
				double pk = peak(w, window);
				char name[96];

				snprintf(name, sizeof name,
				    "ladder %s drive %.1f %5.0f Hz: freq error",
				    path ? "per-sample" : "settled", drives[d],
				    cutoffs[c]);
				report(name, cents, "cents", "|x| <=", BOUND_CENTS,
				    fabs(cents) <= BOUND_CENTS);
				printf("    rms %.4f, peak %.4f, rms drift %.2g\n",
				    r2, pk, drift);
				if (!(r2 >= MIN_RMS) || !(pk <= MAX_PEAK))
					fail("%s: rms %g (>= %g), peak %g (<= %g)",
					    name, r2, MIN_RMS, pk, MAX_PEAK);
				if (!(drift <= MAX_DRIFT))
					fail("%s: not steady, rms drift %g (<= %g)",
					    name, drift, MAX_DRIFT);
				if (!(fabs(cents) <= worst))
					worst = fabs(cents);
			}
		}
	}
	report("ladder self-oscillation worst freq error", worst, "cents",
	    "<=", BOUND_CENTS, worst <= BOUND_CENTS);
	free(y);
	free(zero);
	return test_status();
}
