/*
 * tests/waveshaper_test.c — the waveshaper's promises, measured: no alias
 * above -70 dBc for a full-scale 5 kHz or 9 kHz sine at full drive (20 dB)
 * in either mode, DC blocked (<= -80 dBFS with a bias), and a dry path
 * aligned with the wet one (mix 0.5 of a near-linear signal stays flat).
 *
 * Exact-periodic analysis as in vco_alias_test: freq = 48000 m / N with m
 * odd and N = 65536, so the steady output repeats every N samples, every
 * harmonic lands on bin h m and any other bin is aliasing (a rectangular
 * window, no leakage).  Aliases are counted in the audio band, 0..20 kHz
 * (the halfband filters' passband edge); the worst line in 20..24 kHz is
 * printed for information.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define N 65536u
#define SETTLE 65536u       /* lets the 5 Hz DC blocker settle (-300 dB) */
#define BLOCK 256u
#define AUDIO_BAND 20000.0

/* Run the waveshaper on a sine of amplitude amp on bin m; return the
 * output's last N samples (caller frees). */
static float *
run(float mode, float drive, float bias, float mix, unsigned m, double amp)
{
	struct inst *w = inst_new("waveshaper", (float)RATE, 1);
	size_t total = SETTLE + N;
	float *x = xcalloc_test(total, sizeof *x);
	float *y = xcalloc_test(total, sizeof *y);
	float *in[2] = { x, NULL }, *out[1] = { y };

	inst_set(w, "mode", mode);
	inst_set(w, "drive", drive);
	inst_set(w, "bias", bias);
	inst_set(w, "mix", mix);
	gen_sine(x, total, RATE * m / N, RATE, amp);
	inst_run(w, in, out, total, BLOCK);
	float *r = xcalloc_test(N, sizeof *r);
	for (size_t i = 0; i < N; i++)
		r[i] = y[SETTLE + i];
	free(x);
	free(y);
	inst_free(w);
	return r;
}

/* Worst non-harmonic line relative to the fundamental on bin m, dBc, in
 * bins [1, hi]; DC (bin 0) is not counted. */
static double
worst_alias(const double *p, unsigned m, unsigned lo, unsigned hi)
{
	double worst = 0;

	for (unsigned k = lo; k <= hi; k++)
		if (k % m != 0 && p[k] > worst)
			worst = p[k];
	return db_power(worst / p[m]);
}

static void
alias_case(const char *mode_name, float mode, unsigned m, float bias)
{
	float *y = run(mode, 20.0f, bias, 1.0f, m, 1.0);
	double *p = spectrum(y, N, WINDOW_RECT);
	unsigned band = (unsigned)(AUDIO_BAND / RATE * N);
	double a = worst_alias(p, m, 1, band);
	double top = worst_alias(p, m, band + 1, N / 2);
	char name[160];

	snprintf(name, sizeof name,
	    "waveshaper %s, drive 20 dB, bias %g, full-scale %.0f Hz: worst alias "
	    "0..20 kHz (20..24 kHz: %.1f dBc)", mode_name, bias, RATE * m / N, top);
	report(name, a, "dBc", "<=", -70, a <= -70);
	/* DC: the mean of one exact period */
	double mean = 0;
	for (size_t i = 0; i < N; i++)
		mean += y[i];
	mean /= N;
	double dc = db_amp(fabs(mean) + 1e-30);
	snprintf(name, sizeof name, "waveshaper %s, bias %g, %.0f Hz: DC",
	    mode_name, bias, RATE * m / N);
	report(name, dc, "dBFS", "<=", -80, dc <= -80);
	free(p);
	free(y);
}

/* Mix 0.5 of a quiet (near-linear) sine: dry and wet aligned, so the
 * level is that of the input at every frequency (a misaligned dry path
 * would comb), and the output is the input 47 samples late (the DC
 * blocker's phase at low frequencies is the residual). */
static void
alignment_case(unsigned m)
{
	double amp = 0.001;
	float *y = run(0, 0.0f, 0.0f, 0.5f, m, amp);
	double *yd = xcalloc_test(N, sizeof *yd);
	double a, ph;

	for (size_t i = 0; i < N; i++)
		yd[i] = y[i];
	tone_measure(yd, N, RATE * m / N, RATE, &a, &ph);
	double g = db_amp(a / amp);
	char name[160];
	snprintf(name, sizeof name,
	    "waveshaper mix 0.5, quiet %.0f Hz: gain (dry and wet aligned)",
	    RATE * m / N);
	report(name, fabs(g), "dB", "<=", 0.05, fabs(g) <= 0.05);
	/* the latency: the output is the input 47 samples late */
	double err = 0, ref = 0;
	for (size_t i = 0; i < N; i++) {
		double t = (double)(SETTLE + i) - 47.0;
		double e = amp * sin(2 * M_PI * (double)m / N * t);
		err += (yd[i] - e) * (yd[i] - e);
		ref += e * e;
	}
	double r = db_power(err / ref);
	snprintf(name, sizeof name,
	    "waveshaper mix 0.5, quiet %.0f Hz: output vs the input 47 samples late",
	    RATE * m / N);
	report(name, r, "dB", "<=", -50, r <= -50);
	free(yd);
	free(y);
}

int
main(void)
{
	alias_case("saturate", 0, 6827, 0.0f);   /* 5000.2 Hz */
	alias_case("saturate", 0, 12289, 0.0f);  /* 9000.0 Hz */
	alias_case("fold", 1, 6827, 0.0f);
	alias_case("fold", 1, 12289, 0.0f);
	alias_case("saturate", 0, 12289, 0.3f);
	alias_case("fold", 1, 12289, 0.3f);
	alignment_case(1365);     /* 1 kHz */
	alignment_case(13653);    /* 10 kHz */
	alignment_case(20479);    /* 15 kHz */
	return test_status();
}
