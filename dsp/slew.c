/*
 * dsp/slew.c — slew limiter: the output follows the input no faster than
 * the rise and fall times allow (portamento on a pitch, soft edges on a
 * gate, a lag on any control signal).
 *
 * Shapes:
 *   linear   constant rate: a step of 1 (a full unit: an octave of pitch, a
 *            gate) takes exactly `rise` seconds up, `fall` down, to the
 *            sample; a step of 0.5 half as long.  A signal slower than that
 *            passes unchanged.
 *   exp      one-pole lag (an RC): a step of any size comes within 1 % of
 *            its target (-40 dB) in `rise` or `fall` seconds.
 * A time of 0 passes the input through.  The state is kept in double so a
 * long, slow glide lands on its target to the sample, and a non-finite
 * input sample is ignored (the output holds).  Changing a time changes only
 * the slope from then on: the output stays continuous, so nothing needs
 * smoothing.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

enum { SLEW_IN, SLEW_N_IN };
enum { SLEW_OUT, SLEW_N_OUT };
enum { SLEW_RISE, SLEW_FALL, SLEW_SHAPE, SLEW_N_P };
enum { SLEW_LINEAR, SLEW_EXP, SLEW_N_SHAPES };

/* ln(100): the exp shape's time constant is its time / ln(100). */
#define SLEW_LN100 4.605170185988091

struct slew {
	double rate;
	double y;                  /* the output */
	double up, down;           /* linear: largest step per sample;
				      exp: fraction of the distance (1 = none) */
	float rise, fall;          /* seconds */
	unsigned shape;
};

static const char *const slew_shapes[] = { "linear", "exp", NULL };

static const struct param_desc slew_params[SLEW_N_P] = {
	[SLEW_RISE] = { .name = "rise", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 60.0f, .def = 0.1f,
	    .help = "time up: linear, for a step of 1; exp, to within 1% (0 = no limit)" },
	[SLEW_FALL] = { .name = "fall", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 60.0f, .def = 0.1f,
	    .help = "time down: linear, for a step of 1; exp, to within 1% (0 = no limit)" },
	[SLEW_SHAPE] = { .name = "shape", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = SLEW_N_SHAPES - 1, .def = SLEW_LINEAR,
	    .help = "linear (constant rate) or exp (one-pole lag, RC)",
	    .choices = slew_shapes },
};

/* The per-sample coefficient for a time in seconds and the shape. */
static double
slew_coef(const struct slew *s, float seconds)
{
	if (seconds <= 0.0f)
		return s->shape == SLEW_LINEAR ? INFINITY : 1.0;
	double samples = (double)seconds * s->rate;
	if (s->shape == SLEW_LINEAR)
		return 1.0 / samples;
	return 1.0 - exp(-SLEW_LN100 / samples);
}

static void
slew_update(struct slew *s)
{
	s->up = slew_coef(s, s->rise);
	s->down = slew_coef(s, s->fall);
}

/* Prepare zeroed state: output 0, default times. */
static void
slew_init(void *self, float rate, uint32_t seed)
{
	struct slew *s = self;

	(void)seed;
	s->rate = rate;
	s->rise = slew_params[SLEW_RISE].def;
	s->fall = slew_params[SLEW_FALL].def;
	s->shape = SLEW_LINEAR;
	slew_update(s);
}

/* Set rise or fall (seconds) or the shape; takes effect at the next sample. */
static void
slew_set_param(void *self, unsigned index, float value)
{
	struct slew *s = self;

	switch (index) {
	case SLEW_RISE: s->rise = value; break;
	case SLEW_FALL: s->fall = value; break;
	case SLEW_SHAPE: s->shape = value >= 0.5f ? SLEW_EXP : SLEW_LINEAR; break;
	default: return;
	}
	slew_update(s);
}

/* Follow the input, limited by the rise and fall rates. */
static void
slew_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct slew *s = self;
	const float *x = in[SLEW_IN];
	float *y = out[SLEW_OUT];
	double v = s->y;

	for (unsigned i = 0; i < frames; i++) {
		double t = x != NULL ? (double)x[i] : 0.0;
		if (!isfinite(t))
			t = v;
		double d = t - v;
		if (s->shape == SLEW_LINEAR) {
			if (d > s->up)
				v += s->up;
			else if (d < -s->down)
				v -= s->down;
			else
				v = t;
		} else {
			v += d * (d > 0.0 ? s->up : s->down);
		}
		y[i] = (float)v;
	}
	s->y = v;
}

static const struct port_desc slew_inputs[SLEW_N_IN] = {
	[SLEW_IN] = { "in", "any signal (pitch in octaves, gate, cv); unconnected = 0" },
};

static const struct port_desc slew_outputs[SLEW_N_OUT] = {
	[SLEW_OUT] = { "out", "the input, slew-limited, in its own unit" },
};

const struct module_type slew_module = {
	.name = "slew",
	.help = "slew limiter: separate rise and fall times, linear or exponential",
	.size = sizeof(struct slew),
	.inputs = slew_inputs,
	.n_inputs = SLEW_N_IN,
	.outputs = slew_outputs,
	.n_outputs = SLEW_N_OUT,
	.params = slew_params,
	.n_params = SLEW_N_P,
	.init = slew_init,
	.set_param = slew_set_param,
	.process = slew_process,
};
