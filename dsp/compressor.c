/*
 * dsp/compressor.c — a stereo-linked feed-forward compressor with a soft
 * knee and an optional sidechain.
 *
 * The detector takes the larger |sample| of the two channels (or of the
 * `side` input when connected) in dB; the static curve maps it to a gain
 * reduction: none below the knee, (1 - 1/ratio) of the excess above it, a
 * quadratic blend across the knee (`knee` dB wide, centred on the
 * threshold).  The reduction follows that target with a one-pole in dB
 * whose time constant is `attack` while the reduction grows and `release`
 * while it shrinks: after a step in level, 63 % of the change in dB is made
 * in that time.  Both channels get the same gain, so the stereo image holds.
 */
#include "dsp_util.h"
#include "dynamics.h"
#include "module.h"

enum { CMP_LEFT, CMP_RIGHT, CMP_SIDE, CMP_N_IN };
enum { CMP_OUT_LEFT, CMP_OUT_RIGHT, CMP_OUT_GAIN, CMP_N_OUT };
enum { CMP_THRESHOLD, CMP_RATIO, CMP_ATTACK, CMP_RELEASE, CMP_KNEE,
	CMP_MAKEUP, CMP_N_P };

struct compressor {
	float rate;
	struct glide_param threshold;   /* dB */
	struct glide_param slope;       /* 1 - 1/ratio: reduction per dB over */
	struct glide_param knee;        /* dB, full width */
	struct glide_param makeup;      /* dB */
	float attack_coef, release_coef;
	float reduction;                /* dB, <= 0: the smoothed reduction */
	int running;                    /* process has run: glide changes */
};

static const struct param_desc compressor_params[CMP_N_P] = {
	[CMP_THRESHOLD] = { .name = "threshold", .unit = "dB", .kind = PARAM_REAL,
	    .min = -60.0f, .max = 0.0f, .def = -18.0f,
	    .help = "level (sample peak, dBFS) above which the gain comes down" },
	[CMP_RATIO] = { .name = "ratio", .unit = "", .kind = PARAM_REAL,
	    .min = 1.0f, .max = 50.0f, .def = 4.0f,
	    .help = "dB in per dB out above the threshold (1 = off, 50 = nearly a limiter)" },
	[CMP_ATTACK] = { .name = "attack", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0001f, .max = 1.0f, .def = 0.01f,
	    .help = "time constant while the reduction grows: 63 % of a step in dB" },
	[CMP_RELEASE] = { .name = "release", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.005f, .max = 5.0f, .def = 0.15f,
	    .help = "time constant while the reduction shrinks: 63 % of a step in dB" },
	[CMP_KNEE] = { .name = "knee", .unit = "dB", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 24.0f, .def = 6.0f,
	    .help = "width of the soft knee centred on the threshold (0 = hard)" },
	[CMP_MAKEUP] = { .name = "makeup", .unit = "dB", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 40.0f, .def = 0.0f,
	    .help = "gain added after the reduction" },
};

/* Prepare zeroed state: defaults, no reduction. */
static void
compressor_init(void *self, float rate, uint32_t seed)
{
	struct compressor *c = self;

	(void)seed;
	c->rate = rate;
	glide_param_init(&c->threshold, compressor_params[CMP_THRESHOLD].def, rate);
	glide_param_init(&c->slope, 1.0f - 1.0f / compressor_params[CMP_RATIO].def, rate);
	glide_param_init(&c->knee, compressor_params[CMP_KNEE].def, rate);
	glide_param_init(&c->makeup, compressor_params[CMP_MAKEUP].def, rate);
	c->attack_coef = follower_coef(compressor_params[CMP_ATTACK].def, rate);
	c->release_coef = follower_coef(compressor_params[CMP_RELEASE].def, rate);
}

/* Move a level parameter: glide once running, jump before the first block. */
static void
set_glide(struct compressor *c, struct glide_param *p, float value)
{
	if (c->running)
		glide_param_set(p, value);
	else
		glide_param_init(p, value, c->rate);
}

/* Set a parameter; levels glide, times apply at once (they only shape
 * how the reduction moves, so a change cannot click). */
