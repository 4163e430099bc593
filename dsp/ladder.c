/*
 * dsp/ladder.c — Moog-style 4-pole lowpass ladder with zero-delay feedback.
 *
 * Four trapezoidal (TPT) one-pole lowpass stages, g = tan(pi fc / rate) so
 * the cutoff maps exactly, in a loop with feedback gain k = K_MAX * res
 * through a soft saturator.  The loop is solved implicitly every sample: no
 * unit delay, so with k = 4 the linear ladder rings exactly at the cutoff.
 * K_MAX is slightly above 4: at res = 1 the loop grows out of the built-in
 * -180 dB noise floor and settles where the saturator's describing-function
 * gain brings the loop gain back to 1, still at the cutoff (about 0.34 rms
 * at drive 0; with drive the stages limit it, about 0.058 / (2 drive) rms).
 *
 * Each saturator in the loop is linearised by its secant gain sat(v)/v at a
 * predicted v (its last two values continued as a sinusoid at the cutoff,
 * which is exact for the self-oscillation, so its pitch stays on the
 * cutoff); the linear loop is solved for y4, the feedback taken through the
 * true saturator at that y4, and the stages run forward:
 *   drive = 0: linear stages, saturator only in the feedback path (2 of the
 *              5 divisions per sample on the serial path);
 *   drive > 0: every stage saturates its input (sat(c v)/c, c = 2 drive, so
 *              the small-signal response is unchanged), run forward through
 *              the true curves.
 * The feedback is a bounded saturator output, and each stage's state is kept
 * as its last output and input-minus-output, re-weighted with the current g
 * every sample (identical to the usual TPT state while g holds still), so an
 * abrupt cutoff drop cannot replay a half step taken at a high cutoff: the
 * filter stays bounded under any modulation.
 *
 * comp scales the input by 1 + comp k, restoring the passband level the
 * feedback takes away without changing the self-oscillation level.
 * Cutoff is smoothed in octaves and computed per sample (fast tan) only when
 * the pitch or mod input is connected or a parameter is gliding.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

/* Highest cutoff, as a fraction of the sample rate. */
#define LADDER_MAX_CUTOFF 0.45f
/* Feedback gain at res = 1 (4 is the linear oscillation threshold). */
#define LADDER_K_MAX 4.2f
/* Saturator scale per unit of drive. */
#define LADDER_DRIVE_SCALE 2.0f
/* Amplitude of the internal noise floor that starts self-oscillation. */
#define LADDER_NOISE 1e-9f

/* x clamped to [lo, hi]; NaN gives lo, so a bad input cannot poison state. */
static inline float
ladder_clamp(float x, float lo, float hi)
{
	return x > lo ? (x < hi ? x : hi) : lo;
}

/*
 * The saturator is the [3/2] Pade approximant of tanh, clipped at |x| = 3
 * where it reaches +-1 with zero slope: sat(x) = x (27 + x^2) / (27 + 9 x^2).
 * This returns its secant gain sat(x)/x, in (0, 1], so sat(x) = x ratio(x)
 * everywhere (1/|x| beyond the clip); one division.
 */
static inline float
ladder_ratio(float x)
{
	float xc = ladder_clamp(x, -3.0f, 3.0f);
	float x2 = xc * xc;
	float m = fabsf(x) * (1.0f / 3.0f);
	return (27.0f + x2) / ((27.0f + 9.0f * x2) * (m > 1.0f ? m : 1.0f));
}

/* tan(x) / (1 + tan(x)) for x in [0, 1.42] radians, via the [7/6] Pade
 * approximant of tan (relative error 4e-9; float rounding dominates);
 * *one_minus gets 1 / (1 + tan(x)). */
static inline float
ladder_gain(float x, float *one_minus)
{
	float x2 = x * x;
	float num = x * (135135.0f + x2 * (-17325.0f + x2 * (378.0f - x2)));
	float den = 135135.0f + x2 * (-62370.0f + x2 * (3150.0f - 28.0f * x2));
	float inv = 1.0f / (num + den);
	*one_minus = den * inv;
	return num * inv;
}

/*
 * A smoothed parameter: the dsp_util smoother run on the distance to the
 * target, which decays toward 0 where float resolution is finest, rather than
 * on the value itself (13.9 for a 15 kHz cutoff in octaves, where one ulp is
 * already 1e-6 octave and rounding can stall a float smoother short of its
 * target).  Settled, the value is the target exactly.
 */
