/*
 * tests/coef_rate_test.c — the filters' control-rate coefficients cost no
 * quality: where the cutoff modulation is smooth they are interpolated
 * (ladder_coeffs in dsp/ladder.c, svf_coeffs in dsp/svf.c), and the output
 * then differs from the one with every coefficient exact per sample
 * (coef_rate.h's hooks) by less than -90 dB of the output's RMS (the worst
 * of a module's outputs); where the modulation is audio rate they stay
 * exact, so the output is bit for bit the per-sample one.
 *
 * Each case runs two instances, alike but for the hook, on the same input
 * (a 110 Hz sawtooth) and modulation for SECONDS in blocks of BLOCK:
 *   an envelope sweep: the adsr module, gated on and off, into mod;
 *   a slow LFO sweep: a 2 Hz sine into mod;
 *   audio-rate FM: a 300 Hz sine into mod, which must stay bit-identical;
 * from res 0 to 0.95, and on the ladder's driven path.  A sweep at
 * moderate resonance that comes out bit-identical would mean the control
 * rate was never taken, so that fails too: the test would measure nothing.
 * Near and at self-oscillation the ladder's tolerance shrinks to nothing
 * (a ringing loop keeps a cutoff error as phase), and the svf's with its
 * damping 1/q: at res 0.95 and q 40 the sweeps need only be within the
 * bound, and a self-oscillating ladder must stay bit-identical.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coef_rate.h"
#include "util.h"

#define RATE 48000.0
#define SECONDS 4.0
#define FRAMES ((size_t)(SECONDS * RATE))
#define BLOCK 256
#define BOUND (-90.0)           /* dB relative to the output's RMS */

/* The modulations a case can take. */
enum mod_kind { MOD_ENVELOPE, MOD_LFO, MOD_AUDIO };

/* What a case must show. */
enum expect {
	CONTROL_RATE,   /* the control rate taken, within BOUND */
	WITHIN,         /* within BOUND, the control rate taken or not */
	EXACT           /* every sample bit-identical */
};

/* One measured case: a module, its parameters ("name=value ..."), the
 * modulation into its mod input, what it must show. */
struct coef_case {
	const char *name;
	const char *type;
	const char *params;
	enum mod_kind mod;
	enum expect expect;
};

static const struct coef_case cases[] = {
	{ "ladder, envelope sweep, res 0", "ladder",
	    "cutoff=150 res=0 depth=6", MOD_ENVELOPE, CONTROL_RATE },
	{ "ladder, envelope sweep, res 0.5", "ladder",
	    "cutoff=150 res=0.5 depth=6", MOD_ENVELOPE, CONTROL_RATE },
	{ "ladder, envelope sweep, res 0.8", "ladder",
	    "cutoff=150 res=0.8 depth=6", MOD_ENVELOPE, CONTROL_RATE },
	{ "ladder, envelope sweep, res 0.95", "ladder",
	    "cutoff=150 res=0.95 depth=6", MOD_ENVELOPE, WITHIN },
	{ "ladder, envelope sweep, res 1 (oscillating)", "ladder",
	    "cutoff=150 res=1 depth=6", MOD_ENVELOPE, EXACT },
	{ "ladder, 2 Hz LFO sweep, res 0.5", "ladder",
	    "cutoff=800 res=0.5 depth=2", MOD_LFO, CONTROL_RATE },
	{ "ladder, 2 Hz LFO sweep, res 0.8", "ladder",
	    "cutoff=800 res=0.8 depth=2", MOD_LFO, CONTROL_RATE },
	{ "ladder, 2 Hz LFO sweep, res 0.95", "ladder",
	    "cutoff=800 res=0.95 depth=2", MOD_LFO, WITHIN },
	{ "ladder, 2 Hz LFO sweep of 8 octaves", "ladder",
	    "cutoff=400 res=0.3 depth=8", MOD_LFO, CONTROL_RATE },
	{ "ladder driven, envelope sweep", "ladder",
	    "cutoff=150 res=0.5 depth=6 drive=0.5", MOD_ENVELOPE,
	    CONTROL_RATE },
	{ "ladder, 300 Hz FM", "ladder",
	    "cutoff=1000 res=0.5 depth=1", MOD_AUDIO, EXACT },
	{ "ladder driven, 300 Hz FM", "ladder",
	    "cutoff=1000 res=0.5 depth=1 drive=0.5", MOD_AUDIO, EXACT },
	{ "svf, envelope sweep, q 0.7", "svf",
	    "cutoff=150 q=0.7071 depth=6", MOD_ENVELOPE, CONTROL_RATE },
	{ "svf, envelope sweep, q 5", "svf",
	    "cutoff=150 q=5 depth=6", MOD_ENVELOPE, CONTROL_RATE },
	{ "svf, envelope sweep, q 40", "svf",
	    "cutoff=150 q=40 depth=6", MOD_ENVELOPE, WITHIN },
	{ "svf, 2 Hz LFO sweep, q 2", "svf",
	    "cutoff=800 q=2 depth=2", MOD_LFO, CONTROL_RATE },
	{ "svf, 2 Hz LFO sweep, q 40", "svf",
	    "cutoff=800 q=40 depth=2", MOD_LFO, WITHIN },
	{ "svf, 2 Hz LFO sweep of 8 octaves", "svf",
	    "cutoff=400 q=1 depth=8", MOD_LFO, CONTROL_RATE },
	{ "svf, 300 Hz FM", "svf",
	    "cutoff=1000 q=2 depth=1", MOD_AUDIO, EXACT },
};

