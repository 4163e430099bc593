/*
 * tests/chorus_test.c — the chorus's promises, measured:
 *   modulation: the delay each side really has, sample by sample, is
 *     delay + depth * sin (left) or cos (right) of the rate: fitted centre
 *     and depth within 0.5 % of the settings, the sides 90 degrees apart,
 *     and the fit's residual (how sine-like the sweep is) tiny;
 *   interpolation: with the sweep stopped, a 10 kHz sine loses at most
 *     0.6 dB at any fraction of a sample (the design's bound for delays).
 * No zipper when parameters turn: tests/zipper_test has chorus rows.
 *
 * The delay is read off exactly by feeding a ramp: Lagrange interpolation
 * reproduces a straight line exactly, so out = in(t - D) gives D =
 * (in - out) / slope wherever the taps all lie on one tooth of the ramp.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define BLOCK 64u
#define TOOTH 8192u         /* ramp period, frames (> the longest delay) */
#define SETTLE 9600u

/* Solve the 3x3 system a x = b by Cramer's rule. */
static void
solve3(double a[3][3], const double b[3], double x[3])
{
	double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
	    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
	    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
	for (int c = 0; c < 3; c++) {
		double m[3][3];
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				m[i][j] = j == c ? b[i] : a[i][j];
		x[c] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
		    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
		    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / det;
	}
}

/* Fit D(n) = c + a sin(w n) + b cos(w n) to the measured delays (NAN where
 * not measurable); return centre, amplitude, phase and rms residual. */
static void
fit_sweep(const double *d, size_t n, double w, double *centre, double *amp,
    double *phase, double *resid)
{
	double a[3][3] = { { 0 } }, b[3] = { 0 }, x[3];
	for (size_t i = 0; i < n; i++) {
		if (isnan(d[i]))
			continue;
		double f[3] = { 1, sin(w * (double)i), cos(w * (double)i) };
		for (int r = 0; r < 3; r++) {
			b[r] += f[r] * d[i];
			for (int c = 0; c < 3; c++)
				a[r][c] += f[r] * f[c];
		}
	}
	solve3(a, b, x);
	double e = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(d[i]))
			continue;
		double r = d[i] - (x[0] + x[1] * sin(w * (double)i) +
		    x[2] * cos(w * (double)i));
		e += r * r;
		m++;
	}
	*centre = x[0];
	*amp = hypot(x[1], x[2]);
	*phase = atan2(x[2], x[1]);     /* 0 for a pure sine */
	*resid = sqrt(e / (double)m);
}