static void
compressor_set_param(void *self, unsigned index, float value)
{
	struct compressor *c = self;

	switch (index) {
	case CMP_THRESHOLD: set_glide(c, &c->threshold, value); break;
	case CMP_RATIO:     set_glide(c, &c->slope, 1.0f - 1.0f / value); break;
	case CMP_KNEE:      set_glide(c, &c->knee, value); break;
	case CMP_MAKEUP:    set_glide(c, &c->makeup, value); break;
	case CMP_ATTACK:    c->attack_coef = follower_coef(value, c->rate); break;
	case CMP_RELEASE:   c->release_coef = follower_coef(value, c->rate); break;
	default: break;
	}
}

/* The static curve: the gain reduction in dB (<= 0) for a level of
 * `level_db`, with threshold t, slope s = 1 - 1/ratio and knee width w. */
static inline float
static_reduction(float level_db, float t, float s, float w)
{
	float over = level_db - t;
	if (2.0f * over <= -w)
		return 0.0f;
	if (2.0f * over < w) {
		float k = over + 0.5f * w;
		return -s * k * k / (2.0f * w);
	}
	return -s * over;
}

/* Compress both channels with one gain from the linked detector. */
static void
compressor_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct compressor *c = self;
	const float *l = in[CMP_LEFT], *r = in[CMP_RIGHT], *side = in[CMP_SIDE];
	float *yl = out[CMP_OUT_LEFT], *yr = out[CMP_OUT_RIGHT], *yg = out[CMP_OUT_GAIN];

	c->running = 1;
	if (l == NULL)                 /* mono on either input feeds both */
		l = r;
	if (r == NULL)
		r = l;
	float gr = c->reduction;
	/* settled levels are read once per block, not glided per sample */
	int gliding = smoother_moving(&c->threshold.d) || smoother_moving(&c->slope.d) ||
	    smoother_moving(&c->knee.d) || smoother_moving(&c->makeup.d);
	float t = c->threshold.base, s = c->slope.base, w = c->knee.base;
	float makeup = db_to_amp(c->makeup.base);
	for (unsigned i = 0; i < frames; i++) {
		if (gliding) {
			t = glide_param_next(&c->threshold);
			s = glide_param_next(&c->slope);
			w = glide_param_next(&c->knee);
			makeup = db_to_amp(glide_param_next(&c->makeup));
		}
		float xl = l != NULL ? l[i] : 0.0f, xr = r != NULL ? r[i] : 0.0f;
		float level = side != NULL ? fabsf(side[i]) :
		    fmaxf(fabsf(xl), fabsf(xr));
		/* silence (and a NaN) asks for no reduction: skip the
		 * logarithm */
		float target = level > 1e-10f ?
		    static_reduction(amp_to_db(level), t, s, w) : 0.0f;
		if (target < -600.0f)        /* an infinite input: keep the
						exponential in its range */
			target = -600.0f;
		float coef = target < gr ? c->attack_coef : c->release_coef;
		gr = target + coef * (gr - target);
		if (gr != gr)                     /* a NaN came in: start over */
			gr = 0.0f;
		else if (target == 0.0f && gr > -1e-6f)   /* released: settle */
			gr = 0.0f;
		float g = gr == 0.0f ? 1.0f : db_to_amp(gr);
		float gm = g * makeup;
		yl[i] = xl * gm;
		yr[i] = xr * gm;
		yg[i] = g;
	}
	c->reduction = gr;
}

static const struct port_desc compressor_inputs[CMP_N_IN] = {
	[CMP_LEFT] = { "left", "audio in [-1, 1]; alone, it feeds both outputs" },
	[CMP_RIGHT] = { "right", "audio in [-1, 1]; alone, it feeds both outputs" },
	[CMP_SIDE] = { "side", "sidechain: when connected, its level drives the gain instead" },
};

static const struct port_desc compressor_outputs[CMP_N_OUT] = {
	[CMP_OUT_LEFT] = { "left", "audio: left compressed, makeup applied" },
	[CMP_OUT_RIGHT] = { "right", "audio: right compressed, makeup applied" },
	[CMP_OUT_GAIN] = { "gain", "the reduction as a factor (0, 1], without makeup" },
};

const struct module_type compressor_module = {
	.name = "compressor",
	.help = "stereo-linked compressor: threshold, ratio, soft knee, attack/release, sidechain",
	.size = sizeof(struct compressor),
	.inputs = compressor_inputs,
	.n_inputs = CMP_N_IN,
	.outputs = compressor_outputs,
	.n_outputs = CMP_N_OUT,
	.params = compressor_params,
	.n_params = CMP_N_P,
	.init = compressor_init,
	.set_param = compressor_set_param,
	.process = compressor_process,
};
