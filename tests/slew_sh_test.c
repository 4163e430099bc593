/*
 * tests/slew_sh_test.c — slew and sh keep their promises, measured:
 *   slew linear: a step of 1 takes `rise` up and `fall` down, to the
 *     sample; a half step half as long; a signal slower than the limit
 *     passes unchanged; exp: within 1 % of the target at `rise`;
 *   sh: the value at each rising edge's own frame, held exactly until the
 *     next edge, across block boundaries; no edge, no change; noise when
 *     unconnected stays in [-1, 1] and repeats per seed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define BLOCK 100u          /* not a divisor of the edges: they straddle */

/* Frames until y first reaches `level` going the way of `up`. */
static long
frames_to(const float *y, size_t n, double level, int up)
{
	for (size_t i = 0; i < n; i++)
		if (up ? y[i] >= level : y[i] <= level)
			return (long)i;
	return -1;
}

static void
slew_linear(void)
{
	size_t n = 48000;
	struct inst *s = inst_new("slew", (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof *x), *y = xcalloc_test(n, sizeof *y);
	float *in[1] = { x }, *out[1] = { y };

	inst_set(s, "rise", 0.1f);     /* 4800 frames for a step of 1 */
	inst_set(s, "fall", 0.25f);    /* 12000 frames */
	for (size_t i = 0; i < n; i++)
		x[i] = i < 20000 ? 1.0f : (i < 40000 ? 0.0f : 0.5f);
	inst_run(s, in, out, n, BLOCK);
	long up = frames_to(y, n, 1.0, 1);
	long down = frames_to(y + 20000, n - 20000, 0.0, 0);
	long half = frames_to(y + 40000, n - 40000, 0.5, 1);
	report("slew linear rise=0.1: frames for a step of 1 (4800 asked)",
	    (double)up - 4799, "frames off", "<=", 1, labs(up - 4799) <= 1);
	report("slew linear fall=0.25: frames for a step of -1 (12000 asked)",
	    (double)down - 11999, "frames off", "<=", 1, labs(down - 11999) <= 1);
	report("slew linear rise=0.1: frames for a step of 0.5 (2400 asked)",
	    (double)half - 2399, "frames off", "<=", 1, labs(half - 2399) <= 1);
	/* a straight line at the rise rate: the slope, measured mid-ramp */
	double slope = (y[3000] - y[1000]) / 2000.0 * RATE;
	report("slew linear rise=0.1: slope, units per second (10 asked)",
	    slope, "/s", "~", 10, fabs(slope - 10) < 1e-3);

	/* slower than the limit: a 1 Hz sine of amplitude 0.5 (peak slope
	 * pi units/s, limit 10 units/s) comes out exactly */
	gen_sine(x, n, 1.0, RATE, 0.5);
	inst_free(s);
	s = inst_new("slew", (float)RATE, 1);
	inst_set(s, "rise", 0.1f);
	inst_set(s, "fall", 0.1f);
	inst_run(s, in, out, n, BLOCK);
	double worst = 0;
	for (size_t i = 0; i < n; i++)
		worst = fmax(worst, fabs((double)y[i] - x[i]));
	report("slew: a signal slower than the limit, largest change", worst,
	    "", "==", 0, worst == 0);

	/* exp: within 1 % at the time asked */
	inst_free(s);
	s = inst_new("slew", (float)RATE, 1);
	inst_set(s, "shape", 1);
	inst_set(s, "rise", 0.05f);    /* 2400 frames */
	for (size_t i = 0; i < n; i++)
		x[i] = 0.8f;
	inst_run(s, in, out, n, BLOCK);
	long t99 = frames_to(y, n, 0.8 * 0.99, 1);
	report("slew exp rise=0.05: frames to within 1% (2400 asked)",
	    (double)t99 - 2400, "frames off", "<=", 1, labs(t99 - 2400) <= 1);
	free(x);
	free(y);
	inst_free(s);
}

static void
sh_edges(void)
{
	size_t n = 10000;
	struct inst *h = inst_new("sh", (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof *x), *t = xcalloc_test(n, sizeof *t);
	float *y = xcalloc_test(n, sizeof *y);
	float *in[2] = { x, t }, *out[1] = { y };
	static const size_t edges[] = { 99, 100 + 250, 1234, 1235 + 3, 5000, 9999 };
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		x[i] = (float)i * 1e-4f;                 /* a ramp: the frame */
	/* each edge: high for 2 frames, then low (0.5 itself is low) */
	for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
		for (size_t i = edges[e]; i < edges[e] + 2 && i < n; i++)
			t[i] = 1.0f;
	for (size_t i = 0; i < n; i++)
		if (t[i] == 0.0f)
			t[i] = (i % 7 == 0) ? 0.5f : -1.0f;     /* noise below the edge */
	inst_run(h, in, out, n, BLOCK);
	float want = 0.0f;
	for (size_t i = 0, e = 0; i < n; i++) {
		if (e < sizeof edges / sizeof edges[0] && i == edges[e]) {
			want = x[i];
			e++;
		}
		if (y[i] != want)
			bad++;
	}
	report("sh: frames whose value is not the input at the last rising edge",
	    bad, "frames", "==", 0, bad == 0);

	/* noise source: in unconnected, a trigger each 10 frames */
	float *in2[2] = { NULL, t };
	for (size_t i = 0; i < n; i++)
		t[i] = (i % 10) < 5 ? 1.0f : 0.0f;
	inst_free(h);
	h = inst_new("sh", (float)RATE, 7);
	inst_run(h, in2, out, n, BLOCK);
	double lo = 1, hi = -1, sum = 0;
	int steady = 0;
	for (size_t i = 0; i < n; i++) {
		lo = fmin(lo, y[i]);
		hi = fmax(hi, y[i]);
		if (i % 10 != 0 && i > 0 && y[i] != y[i - 1])
			steady++;
	}
	for (size_t i = 0; i < n; i += 10)
		sum += y[i];
	double mean = sum / (double)(n / 10);
	char name[160];
	snprintf(name, sizeof name, "sh noise: range [%.3f, %.3f], mean of 1000 "
	    "draws %.3f; changes between edges", lo, hi, mean);
	report(name, steady, "", "==", 0, steady == 0 && lo >= -1 && hi <= 1 &&
	    hi - lo > 1.8 && fabs(mean) < 0.1);
	free(x);
	free(t);
	free(y);
	inst_free(h);
}

int
main(void)
{
	slew_linear();
	sh_edges();
	return test_status();
}