/* Set "name=value ..." on m. */
static void
apply(struct inst *m, const char *params)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", params);
	for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		*eq = '\0';
		inst_set(m, tok, strtof(eq + 1, NULL));
	}
}

/* The modulation of `kind` into mod[0..FRAMES). */
static void
mod_fill(float *mod, enum mod_kind kind)
{
	if (kind == MOD_LFO) {
		gen_sine(mod, FRAMES, 2.0, RATE, 0.5);
		return;
	}
	if (kind == MOD_AUDIO) {
		gen_sine(mod, FRAMES, 300.0, RATE, 0.5);
		return;
	}
	/* the adsr module, gated for 0.5 s of every 0.8 s */
	struct inst *env = inst_new("adsr", (float)RATE, 1);
	float *gate = xcalloc_test(FRAMES, sizeof(float));
	float *in[MODULE_MAX_PORTS] = { gate };
	float *out[MODULE_MAX_PORTS] = { mod };

	apply(env, "attack=0.005 decay=0.3 sustain=0.3 release=0.25");
	for (size_t i = 0; i < FRAMES; i++)
		gate[i] = fmod((double)i / RATE, 0.8) < 0.5 ? 1.0f : 0.0f;
	inst_run(env, in, out, FRAMES, BLOCK);
	inst_free(env);
	free(gate);
}

/* Run one case: report the difference, dB relative to the output's RMS
 * (-inf when bit-identical), on the worst of the module's outputs. */
static void
run_case(const struct coef_case *c, const float *saw, float *mod)
{
	struct inst *m[2];
	float *y[2][MODULE_MAX_PORTS];
	unsigned outs = 0;

	mod_fill(mod, c->mod);
	for (int k = 0; k < 2; k++) {
		m[k] = inst_new(c->type, (float)RATE, 7);
		apply(m[k], c->params);
		outs = m[k]->type->n_outputs;
		for (unsigned o = 0; o < outs; o++)
			y[k][o] = xcalloc_test(FRAMES, sizeof(float));
		float *in[MODULE_MAX_PORTS] = { (float *)saw, NULL, mod };
		if (k == 1 && strcmp(c->type, "ladder") == 0)
			ladder_coef_per_sample(m[k]->state, 1);
		if (k == 1 && strcmp(c->type, "svf") == 0)
			svf_coef_per_sample(m[k]->state, 1);
		inst_run(m[k], in, y[k], FRAMES, BLOCK);
	}

	double db = -INFINITY;
	int same = 1;
	for (unsigned o = 0; o < outs; o++) {
		double diff = 0, level = 0;
		for (size_t i = 0; i < FRAMES; i++) {
			double d = (double)y[0][o][i] - y[1][o][i];
			diff += d * d;
			level += (double)y[1][o][i] * y[1][o][i];
		}
		same &= memcmp(y[0][o], y[1][o], FRAMES * sizeof(float)) == 0;
		if (diff > 0)
			db = fmax(db, db_power(diff / level));
	}

	if (c->expect == EXACT) {
		report(c->name, db, "dB", "==", -INFINITY, same);
	} else {
		report(c->name, db, "dB", "<=", BOUND, db <= BOUND);
		if (same && c->expect == CONTROL_RATE)
			fail("%s: bit-identical to per-sample: the control "
			    "rate was never taken", c->name);
	}
	for (int k = 0; k < 2; k++) {
		inst_free(m[k]);
		for (unsigned o = 0; o < outs; o++)
			free(y[k][o]);
	}
}

int
main(void)
{
	float *saw = xcalloc_test(FRAMES, sizeof(float));
	float *mod = xcalloc_test(FRAMES, sizeof(float));

	for (size_t i = 0; i < FRAMES; i++)     /* naive, 110 Hz */
		saw[i] = (float)(fmod(110.0 * (double)i / RATE, 1.0) - 0.5);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i], saw, mod);
	free(saw);
	free(mod);
	return test_status();
}
