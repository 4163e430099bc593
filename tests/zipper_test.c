/*
 * tests/zipper_test.c — parameters turned like a UI knob (a new value every
 * 64-frame block) make no zipper noise: a 1 kHz sine goes through the
 * module while one parameter ramps in per-block steps, and the energy more
 * than 100 Hz away from the carrier, in a Blackman-Harris spectrum, must be
 * at most -60 dB relative to the carrier.
 *
 * The ramp spans the whole analysis window so that only the steps, not the
 * ramp's ends, can spread energy.  The same staircase applied without
 * smoothing is printed for comparison.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define RATE 48000.0
#define BLOCK 64
#define CARRIER 1000.0      /* Hz */
#define BAND 100.0          /* Hz either side of the carrier kept out */
#define PREROLL 9600        /* frames settled at the start value */
#define RAMP 48000          /* frames the ramp lasts (1 s) */
#define WINDOW 32768        /* frames analysed, inside the ramp */
#define BOUND (-60.0)       /* dBc */

/* Energy outside +-BAND around the carrier relative to the energy inside,
 * dB, over WINDOW frames of x. */
static double
zipper_dbc(const float *x)
{
	double *p = spectrum(x, WINDOW, WINDOW_BLACKMAN_HARRIS);
	double inside = 0, outside = 0;

	for (size_t k = 0; k <= WINDOW / 2; k++) {
		double f = (double)k * RATE / WINDOW;
		if (fabs(f - CARRIER) <= BAND)
			inside += p[k];
		else
			outside += p[k];
	}
	free(p);
	return db_power(outside / inside);
}

/* The parameter value for block b of the ramp from `from` to `to`,
 * rounded to `steps` levels over the ramp when steps > 0 (a 7-bit MIDI
 * controller has 127). */
static float
ramp_value(size_t b, float from, float to, unsigned steps)
{
	size_t blocks = RAMP / BLOCK;
	float t = b >= blocks ? 1.0f : (float)b / (float)blocks;

	if (steps > 0)
		t = roundf(t * (float)steps) / (float)steps;
	return from + (to - from) * t;
}

struct zcase {
	const char *module;
	const char *param;
	float from, to;
	unsigned input;            /* which input receives the sine */
	unsigned output;           /* which output is analysed */
	unsigned steps;            /* knob resolution over the ramp, 0 = fine */
	int gainlike;              /* output = input * value: show unsmoothed */
	const char *set1;          /* optional fixed parameter, and its value */
	float val1;
	const char *set2;
	float val2;
};

/* Run one case: the sine through the module, `param` stepped each block;
 * report the zipper in dBc. */
static void
run_case(const struct zcase *c)
{
	size_t n = PREROLL + RAMP + BLOCK;
	struct inst *m = inst_new(c->module, (float)RATE, 1);
	float *x = xcalloc_test(n, sizeof(float));
	float *in[MODULE_MAX_PORTS] = { 0 };
	float *out[MODULE_MAX_PORTS];
	float *stair = xcalloc_test(n, sizeof(float));

	for (unsigned o = 0; o < m->type->n_outputs; o++)
		out[o] = xcalloc_test(n, sizeof(float));
	gen_sine(x, n, CARRIER, RATE, 0.5);
	in[c->input] = x;
	if (c->set1 != NULL)
		inst_set(m, c->set1, c->val1);
	if (c->set2 != NULL)
		inst_set(m, c->set2, c->val2);
	inst_set(m, c->param, c->from);
	inst_run(m, in, out, PREROLL, BLOCK);

	for (size_t b = 0, done = PREROLL; done < n; b++, done += BLOCK) {
		float v = ramp_value(b, c->from, c->to, c->steps);
		float *ip[MODULE_MAX_PORTS], *op[MODULE_MAX_PORTS];
		inst_set(m, c->param, v);
		for (unsigned i = 0; i < m->type->n_inputs; i++)
			ip[i] = in[i] != NULL ? in[i] + done : NULL;
		for (unsigned o = 0; o < m->type->n_outputs; o++)
			op[o] = out[o] + done;
		inst_run(m, ip, op, BLOCK, BLOCK);
		for (size_t i = done; i < done + BLOCK; i++)
			stair[i] = x[i] * v;
	}

	/* the window sits in the middle of the ramp */
	size_t start = PREROLL + (RAMP - WINDOW) / 2;
	double z = zipper_dbc(out[c->output] + start);
	char name[200], knob[40] = "", raw[60] = "";
	if (c->steps > 0)
		snprintf(knob, sizeof knob, " in %u steps", c->steps);
	if (c->gainlike)
		snprintf(raw, sizeof raw, " (unsmoothed staircase: %.1f dBc)",
		    zipper_dbc(stair + start));
	snprintf(name, sizeof name,
	    "%s.%s %g->%g%s, set every %d frames, %s.%s zipper%s", c->module,
	    c->param, c->from, c->to, knob, BLOCK, c->module,
	    m->type->outputs[c->output].name, raw);
	report(name, z, "dBc", "<=", BOUND, z <= BOUND);

	for (unsigned o = 0; o < m->type->n_outputs; o++)
		free(out[o]);
	free(x);
	free(stair);
	inst_free(m);
}

