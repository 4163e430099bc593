/*
 * tests/compressor_test.c — the compressor keeps its promises: its static
 * curve (threshold, ratio, soft knee, makeup) within 0.02 dB of the formula
 * in the man page, measured with steady levels and with a 1 kHz sine; its
 * attack and release as time constants (63 % of a step in dB) within 2 %;
 * one gain for both channels; the sidechain drives it; a NaN does not stick.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0f

enum { IN_L, IN_R, IN_SIDE };
enum { OUT_L, OUT_R, OUT_GAIN };

/* The curve the man page states: gain in dB for a level in dBFS. */
static double
expected_gain(double level, double t, double ratio, double knee, double makeup)
{
	double over = level - t, s = 1.0 - 1.0 / ratio;
	if (2 * over <= -knee)
		return makeup;
	if (2 * over < knee)
		return makeup - s * (over + knee / 2) * (over + knee / 2) / (2 * knee);
	return makeup - s * over;
}

/* A fresh compressor with these settings. */
static struct inst *
make(double t, double ratio, double knee, double attack, double release,
    double makeup)
{
	struct inst *c = inst_new("compressor", RATE, 1);
	inst_set(c, "threshold", (float)t);
	inst_set(c, "ratio", (float)ratio);
	inst_set(c, "knee", (float)knee);
	inst_set(c, "attack", (float)attack);
	inst_set(c, "release", (float)release);
	inst_set(c, "makeup", (float)makeup);
	return c;
}

/* Static curve by steady (DC) levels and by a 1 kHz sine's peak level. */
static void
static_curve(void)
{
	const double settings[][4] = {   /* threshold, ratio, knee, makeup */
		{ -20, 4, 6, 0 }, { -30, 10, 0, 0 }, { -12, 2, 12, 6 }, { -40, 50, 3, 20 },
	};
	const size_t n = (size_t)(0.5 * RATE), tail = (size_t)(0.05 * RATE);
	float *x = xcalloc_test(n, sizeof *x), *y[3];
	for (int k = 0; k < 3; k++)
		y[k] = xcalloc_test(n, sizeof(float));
	double worst_dc = 0, worst_sine = 0;
	for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
		const double *p = settings[s];
		for (double level = -60; level <= 0.01; level += 1.0) {
			double expect = expected_gain(level, p[0], p[1], p[2], p[3]);
			/* a steady level: the detector sees a constant */
			struct inst *c = make(p[0], p[1], p[2], 0.001, 0.02, p[3]);
			for (size_t i = 0; i < n; i++)
				x[i] = (float)pow(10, level / 20);
			float *in[3] = { x, NULL, NULL };
			inst_run(c, in, y, n, 256);
			double got = db_amp(y[OUT_L][n - 1] / x[n - 1]);
			if (fabs(got - expect) > worst_dc)
				worst_dc = fabs(got - expect);
			if (fabs(got - expect) > 0.02)
				fail("DC at %.0f dBFS, t %.0f r %.0f knee %.0f: gain %.3f dB, want %.3f",
				    level, p[0], p[1], p[2], got, expect);
			inst_free(c);
			/* a 1 kHz sine: the curve applies to its peak level
			 * (attack 1 ms, release 1 s: the gain holds between peaks) */
			c = make(p[0], p[1], p[2], 0.001, 1.0, p[3]);
			gen_sine(x, n, 1000, RATE, pow(10, level / 20));
			inst_run(c, in, y, n, 256);
			got = db_amp(peak(y[OUT_L] + n - tail, tail) / peak(x + n - tail, tail));
			if (fabs(got - expect) > worst_sine)
				worst_sine = fabs(got - expect);
			inst_free(c);
		}
	}
	report("static curve, steady levels -60..0 dBFS, worst error", worst_dc, "dB",
	    "<=", 0.02, worst_dc <= 0.02);
	report("static curve, 1 kHz sine by its peak, worst error", worst_sine, "dB",
	    "<=", 0.1, worst_sine <= 0.1);
	free(x);
	for (int k = 0; k < 3; k++)
		free(y[k]);
}