struct ladder_glide {
	struct smoother d;      /* distance from base, decaying to 0 */
	float base;             /* the target */
};

/* Start settled at `value`. */
static void
ladder_glide_init(struct ladder_glide *p, float value, float rate)
{
	smoother_init(&p->d, 0.0f, rate, SMOOTH_SECONDS);
	p->base = value;
}

/* Glide from the current value toward `target`. */
static void
ladder_glide_set(struct ladder_glide *p, float target)
{
	p->d.cur += p->base - target;
	p->base = target;
}

/* Advance one sample and return the value. */
static inline float
ladder_glide_next(struct ladder_glide *p)
{
	return p->base + smoother_next(&p->d);
}

enum { LADDER_IN_IN, LADDER_IN_PITCH, LADDER_IN_MOD, LADDER_N_IN };
enum { LADDER_OUT_OUT, LADDER_N_OUT };
enum {
	LADDER_P_CUTOFF, LADDER_P_RES, LADDER_P_DRIVE, LADDER_P_DEPTH,
	LADDER_P_COMP, LADDER_N_P
};

struct ladder {
	float rate;                 /* Hz */
	float pi_over_rate;         /* radians per Hz */
	float oct_lo, oct_hi;       /* cutoff limits, log2(Hz) */
	struct ladder_glide oct;    /* cutoff, log2(Hz) */
	struct ladder_glide k;      /* feedback gain, 0 .. LADDER_K_MAX */
	struct ladder_glide c;      /* stage saturator scale, 0 = linear */
	struct ladder_glide comp;   /* passband compensation, 0 .. 1 */
	float depth;                /* octaves per unit of mod */
	float y[4];                 /* stage outputs at the last sample */
	float e[4];                 /* stage input minus output, last sample */
	float ya, yb;               /* last two outputs */
	float va[4], vb[4];         /* last two stage inputs (drive > 0) */
	uint32_t noise;             /* LCG state of the noise floor */
};

static const struct port_desc ladder_inputs[LADDER_N_IN] = {
	[LADDER_IN_IN] = { "in", "audio in, [-1, 1]" },
	[LADDER_IN_PITCH] = { "pitch", "cutoff offset, octaves (key tracking)" },
	[LADDER_IN_MOD] = { "mod", "cutoff modulation, scaled by depth (octaves per unit)" },
};

static const struct port_desc ladder_outputs[LADDER_N_OUT] = {
	[LADDER_OUT_OUT] = { "out", "lowpassed audio, 24 dB/oct" },
};

static const struct param_desc ladder_params[LADDER_N_P] = {
	[LADDER_P_CUTOFF] = { "cutoff", "Hz", PARAM_REAL, 20, 20000, 1000,
	    "cutoff frequency (self-oscillation pitch at res 1)", NULL },
	[LADDER_P_RES] = { "res", "", PARAM_REAL, 0, 1, 0,
	    "resonance; self-oscillates from about 0.95, steadily at 1", NULL },
	[LADDER_P_DRIVE] = { "drive", "", PARAM_REAL, 0, 1, 0,
	    "stage saturation; 0 keeps the stages linear", NULL },
	[LADDER_P_DEPTH] = { "depth", "oct", PARAM_REAL, -8, 8, 4,
	    "octaves of cutoff per unit of the mod input", NULL },
	[LADDER_P_COMP] = { "comp", "", PARAM_REAL, 0, 1, 0,
	    "passband gain compensation for resonance", NULL },
};

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
ladder_init(void *self, float rate, uint32_t seed)
{
	struct ladder *f = self;

	f->rate = rate;
	f->pi_over_rate = (float)(DSP_PI / rate);
	f->oct_lo = 0.0f;                           /* 1 Hz */
	f->oct_hi = log2f(LADDER_MAX_CUTOFF * rate);
	ladder_glide_init(&f->oct, log2f(ladder_params[LADDER_P_CUTOFF].def),
	    rate);
	ladder_glide_init(&f->k, LADDER_K_MAX * ladder_params[LADDER_P_RES].def,
	    rate);
	ladder_glide_init(&f->c,
	    LADDER_DRIVE_SCALE * ladder_params[LADDER_P_DRIVE].def, rate);
	ladder_glide_init(&f->comp, ladder_params[LADDER_P_COMP].def, rate);
	f->depth = ladder_params[LADDER_P_DEPTH].def;
	f->noise = seed * 2654435761u + 12345u;
}