/* The analyser's own floor: a steady sine through a settled vca. */
static void
run_floor(void)
{
	float *x = xcalloc_test(WINDOW, sizeof(float));

	gen_sine(x, WINDOW, CARRIER, RATE, 0.5);
	double z = zipper_dbc(x);
	report("measurement floor, steady sine", z, "dBc", "<=", BOUND - 20,
	    z <= BOUND - 20);
	free(x);
}

static const struct zcase cases[] = {
	{ "vca", "gain", 0.2f, 1.0f, 0, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "vca", "gain", 1.0f, 0.0f, 0, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "vca", "gain", 0.2f, 1.0f, 0, 0, 127, 1, NULL, 0, NULL, 0 },
	{ "mixer", "level1", 0.2f, 1.0f, 0, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "mixer", "level1", 0.2f, 1.0f, 0, 0, 127, 1, NULL, 0, NULL, 0 },
	{ "mixer", "level3", 2.0f, 0.1f, 2, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "mixer", "master", 0.2f, 1.0f, 0, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "mixer", "master", 0.2f, 1.0f, 0, 0, 127, 1, NULL, 0, NULL, 0 },
	{ "pan", "pan", -1.0f, 1.0f, 0, 0, 0, 0, NULL, 0, NULL, 0 },
	{ "pan", "pan", -1.0f, 1.0f, 0, 1, 0, 0, NULL, 0, NULL, 0 },
	{ "pan", "pan", -1.0f, 1.0f, 0, 1, 127, 0, NULL, 0, NULL, 0 },
	/* chorus: its own sweep keeps the 1 kHz carrier inside the +-100 Hz
	 * band (depth 1 ms at 2 Hz deviates +-13 Hz; 3 ms at 0.3 Hz, +-6 Hz;
	 * the delay ramp, 10 ms in 1 s, shifts it 10 Hz) */
	{ "chorus", "rate", 0.2f, 2.0f, 0, 0, 0, 0, "depth", 1.0f, "mix", 1.0f },
	{ "chorus", "depth", 0.5f, 3.0f, 0, 1, 0, 0, "rate", 0.3f, "mix", 1.0f },
	{ "chorus", "delay", 5.0f, 15.0f, 0, 0, 0, 0, "depth", 1.0f, "mix", 1.0f },
	{ "chorus", "mix", 0.2f, 1.0f, 0, 1, 0, 0, NULL, 0, NULL, 0 },
	{ "chorus", "mix", 0.2f, 1.0f, 0, 0, 127, 0, NULL, 0, NULL, 0 },
	{ "delay", "mix", 0.2f, 1.0f, 0, 0, 0, 0, "feedback", 0, "time", 0.01025f },
	{ "delay", "mix", 0.2f, 1.0f, 0, 0, 127, 0, "feedback", 0, "time", 0.01025f },
	{ "delay", "time", 0.10f, 0.11f, 0, 0, 0, 0, "feedback", 0, "mix", 1.0f },
	{ "delay", "feedback", 0.0f, 0.5f, 0, 0, 0, 0, "time", 0.01f, "mix", 1.0f },
	{ "delay", "feedback", 0.0f, 0.5f, 0, 0, 127, 0, "time", 0.01f, "mix", 1.0f },
};

int
main(void)
{
	run_floor();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	return test_status();
}