/* Seconds after `from` until the gain (dB) has made 63.2 % of its way from
 * `start` to `end`; -1 if never. */
static double
time_to_63(const float *gain, size_t from, size_t n, double start, double end)
{
	double mark = start + (end - start) * (1 - exp(-1.0));
	for (size_t i = from; i < n; i++) {
		double g = db_amp(gain[i]);
		if (end < start ? g <= mark : g >= mark) {
			/* interpolate between the neighbouring frames */
			double g0 = db_amp(gain[i - 1]);
			double frac = (mark - g0) / (g - g0);
			return (double)(i - 1 - from) / RATE + frac / RATE + 1.0 / RATE;
		}
	}
	return -1;
}

/* A step from -40 to -10 dBFS and back, threshold -30, ratio 10, hard
 * knee: 18 dB of reduction comes and goes with the set time constants. */
static void
times(void)
{
	const double pairs[][2] = { { 0.001, 0.02 }, { 0.01, 0.2 }, { 0.1, 1.0 }, { 0.0003, 0.005 } };
	const size_t up = (size_t)(0.2 * RATE);
	for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
		double attack = pairs[p][0], release = pairs[p][1];
		size_t hold = up + (size_t)((attack * 12 + 0.05) * RATE);
		size_t n = hold + (size_t)((release * 12 + 0.05) * RATE);
		float *x = xcalloc_test(n, sizeof *x), *y[3];
		for (int k = 0; k < 3; k++)
			y[k] = xcalloc_test(n, sizeof(float));
		for (size_t i = 0; i < n; i++)
			x[i] = (float)pow(10, (i >= up && i < hold ? -10 : -40) / 20.0);
		struct inst *c = make(-30, 10, 0, attack, release, 0);
		float *in[3] = { x, NULL, NULL };
		inst_run(c, in, y, n, 64);
		double full = db_amp(y[OUT_GAIN][hold - 1]);
		char name[120];
		snprintf(name, sizeof name, "reduction after the step up (attack %g s)", attack);
		report(name, full, "dB", "within 0.01 of", -18, fabs(full + 18) <= 0.01);
		double ta = time_to_63(y[OUT_GAIN], up, hold, 0, -18);
		double tr = time_to_63(y[OUT_GAIN], hold, n, -18, 0);
		snprintf(name, sizeof name, "attack %g s measured, error", attack);
		report(name, 100 * (ta / attack - 1), "%", "within +-", 2,
		    fabs(ta / attack - 1) <= 0.02);
		snprintf(name, sizeof name, "release %g s measured, error", release);
		report(name, 100 * (tr / release - 1), "%", "within +-", 2,
		    fabs(tr / release - 1) <= 0.02);
		inst_free(c);
		free(x);
		for (int k = 0; k < 3; k++)
			free(y[k]);
	}
}

