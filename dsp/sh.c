/*
 * dsp/sh.c — sample and hold: on each rising edge of the trigger input
 * (from <= 0.5 to > 0.5, the gate convention) the input is sampled, and the
 * output holds that value until the next rising edge.
 *
 * Timing is sample-accurate: the value taken is the input at the edge's own
 * frame, and it appears at that frame.  Edges are seen across block
 * boundaries (the last trigger sample is kept).  With `in` unconnected the
 * module samples its own white noise, uniform in [-1, 1] (seeded per
 * instance, so renders repeat): random steps, the classic use.  A
 * non-finite input sample is taken as 0.  In `track` mode the output
 * follows the input while the trigger is high and holds while it is low
 * (track and hold).  The held step is deliberately abrupt; put a `slew`
 * after it for glides.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

enum { SH_IN, SH_TRIG, SH_N_IN };
enum { SH_OUT, SH_N_OUT };
enum { SH_MODE, SH_N_P };
enum { SH_SAMPLE, SH_TRACK, SH_N_MODES };

struct sh {
	float held;                /* the output */
	float last_trig;           /* the trigger's previous sample */
	unsigned mode;
	uint64_t rng;              /* xorshift64 state, never 0 */
};

static const char *const sh_modes[] = { "sample", "track", NULL };

static const struct param_desc sh_params[SH_N_P] = {
	[SH_MODE] = { .name = "mode", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = SH_N_MODES - 1, .def = SH_SAMPLE,
	    .help = "sample: take the input on each rising edge; track: follow while high",
	    .choices = sh_modes },
};

/* A uniform random sample in [-1, 1) from xorshift64. */
static inline float
sh_random(struct sh *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return (float)(x >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* Prepare zeroed state: holding 0, the noise seeded from `seed`. */
static void
sh_init(void *self, float rate, uint32_t seed)
{
	struct sh *s = self;

	(void)rate;
	/* splitmix64 of the seed: distinct, nonzero streams per instance */
	uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	s->rng = z != 0 ? z : 1;
	s->mode = SH_SAMPLE;
}

/* Set the mode; takes effect at the next sample. */
static void
sh_set_param(void *self, unsigned index, float value)
{
	struct sh *s = self;

	if (index == SH_MODE)
		s->mode = value >= 0.5f ? SH_TRACK : SH_SAMPLE;
}

/* Hold, and take a new value on rising edges (or while high, tracking). */
static void
sh_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct sh *s = self;
	const float *x = in[SH_IN], *trig = in[SH_TRIG];
	float *y = out[SH_OUT];

	if (trig == NULL) {        /* no trigger: hold what was held */
		for (unsigned i = 0; i < frames; i++)
			y[i] = s->held;
		s->last_trig = 0.0f;
		return;
	}
	for (unsigned i = 0; i < frames; i++) {
		int high = trig[i] > 0.5f;
		int take = s->mode == SH_TRACK ? high :
		    high && !(s->last_trig > 0.5f);
		if (take) {
			float v = x != NULL ? x[i] : sh_random(s);
			s->held = isfinite(v) ? v : 0.0f;
		}
		s->last_trig = trig[i];
		y[i] = s->held;
	}
}

static const struct port_desc sh_inputs[SH_N_IN] = {
	[SH_IN] = { "in", "signal to sample, any unit; unconnected: white noise in [-1, 1]" },
	[SH_TRIG] = { "trig", "trigger: a rising edge through 0.5 takes a sample" },
};

static const struct port_desc sh_outputs[SH_N_OUT] = {
	[SH_OUT] = { "out", "the value taken at the last rising edge, held" },
};

const struct module_type sh_module = {
	.name = "sh",
	.help = "sample and hold on the trigger's rising edge (noise when in is unconnected)",
	.size = sizeof(struct sh),
	.inputs = sh_inputs,
	.n_inputs = SH_N_IN,
	.outputs = sh_outputs,
	.n_outputs = SH_N_OUT,
	.params = sh_params,
	.n_params = SH_N_P,
	.init = sh_init,
	.set_param = sh_set_param,
	.process = sh_process,
};