/* Set parameter `index` (already clamped to its range). */
static void
ladder_set_param(void *self, unsigned index, float value)
{
	struct ladder *f = self;

	switch (index) {
	case LADDER_P_CUTOFF:
		ladder_glide_set(&f->oct, log2f(value));
		break;
	case LADDER_P_RES:
		ladder_glide_set(&f->k, LADDER_K_MAX * value);
		break;
	case LADDER_P_DRIVE:
		ladder_glide_set(&f->c, LADDER_DRIVE_SCALE * value);
		break;
	case LADDER_P_DEPTH:
		f->depth = value;
		break;
	case LADDER_P_COMP:
		ladder_glide_set(&f->comp, value);
		break;
	}
}

/*
 * The sample loop, specialised by the constant flags `varying` (coefficients
 * per sample) and `driven` (stage saturation); x may be NULL (silence).
 */
static inline __attribute__((always_inline)) void
ladder_run(struct ladder *f, const float *x, const float *pitch,
    const float *mod, float *y, unsigned n, int varying, int driven)
{
	float y1 = f->y[0], y2 = f->y[1], y3 = f->y[2], y4 = f->y[3];
	float e1 = f->e[0], e2 = f->e[1], e3 = f->e[2], e4 = f->e[3];
	float va1 = f->va[0], va2 = f->va[1], va3 = f->va[2], va4 = f->va[3];
	float vb1 = f->vb[0], vb2 = f->vb[1], vb3 = f->vb[2], vb4 = f->vb[3];
	float ya = f->ya, yb = f->yb;
	uint32_t noise = f->noise;
	float G = 0, H = 0, c2 = 0, k = f->k.base, c = f->c.base;
	float gain = 1.0f + f->comp.base * k;
	int gliding = smoother_moving(&f->k.d) || smoother_moving(&f->c.d) ||
	    smoother_moving(&f->comp.d);

	if (gliding) {    /* this block starts from where they are now */
		k += f->k.d.cur;
		c += f->c.d.cur;
		gain = 1.0f + (f->comp.base + f->comp.d.cur) * k;
	}

	if (!varying) {
		/* settled: exact prewarping, once per block */
		double g = tan(DSP_PI * exp2((double)f->oct.base) / f->rate);
		G = (float)(g / (1.0 + g));
		H = (float)(1.0 / (1.0 + g));
		c2 = (float)(2.0 * (1.0 - g * g) / (1.0 + g * g));
	}
	for (unsigned i = 0; i < n; i++) {
		if (varying) {
			float o = ladder_glide_next(&f->oct);
			if (gliding) {
				k = ladder_glide_next(&f->k);
				c = ladder_glide_next(&f->c);
				gain = 1.0f + ladder_glide_next(&f->comp) * k;
			}
			if (pitch != NULL)
				o += pitch[i];
			if (mod != NULL)
				o += f->depth * mod[i];
			o = ladder_clamp(o, f->oct_lo, f->oct_hi);
			G = ladder_gain(f->pi_over_rate * fast_exp2f(o), &H);
			/* 2 cos(w) = 2 (1 - g^2) / (1 + g^2), g = G / H */
			c2 = 2.0f * (H - G) / (H * H + G * G);
		}
		noise = noise * 1664525u + 1013904223u;
		float in = (float)(int32_t)noise * (LADDER_NOISE / 2147483648.0f);
		if (x != NULL)
			in += gain * x[i];

		/*
		 * Each saturator is linearised by its secant gain sat(v)/v at
		 * a predicted v: its last two values continued as a sinusoid
		 * at the cutoff (c2 v[n-1] - v[n-2]), exact for the
		 * self-oscillation, so its pitch stays at the cutoff.
		 */
		float rf = ladder_ratio(c2 * ya - yb);
		/*
		 * Stage i's trapezoidal state, times 1 / (1 + g), is
		 * H s_i = H y_i + G e_i with this sample's g: identical to
		 * the usual TPT state while g holds still, but when the
		 * cutoff drops abruptly it cannot replay a half step taken
		 * at a high cutoff (which overshoots several times over).
		 */
		float h1 = H * y1 + G * e1, h2 = H * y2 + G * e2;
		float h3 = H * y3 + G * e3, h4 = H * y4 + G * e4;
		float u;
		if (!driven) {
			/* partial sums: stage i gives y_i = G^i u + p_i */
			float G2 = G * G, G3 = G2 * G, G4 = G2 * G2;
			float p2 = G * h1 + h2;
			float p3 = G * p2 + h3;
			float p4 = G * p3 + h4;
			/* y4 = G4 u + p4, u = in - k sat(y4) */
			float y0 = (G4 * in + p4) / (1.0f + k * G4 * rf);
			u = in - k * y0 * ladder_ratio(y0);
			/* the stages, in parallel: y_i = G^i u + p_i */
			float n1 = G * u + h1, n2 = G2 * u + p2;
			float n3 = G3 * u + p3, n4 = G4 * u + p4;
			e1 = u - n1; e2 = n1 - n2; e3 = n2 - n3; e4 = n3 - n4;
			y1 = n1; y2 = n2; y3 = n3; y4 = n4;
		} else {
			float r1 = ladder_ratio(c * (c2 * va1 - vb1));
			float r2 = ladder_ratio(c * (c2 * va2 - vb2));
			float r3 = ladder_ratio(c * (c2 * va3 - vb3));
			float r4 = ladder_ratio(c * (c2 * va4 - vb4));
			/* linearised stages: y4 = a u + b */
			float a = G * r1, b = h1;
			a *= G * r2; b = G * r2 * b + h2;
			a *= G * r3; b = G * r3 * b + h3;
			a *= G * r4; b = G * r4 * b + h4;
			float y0 = (a * in + b) / (1.0f + k * rf * a);
			u = in - k * y0 * ladder_ratio(y0);
			/* forward through the true saturators */
			float w;
			vb1 = va1; va1 = u;
			w = u * ladder_ratio(c * u);
			y1 = G * w + h1; e1 = w - y1;
			vb2 = va2; va2 = y1;
			w = y1 * ladder_ratio(c * y1);
			y2 = G * w + h2; e2 = w - y2;
			vb3 = va3; va3 = y2;
			w = y2 * ladder_ratio(c * y2);
			y3 = G * w + h3; e3 = w - y3;
			vb4 = va4; va4 = y3;
			w = y3 * ladder_ratio(c * y3);
			y4 = G * w + h4; e4 = w - y4;
		}
		yb = ya;
		ya = y4;
		y[i] = y4;
	}
	f->y[0] = y1; f->y[1] = y2; f->y[2] = y3; f->y[3] = y4;
	f->e[0] = e1; f->e[1] = e2; f->e[2] = e3; f->e[3] = e4;
	f->va[0] = va1; f->va[1] = va2; f->va[2] = va3; f->va[3] = va4;
	f->vb[0] = vb1; f->vb[1] = vb2; f->vb[2] = vb3; f->vb[3] = vb4;
	f->ya = ya;
	f->yb = yb;
	f->noise = noise;
}