/* Stereo link, sidechain, gain output, NaN, silence. */
static void
linking(void)
{
	const size_t n = 24000;
	float *l = xcalloc_test(n, sizeof(float)), *r = xcalloc_test(n, sizeof(float));
	float *side = xcalloc_test(n, sizeof(float)), *y[3];
	for (int k = 0; k < 3; k++)
		y[k] = xcalloc_test(n, sizeof(float));
	for (size_t i = 0; i < n; i++) {
		l[i] = 0.5f;          /* -6 dBFS: compressed */
		r[i] = 0.01f;         /* -40 dBFS: alone it would not be */
	}
	struct inst *c = make(-20, 4, 0, 0.001, 0.02, 0);
	float *in[3] = { l, r, NULL };
	inst_run(c, in, y, n, 128);
	double gl = db_amp(y[OUT_L][n - 1] / l[n - 1]), gr = db_amp(y[OUT_R][n - 1] / r[n - 1]);
	report("stereo link: right's gain minus left's", gr - gl, "dB", "within 0.001 of", 0,
	    fabs(gr - gl) <= 0.001);
	report("gain output against the applied gain", db_amp(y[OUT_GAIN][n - 1]) - gl, "dB",
	    "within 0.001 of", 0, fabs(db_amp(y[OUT_GAIN][n - 1]) - gl) <= 0.001);
	inst_free(c);

	/* sidechain: a quiet signal ducked by a loud key */
	for (size_t i = 0; i < n; i++)
		side[i] = 0.5f;
	c = make(-20, 4, 0, 0.001, 0.02, 0);
	float *in2[3] = { r, NULL, side };
	inst_run(c, in2, y, n, 128);
	double g = db_amp(y[OUT_L][n - 1] / r[n - 1]);
	double want = expected_gain(db_amp(0.5), -20, 4, 0, 0);
	report("sidechain at -6 dBFS ducks a -40 dBFS input by", g, "dB", "within 0.02 of",
	    want, fabs(g - want) <= 0.02);
	report("mono in: right output copies left", (double)fabsf(y[OUT_R][n - 1] - y[OUT_L][n - 1]),
	    "", "<=", 0, y[OUT_R][n - 1] == y[OUT_L][n - 1]);
	inst_free(c);

	/* a NaN in the input: the gain recovers and stays finite */
	c = make(-20, 4, 6, 0.001, 0.02, 0);
	for (size_t i = 0; i < n; i++)
		l[i] = i == 100 ? NAN : i == 150 ? INFINITY : 0.5f;
	float *in3[3] = { l, NULL, NULL };
	inst_run(c, in3, y, n, 128);
	int finite = 1;
	for (size_t i = 200; i < n; i++)
		finite &= isfinite(y[OUT_L][i]) && isfinite(y[OUT_GAIN][i]);
	report("a NaN and an infinite sample: everything after them finite", finite, "", "==", 1, finite);
	inst_free(c);

	/* silence in: silence out, unity gain */
	c = make(-60, 50, 0, 0.0001, 0.005, 40);
	float *in4[3] = { NULL, NULL, NULL };
	inst_run(c, in4, y, n, 128);
	report("nothing connected: output", peak(y[OUT_L], n), "", "==", 0, peak(y[OUT_L], n) == 0);
	inst_free(c);
	free(l); free(r); free(side);
	for (int k = 0; k < 3; k++)
		free(y[k]);
}

/* A threshold moved live glides: the output has no step. */
static void
no_zipper(void)
{
	const size_t n = 48000;
	float *x = xcalloc_test(n, sizeof(float)), *y[3];
	for (int k = 0; k < 3; k++)
		y[k] = xcalloc_test(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f;
	struct inst *c = make(-10, 10, 0, 0.0001, 0.005, 0);
	float *in[3] = { x, NULL, NULL };
	inst_run(c, in, y, n / 2, 256);
	inst_set(c, "threshold", -40);
	inst_set(c, "makeup", 20);
	float *in2[3] = { x + n / 2, NULL, NULL }, *y2[3] = { y[0] + n / 2, y[1] + n / 2, y[2] + n / 2 };
	inst_run(c, in2, y2, n / 2, 256);
	double worst = 0;
	for (size_t i = n / 2 - 10; i < n; i++)
		worst = fmax(worst, fabs(db_amp(y[OUT_L][i] / y[OUT_L][i - 1])));
	report("threshold -10 -> -40 and makeup 0 -> 20 live: largest step per sample",
	    worst, "dB", "<=", 0.1, worst <= 0.1);
	inst_free(c);
	free(x);
	for (int k = 0; k < 3; k++)
		free(y[k]);
}

int
main(void)
{
	static_curve();
	times();
	linking();
	no_zipper();
	return test_status();
}
