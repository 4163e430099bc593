/*
 * tests/svf_response_test.c — the svf's lp, bp, hp and notch outputs match
 * the analytic response of the bilinear-transformed, prewarped 2nd-order
 * analog prototype within 0.01 dB, from 20 Hz to 20 kHz, at several cutoffs
 * and q values, both on the settled path (exact tan once per block) and the
 * per-sample path (pitch input connected, fast tan).
 *
 * Each frequency lies on the grid rate/WINDOW so that tone_measure over the
 * window is exact projection (whole periods); the transient (filter ringing
 * and parameter smoothing) is skipped first.  Points where the analytic
 * response is below FLOOR_DB are not compared: there float32 rounding noise,
 * not the response, sets the figure.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define WINDOW 9600                 /* frames measured: 5 Hz grid */
#define N_FREQS 64                  /* log spaced, 20 Hz .. 20 kHz */
#define FLOOR_DB (-100.0)           /* compare only above this */
#define BOUND_DB 0.01

static const char *const out_names[4] = { "lp", "bp", "hp", "notch" };
static const double cutoffs[] = { 20, 200, 1000, 5000, 15000, 20000 };
static const double qs[] = { 0.5, 0.7071, 4, 40 };

/* Analytic response of output `which` at `freq` Hz for cutoff `fc` Hz and
 * `q`: the prototype evaluated at s = j tan(pi f/rate) / tan(pi fc/rate). */
static double complex
svf_analytic(int which, double freq, double fc, double q)
{
	double k = 1.0 / q;
	double complex s = I * tan(M_PI * freq / RATE) / tan(M_PI * fc / RATE);
	double complex d = s * s + k * s + 1.0;

	switch (which) {
	case 0: return 1.0 / d;
	case 1: return k * s / d;
	case 2: return s * s / d;
	default: return (s * s + 1.0) / d;
	}
}

/* Worst figures over one path (settled or per-sample). */
struct worst {
	double err[4];          /* per output, dB */
	int compared;           /* points compared */
	double all;             /* worst of all, dB, and where: */
	double freq, fc, q;
	int out;
};

/* Compare all outputs at all frequencies for cutoff `fc` Hz and `q`;
 * `per_sample` connects a zero pitch input to force the per-sample path. */
static void
run_setting(double fc, double q, int per_sample, struct worst *w)
{
	double tau = 2.0 * q / (2.0 * M_PI * fc);    /* ringing decay, s */
	size_t skip = (size_t)((0.25 + 18.0 * tau) * RATE);
	size_t total = skip + WINDOW;
	float *x = xcalloc_test(total, sizeof(float));
	float *zero = xcalloc_test(total, sizeof(float));
	float *y[4];
	double *d = xcalloc_test(WINDOW, sizeof(double));
	double last = -1;

	for (int o = 0; o < 4; o++)
		y[o] = xcalloc_test(total, sizeof(float));
	for (int i = 0; i < N_FREQS; i++) {
		double grid = RATE / WINDOW;
		double f = 20.0 * pow(1000.0, (double)i / (N_FREQS - 1));
		f = round(f / grid) * grid;
		if (f == last)
			continue;
		last = f;

		struct inst *m = inst_new("svf", (float)RATE, 1);
		inst_set(m, "cutoff", (float)fc);
		inst_set(m, "q", (float)q);
		gen_sine(x, total, f, RATE, 0.5);
		float *in[3] = { x, per_sample ? zero : NULL, NULL };
		inst_run(m, in, y, total, 256);
		inst_free(m);

		double a_in, a_out, ph;
		for (size_t j = 0; j < WINDOW; j++)
			d[j] = x[skip + j];
		tone_measure(d, WINDOW, f, RATE, &a_in, &ph);
		for (int o = 0; o < 4; o++) {
			double want = db_amp(cabs(svf_analytic(o, f, fc, q)));
			if (want < FLOOR_DB)
				continue;
			for (size_t j = 0; j < WINDOW; j++)
				d[j] = y[o][skip + j];
			tone_measure(d, WINDOW, f, RATE, &a_out, &ph);
			double err = fabs(db_amp(a_out / a_in) - want);
			if (err != err)
				err = INFINITY;
			w->compared++;
			if (err > w->err[o])
				w->err[o] = err;
			if (err > w->all) {
				w->all = err;
				w->freq = f;
				w->fc = fc;
				w->q = q;
				w->out = o;
			}
		}
	}
	for (int o = 0; o < 4; o++)
		free(y[o]);
	free(x);
	free(zero);
	free(d);
}

int
main(void)
{
	for (int path = 0; path < 2; path++) {
		struct worst w = { { 0, 0, 0, 0 }, 0, 0, 0, 0, 0, 0 };
		const char *pname = path ? "per-sample" : "settled";

		for (size_t c = 0; c < sizeof cutoffs / sizeof cutoffs[0]; c++)
			for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++)
				run_setting(cutoffs[c], qs[j], path, &w);
		printf("%s path: %d points compared (analytic above %.0f dB); "
		    "worst: %s at %.0f Hz, cutoff %.0f Hz, q %.4g\n", pname,
		    w.compared, FLOOR_DB, out_names[w.out], w.freq, w.fc, w.q);
		for (int o = 0; o < 4; o++) {
			char name[64];
			snprintf(name, sizeof name, "svf %s %s max error",
			    pname, out_names[o]);
			report(name, w.err[o], "dB", "<=", BOUND_DB,
			    w.err[o] <= BOUND_DB);
		}
	}
	return test_status();
}
