/*
 * dsp/chorus.c — stereo chorus: each side a delay line read at a time
 * swept by a sine LFO, the left and right sweeps a quarter cycle apart.
 *
 * The delay time of a side is delay + depth * sin(2 pi rate t) (right:
 * cos), never below 3 samples.  The line is read by 6-point (5th-order)
 * Lagrange interpolation with the read point in the central interval, the
 * same reader as dsp/delay.c: at 48 kHz at most about 0.16 dB lost at
 * 10 kHz, whatever the fraction, and no loss at whole samples.  Every
 * parameter glides per sample: rate, depth and mix by the usual 10 ms
 * smoothing, the delay by a 50 ms glide (a tape-like pitch bend, never a
 * jump); so turning a knob makes no zipper noise (tests/zipper_test).
 * A lone input (either side) feeds both lines: mono in, stereo out.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

#define CHORUS_DELAY_MAX_MS 40.0f
#define CHORUS_DEPTH_MAX_MS 10.0f
#define CHORUS_MIN_SAMPLES 3.0
/* Samples kept beyond the longest delay for the interpolator's taps. */
#define CHORUS_MARGIN 16
/* Time constant of delay changes, s. */
#define CHORUS_DELAY_SMOOTH 0.05

enum { CHORUS_IN_L, CHORUS_IN_R, CHORUS_N_IN };
enum { CHORUS_OUT_L, CHORUS_OUT_R, CHORUS_N_OUT };
enum { CHORUS_RATE, CHORUS_DEPTH, CHORUS_DELAY, CHORUS_MIX, CHORUS_N_P };

struct chorus {
	float rate;
	unsigned mask;             /* line length - 1 (a power of two) */
	unsigned w;                /* write index, both lines */
	double max_samples;        /* longest delay, samples */
	double phase;              /* LFO, cycles in [0, 1) */
	double delay, delay_target;    /* samples */
	double delay_coef;         /* fraction of the distance per sample */
	struct glide_param lfo_hz;
	struct glide_param depth;  /* samples */
	struct glide_param mix;
	int running;               /* process has run: smooth changes */
	float buf[];               /* two lines of mask + 1 samples */
};

/* Line length, samples: a power of two holding the longest sweep. */
static unsigned
chorus_length(float rate)
{
	unsigned need = (unsigned)ceilf((CHORUS_DELAY_MAX_MS +
	    CHORUS_DEPTH_MAX_MS) * 0.001f * rate) + CHORUS_MARGIN;
	unsigned len = 1;

	while (len < need)
		len <<= 1;
	return len;
}

/* Bytes of state at `rate`: the struct and its two lines. */
static size_t
chorus_size_for_rate(float rate)
{
	return sizeof(struct chorus) + 2 * chorus_length(rate) * sizeof(float);
}

static const struct param_desc chorus_params[CHORUS_N_P] = {
	[CHORUS_RATE] = { .name = "rate", .unit = "Hz", .kind = PARAM_REAL,
	    .min = 0.01f, .max = 10.0f, .def = 0.5f,
	    .help = "sweep rate (sine LFO; right a quarter cycle after left)" },
	[CHORUS_DEPTH] = { .name = "depth", .unit = "ms", .kind = PARAM_REAL,
	    .min = 0.0f, .max = CHORUS_DEPTH_MAX_MS, .def = 2.0f,
	    .help = "sweep: the delay moves +-depth around delay, ms" },
	[CHORUS_DELAY] = { .name = "delay", .unit = "ms", .kind = PARAM_REAL,
	    .min = 1.0f, .max = CHORUS_DELAY_MAX_MS, .def = 12.0f,
	    .help = "centre delay, ms (the sweep stops at 3 samples; changes glide, 50 ms)" },
	[CHORUS_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 0.5f,
	    .help = "dry/wet crossfade, 0 dry only .. 1 wet only" },
};

/* Prepare zeroed state of chorus_size_for_rate(rate) bytes: defaults,
 * silent lines. */
static void
chorus_init(void *self, float rate, uint32_t seed)
{
	struct chorus *c = self;

	(void)seed;
	c->rate = rate;
	c->mask = chorus_length(rate) - 1;
	c->max_samples = (double)(CHORUS_DELAY_MAX_MS + CHORUS_DEPTH_MAX_MS) *
	    0.001 * rate;
	c->delay = c->delay_target =
	    (double)chorus_params[CHORUS_DELAY].def * 0.001 * rate;
	c->delay_coef = 1.0 - exp(-1.0 / (CHORUS_DELAY_SMOOTH * rate));
	glide_param_init(&c->lfo_hz, chorus_params[CHORUS_RATE].def, rate);
	glide_param_init(&c->depth,
	    chorus_params[CHORUS_DEPTH].def * 0.001f * rate, rate);
	glide_param_init(&c->mix, chorus_params[CHORUS_MIX].def, rate);
}

/* Set rate (Hz), depth and delay (ms) or mix; values are reached smoothly
 * once running. */
static void
chorus_set_param(void *self, unsigned index, float value)
{
	struct chorus *c = self;
	struct glide_param *p;

	switch (index) {
	case CHORUS_DELAY:
		c->delay_target = (double)value * 0.001 * c->rate;
		if (!c->running)
			c->delay = c->delay_target;
		return;
	case CHORUS_RATE:  p = &c->lfo_hz; break;
	case CHORUS_DEPTH: p = &c->depth; value *= 0.001f * c->rate; break;
	case CHORUS_MIX:   p = &c->mix; break;
	default: return;
	}
	glide_param_set(p, value);
	if (!c->running)           /* before the first block: no glide */
		p->d.cur = 0.0f;
}

