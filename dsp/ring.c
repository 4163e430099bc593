/*
 * dsp/ring.c — ring modulator: out = level * (dry/wet mix of in and
 * in * (carrier + offset)).
 *
 * The product is exact (one float multiply), so with offset 0 the output
 * holds only the sum and difference frequencies: the input and the carrier
 * themselves are suppressed to float rounding (tests/ring_test: better than
 * -120 dBc).  `offset` lets the input leak through in proportion (offset 1
 * with a carrier of amplitude 1 is 100 % amplitude modulation).  With the
 * carrier input unconnected, an internal sine at `freq` is the carrier.
 * As in any sampled ring modulator, a sum frequency above half the sample
 * rate folds back: keep in + carrier below it, or filter first.
 * Every parameter glides per sample.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

enum { RING_IN, RING_CARRIER, RING_N_IN };
enum { RING_OUT, RING_N_OUT };
enum { RING_FREQ, RING_OFFSET, RING_MIX, RING_LEVEL, RING_N_P };

struct ring {
	double rate;
	double phase;              /* internal carrier, cycles in [0, 1) */
	struct glide_param freq;   /* Hz */
	struct glide_param offset;
	struct glide_param mix;
	struct glide_param level;
	int running;               /* process has run: smooth changes */
};

static const struct param_desc ring_params[RING_N_P] = {
	[RING_FREQ] = { .name = "freq", .unit = "Hz", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 20000.0f, .def = 440.0f,
	    .help = "frequency of the internal sine carrier (used when carrier is unconnected)" },
	[RING_OFFSET] = { .name = "offset", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 0.0f,
	    .help = "added to the carrier: 0 pure ring modulation, 1 amplitude modulation" },
	[RING_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 1.0f,
	    .help = "dry/wet crossfade, 0 the input only .. 1 the product only" },
	[RING_LEVEL] = { .name = "level", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 2.0f, .def = 1.0f,
	    .help = "linear output gain, 0..2" },
};

/* Prepare zeroed state: defaults, settled, carrier phase 0. */
static void
ring_init(void *self, float rate, uint32_t seed)
{
	struct ring *r = self;

	(void)seed;
	r->rate = rate;
	glide_param_init(&r->freq, ring_params[RING_FREQ].def, rate);
	glide_param_init(&r->offset, ring_params[RING_OFFSET].def, rate);
	glide_param_init(&r->mix, ring_params[RING_MIX].def, rate);
	glide_param_init(&r->level, ring_params[RING_LEVEL].def, rate);
}

/* Set a parameter; it is reached smoothly once running. */
static void
ring_set_param(void *self, unsigned index, float value)
{
	struct ring *r = self;
	struct glide_param *p;

	switch (index) {
	case RING_FREQ:   p = &r->freq; break;
	case RING_OFFSET: p = &r->offset; break;
	case RING_MIX:    p = &r->mix; break;
	case RING_LEVEL:  p = &r->level; break;
	default: return;
	}
	glide_param_set(p, value);
	if (!r->running)           /* before the first block: no glide */
		p->d.cur = 0.0f;
}

/* Multiply the input by the carrier (plus offset) and mix. */
static void
ring_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct ring *r = self;
	const float *x = in[RING_IN], *c = in[RING_CARRIER];
	float *y = out[RING_OUT];

	r->running = 1;
	for (unsigned i = 0; i < frames; i++) {
		float car;
		if (c != NULL) {
			car = c[i];
		} else {
			car = (float)sin(2.0 * DSP_PI * r->phase);
			r->phase += glide_param_next(&r->freq) / r->rate;
			r->phase -= floor(r->phase);
		}
		float off = glide_param_next(&r->offset);
		float mix = glide_param_next(&r->mix);
		float level = glide_param_next(&r->level);
		float xi = x != NULL ? x[i] : 0.0f;
		float wet = xi * (car + off);
		y[i] = level * (xi + mix * (wet - xi));
	}
}

static const struct port_desc ring_inputs[RING_N_IN] = {
	[RING_IN] = { "in", "audio in [-1, 1] (the modulator)" },
	[RING_CARRIER] = { "carrier", "audio [-1, 1]; unconnected: the internal sine at freq" },
};

static const struct port_desc ring_outputs[RING_N_OUT] = {
	[RING_OUT] = { "out", "audio: level * mix of in and in * (carrier + offset)" },
};

const struct module_type ring_module = {
	.name = "ring",
	.help = "ring modulator: in * (carrier + offset), internal sine carrier",
	.size = sizeof(struct ring),
	.inputs = ring_inputs,
	.n_inputs = RING_N_IN,
	.outputs = ring_outputs,
	.n_outputs = RING_N_OUT,
	.params = ring_params,
	.n_params = RING_N_P,
	.init = ring_init,
	.set_param = ring_set_param,
	.process = ring_process,
};
