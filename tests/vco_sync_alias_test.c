/*
 * tests/vco_sync_alias_test.c — the vco's hard sync: worst alias below
 * 10 kHz (and over the whole band) for six master -> slave pairs and every
 * wave, the reset's timing, a seamless way in and out of the synced path,
 * and hostile sync inputs.
 *
 * Exact-periodic analysis, as in vco_alias_test.c: the master is a sine on
 * bin m (odd) of N = 65536 at 48 kHz, computed from i mod N so that it
 * repeats exactly.  A synced slave restarts on every master cycle, so its
 * output repeats every N samples too and every true harmonic lies on a
 * multiple of m; with m odd every alias lies off that grid.  A rectangular
 * window then leaks nothing, and the largest off-grid bin below 10 kHz,
 * relative to the bin of the master's fundamental, is the worst alias.
 * The figure over the whole band is checked too, against a looser -55 dBc
 * (the issue asks for -60 below 10 kHz; the synced sine at 7 kHz is the
 * worst case above it, about -63).
 *
 * Regression repros from issue 17: a saw synced 700 -> 1000 Hz measured
 * -41 dBc and 3000 -> 7000 Hz -26 dBc with the old polyBLEP reset.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define N 65536u
#define SETTLE 8192u
#define BLOCK 256u
#define LIMIT_HZ 10000.0
#define BOUND (-60.0)       /* below LIMIT_HZ */
#define BOUND_WHOLE (-55.0)
#define LATENCY 33          /* VCO_SYNC_LATENCY: BLEP_ZC + 1 */

enum { WAVE_SAW, WAVE_PULSE, WAVE_TRIANGLE, WAVE_SINE };
enum { IN_PITCH, IN_FM, IN_PW, IN_SYNC };

/* Worst off-grid bin of x[0..N) in dBc for a fundamental on bin m,
 * counting bins below `limit` Hz only. */
static double
worst_alias(const float *x, unsigned m, double limit)
{
	double *p = spectrum(x, N, WINDOW_RECT);
	double worst = 0;

	for (unsigned k = 1; k <= N / 2 && k * RATE / N < limit; k++)
		if (k % m != 0 && p[k] > worst)
			worst = p[k];
	worst = db_power(worst / p[m]);
	free(p);
	return worst;
}

/* A vco with `wave` (pulse width pw) at `slave` Hz synced to a sine master
 * on bin m; pitch_zero connects a pitch input of zeros.  Stores the worst
 * alias below 10 kHz and over the whole band. */
static void
measure(unsigned wave, double pw, unsigned m, double slave, int pitch_zero,
    double *below, double *whole)
{
	struct inst *v = inst_new("vco", (float)RATE, 1);
	size_t total = SETTLE + N;
	float *y = xcalloc_test(total, sizeof *y);
	float *zero = xcalloc_test(total, sizeof *zero);
	float *master = xcalloc_test(total, sizeof *master);
	float *in[4] = { NULL, NULL, NULL, NULL };
	float *out[1] = { y };

	inst_set(v, "wave", (float)wave);
	inst_set(v, "freq", (float)slave);
	inst_set(v, "pw", (float)pw);
	for (size_t i = 0; i < total; i++)
		master[i] = (float)sin(2 * M_PI * (double)m * (double)(i % N) / N);
	in[IN_SYNC] = master;
	if (pitch_zero)
		in[IN_PITCH] = zero;
	inst_run(v, in, out, total, BLOCK);
	*below = worst_alias(y + SETTLE, m, LIMIT_HZ);
	*whole = worst_alias(y + SETTLE, m, RATE);
	free(y);
	free(zero);
	free(master);
	inst_free(v);
}