/* The line at `line` read del samples back (del >= 3) from the write index
 * `w`, by 6-point Lagrange interpolation over the taps at delays
 * di-2 .. di+3, di = floor(del): the read point in the central interval. */
static inline float
chorus_read(const struct chorus *c, const float *line, double del)
{
	unsigned di = (unsigned)del;
	float t = 2.0f + (float)(del - di);     /* in [2, 3) tap units */
	unsigned base = c->w - (di - 2);        /* tap 0, delay di - 2 */
	float x[6];

	for (unsigned k = 0; k < 6; k++)
		x[k] = line[(base - k) & c->mask];
	float d0 = t, d1 = t - 1.0f, d2 = t - 2.0f, d3 = t - 3.0f,
	    d4 = t - 4.0f, d5 = t - 5.0f;
	float p01 = d0 * d1, p012 = p01 * d2;
	float p45 = d4 * d5, p345 = d3 * p45;
	/* h_k = prod_{j != k} (t - j) / prod_{j != k} (k - j) */
	return d1 * d2 * p345 * (-1.0f / 120.0f) * x[0] +
	    d0 * d2 * p345 * (1.0f / 24.0f) * x[1] +
	    p01 * p345 * (-1.0f / 12.0f) * x[2] +
	    p012 * p45 * (1.0f / 12.0f) * x[3] +
	    p012 * d3 * d5 * (-1.0f / 24.0f) * x[4] +
	    p012 * d3 * d4 * (1.0f / 120.0f) * x[5];
}

/* Clamp a swept delay into the readable range, samples. */
static inline double
chorus_clamp(const struct chorus *c, double del)
{
	if (del < CHORUS_MIN_SAMPLES)
		return CHORUS_MIN_SAMPLES;
	return del > c->max_samples ? c->max_samples : del;
}

/* Write the inputs into the lines, read them at the swept delays, mix. */
static void
chorus_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct chorus *c = self;
	const float *xl = in[CHORUS_IN_L], *xr = in[CHORUS_IN_R];
	float *yl = out[CHORUS_OUT_L], *yr = out[CHORUS_OUT_R];
	float *line_l = c->buf, *line_r = c->buf + c->mask + 1;

	if (xl == NULL)            /* a lone input feeds both sides */
		xl = xr;
	if (xr == NULL)
		xr = xl;
	c->running = 1;
	for (unsigned i = 0; i < frames; i++) {
		double dt = c->delay_target - c->delay;
		if (fabs(dt) < 1e-6)
			c->delay = c->delay_target;
		else
			c->delay += dt * c->delay_coef;
		float hz = glide_param_next(&c->lfo_hz);
		float depth = glide_param_next(&c->depth);
		float mix = glide_param_next(&c->mix);
		float l = xl != NULL ? xl[i] : 0.0f;
		float r = xr != NULL ? xr[i] : 0.0f;

		/* reads first: the taps lie strictly in the past */
		float ang = (float)(2.0 * DSP_PI * c->phase);
		double dl = chorus_clamp(c, c->delay + (double)(depth * sinf(ang)));
		double dr = chorus_clamp(c, c->delay + (double)(depth * cosf(ang)));
		float wl = chorus_read(c, line_l, dl);
		float wr = chorus_read(c, line_r, dr);
		/* NaN or infinity never enters a line (it would stay for a
		 * whole sweep): NaN is 0, the rest held within +-1e4 */
		line_l[c->w & c->mask] = l == l ? clampf(l, -1e4f, 1e4f) : 0.0f;
		line_r[c->w & c->mask] = r == r ? clampf(r, -1e4f, 1e4f) : 0.0f;
		c->w = (c->w + 1) & c->mask;
		c->phase += (double)hz / c->rate;
		c->phase -= floor(c->phase);
		yl[i] = l + mix * (wl - l);
		yr[i] = r + mix * (wr - r);
	}
}

static const struct port_desc chorus_inputs[CHORUS_N_IN] = {
	[CHORUS_IN_L] = { "left", "audio in [-1, 1]; alone (mono) it feeds both sides" },
	[CHORUS_IN_R] = { "right", "audio in [-1, 1]; alone it feeds both sides" },
};

static const struct port_desc chorus_outputs[CHORUS_N_OUT] = {
	[CHORUS_OUT_L] = { "left", "audio: dry/wet mix, left (sweep sin)" },
	[CHORUS_OUT_R] = { "right", "audio: dry/wet mix, right (sweep cos)" },
};

const struct module_type chorus_module = {
	.name = "chorus",
	.help = "stereo chorus: swept delay (6-point Lagrange), sides in quadrature",
	.size = sizeof(struct chorus),
	.size_for_rate = chorus_size_for_rate,
	.inputs = chorus_inputs,
	.n_inputs = CHORUS_N_IN,
	.outputs = chorus_outputs,
	.n_outputs = CHORUS_N_OUT,
	.params = chorus_params,
	.n_params = CHORUS_N_P,
	.init = chorus_init,
	.set_param = chorus_set_param,
	.process = chorus_process,
};