/* Produce `n` frames. */
static void
ladder_process(void *self, const float *const *in, float *const *out,
    unsigned n)
{
	struct ladder *f = self;
	const float *x = in[LADDER_IN_IN];
	const float *pitch = in[LADDER_IN_PITCH];
	const float *mod = in[LADDER_IN_MOD];
	float *y = out[LADDER_OUT_OUT];
	int varying = pitch != NULL || mod != NULL ||
	    smoother_moving(&f->oct.d) || smoother_moving(&f->k.d) ||
	    smoother_moving(&f->c.d) || smoother_moving(&f->comp.d);
	int driven = f->c.base > 0.0f || smoother_moving(&f->c.d);

	if (varying) {
		if (driven)
			ladder_run(f, x, pitch, mod, y, n, 1, 1);
		else
			ladder_run(f, x, pitch, mod, y, n, 1, 0);
	} else {
		if (driven)
			ladder_run(f, x, pitch, mod, y, n, 0, 1);
		else
			ladder_run(f, x, pitch, mod, y, n, 0, 0);
	}
}

const struct module_type ladder_module = {
	.name = "ladder",
	.help = "Moog-style 4-pole lowpass, zero-delay feedback, self-oscillating",
	.size = sizeof(struct ladder),
	.inputs = ladder_inputs,
	.n_inputs = LADDER_N_IN,
	.outputs = ladder_outputs,
	.n_outputs = LADDER_N_OUT,
	.params = ladder_params,
	.n_params = LADDER_N_P,
	.init = ladder_init,
	.set_param = ladder_set_param,
	.process = ladder_process,
};