/* The pairs and waves: worst alias below 10 kHz <= BOUND for each. */
static void
check_pairs(void)
{
	static const struct {
		unsigned m;           /* master bin, odd */
		double slave;         /* Hz */
	} pairs[] = {
		{ 137, 250 },         /* 100.3 Hz */
		{ 601, 1000 },        /* 440.2 Hz */
		{ 955, 1000 },        /* 699.5 Hz: repro */
		{ 1365, 2500 },       /* 999.8 Hz */
		{ 2731, 4500 },       /* 2000.2 Hz */
		{ 4095, 7000 },       /* 2999.3 Hz: repro */
	};
	static const struct {
		const char *name;
		unsigned wave;
		double pw;
	} waves[] = {
		{ "saw", WAVE_SAW, 0.5 },
		{ "pulse 0.5", WAVE_PULSE, 0.5 },
		{ "pulse 0.2", WAVE_PULSE, 0.2 },
		{ "triangle", WAVE_TRIANGLE, 0.5 },
		{ "sine", WAVE_SINE, 0.5 },
	};
	char name[128];

	for (size_t w = 0; w < sizeof waves / sizeof waves[0]; w++) {
		double worst = -400;

		for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
			double master = RATE * pairs[i].m / N, below, whole;

			measure(waves[w].wave, waves[w].pw, pairs[i].m,
			    pairs[i].slave, 0, &below, &whole);
			snprintf(name, sizeof name,
			    "sync %s %.0f -> %.0f Hz, worst alias below 10 kHz",
			    waves[w].name, master, pairs[i].slave);
			report(name, below, "dBc", "<=", BOUND, below <= BOUND);
			snprintf(name, sizeof name,
			    "sync %s %.0f -> %.0f Hz, worst alias, whole band",
			    waves[w].name, master, pairs[i].slave);
			report(name, whole, "dBc", "<=", BOUND_WHOLE,
			    whole <= BOUND_WHOLE);
			worst = below > worst ? below : worst;
		}
		snprintf(name, sizeof name, "sync %s, worst of the six pairs",
		    waves[w].name);
		report(name, worst, "dBc", "<=", BOUND, worst <= BOUND);
	}
}

/*
 * A band-limited vco saw as the master, as a patch would use: its samples
 * carry ripple near Nyquist that a cubic through four of them cannot follow,
 * so the reset times jitter with the crossing's place between samples.
 * Informative: the figure is printed with a loose -30 dBc bound (the old
 * polyBLEP path measured -35 dBc at 700 -> 1000 Hz, -27 at 3000 -> 7000).
 */
static void
check_vco_master(void)
{
	static const struct { unsigned m; double slave; } pairs[] = {
		{ 955, 1000 }, { 4095, 7000 },
	};
	char name[128];

	for (size_t i = 0; i < 2; i++) {
		struct inst *master = inst_new("vco", (float)RATE, 1);
		struct inst *v = inst_new("vco", (float)RATE, 1);
		size_t total = SETTLE + N;
		float *s = xcalloc_test(total, sizeof *s);
		float *y = xcalloc_test(total, sizeof *y);
		float *in[4] = { NULL, NULL, NULL, s };
		double below;

		inst_set(master, "wave", WAVE_SAW);
		inst_set(master, "freq", (float)(RATE * pairs[i].m / N));
		inst_run(master, NULL, (float *[]){ s }, total, BLOCK);
		inst_set(v, "wave", WAVE_SAW);
		inst_set(v, "freq", (float)pairs[i].slave);
		inst_run(v, in, (float *[]){ y }, total, BLOCK);
		below = worst_alias(y + SETTLE, pairs[i].m, LIMIT_HZ);
		snprintf(name, sizeof name, "saw synced %.0f -> %.0f Hz by a vco "
		    "saw (informative), below 10 kHz", RATE * pairs[i].m / N,
		    pairs[i].slave);
		report(name, below, "dBc", "<=", -30, below <= -30);
		free(s);
		free(y);
		inst_free(master);
		inst_free(v);
	}
}

/* The two repros, and the per-sample pitch path on one. */
static void
check_repros(void)
{
	double below, whole;

	measure(WAVE_SAW, 0.5, 955, 1000, 0, &below, &whole);
	report("repro: saw synced 700 -> 1000 Hz (was -41 dBc)", below, "dBc",
	    "<=", BOUND, below <= BOUND);
	measure(WAVE_SAW, 0.5, 4095, 7000, 0, &below, &whole);
	report("repro: saw synced 3000 -> 7000 Hz (was -26 dBc)", below, "dBc",
	    "<=", BOUND, below <= BOUND);
	measure(WAVE_SAW, 0.5, 955, 1000, 1, &below, &whole);
	report("saw synced 700 -> 1000 Hz, pitch input connected", below, "dBc",
	    "<=", BOUND, below <= BOUND);
}

/*
 * The reset's time: a sine slave synced by a master that rises through 0
 * once, at 1000.3 samples, restarts at phase 0 there, heard LATENCY samples
 * later: well after the reset it is the pure sine from that instant.
 */