static void
sweep_case(float rate_hz, float depth_ms, float delay_ms)
{
	size_t n = SETTLE + 3 * 48000;
	struct inst *c = inst_new("chorus", (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof *x);
	float *yl = xcalloc_test(n, sizeof *yl), *yr = xcalloc_test(n, sizeof *yr);
	float *in[2] = { x, NULL }, *out[2] = { yl, yr };
	double slope = 1.0 / TOOTH;

	for (size_t i = 0; i < n; i++)
		x[i] = (float)((double)(i % TOOTH) * slope);
	inst_set(c, "rate", rate_hz);
	inst_set(c, "depth", depth_ms);
	inst_set(c, "delay", delay_ms);
	inst_set(c, "mix", 1.0f);
	inst_run(c, in, out, n, BLOCK);

	double top = (delay_ms + depth_ms) * 1e-3 * RATE + 4;
	for (int side = 0; side < 2; side++) {
		const float *y = side == 0 ? yl : yr;
		double *d = xcalloc_test(n, sizeof *d);
		for (size_t i = 0; i < n; i++)
			d[i] = i < SETTLE || (double)(i % TOOTH) < top ? NAN :
			    ((double)x[i] - y[i]) / slope;
		double centre, amp, ph, resid;
		fit_sweep(d, n, 2 * M_PI * rate_hz / RATE, &centre, &amp, &ph,
		    &resid);
		double want_c = delay_ms * 1e-3 * RATE, want_a = depth_ms * 1e-3 * RATE;
		char name[200];
		const char *s = side == 0 ? "left" : "right";
		snprintf(name, sizeof name, "chorus rate %g depth %g ms delay %g ms, "
		    "%s: measured depth %.4f ms, error", rate_hz, depth_ms, delay_ms,
		    s, amp / RATE * 1e3);
		double err = 100 * (amp - want_a) / want_a;
		report(name, err, "%", "<=", 0.5, fabs(err) <= 0.5);
		snprintf(name, sizeof name, "chorus %s: measured centre %.4f ms, error",
		    s, centre / RATE * 1e3);
		err = 100 * (centre - want_c) / want_c;
		report(name, err, "%", "<=", 0.5, fabs(err) <= 0.5);
		snprintf(name, sizeof name, "chorus %s: sweep residual from a sine", s);
		report(name, resid, "samples", "<=", 0.01, resid <= 0.01);
		free(d);
	}
	free(x);
	free(yl);
	free(yr);
	inst_free(c);
}

/* The right sweep is the left's a quarter cycle later: fitted phases. */
static void
quadrature_case(void)
{
	float rate_hz = 1.3f;
	size_t n = SETTLE + 2 * 48000;
	struct inst *c = inst_new("chorus", (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof *x);
	float *yl = xcalloc_test(n, sizeof *yl), *yr = xcalloc_test(n, sizeof *yr);
	float *in[2] = { x, NULL }, *out[2] = { yl, yr };
	double slope = 1.0 / TOOTH, ph[2];

	for (size_t i = 0; i < n; i++)
		x[i] = (float)((double)(i % TOOTH) * slope);
	inst_set(c, "rate", rate_hz);
	inst_set(c, "mix", 1.0f);
	inst_run(c, in, out, n, BLOCK);
	double top = 14e-3 * RATE + 4;
	for (int side = 0; side < 2; side++) {
		const float *y = side == 0 ? yl : yr;
		double *d = xcalloc_test(n, sizeof *d), centre, amp, resid;
		for (size_t i = 0; i < n; i++)
			d[i] = i < SETTLE || (double)(i % TOOTH) < top ? NAN :
			    ((double)x[i] - y[i]) / slope;
		fit_sweep(d, n, 2 * M_PI * rate_hz / RATE, &centre, &amp, &ph[side],
		    &resid);
		free(d);
	}
	double diff = remainder(ph[1] - ph[0], 2 * M_PI) * 180 / M_PI;
	report("chorus: right sweep leads left by (degrees)", diff, "deg", "~", 90,
	    fabs(diff - 90) < 0.1);
	free(x);
	free(yl);
	free(yr);
	inst_free(c);
}

/* With no sweep, the loss of a 10 kHz sine at delays of 100 + f samples. */
static void
fraction_case(void)
{
	size_t n = 48000;
	float *x = xcalloc_test(n, sizeof *x);
	float *yl = xcalloc_test(n, sizeof *yl), *yr = xcalloc_test(n, sizeof *yr);
	double worst = 0, worst_f = 0;

	gen_sine(x, n, 10000.0, RATE, 0.5);
	for (int k = 0; k <= 10; k++) {
		double f = k / 10.0;
		struct inst *c = inst_new("chorus", (float)RATE, 1);
		float *in[2] = { x, NULL }, *out[2] = { yl, yr };
		inst_set(c, "depth", 0.0f);
		inst_set(c, "mix", 1.0f);
		inst_set(c, "delay", (float)((100.0 + f) / RATE * 1e3));
		inst_run(c, in, out, n, BLOCK);
		double g = db_amp(rms(yl + 4800, n - 4800) / rms(x + 4800, n - 4800));
		if (g < worst) {
			worst = g;
			worst_f = f;
		}
		inst_free(c);
	}
	char name[160];
	snprintf(name, sizeof name, "chorus, no sweep: worst 10 kHz gain over "
	    "fractions 0..1 (at %.1f)", worst_f);
	report(name, worst, "dB", ">=", -0.6, worst >= -0.6);
	free(x);
	free(yl);
	free(yr);
}

int
main(void)
{
	sweep_case(0.5f, 2.0f, 12.0f);
	sweep_case(3.7f, 8.0f, 20.0f);
	sweep_case(0.11f, 0.3f, 2.0f);
	quadrature_case();
	fraction_case();
	return test_status();
}
