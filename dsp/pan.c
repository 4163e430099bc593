/*
 * dsp/pan.c — equal-power panner: a mono input placed between left and
 * right so that left^2 + right^2 stays constant (each -3 dB at centre).
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

enum { PAN_IN, PAN_CV, PAN_N_IN };
enum { PAN_LEFT, PAN_RIGHT, PAN_N_OUT };
enum { PAN_POS, PAN_N_P };

struct pan {
	struct smoother pos;     /* -1 (left) .. 1 (right) */
	int running;             /* process has run: smooth changes */
};

static const struct param_desc pan_params[PAN_N_P] = {
	[PAN_POS] = { .name = "pan", .unit = "", .kind = PARAM_REAL,
	    .min = -1.0f, .max = 1.0f, .def = 0.0f,
	    .help = "position, -1 left .. 0 centre (-3 dB each) .. 1 right" },
};

/* Prepare zeroed state: centred, settled. */
static void
pan_init(void *self, float rate, uint32_t seed)
{
	struct pan *p = self;

	(void)seed;
	smoother_init(&p->pos, pan_params[PAN_POS].def, rate, SMOOTH_SECONDS);
}

/* Set the position in [-1, 1]; it is reached smoothly once running. */
static void
pan_set_param(void *self, unsigned index, float value)
{
	struct pan *p = self;

	if (index != PAN_POS)
		return;
	smoother_set(&p->pos, value);
	if (!p->running)         /* before the first block: no glide */
		p->pos.cur = value;
}

/* Left and right gains, cos and sin of an angle in [0, pi/2], for a
 * position in [-1, 1] (clamped). */
static inline void
pan_gains(float pos, float *l, float *r)
{
	float a = (clampf(pos, -1.0f, 1.0f) + 1.0f) * (float)(DSP_PI / 4);
	*l = cosf(a);
	*r = sinf(a);
}

/* Split the input into left and right by the smoothed position plus cv. */
static void
pan_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct pan *p = self;
	const float *x = in[PAN_IN], *cv = in[PAN_CV];
	float *yl = out[PAN_LEFT], *yr = out[PAN_RIGHT];
	float l, r;

	p->running = 1;
	if (x == NULL) {
		for (unsigned i = 0; i < frames; i++) {
			smoother_next(&p->pos);
			yl[i] = yr[i] = 0.0f;
		}
		return;
	}
	if (cv == NULL && !smoother_moving(&p->pos)) {
		pan_gains(p->pos.cur, &l, &r);
		for (unsigned i = 0; i < frames; i++) {
			yl[i] = x[i] * l;
			yr[i] = x[i] * r;
		}
		return;
	}
	for (unsigned i = 0; i < frames; i++) {
		float pos = smoother_next(&p->pos);
		if (cv != NULL)
			pos += cv[i];
		pan_gains(pos, &l, &r);
		yl[i] = x[i] * l;
		yr[i] = x[i] * r;
	}
}

static const struct port_desc pan_inputs[PAN_N_IN] = {
	[PAN_IN] = { "in", "audio in [-1, 1]" },
	[PAN_CV] = { "pan", "position cv added to the pan parameter, -1..1" },
};

static const struct port_desc pan_outputs[PAN_N_OUT] = {
	[PAN_LEFT] = { "left", "audio: in * cos((pan + 1) * pi/4)" },
	[PAN_RIGHT] = { "right", "audio: in * sin((pan + 1) * pi/4)" },
};

const struct module_type pan_module = {
	.name = "pan",
	.help = "equal-power mono-to-stereo panner",
	.size = sizeof(struct pan),
	.inputs = pan_inputs,
	.n_inputs = PAN_N_IN,
	.outputs = pan_outputs,
	.n_outputs = PAN_N_OUT,
	.params = pan_params,
	.n_params = PAN_N_P,
	.init = pan_init,
	.set_param = pan_set_param,
	.process = pan_process,
};