static void
check_timing(void)
{
	const size_t total = 4096;
	const double cross = 1000.3, f = 1234.5;
	struct inst *v = inst_new("vco", (float)RATE, 1);
	float *y = xcalloc_test(total, sizeof *y);
	float *master = xcalloc_test(total, sizeof *master);
	float *in[4] = { NULL, NULL, NULL, NULL };
	float *out[1] = { y };
	double err = 0;
	char name[96];

	inst_set(v, "wave", WAVE_SINE);
	inst_set(v, "freq", (float)f);
	for (size_t i = 0; i < total; i++)
		master[i] = (float)(((double)i - cross) * 0.01);
	in[IN_SYNC] = master;
	inst_run(v, in, out, total, BLOCK);
	for (size_t i = (size_t)cross + 2 * LATENCY; i < total; i++) {
		double t = (double)i - LATENCY - cross;
		double e = fabs(y[i] - sin(2 * M_PI * f * t / RATE));

		err = e > err ? e : err;
	}
	snprintf(name, sizeof name, "sine reset at 1000.3 samples, heard %d "
	    "samples later: max error", LATENCY);
	report(name, err, "", "<=", 1e-4, err <= 1e-4);
	free(y);
	free(master);
	inst_free(v);
}

/*
 * In and out of the synced path: connecting a sync input that never rises
 * through 0, and disconnecting it, leave a sine exactly as it was (the
 * synced path picks up at the free path's phase, and gives it back).
 */
static void
check_enter_leave(void)
{
	const size_t seg = 1000, total = 3 * seg;
	struct inst *a = inst_new("vco", (float)RATE, 1);
	struct inst *b = inst_new("vco", (float)RATE, 1);
	float *ya = xcalloc_test(total, sizeof *ya);
	float *yb = xcalloc_test(total, sizeof *yb);
	float *low = xcalloc_test(total, sizeof *low);
	float *none[4] = { NULL, NULL, NULL, NULL };
	float *held[4] = { NULL, NULL, NULL, low };
	size_t differ = 0;

	for (size_t i = 0; i < total; i++)
		low[i] = -1.0f;
	inst_set(a, "wave", WAVE_SINE);
	inst_set(b, "wave", WAVE_SINE);
	inst_set(a, "freq", 987.6f);
	inst_set(b, "freq", 987.6f);
	inst_run(a, none, (float *[]){ ya }, total, 100);
	inst_run(b, none, (float *[]){ yb }, seg, 100);
	inst_run(b, held, (float *[]){ yb + seg }, seg, 100);
	inst_run(b, none, (float *[]){ yb + 2 * seg }, seg, 100);
	for (size_t i = 0; i < total; i++)
		differ += ya[i] != yb[i];
	report("sine through connect and disconnect of a quiet sync: samples "
	    "differing", (double)differ, "", "==", 0, differ == 0);
	free(ya);
	free(yb);
	free(low);
	inst_free(a);
	inst_free(b);
}

/*
 * Hostile sync inputs: NaN, infinities, huge values, denormals, a crossing
 * every other sample, white noise; on every wave the output stays finite
 * and within 4 (a saw's naive +-1 plus its corrections' ringing).
 */
static void
check_hostile(void)
{
	const size_t total = 24000;
	float *y = xcalloc_test(total, sizeof *y);
	float *s = xcalloc_test(total, sizeof *s);
	float *in[4] = { NULL, NULL, NULL, s };
	uint64_t seed = 12345;
	double top = 0;
	int bad = 0;

	for (size_t i = 0; i < total; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = (double)(seed >> 11) / 9007199254740992.0 - 0.5;

		switch ((i / 1000) % 6) {
		case 0: s[i] = (i % 3 == 0) ? NAN : (float)u; break;
		case 1: s[i] = (i % 2) ? INFINITY : -INFINITY; break;
		case 2: s[i] = (i % 2) ? 3e38f : -3e38f; break;
		case 3: s[i] = (i % 2) ? 1e-40f : -1e-40f; break;
		case 4: s[i] = (i % 2) ? 1.0f : -1.0f; break;
		default: s[i] = (float)u; break;
		}
	}
	for (unsigned wave = WAVE_SAW; wave <= WAVE_SINE; wave++) {
		for (int hi = 0; hi < 2; hi++) {
			struct inst *v = inst_new("vco", (float)RATE, 1);

			inst_set(v, "wave", (float)wave);
			inst_set(v, "freq", hi ? 20000.0f : 30.0f);
			inst_set(v, "pw", 0.02f);
			inst_run(v, in, (float *[]){ y }, total, 64);
			for (size_t i = 0; i < total; i++) {
				if (!isfinite(y[i]))
					bad++;
				else if (fabs(y[i]) > top)
					top = fabs(y[i]);
			}
			inst_free(v);
		}
	}
	report("hostile sync inputs: non-finite output samples", bad, "", "==",
	    0, bad == 0);
	report("hostile sync inputs: peak output", top, "", "<=", 4, top <= 4);
	free(y);
	free(s);
}

int
main(void)
{
	check_repros();
	check_pairs();
	check_vco_master();
	check_timing();
	check_enter_leave();
	check_hostile();
	return test_status();
}
