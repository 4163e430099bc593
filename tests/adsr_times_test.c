/*
 * tests/adsr_times_test.c — the adsr's stage times match their definitions
 * within 2 % at 48 kHz, its output stays in [0, 1], gate edges act on the
 * exact sample, and a retrigger starts from the current level (no jump).
 *
 * Definitions (dsp/adsr.c): attack = 0 to 1; decay = 1 to within 0.1 % of
 * the distance to sustain; release = gate-off level to 0.1 % of it, then 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define RATE 48000.0
#define TOL 0.02           /* relative error allowed on a stage time */

struct setting {
	float a, d, s, r;      /* s, s, level, s */
	unsigned block;        /* frames per process call */
};

static const struct setting settings[] = {
	{ 0.01f, 0.05f, 0.0f, 0.02f, 64 },
	{ 0.1f, 0.5f, 0.3f, 0.3f, 64 },
	{ 1.0f, 2.0f, 0.8f, 3.0f, 64 },
	{ 0.01f, 2.0f, 0.3f, 0.3f, 37 },
	{ 1.0f, 0.05f, 0.8f, 0.02f, 256 },
	{ 0.1f, 0.5f, 0.0f, 3.0f, 1 },
	{ 30.0f, 30.0f, 0.5f, 30.0f, 2048 },
};

static double worst_range;     /* furthest the output went outside [0, 1] */

/* Run an adsr with `s` on a gate high over [on, off) of `n` frames. */
static float *
run_env(const struct setting *s, size_t n, size_t on, size_t off)
{
	struct inst *m = inst_new("adsr", (float)RATE, 1);
	float *gate = xcalloc_test(n, sizeof(float));
	float *y = xcalloc_test(n, sizeof(float));

	inst_set(m, "attack", s->a);
	inst_set(m, "decay", s->d);
	inst_set(m, "sustain", s->s);
	inst_set(m, "release", s->r);
	for (size_t i = on; i < off && i < n; i++)
		gate[i] = 1.0f;
	inst_run(m, (float *[]){ gate }, (float *[]){ y }, n, s->block);
	for (size_t i = 0; i < n; i++) {
		double e = y[i] < 0 ? -y[i] : y[i] - 1.0;
		if (e > worst_range)
			worst_range = e;
	}
	free(gate);
	inst_free(m);
	return y;
}

/* Report a measured stage time against its setting. */
static void
check_time(const char *what, const struct setting *s, double measured,
    double want)
{
	char name[160];
	double err = fabs(measured - want) / want * 100.0;

	snprintf(name, sizeof name,
	    "%s A=%g D=%g S=%g R=%g block %u: %.6f s (set %g s), error",
	    what, s->a, s->d, s->s, s->r, s->block, measured, want);
	report(name, err, "%", "<=", TOL * 100.0, err <= TOL * 100.0);
}

/* Release time from `off`: first sample at or below 0.1 % of the gate-off
 * level; the output must be exactly 0 from there to the end. */
static void
check_release(const char *what, const struct setting *s, const float *y,
    size_t n, size_t off)
{
	double lr = y[off];
	size_t i = off;

	while (i < n && y[i] > 0.001 * lr)
		i++;
	if (i >= n) {
		fail("%s: release never ended", what);
		return;
	}
	check_time(what, s, (double)(i - off) / RATE, s->r);
	for (size_t k = i; k < n; k++)
		if (y[k] != 0.0f) {
			fail("%s: output %g after release end, not 0", what, y[k]);
			break;
		}
}

/* Attack, decay and release times for one setting, gate held past decay,
 * then released mid-decay in a second run. */
static void
check_setting(const struct setting *s)
{
	size_t on = 100;
	size_t off = on + (size_t)((s->a + 1.3 * s->d) * RATE);
	size_t n = off + (size_t)(1.2 * s->r * RATE) + 100;
	float *y = run_env(s, n, on, off);

	/* sample-accurate gate edge: the edge sample shows the old level */
	if (y[on - 1] != 0.0f || y[on] != 0.0f || !(y[on + 1] > 0.0f))
		fail("gate edge not on its sample: %g %g %g", y[on - 1], y[on],
		    y[on + 1]);
	size_t peak_at = on;
	while (peak_at < n && y[peak_at] < 1.0f)
		peak_at++;
	check_time("attack", s, (double)(peak_at - on) / RATE, s->a);

	double dist = 1.0 - s->s;
	size_t k = peak_at;
	while (k < n && fabs(y[k] - s->s) > 0.001 * dist)
		k++;
	check_time("decay", s, (double)(k - peak_at) / RATE, s->d);
	if (s->s > 0)
		check_release("release from sustain", s, y, n, off);
	free(y);

	/* release from wherever the decay has got to */
	off = peak_at + (size_t)(0.25 * s->d * RATE);
	n = off + (size_t)(1.2 * s->r * RATE) + 100;
	y = run_env(s, n, on, off);
	check_release("release mid-decay", s, y, n, off);
	free(y);
}

/* Retrigger during release: the level goes on from where it is, the step
 * at the new edge no larger than the attack's own steepest step. */
static void
check_retrigger(float at_fraction, float release)
{
	struct setting s = { 0.01f, 0.1f, 0.6f, release, 64 };
	size_t on = 100, off = on + (size_t)(0.2 * RATE);
	size_t on2 = off + (size_t)(at_fraction * release * RATE);
	size_t n = on2 + (size_t)(0.05 * RATE);
	struct inst *m = inst_new("adsr", (float)RATE, 1);
	float *gate = xcalloc_test(n, sizeof(float));
	float *y = xcalloc_test(n, sizeof(float));

	inst_set(m, "attack", s.a);
	inst_set(m, "decay", s.d);
	inst_set(m, "sustain", s.s);
	inst_set(m, "release", s.r);
	for (size_t i = 0; i < n; i++)
		gate[i] = (i >= on && i < off) || i >= on2 ? 1.0f : 0.0f;
	inst_run(m, (float *[]){ gate }, (float *[]){ y }, n, 64);

	/* steepest attack step: 1.5 * (1 - c) at level 0 */
	double steepest = 1.5 * log(3.0) / (s.a * RATE);
	double jump = 0;
	for (size_t i = on2 - 2; i < on2 + 4; i++)
		if (fabs(y[i + 1] - y[i]) > jump)
			jump = fabs(y[i + 1] - y[i]);
	char name[160];
	snprintf(name, sizeof name,
	    "retrigger at %.2f of a %g s release (level %.4f): largest step",
	    at_fraction, release, y[on2]);
	report(name, jump, "", "<=", steepest * 1.001, jump <= steepest * 1.001);
	if (!(y[on2 + 1] > y[on2]) || y[on2] > 0.6f || y[on2] <= 0.0f)
		fail("retrigger did not rise from the release level: %g -> %g",
		    y[on2], y[on2 + 1]);
	free(gate);
	free(y);
	inst_free(m);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		check_setting(&settings[i]);
	check_retrigger(0.1f, 0.3f);
	check_retrigger(0.5f, 0.3f);
	check_retrigger(0.3f, 0.02f);
	report("output outside [0, 1] by at most", worst_range, "", "<=", 0.0,
	    worst_range <= 0.0);
	return test_status();
}
